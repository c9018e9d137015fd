"""Cypher for access control: API tokens (stored as hashes only), web sessions, failed-login counts and the
audit log."""
import neo4j

from graph.db import read_page
from graph.querybuilder import open_projection

READ = neo4j.RoutingControl.READ
# A token as read back: every property but its hash (the hash is only ever matched inside the graph).
TOKEN = open_projection("ApiToken", "t")


def create_token(driver: neo4j.Driver, token: dict, database: str | None = None) -> None:
    """Store a token's hash with its role and scope (the secret itself is never stored)."""
    driver.execute_query("CREATE (t:ApiToken) SET t = $token", token=token, database_=database)


def token_by_hash(driver: neo4j.Driver, token_hash: str, database: str | None = None) -> dict | None:
    """The active token with this hash, or None."""
    records, _, _ = driver.execute_query(
        f"MATCH (t:ApiToken {{token_hash: $token_hash}}) WHERE t.revoked_at IS NULL RETURN {TOKEN} AS t",
        token_hash=token_hash, database_=database, routing_=READ,
    )
    return records[0]["t"] if records else None


def token_and_failures(driver: neo4j.Driver, token_hash: str, limit_key: str, now: float, window: float,
                       database: str | None = None) -> tuple[dict | None, int]:
    """One round trip for a bearer request: the active token with this hash (or None) and how many failed
    logins the caller's limit key has inside the moving window (see login_failures)."""
    records, _, _ = driver.execute_query(
        f"""OPTIONAL MATCH (t:ApiToken {{token_hash: $token_hash}}) WHERE t.revoked_at IS NULL
        OPTIONAL MATCH (f:LoginFailures {{limit_key: $limit_key}})
        RETURN {TOKEN} AS t, size([at IN coalesce(f.attempts, []) WHERE at > $now - $window]) AS failures""",
        token_hash=token_hash, limit_key=limit_key, now=now, window=window, database_=database, routing_=READ,
    )
    return records[0]["t"], records[0]["failures"]


def list_tokens(driver: neo4j.Driver, database: str | None = None) -> list[dict]:
    """Every token without its hash, newest first."""
    records, _, _ = driver.execute_query(
        f"MATCH (t:ApiToken) RETURN {TOKEN} AS t ORDER BY t.created_at DESC",
        database_=database, routing_=READ,
    )
    return [record["t"] for record in records]


def revoke_token(driver: neo4j.Driver, token_id: str, at: str, database: str | None = None) -> bool:
    """Mark a token revoked and end its web sessions (in one transaction); False when no such token exists."""
    records, _, _ = driver.execute_query(
        """MATCH (t:ApiToken {token_id: $token_id}) SET t.revoked_at = coalesce(t.revoked_at, $at)
        WITH t
        CALL (t) {
          OPTIONAL MATCH (s:WebSession {token_id: t.token_id}) WHERE s.ended_at IS NULL
          SET s.ended_at = $at
          RETURN count(s) AS ended
        }
        RETURN t.token_id AS id""",
        token_id=token_id, at=at, database_=database,
    )
    return bool(records)


def store_audit_events(driver: neo4j.Driver, events: list[dict], database: str | None = None) -> None:
    """Store audit events in one transaction, once each (an event spooled and written again is not repeated)."""
    driver.execute_query("UNWIND $events AS event MERGE (a:AuditEvent {event_id: event.event_id}) "
                         "ON CREATE SET a = event", events=events, database_=database)


def audit_events(driver: neo4j.Driver, skip: int, limit: int, database: str | None = None) -> tuple[list[dict], int]:
    """A page of audit events, newest first, and the total count."""
    return read_page(
        driver, "MATCH (a:AuditEvent) RETURN count(a) AS total",
        f"MATCH (a:AuditEvent) RETURN {open_projection('AuditEvent', 'a')} AS item "
        "ORDER BY a.at DESC, a.event_id SKIP $skip LIMIT $limit",
        {"skip": skip, "limit": limit}, database,
    )


def token_by_id(driver: neo4j.Driver, token_id: str, database: str | None = None) -> dict | None:
    """The active token with this id (for web sessions, which keep only the id), or None."""
    records, _, _ = driver.execute_query(
        f"MATCH (t:ApiToken {{token_id: $token_id}}) WHERE t.revoked_at IS NULL RETURN {TOKEN} AS t",
        token_id=token_id, database_=database, routing_=READ,
    )
    return records[0]["t"] if records else None


# Web sessions: the browser holds a random session id; the graph holds its hash and its life.

def create_web_session(driver: neo4j.Driver, session: dict, database: str | None = None) -> None:
    """Store a new web session (its hash, token, times, client)."""
    driver.execute_query("CREATE (s:WebSession) SET s = $session", session=session, database_=database)


def active_web_session(driver: neo4j.Driver, session_hash: str, now: str, idle_since: str,
                       database: str | None = None) -> dict | None:
    """The session with this hash and its token, if neither ended, expired, went idle nor was revoked; else None.

    Times are ISO-8601 UTC strings of one format, so they compare as text."""
    records, _, _ = driver.execute_query(
        f"""MATCH (s:WebSession {{session_hash: $session_hash}})
        WHERE s.ended_at IS NULL AND s.expires_at > $now AND s.last_seen_at > $idle_since
        MATCH (t:ApiToken {{token_id: s.token_id}}) WHERE t.revoked_at IS NULL
        RETURN s.last_seen_at AS last_seen_at, {TOKEN} AS token""",
        session_hash=session_hash, now=now, idle_since=idle_since, database_=database, routing_=READ,
    )
    return {"last_seen_at": records[0]["last_seen_at"], "token": records[0]["token"]} if records else None


def touch_web_session(driver: neo4j.Driver, session_hash: str, now: str, database: str | None = None) -> None:
    """Record activity on an open session (keeps it from going idle)."""
    driver.execute_query(
        "MATCH (s:WebSession {session_hash: $session_hash}) WHERE s.ended_at IS NULL SET s.last_seen_at = $now",
        session_hash=session_hash, now=now, database_=database,
    )


def end_web_session(driver: neo4j.Driver, session_hash: str, at: str, database: str | None = None) -> None:
    """End a session (sign-out, or a new sign-in in the same browser): its cookie no longer signs anyone in."""
    driver.execute_query(
        "MATCH (s:WebSession {session_hash: $session_hash}) SET s.ended_at = coalesce(s.ended_at, $at)",
        session_hash=session_hash, at=at, database_=database,
    )


def open_web_sessions(driver: neo4j.Driver, token_id: str, database: str | None = None) -> int:
    """How many sessions of this token have not been ended (expired ones included)."""
    records, _, _ = driver.execute_query(
        "MATCH (s:WebSession {token_id: $token_id}) WHERE s.ended_at IS NULL RETURN count(s) AS open",
        token_id=token_id, database_=database, routing_=READ,
    )
    return records[0]["open"]


def delete_old_web_sessions(driver: neo4j.Driver, before: str, limit: int = 1000,
                            database: str | None = None) -> int:
    """Delete sessions that expired or ended before `before` (at most `limit` at a time); returns how many."""
    records, _, _ = driver.execute_query(
        """MATCH (s:WebSession) WHERE s.expires_at < $before OR s.ended_at < $before
        WITH s LIMIT $limit DETACH DELETE s RETURN count(*) AS deleted""",
        before=before, limit=limit, database_=database,
    )
    return records[0]["deleted"]


# Failed logins: one node per limit key (client and limit) with the times of its recent failures.

def acquire_login_failure(driver: neo4j.Driver, limit_key: str, limit: int, now: float, window: float,
                          amount: int = 1, database: str | None = None) -> bool:
    """Count `amount` failures in the moving window unless that would pass `limit`; True when counted.

    The first SET takes the node's write lock, so concurrent workers count one after another."""
    records, _, _ = driver.execute_query(
        """MERGE (f:LoginFailures {limit_key: $limit_key})
        SET f.lock = true
        WITH f, [at IN coalesce(f.attempts, []) WHERE at > $now - $window] AS recent
        WITH f, recent, size(recent) + $amount <= $limit AS allowed
        SET f.attempts = CASE WHEN allowed THEN recent + [i IN range(1, $amount) | $now] ELSE recent END,
            f.expires_at = $now + $window
        REMOVE f.lock
        RETURN allowed""",
        limit_key=limit_key, limit=limit, now=now, window=window, amount=amount, database_=database,
    )
    return records[0]["allowed"]


def login_failures(driver: neo4j.Driver, limit_key: str, now: float, window: float,
                   database: str | None = None) -> list[float]:
    """The times of this key's failures inside the moving window, oldest first."""
    records, _, _ = driver.execute_query(
        """MATCH (f:LoginFailures {limit_key: $limit_key})
        RETURN [at IN f.attempts WHERE at > $now - $window] AS recent""",
        limit_key=limit_key, now=now, window=window, database_=database, routing_=READ,
    )
    return sorted(records[0]["recent"]) if records else []


def clear_login_failures(driver: neo4j.Driver, limit_key: str | None = None, database: str | None = None) -> int:
    """Forget the failures of one key (None: of every key); returns how many keys were cleared."""
    records, _, _ = driver.execute_query(
        "MATCH (f:LoginFailures) WHERE $limit_key IS NULL OR f.limit_key = $limit_key "
        "DETACH DELETE f RETURN count(*) AS cleared",
        limit_key=limit_key, database_=database,
    )
    return records[0]["cleared"]


def delete_expired_login_failures(driver: neo4j.Driver, now: float, limit: int = 1000,
                                  database: str | None = None) -> int:
    """Delete the counts whose window has passed (at most `limit` at a time)."""
    records, _, _ = driver.execute_query(
        "MATCH (f:LoginFailures) WHERE f.expires_at < $now WITH f LIMIT $limit DETACH DELETE f "
        "RETURN count(*) AS deleted",
        now=now, limit=limit, database_=database,
    )
    return records[0]["deleted"]
