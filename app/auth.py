"""Who is calling this request: the bearer token, the failed-login limit, and role checks on views.

The rules (roles, scopes, tokens) live in services.principal and services.tokens; this module only
reads the request. A token is created once by `flask tokens create` and shown only then.

Failed logins are counted per client address (request.remote_addr: the real client's behind a proxy
when PROXY_HOPS is set, see app/__init__.py) in the graph by default, so every worker and server
enforces one limit; RATELIMIT_STORAGE_URI may name a `limits` storage (redis://…) instead.
"""
import functools

from flask import Flask, current_app, g, request
from limits import parse as parse_limit
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.extensions import neo4j_ext
from core.settings import Settings
from services.errors import TooManyAttempts, Unauthenticated
from services.principal import Principal, require_role
from services.privacy import RequestFacts
from services.sessions import GraphLimitStorage
from services.tokens import principal_and_failures, principal_for_secret

GRAPH_STORAGE = "graph"


class FailedLoginLimiter:
    """Counts failed authentications per client address (moving window) and refuses when over the limit."""

    def __init__(self, storage: Storage, limit: str):
        self.limiter = MovingWindowRateLimiter(storage)
        self.limit = parse_limit(limit)

    def blocked(self, client: str) -> bool:
        """True when this client has used up its failed attempts."""
        return not self.limiter.test(self.limit, "auth-fail", client)

    def record_failure(self, client: str) -> None:
        """Count one failed attempt."""
        self.limiter.hit(self.limit, "auth-fail", client)

    def graph_window(self, client: str) -> tuple[str, int, float] | None:
        """(storage key, allowed failures, window seconds) of this client when the counts live in the graph,
        so the check can be read with the token in one query; None for another storage."""
        if not isinstance(self.limiter.storage, GraphLimitStorage):
            return None
        return self.limit.key_for("auth-fail", client), self.limit.amount, float(self.limit.get_expiry())


def init_auth(app: Flask, settings: Settings) -> None:
    """Register the failed-login limiter on the app (counting in the graph unless another storage is named)."""
    if settings.ratelimit_storage_uri == GRAPH_STORAGE:
        holder = app.extensions["neo4j"]  # the worker's driver, made on first use (after gunicorn forks)
        storage = GraphLimitStorage(holder.get, settings.neo4j_database)
    else:
        storage = storage_from_string(settings.ratelimit_storage_uri)
    app.extensions["failed_logins"] = FailedLoginLimiter(storage, settings.failed_login_limit)


def failed_logins() -> FailedLoginLimiter:
    """The current app's failed-login limiter (shared by the API and the web sign-in)."""
    return current_app.extensions["failed_logins"]


def client_address() -> str:
    """The caller's address, as the limiter counts it."""
    return request.remote_addr or "unknown"


def authenticate() -> Principal:
    """The caller of this request, from `Authorization: Bearer …`; raises Unauthenticated / TooManyAttempts."""
    if getattr(g, "principal", None) is not None:
        return g.principal
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():  # no attempt at all: nothing to count or refuse
        raise Unauthenticated("缺少访问令牌 / missing bearer token", "unauthenticated")
    limiter, client = failed_logins(), client_address()
    window = limiter.graph_window(client)
    if window is None:
        blocked = limiter.blocked(client)
        principal = None if blocked else principal_for_secret(neo4j_ext.context, secret.strip())
    else:  # the token and the client's failures in one round trip
        key, allowed, seconds = window
        principal, failures = principal_and_failures(neo4j_ext.context, secret.strip(), key, seconds)
        blocked = failures >= allowed
    if blocked:  # even a valid token: a guessing client learns nothing more
        raise TooManyAttempts("登录失败次数过多，请稍后再试 / too many failed attempts", "too_many_failed_logins")
    if principal is None:
        limiter.record_failure(client)
        raise Unauthenticated("访问令牌无效或已吊销 / invalid or revoked token", "invalid_token")
    g.principal = principal
    return principal


def requires(*roles: str):
    """View decorator: authenticate, then allow only the given roles (403 forbidden_role otherwise)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            require_role(authenticate(), *roles)
            return view(*args, **kwargs)
        return wrapper
    return decorator


def current_principal() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


def request_facts() -> RequestFacts:
    """This request's path, method, id and client address, for the audit log."""
    return RequestFacts(path=request.path, method=request.method, request_id=g.get("request_id"),
                        client=request.remote_addr)
