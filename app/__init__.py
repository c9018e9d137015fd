"""Lianjie web application: the Flask app factory."""
from flask_openapi3 import Info, OpenAPI

from app.extensions import neo4j_ext
from cli import register_cli
from core.settings import Settings
from jobs import init_jobs

API_DESCRIPTION = """联结 Lianjie —— 企业与贫困户利益联结匹配服务 API。

以 `Authorization: Bearer <令牌>` 调用；令牌由管理员用 `flask --app wsgi tokens create` 创建。
角色：bureau（本县全部数据）、enterprise（本企业的容量与推荐，户信息脱敏）、analyst（只读、化名）、admin。
错误以 application/problem+json 返回，含稳定的 `code` 与中文 `title`。"""


def create_app(settings: Settings | None = None) -> OpenAPI:
    """Build the app from settings (read from the environment when not given)."""
    settings = settings or Settings()
    from app.problems import validation_problem

    app = OpenAPI(
        __name__,
        info=Info(title="联结 Lianjie API", version="1.0.0", description=API_DESCRIPTION),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "description": "API 令牌 / API token"}},
        doc_prefix="/docs", doc_url="/openapi.json",
        validation_error_status=422, validation_error_callback=validation_problem,
    )
    app.config.update(SECRET_KEY=settings.secret_key, JSON_AS_ASCII=False,
                      MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024)
    app.config["LIANJIE_SETTINGS"] = settings
    app.json.ensure_ascii = False
    # An API answers a malformed path with 404, never a redirect to a "cleaned" one.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    neo4j_ext.init_app(app, settings)

    from app import auth, health, observability, problems
    from app.api import register_api
    from app.web import init_web

    observability.init_observability(app, settings)
    auth.init_auth(app, settings)
    problems.register_error_handlers(app)
    register_cli(app)
    app.register_blueprint(health.bp)
    register_api(app)
    app.add_url_rule("/openapi.json", "openapi_json", lambda: app.api_doc)
    init_web(app, settings)
    init_jobs(app, settings)
    return app
