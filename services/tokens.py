"""API tokens: created once (the secret is shown only then), stored only as SHA-256 hashes, revocable."""
import hashlib
import secrets
import time
import uuid
from datetime import datetime, timezone

from graph import access
from services.context import Context
from services.errors import Invalid
from services.principal import ROLES, Principal, Role

TOKEN_PREFIX = "lj_"
_MAX_SECRET_LENGTH = 200


def hash_token(secret: str) -> str:
    """The stored form of a token: tokens are long random strings, so a plain SHA-256 suffices."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(ctx: Context, role: str, name: str, county_code: str | None = None,
                credit_code: str | None = None) -> str:
    """Create a token with a role and scope; returns the secret, which is not stored anywhere."""
    if role not in ROLES:
        raise Invalid(f"角色无效 / unknown role: {role}", "unknown_role")
    if role == Role.BUREAU and not county_code:
        raise Invalid("商务局令牌须指定县 / a bureau token needs --county", "county_required")
    if role == Role.ENTERPRISE and not credit_code:
        raise Invalid("企业令牌须指定统一社会信用代码 / an enterprise token needs --enterprise",
                      "enterprise_required")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = {
        "token_id": "tok_" + uuid.uuid4().hex[:12], "token_hash": hash_token(secret), "name": name, "role": str(role),
        "county_code": county_code if role == Role.BUREAU else None,
        "credit_code": credit_code if role == Role.ENTERPRISE else None,
        "created_at": datetime.now(timezone.utc).isoformat(),
    }
    access.create_token(ctx.driver, {k: v for k, v in token.items() if v is not None}, ctx.database)
    return secret


def list_tokens(ctx: Context) -> list[dict]:
    """Every token (id, role, scope, created, revoked) without its hash, newest first."""
    return access.list_tokens(ctx.driver, ctx.database)


def revoke_token(ctx: Context, token_id: str) -> bool:
    """Revoke a token by id, ending its web sessions too; False when there is no such token."""
    return access.revoke_token(ctx.driver, token_id, datetime.now(timezone.utc).isoformat(), ctx.database)


def principal_of_token(token: dict) -> Principal:
    """The principal a stored token (as read back, without its hash) stands for."""
    return Principal(token["token_id"], token.get("name", ""), token["role"], token.get("county_code"),
                     token.get("credit_code"))


def principal_and_failures(ctx: Context, secret: str, limit_key: str, window: float) -> tuple[Principal | None, int]:
    """The principal of a token secret (None when unknown or revoked) and the failed logins counted under
    limit_key in the last `window` seconds, read together (one round trip per request)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > _MAX_SECRET_LENGTH:
        return None, len(access.login_failures(ctx.driver, limit_key, time.time(), window, ctx.database))
    token, failures = access.token_and_failures(ctx.driver, hash_token(secret), limit_key, time.time(), window,
                                                ctx.database)
    return (None if token is None else principal_of_token(token)), failures


def principal_for_secret(ctx: Context, secret: str) -> Principal | None:
    """The principal of a token secret, or None when unknown or revoked."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > _MAX_SECRET_LENGTH:
        return None
    token = access.token_by_hash(ctx.driver, hash_token(secret), ctx.database)
    return None if token is None else principal_of_token(token)
