"""The one way tests build the Flask app: `AppFactory`, whose apps are closed when the factory is.

The integration fixtures (`make_app`, `make_module_app`) give a factory on the test Neo4j; the unit
fixtures give one on an address where nothing listens (`offline_settings`). Closing an app stops its
job runner (its poller would otherwise keep claiming jobs in later tests' graphs) and its driver.
"""
from contextlib import contextmanager

from core.settings import Settings

# Nothing listens on port 9 (discard): a driver fails fast instead of reaching a real database.
UNREACHABLE_NEO4J = "bolt://127.0.0.1:9"


def offline_settings(**overrides) -> Settings:
    """Settings of an app that must not need a database (no job poller, a Neo4j nobody runs)."""
    return Settings(**{"neo4j_uri": UNREACHABLE_NEO4J, "neo4j_connection_timeout": 1, "job_workers_enabled": False,
                       **overrides})


class AppFactory:
    """`factory(settings=None, **overrides)` → a Flask app in testing mode; `close()` ends every app it built."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.apps = []

    def __call__(self, settings: Settings | None = None, /, **overrides):
        from app import create_app  # imported late: building the factory needs no Flask

        base = settings if settings is not None else self.settings
        flask_app = create_app(base.model_copy(update=overrides) if overrides else base)
        flask_app.config.update(TESTING=True)
        self.apps.append(flask_app)
        return flask_app

    def close(self) -> None:
        """Stop each app's job runner, then close its driver (both are idempotent)."""
        while self.apps:
            flask_app = self.apps.pop()
            flask_app.extensions["jobs"].stop()
            flask_app.extensions["neo4j"].close()


@contextmanager
def app_factory(settings: Settings):
    """An AppFactory closed on leaving the block (a fixture yields from this)."""
    factory = AppFactory(settings)
    try:
        yield factory
    finally:
        factory.close()


def api_document() -> dict:
    """The app's OpenAPI document, built without a database (to list operations at collection time)."""
    with app_factory(offline_settings()) as make_app:
        return make_app().api_doc
