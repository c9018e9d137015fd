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

import neo4j
import numpy as np
import pandas as pd

from core import need
from core.geography import county_code_of, level_of, township_code_of
from graph import warnings
from graph.vocabulary import BREAKDOWN_KEYS, LABOUR_CATEGORIES, VOCABULARY, with_vocabulary

# Labels whose ETL batches change household read state, and the relationship that points at the household.
HOUSEHOLD_LINK = {"Member": "MEMBER_OF", "Partnership": "OF_HOUSEHOLD"}

# `h` → `h, planned`: the county's current run assigned the household a pairing that still holds (not declined;
# core/coverage.py: 已规划 unless a partnership covers it). Two index seeks: the county, the household's list.
PLANNED = """
  CALL (h) {
    OPTIONAL MATCH (county:Region {code: h.county_code})
    OPTIONAL MATCH (l:RecommendationList {list_id: county.current_run + '-' + h.household_id})
    RETURN CASE WHEN l IS NULL THEN false
           ELSE any(i IN range(0, size(l.ranks) - 1) WHERE l.assigned[i] AND l.statuses[i] IN $holding_statuses)
           END AS planned
  }
"""

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
""" + PLANNED + """
  WITH h, ordinary, skilled, weak, members, in_force, awaiting, open, planned,
       ordinary + skilled + weak AS labourers,
       (h.main_cause IN $need_causes OR any(cause IN coalesce(h.other_causes, []) WHERE cause IN $need_causes))
         AS need_cause,
       coalesce(h.attribute IN $protected_attributes, false) AS protected
  WITH h, {labour_ordinary: ordinary, labour_skilled: skilled, labour_weak: weak, members: members,
           labourers: labourers, covered: size(in_force) > 0, pending: awaiting > 0, active_partnerships: open,
           planned: planned,
           coverage_state: CASE WHEN size(in_force) > 0 THEN $state_confirmed WHEN awaiting > 0 THEN $state_awaiting
                                WHEN planned THEN $state_planned ELSE $state_uncovered END,
           in_force_counts: [code IN $mechanism_codes | size([m IN in_force WHERE m = code])],
           income_order: toFloat(coalesce(h.income_per_capita, $last_in_order)),
           size_order: toFloat(coalesce(h.household_size, $last_in_order)),  // sort keys of one type
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
FIGURE_KEYS = ("households", "covered", "pending", "planned", "in_force_counts", "breakdown_households", "breakdown_covered")


def household_aggregates(covered: str, pending: str, planned: str, in_force_counts: str, breakdown: str) -> str:
    """Cypher aggregating households `h` (with the given per-household expressions) into the columns
    `figures_map` reads: households, covered, pending, planned (each household counted in the first of its
    coverage states, core/coverage.py), lists, breakdowns, covered_breakdowns."""
    return (f"count(h) AS households, count(CASE WHEN {covered} THEN 1 END) AS covered, "
            f"count(CASE WHEN {pending} AND NOT {covered} THEN 1 END) AS pending, "
            f"count(CASE WHEN coalesce({planned}, false) AND NOT {pending} AND NOT {covered} THEN 1 END) AS planned, "
            f"collect({in_force_counts}) AS lists, collect({breakdown}) AS breakdowns, "
            f"collect(CASE WHEN {covered} THEN {breakdown} END) AS covered_breakdowns")


# The figures (FIGURE_KEYS) from those columns: the one definition of a region's figures.
FIGURES_MAP = (f"{{households: households, covered: covered, pending: pending, planned: planned, "
               f"in_force_counts: {_SUM_LISTS}, "
               f"breakdown_households: {sum_lists('breakdowns', '$breakdown_size')}, "
               f"breakdown_covered: {sum_lists('covered_breakdowns', '$breakdown_size')}}}")

# `r` (a village) → `r, figures` from its active households.
VILLAGE_FIGURES = f"""
  CALL (r) {{
    OPTIONAL MATCH (h:Household {{village_code: r.code}}) WHERE h.active
    WITH h, CASE WHEN h IS NOT NULL THEN {breakdown_vector("h.labourers", "h.labour_weak", "h.labour_ordinary",
                                                           "h.labour_skilled")} END AS breakdown
    RETURN {household_aggregates("h.covered", "h.pending", "h.planned", "h.in_force_counts", "breakdown")}
  }}
  WITH r, {FIGURES_MAP} AS figures
"""

# `r` (a township or county) → `r, figures` summed over its child regions.
CHILD_SUM_FIGURES = f"""
  CALL (r) {{
    OPTIONAL MATCH (child:Region)-[:PART_OF]->(r)
    RETURN sum(coalesce(child.households, 0)) AS households, sum(coalesce(child.covered, 0)) AS covered,
           sum(coalesce(child.pending, 0)) AS pending, sum(coalesce(child.planned, 0)) AS planned,
           collect(child.in_force_counts) AS lists,
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


# A county's households whose planned flag or coverage state the county's current run changed, set anew.
_REFRESH_PLANNED = """
  MATCH (h:Household) WHERE h.county_code = $county
""" + PLANNED + """
  WITH h, planned, CASE WHEN coalesce(h.covered, false) THEN $state_confirmed
                        WHEN coalesce(h.pending, false) THEN $state_awaiting
                        WHEN planned THEN $state_planned ELSE $state_uncovered END AS state
  WHERE h.planned IS NULL OR h.planned <> planned OR h.coverage_state IS NULL OR h.coverage_state <> state
  SET h.planned = planned, h.coverage_state = state
  RETURN collect(DISTINCT h.village_code) AS villages, count(h) AS changed
"""


def refresh_planned(tx: neo4j.ManagedTransaction, counties: Iterable[str]) -> int:
    """After the counties' current run changed (in the same transaction): each household's planned flag and
    coverage state, and the figures of the regions where one changed; returns the households changed.
    O(county) index seeks, writes only where a value changed."""
    changed = 0
    for county in sorted(set(counties)):
        record = _run(tx, _REFRESH_PLANNED, county=county).single()
        if record and record["changed"]:
            changed += record["changed"]
            refresh_regions(tx, [code for code in record["villages"] if code])
    return changed


def refresh(tx: neo4j.ManagedTransaction, household_ids: Iterable[str], villages: Iterable[str] = ()) -> None:
    """Refresh households and the regions they are in (and the regions given: where they were before), with
    their early warnings (graph/warnings.py: they follow coverage and partnerships)."""
    household_ids = list(household_ids)
    refresh_regions(tx, refresh_households(tx, household_ids) | set(villages))
    warnings.refresh(tx, household_ids, villages)


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
        codes = [row["key"] for row in rows]
        refresh_regions(tx, codes)
        warnings.refresh_regions(tx, codes)
        return
    ids_before, villages_before = before
    refresh(tx, ids_before | households_after(label, rows), villages_before)


def refresh_deactivated(tx: neo4j.ManagedTransaction, household_ids: list[str]) -> None:
    """Households became inactive: the regions they count in."""
    record = tx.run("UNWIND $ids AS id MATCH (h:Household {household_id: id}) "
                    "RETURN collect(DISTINCT h.village_code) AS villages", ids=household_ids).single()
    refresh_regions(tx, record["villages"] if record else [])
    warnings.refresh(tx, household_ids)  # an inactive household has no warnings


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
      WITH code, {household_aggregates("state.covered", "state.pending", "state.planned", "state.in_force_counts",
                                   "breakdown")}
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
    return {"households": 0, "covered": 0, "pending": 0, "planned": 0, "in_force_counts": [0] * mechanisms,
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


def _add_warnings(result: dict, found: dict) -> None:
    """The county's early-warning differences (graph/warnings.py check) added to its read-state report."""
    for household in found["households"]:
        entry = next((item for item in result["households"] if item["household_id"] == household["household_id"]),
                     None)
        if entry is None:
            result["households"].append({"household_id": household["household_id"], "differing": ["warning_flags"]})
        else:
            entry["differing"] = [*entry["differing"], "warning_flags"]
    for region in found["regions"]:
        result["regions"].append({"code": region["code"], "differing": ["warning_counts"],
                                  "stored": {"warning_counts": region["stored"]},
                                  "expected": {"warning_counts": region["expected"]}})
    result["enterprises"] = found["enterprises"]


def check(driver: neo4j.Driver, counties: list[str] | None = None, repair: bool = False,
          database: str | None = None, progress=None) -> list[dict]:
    """Recompute the read state from scratch, county by county, and report what differs from the stored state.

    With repair, the differing values are replaced by the recomputed ones (one transaction per county).
    Returns one entry per county with differences: households (id, differing fields), regions (code,
    differing fields, stored, expected), region codes households name but no Region node has, and enterprises
    whose warnings differ (credit_code, expected). Early warnings (graph/warnings.py) are checked with the rest."""
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
            _add_warnings(result, warnings.check(driver, county, repair, database=database))
            if result["households"] or result["regions"] or result["regions_missing"] or result["enterprises"]:
                report.append(result)
            if progress is not None:
                progress(position, len(counties), county, result)
    return report


# --- the same read state from tables ---------------------------------------------------------------
# A bulk import (etl/bulk.py) computes it before any node exists, from the rows it imports, so the store is
# written once with it. The definitions above stay the only ones the server runs; tests compare the two
# (an imported graph passes `check`).

def _per_household(frame: pd.DataFrame, rows, households: int) -> np.ndarray:
    """frame's counts of the rows selected (a boolean mask), summed per household position."""
    chosen = np.asarray(rows, dtype=bool)
    return np.bincount(frame["position"].to_numpy()[chosen], weights=frame["count"].to_numpy()[chosen],
                       minlength=households).astype(np.int64)


def household_states(households: pd.DataFrame, members: pd.DataFrame, partnerships: pd.DataFrame,
                     need_cause: np.ndarray | None = None) -> pd.DataFrame:
    """HOUSEHOLD_STATE for many households at once, from tables: households (household_id, attribute,
    monitoring_category, main_cause, other_causes as lists, income_per_capita, household_size), their members
    counted per (position, labour_skill) and their partnerships per (position, status, mechanism), each with its
    `count`, where position is the household's row in households. need_cause (core.need.has_need_cause), when
    given, stands for main_cause and other_causes. One row per household (index: household_id), a column per
    key of the state but in_force_counts, which is a column per mechanism (in_force_counts_0 …, in
    $mechanism_codes order). Memory grows with the households, not with their members."""
    vocabulary = VOCABULARY
    size = len(households)
    skills = members["labour_skill"].astype(object)
    ordinary, skilled, weak = (_per_household(members, skills == vocabulary[skill], size)
                               for skill in ("ordinary_skill", "skilled_skill", "weak_skill"))
    status = partnerships["status"].astype(object)
    mechanism = partnerships["mechanism"].astype(object)
    in_force = (status == vocabulary["in_force"]).to_numpy()
    labourers = ordinary + skilled + weak
    income = households["income_per_capita"].astype(float)
    blank = lambda column: households[column].astype(object).where(households[column].notna(), "").to_numpy()  # noqa: E731
    if need_cause is None:
        need_cause = need.has_need_cause(blank("main_cause"), households["other_causes"].tolist())
    frame = pd.DataFrame({
        "labour_ordinary": ordinary, "labour_skilled": skilled, "labour_weak": weak,
        "members": _per_household(members, np.ones(len(members), dtype=bool), size), "labourers": labourers,
        # covered: an in-force partnership with a mechanism (Cypher's collect leaves out the ones without)
        "covered": _per_household(partnerships, in_force & mechanism.notna().to_numpy(), size) > 0,
        "pending": _per_household(partnerships, status == vocabulary["awaiting"], size) > 0,
        "active_partnerships": _per_household(partnerships, status.isin(vocabulary["open_statuses"]), size),
        "planned": np.zeros(size, dtype=bool),  # no run is current in a graph being imported

        **{f"in_force_counts_{position}": _per_household(partnerships, in_force & (mechanism == code).to_numpy(), size)
           for position, code in enumerate(vocabulary["mechanism_codes"])},
        "income_order": income.fillna(vocabulary["last_in_order"]).to_numpy(dtype=float),
        "size_order": households["household_size"].astype(float).fillna(vocabulary["last_in_order"]).to_numpy(),
        "need_tier": need.need_tiers(blank("attribute"), blank("monitoring_category"), need_cause,
                                     labourers, income.fillna(np.inf).to_numpy()),
    }, index=pd.Index(households["household_id"], name="household_id"))
    frame["coverage_state"] = np.where(frame["covered"], vocabulary["state_confirmed"],
                                       np.where(frame["pending"], vocabulary["state_awaiting"],
                                                vocabulary["state_uncovered"])).astype(object)
    return frame


def region_figures(households: pd.DataFrame, states: pd.DataFrame, regions: list[str],
                   part_of: pd.DataFrame) -> pd.DataFrame:
    """The figures (FIGURE_KEYS) of the regions (codes) at village, township and county level, from their
    households (village_code, active, and the breakdown's code properties, in states' order) and their
    states (household_states), townships and counties summed over their children (part_of: child, parent).
    One row per region, lists as a column per entry (in_force_counts_0 …, breakdown_households_0 …,
    breakdown_covered_0 …). Villages are summed a column at a time, so memory grows with the villages."""
    levels = pd.Series([level_of(code) for code in regions], index=pd.Index(regions, name="code"))
    villages = levels.index[levels == "village"]
    active = households["active"].fillna(False).to_numpy(dtype=bool)
    village = pd.Index(villages).get_indexer(households["village_code"].astype(object).to_numpy())
    counted = active & (village >= 0)  # an active household in a village the regions list
    where = village[counted]

    def total(values) -> np.ndarray:
        return np.bincount(where, weights=np.asarray(values)[counted], minlength=len(villages)).astype(np.int64)

    covered = states["covered"].to_numpy()
    labour = {"none": states["labourers"] == 0, "weak": states["labour_weak"] > 0,
              "ordinary": states["labour_ordinary"] > 0, "skilled": states["labour_skilled"] > 0,
              "any": states["labourers"] > 0}
    flags = [households[name].astype(object).to_numpy() == code for name, code in VOCABULARY["breakdown_codes"]]
    flags += [labour[category].to_numpy() for category in LABOUR_CATEGORIES]
    columns = {"households": total(np.ones(len(states))), "covered": total(covered),
               "pending": total(states["pending"].to_numpy() & ~covered),
               "planned": total(states["planned"].to_numpy() & ~states["pending"].to_numpy() & ~covered),
               **{f"in_force_counts_{i}": total(states[f"in_force_counts_{i}"])
                  for i in range(len(VOCABULARY["mechanism_codes"]))},
               **{f"breakdown_households_{i}": total(flag) for i, flag in enumerate(flags)},
               **{f"breakdown_covered_{i}": total(flag & covered) for i, flag in enumerate(flags)}}
    figures = pd.DataFrame(columns, index=villages)
    for level in ("township", "county"):
        codes = levels.index[levels == level]
        children = part_of[part_of["parent"].isin(codes) & part_of["child"].isin(figures.index)]
        sums = figures.loc[children["child"]].groupby(children["parent"].to_numpy()).sum()
        figures = pd.concat([figures, sums.reindex(codes, fill_value=0)])
    return figures.astype(np.int64)
