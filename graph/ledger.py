"""Cypher for acting on recommendations and keeping the partnership ledger (帮扶台账).

Accepting a recommendation writes a Partnership: 待确认 when the enterprise accepts, 履约中
when the bureau confirms. An enterprise takes as many households by a mechanism as its stated
capacity gives places (core.mechanisms: 30 亩 of land lease at 3 亩 a household is 10 places);
open partnerships (履约中, 待确认) hold places. A decline keeps its reason on the recommendation,
as feedback for the model. Code-list values travel as parameters (graph/vocabulary.py).
"""
import uuid

import neo4j

from core.clock import today_iso
from core.codes import PartnershipStatus, RecommendationStatus
from core.mechanisms import places
from core.notices import NoticeKind, county_audience, enterprise_audience
from graph import followups, notifications, readstate, warnings
from graph.db import read_page
from graph.matching import IS_CURRENT, decisions, materialise_recommendation, sync_entry_status
from graph.querybuilder import open_projection
from graph.vocabulary import with_vocabulary

# Ledger fields staff may change through the API.
PARTNERSHIP_UPDATABLE = frozenset({"income_gain", "status", "note", "end_date"})


class LedgerConflict(Exception):
    """The action does not fit the current state (code names the reason for the API)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


_CLOSED = frozenset(RecommendationStatus.codes(*RecommendationStatus.closed()))

_ACCEPT_READ = """
    MATCH (r:Recommendation {rec_id: $rec_id})
    SET r.lock = true
    WITH r
    MATCH (h:Household {household_id: r.household_id})
    MATCH (e:Enterprise {credit_code: r.credit_code})
    // The enterprise's write lock first: accepts of its places are judged one at a time, so
    // simultaneous accepts never take more places than it has.
    SET e.lock = true
    WITH r, h, e
    OPTIONAL MATCH (h)<-[:OF_HOUSEHOLD]-(same:Partnership {mechanism: r.mechanism})-[:WITH_ENTERPRISE]->(e)
    WHERE same.status IN $open_statuses
    CALL (e, r) {
      OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(used:Partnership {mechanism: r.mechanism}) WHERE used.status IN $open_statuses
      RETURN count(used) AS in_use
    }
    RETURN r {.*} AS rec, e {.*} AS enterprise, collect(same.partnership_id)[0] AS existing, in_use,
           """ + IS_CURRENT + """ AS current
"""

_ACCEPT_WRITE = """
    MATCH (r:Recommendation {rec_id: $rec_id})
    MATCH (h:Household {household_id: r.household_id})
    MATCH (e:Enterprise {credit_code: r.credit_code})
    MERGE (p:Partnership {partnership_id: $partnership_id})
    ON CREATE SET p.household_id = r.household_id, p.credit_code = r.credit_code, p.mechanism = r.mechanism,
                  p.start_date = $today, p.source = 'recommendation', p.rec_id = r.rec_id, p.created_at = $now
    SET p.status = $status, p.updated_at = $now, p.updated_by = $actor
    MERGE (p)-[:OF_HOUSEHOLD]->(h)
    MERGE (p)-[:WITH_ENTERPRISE]->(e)
    SET r.status = $rec_status, r.partnership_id = $partnership_id, r.decided_at = $now, r.decided_by = $actor
    REMOVE r.lock, e.lock
"""


def _accept(tx: neo4j.ManagedTransaction, rec_id: str, confirm: bool, actor: str, now: str, today: str,
            changed_by: str | None = None) -> dict:
    # A refusal below raises, so the transaction and the node it may have created are rolled back.
    found = materialise_recommendation(tx, rec_id)
    record = tx.run(_ACCEPT_READ, with_vocabulary(_ACCEPT_READ, {"rec_id": rec_id})).single() if found else None
    if record is None:
        raise LedgerConflict("not_found", "推荐不存在 / no such recommendation")
    rec, enterprise, existing = record["rec"], record["enterprise"], record["existing"]
    if rec["status"] in _CLOSED or not record["current"]:
        raise LedgerConflict("recommendation_closed", "该推荐已处理或已过期 / recommendation already closed or superseded")
    if existing and (not confirm or rec["status"] != RecommendationStatus.ACCEPTED):
        raise LedgerConflict("already_partnered", "该户与该企业已有同类利益联结 / already in such a partnership")
    # Capacity is counted in places (households), not in the mechanism's own unit (亩 for a land lease).
    if not existing and record["in_use"] >= places(enterprise, rec["mechanism"]):
        raise LedgerConflict("no_capacity", "企业该联结方式已无剩余容量 / no capacity left for this mechanism")
    partnership_id = existing or f"P-{rec_id}"
    status = (PartnershipStatus.IN_FORCE if confirm else PartnershipStatus.AWAITING_CONFIRMATION).value
    rec_status = (RecommendationStatus.CONFIRMED if confirm else RecommendationStatus.ACCEPTED).value
    # A new row's history starts with its status (from nothing); a confirmation records 待确认 → 履约中.
    before = ledger_values(tx, [partnership_id]) or {partnership_id: {}}
    tx.run(_ACCEPT_WRITE, with_vocabulary(_ACCEPT_WRITE, {
        "rec_id": rec_id, "partnership_id": partnership_id, "status": status, "now": now, "today": today,
        "actor": actor, "rec_status": rec_status,
    })).consume()
    sync_entry_status(tx, rec_id)
    record_changes(tx, before, ledger_values(tx, [partnership_id]), changed_by or actor, actor, "recommendation", now)
    readstate.refresh(tx, [rec["household_id"]])  # covered / pending and open partnerships
    # A partnership in force closes the household's follow-up items; the enterprise's decided count moved.
    followups.observe_partnerships(tx, [partnership_id], today)
    warnings.refresh_enterprises(tx, [rec["credit_code"]])
    # The other side is told: an accept goes to the county's bureau to confirm, a confirmation to the enterprise.
    if confirm:
        audience, kind = enterprise_audience(rec["credit_code"]), NoticeKind.PARTNERSHIP_CONFIRMED
    else:
        audience, kind = county_audience(rec["county_code"]), NoticeKind.PAIRING_ACCEPTED
    notifications.notify(tx, audience, kind, now, household_id=rec["household_id"], credit_code=rec["credit_code"],
                         mechanism=rec["mechanism"], rec_id=rec_id)
    return {"partnership_id": partnership_id, "status": status}


def accept_recommendation(driver: neo4j.Driver, rec_id: str, confirm: bool, actor: str, now: str, today: str,
                          database: str | None = None, changed_by: str | None = None) -> dict:
    """Accept (enterprise: 待确认) or confirm (bureau: 履约中) a recommendation as a partnership.

    LedgerConflict: not_found, recommendation_closed, already_partnered, or no_capacity when the
    enterprise's open partnerships by this mechanism already fill its places.
    """
    with driver.session(database=database) as session:
        return session.execute_write(_accept, rec_id, confirm, actor, now, today, changed_by)


_DECLINE = """
    MATCH (r:Recommendation {rec_id: $rec_id})
    SET r.status = $declined, r.decline_reason = $reason, r.declined_by_role = $role, r.decided_by = $actor,
        r.decided_at = $now, r.household_inputs = $household_inputs, r.enterprise_inputs = $enterprise_inputs
    REMOVE r.lock
    WITH r
    OPTIONAL MATCH (p:Partnership {partnership_id: r.partnership_id}) WHERE p.status = $awaiting
    SET p.status = $terminated, p.updated_at = $now, p.updated_by = $actor
"""


def _decline(tx: neo4j.ManagedTransaction, rec_id: str, reason: str, actor: str, role: str, now: str,
             inputs: tuple[str | None, str | None], changed_by: str | None = None) -> None:
    if not materialise_recommendation(tx, rec_id):
        raise LedgerConflict("not_found", "推荐不存在 / no such recommendation")
    record = tx.run(
        """
        MATCH (r:Recommendation {rec_id: $rec_id})
        SET r.lock = true
        RETURN r.status AS status, r.partnership_id AS partnership_id, r.household_id AS household_id,
               r.credit_code AS credit_code, r.mechanism AS mechanism, """ + IS_CURRENT + """ AS current
        """,
        rec_id=rec_id,
    ).single()
    if record is None:
        raise LedgerConflict("not_found", "推荐不存在 / no such recommendation")
    if record["status"] in _CLOSED or not record["current"]:
        raise LedgerConflict("recommendation_closed", "该推荐已处理或已过期 / recommendation already closed or superseded")
    before = ledger_values(tx, [record["partnership_id"]]) if record["partnership_id"] else {}
    tx.run(_DECLINE, with_vocabulary(_DECLINE, {"rec_id": rec_id, "reason": reason, "role": role, "actor": actor,
                                                "now": now, "household_inputs": inputs[0],
                                                "enterprise_inputs": inputs[1]})).consume()
    sync_entry_status(tx, rec_id)
    if before:  # an accepted pairing declined: 待确认 → 已终止
        record_changes(tx, before, ledger_values(tx, list(before)), changed_by or actor, actor, "recommendation", now)
    readstate.refresh(tx, [record["household_id"]])
    followups.observe_partnerships(tx, [record["partnership_id"]], today_iso())
    warnings.refresh_enterprises(tx, [record["credit_code"]])
    if role != "enterprise" and record["status"] == RecommendationStatus.ACCEPTED:
        # The bureau sends back a pairing the enterprise had accepted: the enterprise is told why.
        notifications.notify(tx, enterprise_audience(record["credit_code"]), NoticeKind.PAIRING_REJECTED, now,
                             household_id=record["household_id"], credit_code=record["credit_code"],
                             mechanism=record["mechanism"], rec_id=rec_id, reason=reason)


def decline_recommendation(driver: neo4j.Driver, rec_id: str, reason: str, actor: str, role: str, now: str,
                           database: str | None = None,
                           inputs: tuple[str | None, str | None] = (None, None),
                           changed_by: str | None = None) -> None:
    """Decline a recommendation with a reason (an accepted, unconfirmed partnership is ended); `inputs` are the
    digests of the household's and the enterprise's matching inputs now (the pair is not recommended again
    while both stay the same)."""
    with driver.session(database=database) as session:
        session.execute_write(_decline, rec_id, reason, actor, role, now, inputs, changed_by)


# The ledger fields whose every change is recorded (PartnershipChange: who, when, field, from → to).
HISTORY_FIELDS = ("status", "end_date", "income_gain", "note")
ETL_AUTHOR = "数据导入"
_CHANGE = open_projection("PartnershipChange", "c")


def value_text(value) -> str | None:
    """A ledger value as the history keeps it: text (a whole number without its .0), None for none."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def ledger_values(tx: neo4j.ManagedTransaction, partnership_ids: list[str]) -> dict[str, dict]:
    """Inside the caller's transaction: partnership id → its HISTORY_FIELDS, credit code and household county
    (only the partnerships that exist)."""
    records = tx.run(
        """
        UNWIND $ids AS id
        MATCH (p:Partnership {partnership_id: id})
        OPTIONAL MATCH (p)-[:OF_HOUSEHOLD]->(h:Household)
        WITH p, head(collect(h.county_code)) AS county
        RETURN p.partnership_id AS id, p {.status, .end_date, .income_gain, .note, .credit_code} AS fields, county
        """, ids=list(partnership_ids))
    return {record["id"]: {**record["fields"], "county_code": record["county"]} for record in records}


def record_changes(tx: neo4j.ManagedTransaction, before: dict[str, dict], after: dict[str, dict], changed_by: str,
                   actor: str | None, source: str, now: str) -> int:
    """Inside the write's transaction: a PartnershipChange for every HISTORY_FIELDS value that differs between
    `before` and `after` (ledger_values read before and after the write); returns how many were written."""
    rows = []
    for partnership_id, old in before.items():
        new = after.get(partnership_id)
        if new is None:
            continue
        for field in HISTORY_FIELDS:
            was, now_value = value_text(old.get(field)), value_text(new.get(field))
            if was != now_value:
                rows.append({"change_id": f"pc-{uuid.uuid4().hex}", "partnership_id": partnership_id,
                             "county_code": new.get("county_code"), "credit_code": new.get("credit_code"),
                             "changed_at": now, "changed_by": changed_by, "changed_by_actor": actor,
                             "source": source, "field": field, "from_value": was, "to_value": now_value})
    if rows:
        # SET c = row leaves out the null entries (a value that was or became empty).
        tx.run("UNWIND $rows AS row CREATE (c:PartnershipChange) SET c = row", rows=rows).consume()
    return len(rows)


def update_partnership(driver: neo4j.Driver, partnership_id: str, changes: dict, actor: str, now: str,
                       database: str | None = None, *, changed_by: str | None = None,
                       source: str = "api") -> bool:
    """Change ledger fields (names from PARTNERSHIP_UPDATABLE); False when no such partnership.

    Every field whose value changes is recorded as a PartnershipChange (changed_by: the author as shown, by
    default the actor; source: page, api or etl) in the same transaction."""
    unknown = set(changes) - PARTNERSHIP_UPDATABLE
    if unknown:
        raise ValueError(f"not an updatable ledger field: {sorted(unknown)}")
    def work(tx: neo4j.ManagedTransaction) -> bool:
        before = ledger_values(tx, [partnership_id])
        record = tx.run(
            """
            MATCH (p:Partnership {partnership_id: $partnership_id})
            SET p += $changes, p.updated_at = $now, p.updated_by = $actor
            WITH p OPTIONAL MATCH (p)-[:OF_HOUSEHOLD]->(h:Household)
            RETURN p.partnership_id AS id, collect(h.household_id) AS households
            """,
            partnership_id=partnership_id, changes=changes, now=now, actor=actor,
        ).single()
        if record is None:
            return False
        record_changes(tx, before, ledger_values(tx, [partnership_id]), changed_by or actor, actor, source, now)
        readstate.refresh(tx, record["households"])  # a status change covers or uncovers the household
        # An end raises a follow-up item, coming into force closes them; the enterprise's early ends moved.
        followups.observe_partnerships(tx, [partnership_id], today_iso())
        warnings.refresh_enterprises(tx, warnings.enterprises_of_partnerships(tx, [partnership_id]))
        return True

    with driver.session(database=database) as session:
        return session.execute_write(work)


def partnership_changes(driver: neo4j.Driver, partnership_id: str, skip: int, limit: int,
                        database: str | None = None) -> tuple[list[dict], int]:
    """A page of a partnership's recorded changes, newest first, and their total."""
    where = "MATCH (c:PartnershipChange {partnership_id: $partnership_id})"
    return read_page(
        driver, f"{where} RETURN count(c) AS total",
        f"{where} WITH c ORDER BY c.changed_at DESC, c.field SKIP $skip LIMIT $limit RETURN {_CHANGE} AS item",
        {"partnership_id": partnership_id, "skip": skip, "limit": limit}, database)


def declined_pairs(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> list[dict]:
    """Declined recommendations with their reasons (feedback for the model: graph.matching.decisions)."""
    return decisions(driver, county_codes, database, statuses=[RecommendationStatus.DECLINED.value])
