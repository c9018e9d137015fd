"""The Chinese web UI for bureau staff and enterprises: server-rendered pages over the same service
functions as the API (services/), so the roles, scopes, masking and audit rules are the same ones.
Service errors become Chinese error pages here, in `page()`, with the statuses of app/problems.py.

Log-in takes the same token as the API; the session keeps only the token's id, in a signed,
HttpOnly, SameSite=Lax cookie (Secure unless SESSION_COOKIE_SECURE is off); every form carries
a CSRF token (Flask-WTF)."""
import functools
from datetime import date

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.auth import client_address, failed_logins
from app.extensions import neo4j_ext
from app.problems import status_of
from core import codes
from core.settings import Settings
from services.errors import ServiceError
from services.principal import Principal
from services.tokens import principal_for_secret, principal_for_token_id

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")
csrf = CSRFProtect()

ROLE_HOME = {"bureau": "web.dashboard", "admin": "web.dashboard", "enterprise": "web.enterprise_home",
             "analyst": "web.households"}


def init_web(app: Flask, settings: Settings) -> None:
    """Sessions, CSRF protection (the bearer-token API is exempt: no cookies there) and the pages."""
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.session_cookie_secure, SESSION_COOKIE_NAME="lianjie_session",
                      PERMANENT_SESSION_LIFETIME=8 * 3600, WTF_CSRF_TIME_LIMIT=8 * 3600)
    csrf.init_app(app)
    from app.api import api

    csrf.exempt(api)
    from app.web import pages  # noqa: F401  (attaches the page views to bp)

    app.register_blueprint(bp)
    app.jinja_env.globals.update(code_label=code_label, code_labels=code_labels,
                                 RecommendationStatus=codes.RecommendationStatus)

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        return error_page(400, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")


def error_page(status: int, message: str):
    """A Chinese error page with this status."""
    return render_template("error.html", status=status, message=message), status


def service_error_page(error: ServiceError):
    """The Chinese error page of a service error (the status as the API would answer it)."""
    return error_page(status_of(error), error.message)


CODE_LISTS = {"cause": codes.PovertyCause, "attribute": codes.HouseholdAttribute, "mechanism": codes.Mechanism,
              "status": codes.PartnershipStatus, "skill": codes.LabourSkill, "monitoring": codes.MonitoringCategory,
              "recommendation": codes.RecommendationStatus}


def code_label(kind: str, code) -> str:
    """The Chinese label of a code ("01" → "因病"); the code itself when unknown."""
    if code is None:
        return "—"
    return CODE_LISTS[kind].label_of(code, str(code))


def code_labels(kind: str) -> list[tuple[str, str]]:
    """(code, label) pairs of a code list, for select boxes."""
    return list(CODE_LISTS[kind].labels().items())


def signed_in_principal() -> Principal | None:
    """The principal of this browser session (re-read each request, so a revoked token ends the session)."""
    token_id = session.get("token_id")
    if not token_id:
        return None
    principal = principal_for_token_id(neo4j_ext.context, token_id)
    if principal is None:
        session.clear()
    return principal


def page(*roles: str):
    """A page for these roles: sign-in required; other roles get a Chinese 403 page."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = signed_in_principal()
            if principal is None:
                return redirect(url_for("web.login", next=request.full_path if request.method == "GET" else None))
            g.principal = principal
            if principal.role not in roles:
                return error_page(403, "您的账号无权访问此页面。")
            try:
                return view(*args, **kwargs)
            except ServiceError as error:
                return service_error_page(error)
        return wrapper
    return decorator


@bp.app_context_processor
def _layout_context():
    return {"principal": g.get("principal"), "today": date.today().isoformat()}


@bp.get("/login")
def login():
    """The sign-in form."""
    return render_template("login.html", next=request.args.get("next", ""))


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
    session.clear()
    session.permanent = True
    session["token_id"] = principal.token_id
    target = request.form.get("next", "")
    if not target.startswith("/") or target.startswith("//"):
        target = url_for(ROLE_HOME[principal.role])
    return redirect(target)


@bp.post("/logout")
def logout():
    """Sign out."""
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
