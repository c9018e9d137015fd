"""Follow-up items (跟进事项): the events that put a household back in play, found where the data changes.

Each write that can change what the follow-up rules look at observes the nodes it wrote, in its own
transaction: the ETL's batches of households, partnerships and enterprises (graph/loading.py), ledger edits,
confirmations and declines (graph/ledger.py), an enterprise's offer change. Observing compares the node with
what the rules last saw of it (the `observed_*` properties, set by the same write), so an event is found once
whatever path wrote it, and a node seen for the first time is a baseline: it raises nothing for what it
already is (but a monitoring that began within RECENT_MONITORING_DAYS). Time-based events (a partnership past
its end date) are found by the daily sweep (`raise_expired`).

An item's id is `household:reason:subject`, the subject naming the event (the partnership, the enterprise and
mechanism with the partnership at risk, the monitoring's start, the year), and items are MERGEd on it: an
event raises exactly one item, however often it is observed. A household with unresolved items is planned
first by the next run (matching: FOLLOW_UP_PRIORITY); the run marks the items it planned (`mark_planned`);
a partnership coming into force closes its household's items, and staff may close one with a reason.
"""
import hashlib
from collections.abc import Iterable
from datetime import date, datetime, timezone

import neo4j

from core.codes import Mechanism, MonitoringCategory, PartnershipStatus, YesNo
from core.clock import days_after, today_iso
from core.followup import (DUE_DAYS, RECENT_MONITORING_DAYS, ClosedBy, FollowUpReason, FollowUpStatus,
                           monitoring_line)
from core.mechanisms import MECHANISMS, places
from graph.vocabulary import with_vocabulary

UNRESOLVED = FollowUpStatus.codes(*FollowUpStatus.unresolved())
IN_FORCE = PartnershipStatus.IN_FORCE.value
ENDED = PartnershipStatus.codes(PartnershipStatus.COMPLETED, PartnershipStatus.TERMINATED)
MECHANISM_CODES = [mechanism.value for mechanism in MECHANISMS]


def item(household_id: str, reason: FollowUpReason, subject: str, since: str, detail: str) -> dict:
    """A follow-up item to raise (its id names the event, so raising it again changes nothing)."""
    return {"followup_id": f"{household_id}:{reason.value}:{subject}", "household_id": household_id,
            "reason": reason.value, "subject": subject, "since": since, "detail": detail}


# ---- the rules, on plain records (unit-tested without Neo4j) ---------------------------------------------

def _risk_state(category: str, risks: Iterable[str] | None, removed) -> str:
    """A short digest of a monitoring state (category, risk causes as a set, removed or not)."""
    text = "|".join([category, ",".join(sorted(set(risks or ()))), "1" if _yes(removed) else "0"])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def _yes(value) -> bool:
    return value is True or str(value) in (YesNo.YES.value, "True", "true")


def household_events(record: dict, as_of: str) -> list[dict]:
    """The items a household's current record raises against what was observed of it.

    record: household_id, monitoring_category, risk_causes, risk_removed, monitoring_since, income_per_capita,
    and observed_at (None: never observed), observed_monitoring, observed_risks, observed_risk_removed,
    observed_income."""
    household = record["household_id"]
    category = record.get("monitoring_category") or ""
    removed = _yes(record.get("risk_removed"))
    since = record.get("monitoring_since") or as_of
    events = []
    if record.get("observed_at") is None:
        # First sight: a baseline, but a monitoring that began lately is news to the bureau.
        if category and not removed and since >= days_after(as_of, -RECENT_MONITORING_DAYS):
            events.append(item(household, FollowUpReason.BECAME_MONITORED, since, since,
                               f"纳入监测：{_category_label(category)}"))
        return events
    before = record.get("observed_monitoring") or ""
    if category and not removed:
        if not before:
            events.append(item(household, FollowUpReason.BECAME_MONITORED, since, since,
                               f"纳入监测：{_category_label(category)}"))
        else:
            state = _risk_state(category, record.get("risk_causes"), removed)
            previous = _risk_state(before, record.get("observed_risks"), record.get("observed_risk_removed"))
            if state != previous:
                events.append(item(household, FollowUpReason.RISK_CHANGED, state, as_of,
                                   f"监测类别或风险变化：{_category_label(category)}"))
    income, observed_income = record.get("income_per_capita"), record.get("observed_income")
    line = monitoring_line(date.fromisoformat(as_of).year)
    if line is not None and income is not None and observed_income is not None \
            and float(observed_income) >= line > float(income):
        year = as_of[:4]
        events.append(item(household, FollowUpReason.INCOME_BELOW_LINE, year, as_of,
                           f"人均纯收入 {float(income):,.0f} 元，低于 {year} 年监测线 {line:,} 元"
                           f"（此前 {float(observed_income):,.0f} 元）"))
    return events


def _category_label(code: str) -> str:
    return MonitoringCategory.label_of(code, code)


def partnership_events(record: dict, as_of: str) -> tuple[list[dict], bool]:
    """(items raised, whether the partnership came into force) for a partnership's current record.

    record: partnership_id, household_id, status, observed_status (None: never observed), end_date,
    enterprise_name. Only a partnership the rules saw in force can end; one first seen in force is a
    partnership confirmed (it closes its household's items)."""
    status, before = record.get("status"), record.get("observed_status")
    household = record.get("household_id")
    if household is None:
        return [], False
    if before == IN_FORCE and status in ENDED:
        label = PartnershipStatus.label_of(status, status)
        return [item(household, FollowUpReason.PARTNERSHIP_ENDED, record["partnership_id"],
                     record.get("end_date") or as_of,
                     f"与{record.get('enterprise_name') or '企业'}的联结{label}")], False
    return [], status == IN_FORCE and before != IN_FORCE


def offered_mechanisms(enterprise: dict) -> set[str]:
    """The mechanisms an enterprise offers: its list, or (no list) those it states a capacity for."""
    listed = set(enterprise.get("mechanisms") or ())
    return listed or {code for code in MECHANISM_CODES if places(enterprise, code) > 0}


def enterprise_events(enterprise: dict, open_partnerships: list[dict], as_of: str) -> list[dict]:
    """The items an enterprise's current offer raises against what was observed of it.

    enterprise: its properties (capacity fields, mechanisms, name) with observed_places (None: never observed)
    and observed_offered; open_partnerships: its open partnerships (partnership_id, household_id, mechanism,
    start_date). A mechanism no longer offered puts every household of it back in play; places cut below the
    open partnerships put the latest-started ones beyond the places back in play (the ledger's first come,
    first kept)."""
    observed = enterprise.get("observed_places")
    if observed is None:
        return []
    offered, before_offered = offered_mechanisms(enterprise), set(enterprise.get("observed_offered") or ())
    name, code = enterprise.get("name") or "企业", enterprise["credit_code"]
    events = []
    for position, mechanism in enumerate(MECHANISM_CODES):
        holding = sorted((p for p in open_partnerships if p["mechanism"] == mechanism and p.get("household_id")),
                         key=lambda p: (p.get("start_date") or "", p["partnership_id"]), reverse=True)
        if not holding:
            continue
        now_places = places(enterprise, mechanism)
        before_places = observed[position] if position < len(observed) else 0
        label = Mechanism.label_of(mechanism, mechanism)
        if mechanism in before_offered and mechanism not in offered:
            affected, reason = holding, FollowUpReason.ENTERPRISE_LEFT
            detail = f"{name}不再提供{label}"
        elif now_places < before_places and len(holding) > now_places:
            affected = holding[:len(holding) - now_places]
            reason = FollowUpReason.ENTERPRISE_LEFT if now_places == 0 else FollowUpReason.CAPACITY_CUT
            detail = f"{name}{label}名额由 {before_places} 减为 {now_places}（在联结 {len(holding)} 户）"
        else:
            continue
        events += [item(p["household_id"], reason, f"{code}:{mechanism}:{p['partnership_id']}", as_of, detail)
                   for p in affected]
    return events


def observed_offer(enterprise: dict) -> dict:
    """What the rules keep of an enterprise's offer to compare the next write with."""
    return {"observed_places": [places(enterprise, code) for code in MECHANISM_CODES],
            "observed_offered": sorted(offered_mechanisms(enterprise))}


# ---- writing items --------------------------------------------------------------------------------------

_RAISE = """
  UNWIND $items AS item
  MATCH (h:Household {household_id: item.household_id})
  OPTIONAL MATCH (existing:FollowUp {followup_id: item.followup_id})
  WITH item, h, existing IS NULL AS fresh
  MERGE (f:FollowUp {followup_id: item.followup_id})
  ON CREATE SET f += item, f.county_code = h.county_code, f.township_code = h.township_code,
                f.village_code = h.village_code, f.need_tier = coalesce(h.need_tier, 0), f.status = $open,
                f.created_at = $now,
                f.due_date = toString(date($today) + duration({days: $due_days[coalesce(h.need_tier, 0)]}))
  MERGE (f)-[:FOLLOWS_UP]->(h)
  RETURN count(CASE WHEN fresh THEN 1 END) AS raised, collect(DISTINCT h.household_id) AS households
"""

_COUNT_OPEN = """
  UNWIND $ids AS id
  MATCH (h:Household {household_id: id})
  SET h.open_followups = COUNT { (f:FollowUp)-[:FOLLOWS_UP]->(h) WHERE f.status IN $unresolved }
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _due_days() -> list[int]:
    return [DUE_DAYS[tier] for tier in sorted(DUE_DAYS)]


def raise_items(tx: neo4j.ManagedTransaction, items: list[dict], today: str) -> int:
    """Write the items (one per id; an id already raised, open or closed, is left as it is); the number new."""
    if not items:
        return 0
    unique = list({entry["followup_id"]: entry for entry in items}.values())
    record = tx.run(_RAISE, items=unique, open=FollowUpStatus.OPEN.value, now=_now(), today=today,
                    due_days=_due_days()).single()
    count_open(tx, record["households"])
    return record["raised"]


def count_open(tx: neo4j.ManagedTransaction, household_ids: Iterable[str]) -> None:
    """Refresh the households' count of unresolved items (what matching reads to plan them first)."""
    ids = sorted(set(household_ids))
    if ids:
        tx.run(_COUNT_OPEN, ids=ids, unresolved=UNRESOLVED).consume()


def close_for_households(tx: neo4j.ManagedTransaction, household_ids: list[str], closed_by: ClosedBy,
                         partnership_ids: dict[str, str] | None = None, reason: str | None = None) -> int:
    """Close the unresolved items of these households (a partnership in force for each, or they left)."""
    if not household_ids:
        return 0
    record = tx.run("""
        UNWIND $ids AS id
        MATCH (f:FollowUp {household_id: id}) WHERE f.status IN $unresolved
        SET f.status = $closed, f.closed_at = $now, f.closed_by = $closed_by, f.close_reason = $reason,
            f.partnership_id = $partnerships[id]
        RETURN count(f) AS closed, collect(DISTINCT f.household_id) AS households
        """, ids=sorted(set(household_ids)), unresolved=UNRESOLVED, closed=FollowUpStatus.CLOSED.value,
        now=_now(), closed_by=closed_by.value, reason=reason or closed_by.label,
        partnerships=partnership_ids or {}).single()
    count_open(tx, record["households"])  # only households that had items carry the count
    return record["closed"]


# ---- observing writes -----------------------------------------------------------------------------------

_HOUSEHOLD_FIELDS = """
  RETURN h.household_id AS household_id, h.monitoring_category AS monitoring_category,
         h.risk_causes AS risk_causes, h.risk_removed AS risk_removed, h.monitoring_since AS monitoring_since,
         h.income_per_capita AS income_per_capita, h.observed_at AS observed_at,
         h.observed_monitoring AS observed_monitoring, h.observed_risks AS observed_risks,
         h.observed_risk_removed AS observed_risk_removed, h.observed_income AS observed_income
"""
_HOUSEHOLDS = "UNWIND $ids AS id MATCH (h:Household {household_id: id}) WHERE h.active" + _HOUSEHOLD_FIELDS
# Remember what the rules saw of `h`.
_SEEN = """
  SET h.observed_at = $today, h.observed_monitoring = coalesce(h.monitoring_category, ''),
      h.observed_risks = coalesce(h.risk_causes, []), h.observed_risk_removed = h.risk_removed,
      h.observed_income = h.income_per_capita
"""
_HOUSEHOLDS_SEEN = "UNWIND $ids AS id MATCH (h:Household {household_id: id})" + _SEEN


def observe_households(tx: neo4j.ManagedTransaction, household_ids: Iterable[str], as_of: str) -> int:
    """Compare the households with what was observed of them; raise the items found; remember them now.

    `as_of` is the data's date (the rules' day: the year's income line, a recent monitoring); items are due from
    today."""
    ids = sorted({household_id for household_id in household_ids if household_id})
    if not ids:
        return 0
    records = [record.data() for record in tx.run(_HOUSEHOLDS, ids=ids)]
    items = [event for record in records for event in household_events(record, as_of)]
    raised = raise_items(tx, items, today_iso())
    tx.run(_HOUSEHOLDS_SEEN, ids=ids, today=as_of).consume()
    return raised


_PARTNERSHIPS = """
  UNWIND $ids AS id
  MATCH (p:Partnership {partnership_id: id})
  OPTIONAL MATCH (p)-[:OF_HOUSEHOLD]->(h:Household)
  OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise)
  RETURN p.partnership_id AS partnership_id, h.household_id AS household_id, p.status AS status,
         p.observed_status AS observed_status, p.end_date AS end_date, e.name AS enterprise_name
"""


def observe_partnerships(tx: neo4j.ManagedTransaction, partnership_ids: Iterable[str], as_of: str) -> int:
    """Partnerships that ended raise items (since their end date, else `as_of`, the data's date); one that came
    into force closes its household's items."""
    ids = sorted({partnership_id for partnership_id in partnership_ids if partnership_id})
    if not ids:
        return 0
    items, confirmed = [], {}
    for record in tx.run(_PARTNERSHIPS, ids=ids):
        raised, in_force_now = partnership_events(record.data(), as_of)
        items += raised
        if in_force_now:
            confirmed[record["household_id"]] = record["partnership_id"]
    # Close first: an item raised by this same write (a partnership ended while another began) stays open.
    close_for_households(tx, list(confirmed), ClosedBy.PARTNERSHIP, confirmed)
    raised_count = raise_items(tx, items, today_iso())
    tx.run("UNWIND $ids AS id MATCH (p:Partnership {partnership_id: id}) SET p.observed_status = p.status",
           ids=ids).consume()
    return raised_count


_ENTERPRISES = """
  UNWIND $codes AS code
  MATCH (e:Enterprise {credit_code: code})
  CALL (e) {
    OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(p:Partnership)-[:OF_HOUSEHOLD]->(h:Household)
    WHERE p.status IN $open_statuses
    RETURN collect({partnership_id: p.partnership_id, household_id: h.household_id, mechanism: p.mechanism,
                    start_date: p.start_date}) AS open_partnerships
  }
  RETURN e {.*} AS enterprise, open_partnerships
"""


def observe_enterprises(tx: neo4j.ManagedTransaction, credit_codes: Iterable[str], as_of: str) -> int:
    """Enterprises that cut places or stopped a mechanism put the households beyond them back in play."""
    codes = sorted({code for code in credit_codes if code})
    if not codes:
        return 0
    items, seen = [], []
    for record in tx.run(_ENTERPRISES, with_vocabulary(_ENTERPRISES, {"codes": codes})):
        enterprise = record["enterprise"]
        items += enterprise_events(enterprise, record["open_partnerships"], as_of)
        seen.append({"code": enterprise["credit_code"], **observed_offer(enterprise)})
    raised = raise_items(tx, items, today_iso())
    tx.run("UNWIND $rows AS row MATCH (e:Enterprise {credit_code: row.code}) "
           "SET e.observed_places = row.observed_places, e.observed_offered = row.observed_offered",
           rows=seen).consume()
    return raised


OBSERVERS = {"Household": observe_households, "Partnership": observe_partnerships,
             "Enterprise": observe_enterprises}


def observe_batch(tx: neo4j.ManagedTransaction, label: str, keys: list[str], as_of: str) -> int:
    """After an ETL batch of `label` (data of the day `as_of`): observe the nodes it wrote (labels the rules do
    not watch: nothing)."""
    observer = OBSERVERS.get(label)
    return observer(tx, keys, as_of) if observer else 0


# ---- the sweep and the runs ------------------------------------------------------------------------------

_EXPIRED = """
  MATCH (p:Partnership) WHERE p.end_date >= $after AND p.end_date < $today AND p.status = $in_force
  MATCH (p)-[:OF_HOUSEHOLD]->(h:Household) WHERE h.active AND ($counties IS NULL OR h.county_code IN $counties)
  OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise)
  RETURN p.partnership_id AS partnership_id, h.household_id AS household_id, p.end_date AS end_date,
         e.name AS enterprise_name
"""


def raise_expired(driver: neo4j.Driver, today: str, after: str = "", counties: list[str] | None = None,
                  database: str | None = None) -> int:
    """Items for partnerships still in force whose end date passed (on or after `after`, before today)."""
    def work(tx: neo4j.ManagedTransaction) -> int:
        items = [item(record["household_id"], FollowUpReason.PARTNERSHIP_EXPIRED,
                      f"{record['partnership_id']}:{record['end_date']}", record["end_date"],
                      f"与{record['enterprise_name'] or '企业'}的联结已于 {record['end_date']} 到期，状态仍为履约中")
                 for record in tx.run(_EXPIRED, with_vocabulary(_EXPIRED, {
                     "after": after, "today": today, "counties": counties}))]
        return raise_items(tx, items, today)

    with driver.session(database=database) as session:
        return session.execute_write(work)


def observe_unseen(driver: neo4j.Driver, counties: list[str], today: str, database: str | None = None) -> int:
    """The baseline of the counties' households and partnerships and of every enterprise the rules have never
    seen (a bulk import writes the store directly), and an item for each recent monitoring among those
    households."""
    records, _, _ = driver.execute_query(
        "MATCH (h:Household) WHERE h.county_code IN $counties AND h.active AND h.observed_at IS NULL "
        "AND coalesce(h.monitoring_category, '') <> '' AND h.monitoring_since >= $recent" + _HOUSEHOLD_FIELDS,
        counties=counties, recent=days_after(today, -RECENT_MONITORING_DAYS), database_=database)
    items = [event for record in records for event in household_events(record.data(), today)]
    with driver.session(database=database) as session:
        raised = session.execute_write(raise_items, items, today)
        session.run("MATCH (h:Household) WHERE h.county_code IN $counties AND h.observed_at IS NULL "
                    f"CALL (h) {{ {_SEEN} }} IN TRANSACTIONS OF 10000 ROWS", counties=counties, today=today).consume()
        session.run("MATCH (p:Partnership)-[:OF_HOUSEHOLD]->(h:Household) WHERE h.county_code IN $counties "
                    "AND p.observed_status IS NULL CALL (p) { SET p.observed_status = p.status } "
                    "IN TRANSACTIONS OF 10000 ROWS", counties=counties).consume()
        # Every enterprise never seen, wherever it is (an enterprise of a county without households too).
        codes = session.run("MATCH (e:Enterprise) WHERE e.observed_places IS NULL "
                            "RETURN collect(e.credit_code) AS codes").single()["codes"]
        for start in range(0, len(codes), 5000):
            session.execute_write(observe_enterprises, codes[start:start + 5000], today)
    return raised


_MARK_PLANNED = """
  UNWIND $counties AS county_code
  MATCH (county:Region {code: county_code}) WHERE county.current_run IS NOT NULL
  MATCH (f:FollowUp {county_code: county_code}) WHERE f.status IN $unresolved
  OPTIONAL MATCH (l:RecommendationList {list_id: county.current_run + '-' + f.household_id})
  WITH f, county, any(assigned IN coalesce(l.assigned, []) WHERE assigned) AS planned
  SET f.status = CASE WHEN planned THEN $planned ELSE $open END,
      f.run_id = CASE WHEN planned THEN county.current_run ELSE null END
  RETURN count(CASE WHEN planned THEN 1 END) AS planned, count(f) AS unresolved
"""


def mark_planned(driver: neo4j.Driver, counties: list[str], database: str | None = None) -> dict:
    """After a run switched: the unresolved items of these counties are `planned` where the county's current run
    assigned their household a pairing, `open` where it could not; returns the counts."""
    records, _, _ = driver.execute_query(
        _MARK_PLANNED, counties=counties, unresolved=UNRESOLVED,
        planned=FollowUpStatus.PLANNED.value, open=FollowUpStatus.OPEN.value, database_=database)
    return {"planned": records[0]["planned"], "unresolved": records[0]["unresolved"]} if records \
        else {"planned": 0, "unresolved": 0}


def close_by_staff(driver: neo4j.Driver, followup_id: str, reason: str, name: str, actor: str,
                   database: str | None = None) -> dict | None:
    """Close an unresolved item with the staff member's reason; None when there is no such unresolved item."""
    def work(tx: neo4j.ManagedTransaction) -> dict | None:
        record = tx.run("""
            MATCH (f:FollowUp {followup_id: $id}) WHERE f.status IN $unresolved
            SET f.status = $closed, f.closed_at = $now, f.closed_by = $staff, f.close_reason = $reason,
                f.closed_by_name = $name, f.closed_by_actor = $actor
            RETURN f.household_id AS household_id
            """, id=followup_id, unresolved=UNRESOLVED, closed=FollowUpStatus.CLOSED.value, now=_now(),
            staff=ClosedBy.STAFF.value, reason=reason, name=name, actor=actor).single()
        if record is None:
            return None
        count_open(tx, [record["household_id"]])
        return {"followup_id": followup_id, "household_id": record["household_id"]}

    with driver.session(database=database) as session:
        return session.execute_write(work)


def counties_with_open_items(driver: neo4j.Driver, since: str | None = None,
                             database: str | None = None) -> list[str]:
    """Counties with items waiting for a run (status open), raised after `since` (ISO time) when given."""
    records, _, _ = driver.execute_query(
        "MATCH (f:FollowUp) WHERE f.status = $open AND ($since IS NULL OR f.created_at > $since) "
        "RETURN collect(DISTINCT f.county_code) AS counties",
        open=FollowUpStatus.OPEN.value, since=since, database_=database, routing_=neo4j.RoutingControl.READ)
    return sorted(code for code in records[0]["counties"] if code)
