"""Cypher for in-app notifications (core/notices.py): written inside the transaction of the change they tell
of, so a notification exists exactly when its change does; read a page at a time from the reader's index."""
import neo4j

from core.notices import NoticeKind

READ = neo4j.RoutingControl.READ

_NOTIFY = """
    CREATE (n:Notification {notification_id: randomUUID(), audience: $audience, kind: $kind, created_at: $now,
                            read: false, household_id: $household_id, credit_code: $credit_code,
                            mechanism: $mechanism, rec_id: $rec_id, run_id: $run_id, reason: $reason})
"""


def notify(tx: neo4j.ManagedTransaction, audience: str, kind: NoticeKind, now: str, *, household_id: str | None = None,
           credit_code: str | None = None, mechanism: str | None = None, rec_id: str | None = None,
           run_id: str | None = None, reason: str | None = None) -> None:
    """One notification for `audience`, in the caller's transaction."""
    tx.run(_NOTIFY, audience=audience, kind=kind.value, now=now, household_id=household_id,
           credit_code=credit_code, mechanism=mechanism, rec_id=rec_id, run_id=run_id, reason=reason).consume()


def notify_counties(tx: neo4j.ManagedTransaction, county_codes: list[str], kind: NoticeKind, now: str,
                    run_id: str | None = None) -> None:
    """The same notification for the bureau of each county."""
    tx.run("""UNWIND $audiences AS audience
              CREATE (:Notification {notification_id: randomUUID(), audience: audience, kind: $kind,
                                     created_at: $now, read: false, run_id: $run_id})""",
           audiences=[f"county:{code}" for code in county_codes], kind=kind.value, now=now, run_id=run_id).consume()


def page(driver: neo4j.Driver, audience: str, skip: int, limit: int, database: str | None = None) -> list[dict]:
    """A page of the audience's notifications, newest first, with the household's and enterprise's names."""
    records, _, _ = driver.execute_query(
        """
        MATCH (n:Notification) WHERE n.audience = $audience AND n.created_at IS NOT NULL
        WITH n ORDER BY n.audience, n.created_at DESC SKIP $skip LIMIT $limit
        OPTIONAL MATCH (h:Household {household_id: n.household_id})
        OPTIONAL MATCH (e:Enterprise {credit_code: n.credit_code})
        RETURN n {.*, head_name: h.head_name, head_name_masked: h.head_name_masked,
                  enterprise_name: e.name} AS item
        """,
        audience=audience, skip=skip, limit=limit, database_=database, routing_=READ)
    return [record["item"] for record in records]


def counts(driver: neo4j.Driver, audience: str, database: str | None = None) -> dict:
    """{total, unread} of the audience's notifications (index counts)."""
    records, _, _ = driver.execute_query(
        """
        CALL () { MATCH (n:Notification) WHERE n.audience = $audience AND n.created_at IS NOT NULL
                  RETURN count(n) AS total }
        CALL () { MATCH (n:Notification) WHERE n.audience = $audience AND n.read = false
                  AND n.created_at IS NOT NULL RETURN count(n) AS unread }
        RETURN total, unread
        """,
        audience=audience, database_=database, routing_=READ)
    return {"total": records[0]["total"], "unread": records[0]["unread"]}


def mark_read(driver: neo4j.Driver, audience: str, notification_ids: list[str] | None,
              database: str | None = None) -> int:
    """Mark the audience's notifications read (the ids given, or all unread); the number marked."""
    records, _, _ = driver.execute_query(
        """
        MATCH (n:Notification) WHERE n.audience = $audience AND n.read = false AND n.created_at IS NOT NULL
          AND ($ids IS NULL OR n.notification_id IN $ids)
        SET n.read = true
        RETURN count(n) AS marked
        """,
        audience=audience, ids=notification_ids, database_=database)
    return records[0]["marked"]
