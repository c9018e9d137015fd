"""Web sessions kept on the server, and failed sign-ins counted where every worker sees them.

A browser session is a random id (256 bits) in the signed cookie; the graph keeps only its SHA-256
with the token it stands for, when it began, when it was last used and when it must end. So:
- a cookie cannot be forged from a token id, even by someone who knows the cookie-signing key;
- signing out, signing in again and revoking the token end the session on the server, and a copy of
  the cookie stops working with it;
- a session ends after WEB_SESSION_IDLE_MINUTES without activity and WEB_SESSION_HOURS after sign-in.

Failed sign-ins (API and web) are counted per client address in a moving window. `GraphLimitStorage`
is a storage for the `limits` package that keeps the count in the graph, so every gunicorn worker and
every server sharing the graph enforce one FAILED_LOGIN_LIMIT (no redis needed).
"""
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import neo4j
from limits.storage import MovingWindowSupport, Storage

from graph import access
from services.context import Context
from services.principal import Principal
from services.tokens import principal_of_token

SESSION_ID_BYTES = 32
# Activity is written at most this often (a page's polling must not write on every request).
TOUCH_EVERY = timedelta(seconds=60)
# Ended and expired sessions are kept this long (who was signed in when), then deleted.
KEEP_ENDED = timedelta(days=30)


def now() -> datetime:
    """The current UTC time (one place, so tests can move the clock)."""
    return datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    """An ISO-8601 UTC time in one fixed format, so that stamps compare as text in Cypher."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def session_hash(session_id: str) -> str:
    """What the graph stores of a session id (the id is 256 random bits: a plain SHA-256 suffices)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionRules:
    """How long a session lives."""

    idle: timedelta
    lifetime: timedelta

    @classmethod
    def of(cls, ctx: Context) -> "SessionRules":
        return cls(idle=timedelta(minutes=ctx.settings.web_session_idle_minutes),
                   lifetime=timedelta(hours=ctx.settings.web_session_hours))


def start(ctx: Context, principal: Principal, client: str | None, previous: str | None = None) -> str:
    """Open a session for the signed-in principal; returns the new session id (for the cookie only).

    `previous`: the session id the browser held before signing in, which ends now (no session fixation)."""
    if previous:
        end(ctx, previous)
    moment, rules = now(), SessionRules.of(ctx)
    session_id = secrets.token_urlsafe(SESSION_ID_BYTES)
    record = {"session_hash": session_hash(session_id), "token_id": principal.token_id, "created_at": _stamp(moment),
              "last_seen_at": _stamp(moment), "expires_at": _stamp(moment + rules.lifetime), "client": client}
    access.create_web_session(ctx.driver, {k: v for k, v in record.items() if v is not None}, ctx.database)
    access.delete_old_web_sessions(ctx.driver, _stamp(moment - KEEP_ENDED), database=ctx.database)
    return session_id


def principal_for_session(ctx: Context, session_id: str | None) -> Principal | None:
    """The principal of an open session, or None (unknown, ended, idle too long, past its lifetime, revoked)."""
    if not session_id or not isinstance(session_id, str) or len(session_id) > 128:
        return None
    moment, rules = now(), SessionRules.of(ctx)
    hashed = session_hash(session_id)
    found = access.active_web_session(ctx.driver, hashed, _stamp(moment), _stamp(moment - rules.idle), ctx.database)
    if found is None:
        return None
    if datetime.fromisoformat(found["last_seen_at"]) <= moment - TOUCH_EVERY:
        access.touch_web_session(ctx.driver, hashed, _stamp(moment), ctx.database)
    return principal_of_token(found["token"])


def end(ctx: Context, session_id: str | None) -> None:
    """End a session (sign-out): the cookie, and every copy of it, no longer signs anyone in."""
    if session_id and isinstance(session_id, str) and len(session_id) <= 128:
        access.end_web_session(ctx.driver, session_hash(session_id), _stamp(now()), ctx.database)


class GraphLimitStorage(Storage, MovingWindowSupport):
    """A `limits` storage keeping moving-window counts in the graph (LoginFailures nodes).

    Only the moving-window strategy is supported (the failed-login limiter's); the fixed-window methods
    answer from the same counts so the storage stays usable by `limits`' generic code."""

    STORAGE_SCHEME = None

    def __init__(self, driver: Callable[[], neo4j.Driver], database: str | None = None):
        super().__init__()
        self._driver, self.database = driver, database

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        counted = access.acquire_login_failure(self._driver(), key, limit, time.time(), float(expiry), amount,
                                               self.database)
        access.delete_expired_login_failures(self._driver(), time.time(), database=self.database)
        return counted

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        recent = access.login_failures(self._driver(), key, time.time(), float(expiry), self.database)
        return (recent[0] if recent else time.time()), len(recent)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        access.acquire_login_failure(self._driver(), key, 2**31, time.time(), float(expiry), amount, self.database)
        return self.get(key)

    def get(self, key: str) -> int:
        return len(access.login_failures(self._driver(), key, time.time(), float(2**31), self.database))

    def get_expiry(self, key: str) -> float:
        recent = access.login_failures(self._driver(), key, time.time(), float(2**31), self.database)
        return recent[-1] if recent else time.time()

    def check(self) -> bool:
        try:
            self._driver().verify_connectivity()
        except Exception:  # noqa: BLE001 — limits asks only "healthy or not"
            return False
        return True

    def reset(self) -> int | None:
        return access.clear_login_failures(self._driver(), None, self.database)

    def clear(self, key: str) -> None:
        access.clear_login_failures(self._driver(), key, self.database)
