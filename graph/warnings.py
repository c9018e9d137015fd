"""Early warnings (预警), stored where pages read them and kept current by the writes and days that change them.

Household warnings (core/followup.py HOUSEHOLD_WARNINGS) are a 0/1 list on the household (`warning_flags`) and
their counts per village, township and county on the Region (`warning_counts`), so the dashboard reads
O(regions) and the list behind a count is a page of the finder. They are recomputed with the household's read
state (graph/readstate.py `refresh` calls `refresh`) and, as days pass, by the daily sweep for the households
whose partnerships crossed a date threshold since the last sweep (`refresh_dated`).

Enterprise warnings (ENTERPRISE_WARNINGS) are flags and their figures on the enterprise, recomputed when a
recommendation of it is decided or a partnership of it is written, and by the sweep.

`check` recomputes everything from scratch and reports (or repairs) what differs (`flask readstate check`).
"""
from collections.abc import Iterable

import neo4j

from core.clock import days_after, today_iso
from core.codes import Mechanism, PartnershipStatus, RecommendationStatus
from core.followup import (DECLINED_MIN_DECIDED, DECLINED_SHARE, EARLY_END_MIN_PARTNERSHIPS, EARLY_END_SHARE,
                           ENDING_WITHIN_DAYS, ENTERPRISE_WARNINGS, EQUITY_ONLY_AFTER_DAYS, HOUSEHOLD_WARNINGS,
                           INCOME_GAIN_AFTER_DAYS)
from core.geography import county_code_of, level_of, township_code_of

HOUSEHOLD_WARNING_CODES = [warning.value for warning in HOUSEHOLD_WARNINGS]
ENTERPRISE_WARNING_CODES = [warning.value for warning in ENTERPRISE_WARNINGS]
SIZE = len(HOUSEHOLD_WARNINGS)


def dated_params(today: str) -> dict:
    """The day and the thresholds the warnings compare dates with."""
    return {"today": today, "ending_by": days_after(today, ENDING_WITHIN_DAYS),
            "gain_due": days_after(today, -INCOME_GAIN_AFTER_DAYS),
            "equity_due": days_after(today, -EQUITY_ONLY_AFTER_DAYS),
            "in_force_status": PartnershipStatus.IN_FORCE.value, "equity": Mechanism.EQUITY.value}


# `h` → `h, flags`: the household's warnings in HOUSEHOLD_WARNINGS order (0 for an inactive household).
HOUSEHOLD_FLAGS = """
  CALL (h) {
    OPTIONAL MATCH (h)<-[:OF_HOUSEHOLD]-(p:Partnership) WHERE p.status = $in_force_status
    RETURN count(p.mechanism) AS in_force,
           count(CASE WHEN p.end_date >= $today AND p.end_date <= $ending_by THEN 1 END) AS ending,
           count(CASE WHEN p.start_date <= $gain_due AND coalesce(p.income_gain, 0) = 0 THEN 1 END) AS no_gain,
           count(CASE WHEN p.mechanism <> $equity THEN 1 END) AS other_mechanisms,
           min(CASE WHEN p.mechanism = $equity THEN p.start_date END) AS equity_since
  }
  WITH h, CASE WHEN NOT coalesce(h.active, false) THEN [0, 0, 0, 0] ELSE [
         CASE WHEN coalesce(h.monitoring_category, '') <> '' AND NOT coalesce(h.risk_removed, false)
              AND in_force = 0 THEN 1 ELSE 0 END,
         CASE WHEN ending > 0 THEN 1 ELSE 0 END,
         CASE WHEN no_gain > 0 THEN 1 ELSE 0 END,
         CASE WHEN in_force > 0 AND other_mechanisms = 0 AND equity_since <= $equity_due THEN 1 ELSE 0 END
       ] END AS flags
"""


def _sum(lists: str) -> str:
    return f"[i IN range(0, {SIZE} - 1) | reduce(total = 0, flags IN {lists} | total + coalesce(flags[i], 0))]"


_REFRESH_HOUSEHOLDS = f"""
  UNWIND $ids AS id
  MATCH (h:Household {{household_id: id}})
  WITH h ORDER BY h.household_id
  {HOUSEHOLD_FLAGS}
  SET h.warning_flags = flags
  RETURN collect(DISTINCT h.village_code) AS villages
"""

_VILLAGE_COUNTS = f"""
  UNWIND $codes AS code
  MATCH (r:Region {{code: code}})
  CALL (r) {{
    OPTIONAL MATCH (h:Household {{village_code: r.code}}) WHERE h.active
    RETURN collect(h.warning_flags) AS lists
  }}
  SET r.warning_counts = {_sum("lists")}
"""
_CHILD_COUNTS = f"""
  UNWIND $codes AS code
  MATCH (r:Region {{code: code}})
  CALL (r) {{
    OPTIONAL MATCH (child:Region)-[:PART_OF]->(r)
    RETURN collect(child.warning_counts) AS lists
  }}
  SET r.warning_counts = {_sum("lists")}
"""


def refresh_households(tx: neo4j.ManagedTransaction, household_ids: Iterable[str], today: str | None = None) -> set[str]:
    """Recompute the households' warnings; returns their villages."""
    ids = sorted({household_id for household_id in household_ids if household_id})
    if not ids:
        return set()
    record = tx.run(_REFRESH_HOUSEHOLDS, ids=ids, **dated_params(today or today_iso())).single()
    return {code for code in record["villages"] if code} if record else set()


def refresh_regions(tx: neo4j.ManagedTransaction, codes: Iterable[str]) -> None:
    """Recompute the warning counts of these regions (villages) and of the townships and counties above them."""
    codes = {code for code in codes if code and len(code) == 12}
    villages = sorted(code for code in codes if level_of(code) == "village")
    townships = sorted({township_code_of(code) for code in villages}
                       | {code for code in codes if level_of(code) == "township"})
    counties = sorted({county_code_of(code) for code in villages + townships}
                      | {code for code in codes if level_of(code) == "county"})
    for query, level_codes in ((_VILLAGE_COUNTS, villages), (_CHILD_COUNTS, townships), (_CHILD_COUNTS, counties)):
        if level_codes:
            tx.run(query, codes=level_codes).consume()


def refresh(tx: neo4j.ManagedTransaction, household_ids: Iterable[str], villages: Iterable[str] = (),
            today: str | None = None) -> None:
    """Refresh the households' warnings and the counts of their regions (and of the villages given)."""
    refresh_regions(tx, refresh_households(tx, household_ids, today) | set(villages))


# ---- enterprises ----------------------------------------------------------------------------------------

_ENTERPRISE_STATE = """
  CALL (e) {
    OPTIONAL MATCH (r:Recommendation {credit_code: e.credit_code}) WHERE r.status IN $decided_statuses
    RETURN count(r) AS decided, count(CASE WHEN r.status = $declined_status THEN 1 END) AS declined
  }
  CALL (e) {
    OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(p:Partnership) WHERE p.status IS NOT NULL AND p.status <> $awaiting_status
    RETURN count(p) AS partnerships, count(CASE WHEN p.status = $terminated_status THEN 1 END) AS terminated
  }
  WITH e, {decided_count: decided, declined_count: declined, partnership_count: partnerships,
           terminated_count: terminated,
           warning_flags: [CASE WHEN decided >= $declined_min AND declined > decided * $declined_share THEN 1 ELSE 0 END,
                           CASE WHEN partnerships >= $early_min AND terminated >= partnerships * $early_share
                                THEN 1 ELSE 0 END]} AS state
"""


def enterprise_params() -> dict:
    return {"decided_statuses": RecommendationStatus.codes(RecommendationStatus.ACCEPTED,
                                                           RecommendationStatus.CONFIRMED,
                                                           RecommendationStatus.DECLINED),
            "declined_status": RecommendationStatus.DECLINED.value,
            "awaiting_status": PartnershipStatus.AWAITING_CONFIRMATION.value,
            "terminated_status": PartnershipStatus.TERMINATED.value,
            "declined_min": DECLINED_MIN_DECIDED, "declined_share": DECLINED_SHARE,
            "early_min": EARLY_END_MIN_PARTNERSHIPS, "early_share": EARLY_END_SHARE}


def refresh_enterprises(tx: neo4j.ManagedTransaction, credit_codes: Iterable[str]) -> None:
    """Recompute the enterprises' warnings and their figures."""
    codes = sorted({code for code in credit_codes if code})
    if codes:
        tx.run(f"UNWIND $codes AS code MATCH (e:Enterprise {{credit_code: code}}) {_ENTERPRISE_STATE} SET e += state",
               codes=codes, **enterprise_params()).consume()


def enterprises_of_partnerships(tx: neo4j.ManagedTransaction, partnership_ids: Iterable[str]) -> list[str]:
    """The enterprises of these partnerships (by relationship and by the code they store)."""
    record = tx.run("UNWIND $ids AS id MATCH (p:Partnership {partnership_id: id}) "
                    "OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise) "
                    "RETURN collect(DISTINCT coalesce(e.credit_code, p.credit_code)) AS codes",
                    ids=sorted(set(partnership_ids))).single()
    return record["codes"] if record else []


# ---- the sweep ------------------------------------------------------------------------------------------

_DATED_HOUSEHOLDS = """
  MATCH (p:Partnership)
  WHERE (p.end_date >= $end_from AND p.end_date <= $end_to)
     OR (p.start_date > $gain_from AND p.start_date <= $gain_to)
     OR (p.start_date > $equity_from AND p.start_date <= $equity_to)
  MATCH (p)-[:OF_HOUSEHOLD]->(h:Household) WHERE $counties IS NULL OR h.county_code IN $counties
  RETURN collect(DISTINCT h.household_id) AS ids
"""


def refresh_dated(driver: neo4j.Driver, today: str, last: str | None, counties: list[str] | None = None,
                  database: str | None = None, batch: int = 5000) -> int:
    """The households whose warnings a day can change — partnerships whose end date entered the next 30 days or
    passed, or whose start crossed one or two years, since the day `last` (None: every household with a
    partnership) — refreshed with their regions; returns how many."""
    if last is None:
        query = ("MATCH (p:Partnership)-[:OF_HOUSEHOLD]->(h:Household) WHERE $counties IS NULL OR h.county_code IN "
                 "$counties RETURN collect(DISTINCT h.household_id) AS ids")
        params = {"counties": counties}
    else:
        query = _DATED_HOUSEHOLDS
        params = {"counties": counties, "end_from": days_after(last, -1),
                  "end_to": days_after(today, ENDING_WITHIN_DAYS),
                  "gain_from": days_after(last, -INCOME_GAIN_AFTER_DAYS - 1),
                  "gain_to": days_after(today, -INCOME_GAIN_AFTER_DAYS),
                  "equity_from": days_after(last, -EQUITY_ONLY_AFTER_DAYS - 1),
                  "equity_to": days_after(today, -EQUITY_ONLY_AFTER_DAYS)}
    records, _, _ = driver.execute_query(query, params, database_=database, routing_=neo4j.RoutingControl.READ)
    ids = sorted(records[0]["ids"])
    for start in range(0, len(ids), batch):
        with driver.session(database=database) as session:
            session.execute_write(lambda tx, chunk=ids[start:start + batch]: refresh(tx, chunk, today=today))
    return len(ids)


def refresh_all_enterprises(driver: neo4j.Driver, counties: list[str] | None = None,
                            database: str | None = None) -> int:
    """Recompute every enterprise's warnings (of the counties); returns how many."""
    records, _, _ = driver.execute_query(
        "MATCH (e:Enterprise) WHERE $counties IS NULL OR e.county_code IN $counties "
        "RETURN collect(e.credit_code) AS codes", counties=counties, database_=database)
    codes = records[0]["codes"]
    for start in range(0, len(codes), 5000):
        with driver.session(database=database) as session:
            session.execute_write(lambda tx, chunk=codes[start:start + 5000]: refresh_enterprises(tx, chunk))
    return len(codes)


def refresh_counties(driver: neo4j.Driver, counties: list[str], today: str | None = None,
                     database: str | None = None) -> None:
    """After a bulk import: every village, township and county region counted (none yet: zeros, as an online
    load of the regions leaves them), then every household warning of the counties recomputed on the server in
    transactions of 5,000 households, the counties' region counts, and every enterprise's warnings."""
    params = dated_params(today or today_iso())
    with driver.session(database=database) as session:
        session.run(f"MATCH (r:Region) WHERE r.level IN ['village', 'township', 'county'] AND r.warning_counts IS NULL "
                    f"CALL (r) {{ SET r.warning_counts = {[0] * SIZE} }} IN TRANSACTIONS OF 10000 ROWS").consume()
        for county in counties:
            session.run(f"""
                MATCH (h:Household) WHERE h.county_code = $county
                CALL (h) {{ {HOUSEHOLD_FLAGS} SET h.warning_flags = flags }} IN TRANSACTIONS OF 5000 ROWS
                """, county=county, **params).consume()
            records = session.run("MATCH (r:Region) WHERE r.county_code = $county AND r.level = 'village' "
                                  "RETURN collect(r.code) AS codes", county=county).single()
            session.execute_write(lambda tx, codes=records["codes"] + [county]: refresh_regions(tx, codes))
    refresh_all_enterprises(driver, None, database)  # every enterprise, as their online batches would


# ---- check and repair -----------------------------------------------------------------------------------

def check(driver: neo4j.Driver, county: str, repair: bool = False, today: str | None = None,
          database: str | None = None) -> dict:
    """Recompute the county's warnings from scratch; report households, regions and enterprises whose stored
    warnings differ (and, with repair, replace them)."""
    params = {"county": county, **dated_params(today or today_iso()), **enterprise_params()}
    household_query = f"""
      MATCH (h:Household) WHERE h.county_code = $county
      {HOUSEHOLD_FLAGS}
      WITH h, flags WHERE h.warning_flags IS NULL OR h.warning_flags <> flags
      {"SET h.warning_flags = flags" if repair else ""}
      RETURN h.household_id AS household_id, flags AS expected
    """
    region_query = f"""
      MATCH (h:Household) WHERE h.county_code = $county AND h.active
      {HOUSEHOLD_FLAGS}
      UNWIND [h.village_code, h.township_code, h.county_code] AS code
      WITH code, collect(flags) AS lists
      RETURN code, {_sum("lists")} AS expected
    """
    enterprise_query = f"""
      MATCH (e:Enterprise) WHERE e.county_code = $county
      {_ENTERPRISE_STATE}
      WITH e, state WHERE any(name IN keys(state) WHERE e[name] IS NULL OR e[name] <> state[name])
      {"SET e += state" if repair else ""}
      RETURN e.credit_code AS credit_code, state AS expected
    """

    def work(tx: neo4j.ManagedTransaction) -> dict:
        households = [record.data() for record in tx.run(household_query, params)]
        expected = {record["code"]: record["expected"] for record in tx.run(region_query, params)}
        stored = {record["code"]: record["counts"] for record in tx.run(
            "MATCH (r:Region) WHERE r.code = $county OR r.county_code = $county "
            "RETURN r.code AS code, r.warning_counts AS counts", county=county)}
        regions = [{"code": code, "stored": counts, "expected": expected.get(code, [0] * SIZE)}
                   for code, counts in sorted(stored.items()) if (counts or [0] * SIZE) != expected.get(code, [0] * SIZE)]
        if repair and regions:
            tx.run("UNWIND $rows AS row MATCH (r:Region {code: row.code}) SET r.warning_counts = row.expected",
                   rows=regions).consume()
        enterprises = [record.data() for record in tx.run(enterprise_query, params)]
        return {"county": county, "households": households, "regions": regions, "enterprises": enterprises}

    with driver.session(database=database) as session:
        return session.execute_write(work) if repair else session.execute_read(work)
