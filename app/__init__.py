"""Lianjie web application: the Flask app factory."""
from flask_openapi3 import Info, OpenAPI
from werkzeug.middleware.proxy_fix import ProxyFix

from app.extensions import neo4j_ext
from cli import register_cli
from core.settings import Settings
from jobs import init_jobs

API_DESCRIPTION = """联结 Lianjie —— 企业与贫困户利益联结匹配服务 API。

以 `Authorization: Bearer <令牌>` 调用；令牌由管理员用 `flask --app wsgi tokens create` 创建。
角色：bureau（本县全部数据）、enterprise（本企业的容量与推荐，户信息脱敏）、analyst（只读、化名）、admin。
错误以 application/problem+json 返回，含稳定的 `code` 与中文 `title`。"""


def create_app(settings: Settings | None = None) -> OpenAPI:
    """Build the app from settings (read from the environment when not given).

    Refuses to start (core.secrets.InsecureSecret) with a published default or blank SECRET_KEY or
    PSEUDONYM_KEY, or with one key for both."""
    settings = settings or Settings()
    settings.pseudonym_secret()  # checks both keys now, not at the first analyst's request
    from app.problems import SafeJSONProvider, validation_problem

    app = OpenAPI(
        __name__,
        info=Info(title="联结 Lianjie API", version="1.0.0", description=API_DESCRIPTION),
        security_schemes={"bearer": {"type": "http", "scheme": "bearer", "description": "API 令牌 / API token"}},
        doc_prefix="/docs", doc_url="/openapi.json",
        validation_error_status=422, validation_error_callback=validation_problem,
    )
    app.config.update(SECRET_KEY=settings.session_secret(), JSON_AS_ASCII=False,
                      MAX_CONTENT_LENGTH=settings.max_upload_mb * 1024 * 1024)
    app.config["LIANJIE_SETTINGS"] = settings
    app.json = SafeJSONProvider(app)
    app.json.ensure_ascii = False
    if settings.proxy_hops:
        # Behind nginx: the client's address and scheme are what the proxy forwards (its last hop only),
        # so the failed-login limit and the audit see the real client. Never without a proxy: a client
        # would choose its own address. X-Forwarded-Host is not trusted (the proxy passes Host itself).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
                                x_host=0, x_port=0, x_prefix=0)
    # An API answers a malformed path with 404, never a redirect to a "cleaned" one.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    neo4j_ext.init_app(app, settings)

    from app import auth, health, observability, problems
    from app.api import register_api
    from app.web import init_web
    from app.web.security import init_security_headers

    observability.init_observability(app, settings)
    init_security_headers(app)
    auth.init_auth(app, settings)
    problems.register_error_handlers(app)
    register_cli(app)
    app.register_blueprint(health.bp)
    register_api(app)
    app.add_url_rule("/openapi.json", "openapi_json", lambda: app.api_doc)
    init_web(app, settings)
    init_jobs(app, settings)
    return app
