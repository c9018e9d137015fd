"""Lianjie web application: the Flask app factory."""
from flask import Flask

from app.extensions import neo4j_ext
from app.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from settings (read from the environment when not given)."""
    settings = settings or Settings()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, JSON_AS_ASCII=False)
    app.config["LIANJIE_SETTINGS"] = settings
    app.json.ensure_ascii = False
    neo4j_ext.init_app(app, settings)

    from app import cli, health, problems

    problems.register_error_handlers(app)
    cli.register_cli(app)
    app.register_blueprint(health.bp)
    return app
