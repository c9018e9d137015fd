"""Cypher for access control: API tokens (stored as hashes only) and the audit log."""
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


def list_tokens(driver: neo4j.Driver, database: str | None = None) -> list[dict]:
    """Every token without its hash, newest first."""
    records, _, _ = driver.execute_query(
        f"MATCH (t:ApiToken) RETURN {TOKEN} AS t ORDER BY t.created_at DESC",
        database_=database, routing_=READ,
    )
    return [record["t"] for record in records]


def revoke_token(driver: neo4j.Driver, token_id: str, at: str, database: str | None = None) -> bool:
    """Mark a token revoked; False when no such token exists."""
    records, _, _ = driver.execute_query(
        "MATCH (t:ApiToken {token_id: $token_id}) SET t.revoked_at = coalesce(t.revoked_at, $at) RETURN t.token_id AS id",
        token_id=token_id, at=at, database_=database,
    )
    return bool(records)


def write_audit_event(driver: neo4j.Driver, event: dict, database: str | None = None) -> None:
    """Append one audit event (who, what, which households, when)."""
    driver.execute_query("CREATE (a:AuditEvent) SET a = $event", event=event, database_=database)


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
