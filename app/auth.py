"""Who is calling: API tokens (stored only as SHA-256 hashes), roles, scopes and failed-login limits.

Roles: bureau (one county), enterprise (one enterprise), analyst (read-only, pseudonymised),
admin (everything). A token is created once by `flask tokens create` and shown only then.
"""
import functools
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import neo4j
from flask import Flask, current_app, g, request
from limits import parse as parse_limit
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.extensions import neo4j_ext
from core.settings import Settings
from graph import access

ROLES = ("bureau", "enterprise", "analyst", "admin")
ROLE_NAMES = {"bureau": "商务局", "enterprise": "企业", "analyst": "分析员", "admin": "管理员"}
TOKEN_PREFIX = "lj_"


class AuthError(Exception):
    """Authentication or authorisation failed (status 401, 403, 404 or 429; code and Chinese message)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Principal:
    """The caller: a token's identity, role and scope."""

    token_id: str
    name: str
    role: str
    county_code: str | None = None
    credit_code: str | None = None

    @property
    def actor(self) -> str:
        """How the caller is named in the ledger and the audit log."""
        return f"{self.role}:{self.token_id}"


def hash_token(secret: str) -> str:
    """The stored form of a token: tokens are long random strings, so a plain SHA-256 suffices."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(driver: neo4j.Driver, settings: Settings, role: str, name: str, county_code: str | None = None,
                credit_code: str | None = None) -> str:
    """Create a token with a role and scope; returns the secret, which is not stored anywhere."""
    if role not in ROLES:
        raise ValueError(f"角色无效 / unknown role: {role}")
    if role == "bureau" and not county_code:
        raise ValueError("商务局令牌须指定县 / a bureau token needs --county")
    if role == "enterprise" and not credit_code:
        raise ValueError("企业令牌须指定统一社会信用代码 / an enterprise token needs --enterprise")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = {
        "token_id": "tok_" + uuid.uuid4().hex[:12], "token_hash": hash_token(secret), "name": name, "role": role,
        "county_code": county_code if role == "bureau" else None,
        "credit_code": credit_code if role == "enterprise" else None,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    access.create_token(driver, {k: v for k, v in token.items() if v is not None}, settings.neo4j_database)
    return secret


class FailedLoginLimiter:
    """Counts failed authentications per client address (moving window) and refuses when over the limit."""

    def __init__(self, storage_uri: str, limit: str):
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.limit = parse_limit(limit)

    def blocked(self, client: str) -> bool:
        """True when this client has used up its failed attempts."""
        return not self.limiter.test(self.limit, "auth-fail", client)

    def record_failure(self, client: str) -> None:
        """Count one failed attempt."""
        self.limiter.hit(self.limit, "auth-fail", client)


def init_auth(app: Flask, settings: Settings) -> None:
    """Register the failed-login limiter on the app."""
    app.extensions["failed_logins"] = FailedLoginLimiter(settings.ratelimit_storage_uri, settings.failed_login_limit)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def principal_for_secret(secret: str) -> Principal | None:
    """The principal of a token secret, or None when unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = access.token_by_hash(neo4j_ext.driver, hash_token(secret), neo4j_ext.database)
    if token is None:
        return None
    return Principal(token["token_id"], token.get("name", ""), token["role"], token.get("county_code"),
                     token.get("credit_code"))


def authenticate() -> Principal:
    """The caller of this request, from `Authorization: Bearer …` (or the web session); raises AuthError."""
    if getattr(g, "principal", None) is not None:
        return g.principal
    limiter: FailedLoginLimiter = current_app.extensions["failed_logins"]
    client = _client_address()
    if limiter.blocked(client):
        raise AuthError(429, "too_many_failed_logins", "登录失败次数过多，请稍后再试 / too many failed attempts")
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthError(401, "unauthenticated", "缺少访问令牌 / missing bearer token")
    principal = principal_for_secret(secret.strip())
    if principal is None:
        limiter.record_failure(client)
        raise AuthError(401, "invalid_token", "访问令牌无效或已吊销 / invalid or revoked token")
    g.principal = principal
    return principal


def requires(*roles: str):
    """View decorator: authenticate, then allow only the given roles (403 otherwise)."""
    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = authenticate()
            if principal.role not in roles:
                raise AuthError(403, "forbidden_role",
                                f"{ROLE_NAMES[principal.role]}账号无权执行此操作 / role not allowed")
            return view(*args, **kwargs)
        return wrapper
    return decorator


def current_principal() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


def scoped_county(requested: str | None) -> str | None:
    """The county a list may cover: a bureau's own (another is refused); for others the one asked (None = all)."""
    principal = current_principal()
    if principal.role == "bureau":
        if requested is not None and requested != principal.county_code:
            raise AuthError(403, "outside_jurisdiction", "只能查看本县数据 / outside your county")
        return principal.county_code
    return requested


def not_found(what: str = "资源") -> AuthError:
    """404 for things that do not exist or lie outside the caller's scope (their existence is not revealed)."""
    return AuthError(404, "not_found", f"未找到该{what} / not found")
