"""Read state: the figures pages filter, sort and count on, stored on the nodes and kept current.

A household carries its labour counts, whether it is covered (a partnership in force) or pending
(one awaiting confirmation), its open partnerships, its partnerships in force per mechanism and
its need tier (core.need). A village, township and county Region carries its active households,
covered, pending (not covered), partnerships in force per mechanism, and the count of each of the finder's single filters (breakdown figures: per code of cause,
attribute and monitoring category, per labour category; over all and over covered households). Pages then read O(page) and O(regions) instead of counting a county per request.

Every write that changes one of them refreshes it in its own transaction: the ETL's batches of
households, members, partnerships and regions (graph/loading.py), deactivation, accepting,
confirming and declining a recommendation and ledger edits (graph/ledger.py). A refresh
recomputes a household from its own neighbourhood and a region from its households (villages) or its child regions (townships, counties), so it is exact
whatever happened before; `check` recomputes everything from scratch and, with repair, fixes what differs
(`flask readstate check|repair`).

Lock order: households, then villages, townships and counties, each in code order, so concurrent
writers do not deadlock on regions.
"""
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import neo4j

from core.geography import county_code_of, level_of, township_code_of
from graph.vocabulary import BREAKDOWN_KEYS, LABOUR_CATEGORIES, VOCABULARY, with_vocabulary

# Labels whose ETL batches change household read state, and the relationship that points at the household.
HOUSEHOLD_LINK = {"Member": "MEMBER_OF", "Partnership": "OF_HOUSEHOLD"}

# `h` → `h, state`: the household's read state recomputed from its members and partnerships.
HOUSEHOLD_STATE = """
  CALL (h) {
    OPTIONAL MATCH (m:Member)-[:MEMBER_OF]->(h)
    RETURN count(CASE WHEN m.labour_skill = $ordinary_skill THEN 1 END) AS ordinary,
           count(CASE WHEN m.labour_skill = $skilled_skill THEN 1 END) AS skilled,
           count(CASE WHEN m.labour_skill = $weak_skill THEN 1 END) AS weak,
           count(m) AS members
  }
  CALL (h) {
    OPTIONAL MATCH (h)<-[:OF_HOUSEHOLD]-(p:Partnership)
    RETURN collect(CASE WHEN p.status = $in_force THEN p.mechanism END) AS in_force,
           count(CASE WHEN p.status = $awaiting THEN 1 END) AS awaiting,
           count(CASE WHEN p.status IN $open_statuses THEN 1 END) AS open
  }
  WITH h, ordinary, skilled, weak, members, in_force, awaiting, open,
       ordinary + skilled + weak AS labourers,
       (h.main_cause IN $need_causes OR any(cause IN coalesce(h.other_causes, []) WHERE cause IN $need_causes))
         AS need_cause,
       coalesce(h.attribute IN $protected_attributes, false) AS protected
  WITH h, {labour_ordinary: ordinary, labour_skilled: skilled, labour_weak: weak, members: members,
           labourers: labourers, covered: size(in_force) > 0, pending: awaiting > 0, active_partnerships: open,
           in_force_counts: [code IN $mechanism_codes | size([m IN in_force WHERE m = code])],
           income_order: coalesce(h.income_per_capita, $last_in_order),
           size_order: coalesce(h.household_size, $last_in_order),
           need_tier: CASE
             WHEN h.attribute = $extreme_poverty OR h.monitoring_category IN $urgent_monitoring
                  OR (need_cause AND (labourers = 0 OR protected)) THEN 2
             WHEN protected OR need_cause OR coalesce(h.monitoring_category, '') <> ''
                  OR h.income_per_capita < $low_income_line THEN 1
             ELSE 0 END} AS state
"""

_REFRESH_HOUSEHOLDS = f"""
  UNWIND $ids AS id
  MATCH (h:Household {{household_id: id}})
  WITH h ORDER BY h.household_id
  {HOUSEHOLD_STATE}
  SET h += state
  RETURN collect(DISTINCT h.village_code) AS villages
"""

def sum_lists(lists: str, size: str = "size($mechanism_codes)") -> str:
    """Cypher summing the count lists in `lists` element-wise (per-mechanism lists, in $mechanism_codes
    order, unless another size is given)."""
    return (f"[i IN range(0, {size} - 1) | "
            f"reduce(total = 0, counts IN {lists} | total + coalesce(counts[i], 0))]")


_SUM_LISTS = sum_lists("lists")


def breakdown_vector(labourers: str, weak: str, ordinary: str, skilled: str) -> str:
    """Cypher: household `h`'s entry in the breakdown figures, a 0/1 list in BREAKDOWN_KEYS order (its codes,
    then its labour categories, given as expressions so a check can use recomputed labour counts)."""
    flags = {"none": f"{labourers} = 0", "weak": f"{weak} > 0", "ordinary": f"{ordinary} > 0",
             "skilled": f"{skilled} > 0", "any": f"{labourers} > 0"}
    labour = ", ".join(f"CASE WHEN {flags[category]} THEN 1 ELSE 0 END" for category in LABOUR_CATEGORIES)
    return f"[entry IN $breakdown_codes | CASE WHEN h[entry[0]] = entry[1] THEN 1 ELSE 0 END] + [{labour}]"


# The figures a region stores: the count of each of the finder's single filters (BREAKDOWN_KEYS), over all
# its active households and over the covered ones, so a filtered count is read, not counted.
FIGURE_KEYS = ("households", "covered", "pending", "in_force_counts", "breakdown_households", "breakdown_covered")


def household_aggregates(covered: str, pending: str, in_force_counts: str, breakdown: str) -> str:
    """Cypher aggregating households `h` (with the given per-household expressions) into the columns
    `figures_map` reads: households, covered, pending, lists, breakdowns, covered_breakdowns."""
    return (f"count(h) AS households, count(CASE WHEN {covered} THEN 1 END) AS covered, "
            f"count(CASE WHEN {pending} AND NOT {covered} THEN 1 END) AS pending, "
            f"collect({in_force_counts}) AS lists, collect({breakdown}) AS breakdowns, "
            f"collect(CASE WHEN {covered} THEN {breakdown} END) AS covered_breakdowns")


# The figures (FIGURE_KEYS) from those columns: the one definition of a region's figures.
FIGURES_MAP = (f"{{households: households, covered: covered, pending: pending, in_force_counts: {_SUM_LISTS}, "
               f"breakdown_households: {sum_lists('breakdowns', '$breakdown_size')}, "
               f"breakdown_covered: {sum_lists('covered_breakdowns', '$breakdown_size')}}}")

# `r` (a village) → `r, figures` from its active households.
VILLAGE_FIGURES = f"""
  CALL (r) {{
    OPTIONAL MATCH (h:Household {{village_code: r.code}}) WHERE h.active
    WITH h, CASE WHEN h IS NOT NULL THEN {breakdown_vector("h.labourers", "h.labour_weak", "h.labour_ordinary",
                                                           "h.labour_skilled")} END AS breakdown
    RETURN {household_aggregates("h.covered", "h.pending", "h.in_force_counts", "breakdown")}
  }}
  WITH r, {FIGURES_MAP} AS figures
"""

# `r` (a township or county) → `r, figures` summed over its child regions.
CHILD_SUM_FIGURES = f"""
  CALL (r) {{
    OPTIONAL MATCH (child:Region)-[:PART_OF]->(r)
    RETURN sum(coalesce(child.households, 0)) AS households, sum(coalesce(child.covered, 0)) AS covered,
           sum(coalesce(child.pending, 0)) AS pending, collect(child.in_force_counts) AS lists,
           collect(child.breakdown_households) AS breakdowns, collect(child.breakdown_covered) AS covered_breakdowns
  }}
  WITH r, {FIGURES_MAP} AS figures
"""


def _region_refresh(figures: str) -> str:
    return f"""
  UNWIND $codes AS code
  MATCH (r:Region {{code: code}})
  {figures}
  SET r += figures
"""


_REFRESH_VILLAGES = _region_refresh(VILLAGE_FIGURES)
_REFRESH_BY_CHILDREN = _region_refresh(CHILD_SUM_FIGURES)


def _run(tx: neo4j.ManagedTransaction, query: str, **params) -> neo4j.Result:
    return tx.run(query, with_vocabulary(query, params))


def refresh_households(tx: neo4j.ManagedTransaction, household_ids: Iterable[str]) -> set[str]:
    """Recompute the households' read state; returns their village codes."""
    ids = sorted({household_id for household_id in household_ids if household_id})
    if not ids:
        return set()
    record = _run(tx, _REFRESH_HOUSEHOLDS, ids=ids).single()
    return set(record["villages"]) if record else set()


def refresh_regions(tx: neo4j.ManagedTransaction, codes: Iterable[str]) -> None:
    """Recompute the figures of these regions and of the townships and counties above them.

    Villages count their households, townships and counties add up their children, lowest level first."""
    codes = {code for code in codes if code and len(code) == 12}
    villages = sorted(code for code in codes if level_of(code) == "village")
    townships = sorted({township_code_of(code) for code in villages}
                       | {code for code in codes if level_of(code) == "township"})
    counties = sorted({county_code_of(code) for code in villages + townships}
                      | {code for code in codes if level_of(code) == "county"})
    for query, level_codes in ((_REFRESH_VILLAGES, villages), (_REFRESH_BY_CHILDREN, townships),
                               (_REFRESH_BY_CHILDREN, counties)):
        if level_codes:
            _run(tx, query, codes=level_codes).consume()


def refresh(tx: neo4j.ManagedTransaction, household_ids: Iterable[str], villages: Iterable[str] = ()) -> None:
    """Refresh households and the regions they are in (and the regions given: where they were before)."""
    refresh_regions(tx, refresh_households(tx, household_ids) | set(villages))


def refresh_all(driver: neo4j.Driver, household_ids: list[str], region_codes: list[str],
                database: str | None = None, batch: int = 20_000, workers: int = 2) -> None:
    """Refresh these households, then these regions (villages, then townships, then counties), in transactions
    of `batch`, `workers` at a time (after a bulk import, which writes no read state). Batches of one level
    touch disjoint nodes, so they run side by side without waiting for each other's locks."""
    def run(work, items: list[str]) -> None:
        with driver.session(database=database) as session:
            session.execute_write(work, items)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        batches = [household_ids[start:start + batch] for start in range(0, len(household_ids), batch)]
        list(pool.map(lambda ids: run(refresh_households, ids), batches))
        for level in ("village", "township", "county"):
            codes = [code for code in region_codes if level_of(code) == level]
            batches = [codes[start:start + batch] for start in range(0, len(codes), batch)]
            list(pool.map(lambda part, level=level: run(lambda tx, items: _refresh_level(tx, level, items), part),
                          batches))


def _refresh_level(tx: neo4j.ManagedTransaction, level: str, codes: list[str]) -> None:
    _run(tx, _REFRESH_VILLAGES if level == "village" else _REFRESH_BY_CHILDREN, codes=codes).consume()


# --- the ETL's batches -----------------------------------------------------------------------------

def households_before(tx: neo4j.ManagedTransaction, label: str, rows: list[dict]) -> tuple[set[str], set[str]]:
    """Before an ETL batch of `label` is written: the households its rows point at now, and their villages.

    A member or partnership that moves to another household changes the old household too."""
    keys = [row["key"] for row in rows]
    if label == "Household":
        query = ("UNWIND $keys AS k MATCH (h:Household {household_id: k}) "
                 "RETURN collect(h.household_id) AS ids, collect(DISTINCT h.village_code) AS villages")
    elif label in HOUSEHOLD_LINK:
        node_key = "id_hash" if label == "Member" else "partnership_id"
        query = (f"UNWIND $keys AS k MATCH (:{label} {{{node_key}: k}})-[:{HOUSEHOLD_LINK[label]}]->(h:Household) "
                 "RETURN collect(DISTINCT h.household_id) AS ids, collect(DISTINCT h.village_code) AS villages")
    else:
        return set(), set()
    record = tx.run(query, keys=keys).single()
    return set(record["ids"]), {code for code in record["villages"] if code}


def households_after(label: str, rows: list[dict]) -> set[str]:
    """The households an ETL batch of `label` points at once written."""
    if label == "Household":
        return {row["key"] for row in rows}
    link = HOUSEHOLD_LINK.get(label)
    if link is None:
        return set()
    return {target for row in rows for target in (row.get("rels", {}).get(link) or ())}


def refresh_after_batch(tx: neo4j.ManagedTransaction, label: str, rows: list[dict],
                        before: tuple[set[str], set[str]]) -> None:
    """After an ETL batch: households (old and new) and their regions; for Region rows, the regions written."""
    if label == "Region":
        refresh_regions(tx, (row["key"] for row in rows))
        return
    ids_before, villages_before = before
    refresh(tx, ids_before | households_after(label, rows), villages_before)


def refresh_deactivated(tx: neo4j.ManagedTransaction, household_ids: list[str]) -> None:
    """Households became inactive: the regions they count in."""
    record = tx.run("UNWIND $ids AS id MATCH (h:Household {household_id: id}) "
                    "RETURN collect(DISTINCT h.village_code) AS villages", ids=household_ids).single()
    refresh_regions(tx, record["villages"] if record else [])


# --- check and repair ------------------------------------------------------------------------------

_HOUSEHOLD_DIFFERENCES = f"""
  MATCH (h:Household) WHERE h.county_code = $county
  {HOUSEHOLD_STATE}
  WITH h, state, [name IN keys(state) WHERE h[name] IS NULL OR h[name] <> state[name]] AS differing
  WHERE size(differing) > 0
"""
_HOUSEHOLD_REPORT = "RETURN h.household_id AS household_id, differing ORDER BY household_id"
_HOUSEHOLD_REPAIR = "SET h += state " + _HOUSEHOLD_REPORT

def _region_expectations(tx: neo4j.ManagedTransaction, county: str) -> dict[str, dict]:
    # From the households' recomputed state, not their stored one: a wrong household flag is reported
    # on the household, not also as a difference of its (correct) regions.
    breakdown = breakdown_vector("state.labourers", "state.labour_weak", "state.labour_ordinary",
                                 "state.labour_skilled")
    query = f"""
      MATCH (h:Household) WHERE h.county_code = $county AND h.active
      {HOUSEHOLD_STATE}
      WITH h, state, {breakdown} AS breakdown
      UNWIND [h.village_code, h.township_code, h.county_code] AS code
      WITH code, {household_aggregates("state.covered", "state.pending", "state.in_force_counts", "breakdown")}
      RETURN code, {FIGURES_MAP} AS figures
    """
    return {record["code"]: record["figures"] for record in _run(tx, query, county=county)}


def _stored_regions(tx: neo4j.ManagedTransaction, county: str) -> dict[str, dict]:
    query = f"""
      MATCH (r:Region) WHERE r.code = $county OR r.county_code = $county
      RETURN r.code AS code, {", ".join(f"r.{key} AS {key}" for key in FIGURE_KEYS)}
    """
    return {record["code"]: {key: record[key] for key in FIGURE_KEYS} for record in tx.run(query, county=county)}


def _empty_figures(mechanisms: int) -> dict:
    return {"households": 0, "covered": 0, "pending": 0, "in_force_counts": [0] * mechanisms,
            "breakdown_households": [0] * len(BREAKDOWN_KEYS), "breakdown_covered": [0] * len(BREAKDOWN_KEYS)}


def _check_county(tx: neo4j.ManagedTransaction, county: str, repair: bool) -> dict:
    query = _HOUSEHOLD_DIFFERENCES + (_HOUSEHOLD_REPAIR if repair else _HOUSEHOLD_REPORT)
    households = [record.data() for record in _run(tx, query, county=county)]
    expected = _region_expectations(tx, county)
    stored = _stored_regions(tx, county)
    mechanisms = len(VOCABULARY["mechanism_codes"])
    regions = []
    for code, figures in sorted(stored.items()):
        want = expected.get(code, _empty_figures(mechanisms))
        differing = sorted(key for key, value in want.items() if figures.get(key) != value)
        if differing:
            regions.append({"code": code, "differing": differing, "stored": figures, "expected": want})
    missing = sorted(set(expected) - set(stored))  # households whose region node does not exist
    if repair and regions:
        tx.run("UNWIND $rows AS row MATCH (r:Region {code: row.code}) SET r += row.figures",
               rows=[{"code": item["code"], "figures": item["expected"]} for item in regions]).consume()
    return {"county": county, "households": households, "regions": regions, "regions_missing": missing}


def check(driver: neo4j.Driver, counties: list[str] | None = None, repair: bool = False,
          database: str | None = None, progress=None) -> list[dict]:
    """Recompute the read state from scratch, county by county, and report what differs from the stored state.

    With repair, the differing values are replaced by the recomputed ones (one transaction per county).
    Returns one entry per county with differences: households (id, differing fields), regions (code,
    differing fields, stored, expected) and region codes households name but no Region node has."""
    if counties is None:
        records, _, _ = driver.execute_query(
            "MATCH (h:Household) WITH DISTINCT h.county_code AS code WHERE code IS NOT NULL RETURN code ORDER BY code",
            database_=database, routing_=neo4j.RoutingControl.READ)
        counties = [record["code"] for record in records]
    report = []
    with driver.session(database=database) as session:
        for position, county in enumerate(counties, 1):
            if repair:
                result = session.execute_write(_check_county, county, True)
            else:
                result = session.execute_read(_check_county, county, False)
            if result["households"] or result["regions"] or result["regions_missing"]:
                report.append(result)
            if progress is not None:
                progress(position, len(counties), county, result)
    return report
