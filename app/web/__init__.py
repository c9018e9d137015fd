"""The Chinese web UI for bureau staff and enterprises: server-rendered pages over the same service
functions as the API (services/), so the roles, scopes, masking and audit rules are the same ones.
Service errors become Chinese error pages here, in `page()`, with the statuses of app/problems.py.

Log-in takes the same token as the API. The session is kept on the server (services/sessions.py): the
signed, HttpOnly, SameSite=Lax cookie (Secure unless SESSION_COOKIE_SECURE is off) holds a random session
id, never the token or its id, so signing out or revoking the token ends it everywhere. Every form carries
a CSRF token (Flask-WTF); redirects go only to paths of this site (app/web/security.py)."""
import functools
from datetime import date
from pathlib import Path

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.urls import iri_to_uri

from app.auth import client_address, failed_logins
from app.extensions import neo4j_ext
from app.problems import status_of
from app.web.security import safe_redirect_target
from core import codes, match_level
from core.settings import Settings
from services import queue, sessions
from services.errors import ServiceError
from services.principal import Principal
from services.tokens import principal_for_secret

TEMPLATES = Path(__file__).parent / "templates"

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")
csrf = CSRFProtect()

ROLE_HOME = {"bureau": "web.dashboard", "admin": "web.dashboard", "enterprise": "web.enterprise_home",
             "analyst": "web.analyst"}


def init_web(app: Flask, settings: Settings) -> None:
    """Sessions, CSRF protection (the bearer-token API is exempt: no cookies there) and the pages."""
    lifetime = settings.web_session_hours * 3600  # the cookie lasts as long as the server-side session may
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.session_cookie_secure, SESSION_COOKIE_NAME="lianjie_session",
                      PERMANENT_SESSION_LIFETIME=lifetime, WTF_CSRF_TIME_LIMIT=lifetime,
                      # The API docs without inline script or style (the Content-Security-Policy allows none).
                      SWAGGER_HTML_STRING=(TEMPLATES / "docs_swagger.html").read_text(encoding="utf-8"),
                      OPENAPI_HTML_STRING=(TEMPLATES / "docs_index.html").read_text(encoding="utf-8"))
    csrf.init_app(app)
    from app.api import api

    csrf.exempt(api)
    from app.web import analyst, pages, queues  # noqa: F401  (attach the page views to bp)

    app.register_blueprint(bp)
    app.jinja_env.globals.update(code_label=code_label, code_labels=code_labels, requested_path=requested_path,
                                 nav_counts=nav_counts, chinese_part=chinese_part,
                                 RecommendationStatus=codes.RecommendationStatus,
                                 MATCH_LEVEL_EXPLANATION=match_level.EXPLANATION)

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return error_page(400, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")


def error_page(status: int, message: str):
    """A Chinese error page with this status."""
    return render_template("error.html", status=status, message=message), status


def chinese_part(message: str) -> str:
    """The Chinese of a bilingual service message ("中文 / English"): the pages speak Chinese only."""
    return message.split(" / ", 1)[0].strip() if message else message


def service_error_page(error: ServiceError):
    """The Chinese error page of a service error (the status as the API would answer it)."""
    return error_page(status_of(error), chinese_part(error.message))


CODE_LISTS = {"cause": codes.PovertyCause, "attribute": codes.HouseholdAttribute, "mechanism": codes.Mechanism,
              "status": codes.PartnershipStatus, "skill": codes.LabourSkill, "monitoring": codes.MonitoringCategory,
              "recommendation": codes.RecommendationStatus, "coverage": codes.CoverageState}


def code_label(kind: str, code) -> str:
    """The Chinese label of a code ("01" → "因病"); the code itself when unknown."""
    if code is None:
        return "—"
    return CODE_LISTS[kind].label_of(code, str(code))


def code_labels(kind: str) -> list[tuple[str, str]]:
    """(code, label) pairs of a code list, for select boxes."""
    return list(CODE_LISTS[kind].labels().items())


def signed_in_principal() -> Principal | None:
    """The principal of this browser's server-side session (checked each request: an ended, idle, expired
    or revoked session signs nobody in)."""
    session_id = session.get("sid")
    if not session_id:
        return None
    principal = sessions.principal_for_session(neo4j_ext.context, session_id)
    if principal is None:
        session.clear()
    return principal


def requested_path() -> str:
    """This request's path and query as a same-site URI (non-ASCII percent-encoded), to come back to."""
    query = request.query_string.decode("latin-1")
    return iri_to_uri(request.path) + (f"?{query}" if query else "")


def page(*roles: str):
    """A page for these roles: sign-in required; other roles get a Chinese 403 page."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = signed_in_principal()
            if principal is None:
                return redirect(url_for("web.login", next=requested_path() if request.method == "GET" else None))
            g.principal = principal
            if principal.role not in roles:
                return error_page(403, "您的账号无权访问此页面。")
            try:
                return view(*args, **kwargs)
            except ServiceError as error:
                return service_error_page(error)
        return wrapper
    return decorator


def nav_counts() -> dict:
    """What waits for the signed-in user (services/queue.py), read once per page for the navigation."""
    if "nav_counts" not in g:
        principal = g.get("principal")
        try:
            g.nav_counts = queue.nav_counts(neo4j_ext.context, principal) if principal else {}
        except ServiceError:
            g.nav_counts = {}
    return g.nav_counts


@bp.app_context_processor
def _layout_context():
    return {"principal": g.get("principal"), "today": date.today().isoformat()}


@bp.get("/login")
def login():
    """The sign-in form (it carries `next` only when that is a path of this site)."""
    return render_template("login.html", next=safe_redirect_target(request.args.get("next")) or "")


@bp.post("/login")
def login_submit():
    """Sign in with an API token (failed attempts count towards the same limit as the API)."""
    limiter, client = failed_logins(), client_address()
    if limiter.blocked(client):
        return render_template("login.html", error="登录失败次数过多，请稍后再试。"), 429
    principal = principal_for_secret(neo4j_ext.context, request.form.get("token", "").strip())
    if principal is None:
        limiter.record_failure(client)
        return render_template("login.html", error="令牌无效或已吊销，请核对后重试。"), 401
    # A new session id at every sign-in; the one this browser held before ends (no session fixation).
    session_id = sessions.start(neo4j_ext.context, principal, client, previous=session.get("sid"))
    session.clear()
    session.permanent = True
    session["sid"] = session_id
    return redirect(safe_redirect_target(request.form.get("next")) or url_for(ROLE_HOME[principal.role]))


@bp.post("/logout")
def logout():
    """Sign out: the session ends on the server, so a copy of the cookie stops working too."""
    sessions.end(neo4j_ext.context, session.get("sid"))
    session.clear()
    flash("已退出登录。")
    return redirect(url_for("web.login"))


@bp.get("/")
def index():
    """Each role's home page."""
    principal = signed_in_principal()
    if principal is None:
        return redirect(url_for("web.login"))
    return redirect(url_for(ROLE_HOME[principal.role]))
