"""Cypher for the API's reads: regions with coverage, households, enterprises, projects,
recommendations and the partnership ledger.

Filters arrive as a dict of allowed names (the WHERE clause for each is fixed here); values
always travel as parameters, code-list values too (graph/vocabulary.py: `$in_force`, never a literal code).
The maps returned are projections generated from the graph model (graph/querybuilder.py), so a
secret property (an ID-number hash, row_hash) is never read out. A household is *covered* when it
has a partnership in force (履约中) and *pending* when its only open partnership awaits
confirmation (待确认).
"""
import neo4j

from core.clock import today_iso
from graph import readstate
from graph.db import read_page
from graph.matching import CURRENT_RUNS, DECIDED, ENTRY_BY_ID, entry, is_current, position_of_rank, split_rec_id
from graph.querybuilder import projection
from core.search import SearchMode
from graph.search import HouseholdMatch, enterprises_found, households_found, suffix_predicate
from graph.vocabulary import BREAKDOWN_KEYS, VOCABULARY, with_vocabulary

READ = neo4j.RoutingControl.READ

# Read state stored on the household (graph/readstate.py), kept current by every write that changes it.
COVERED = "h.covered"
PENDING = "h.pending"

HOUSEHOLD_FILTERS = {
    "county_code": "h.county_code = $county_code",
    "township_code": "h.township_code = $township_code",
    "village_code": "h.village_code = $village_code",
    "main_cause": "h.main_cause = $main_cause",
    "attribute": "h.attribute = $attribute",
    "monitoring_category": "h.monitoring_category = $monitoring_category",
    "household_ids": "h.household_id IN $household_ids",
}
LABOUR_FILTERS = {
    "none": "h.labourers = 0",
    "weak": "h.labour_weak > 0",
    "ordinary": "h.labour_ordinary > 0",
    "skilled": "h.labour_skilled > 0",
    "any": "h.labourers > 0",
}
# Sorts read the stored sort keys (readstate: never null, nulls last), which the composite indexes hold.
HOUSEHOLD_SORT = {"household_id": "h.household_id", "income_per_capita": "h.income_order",
                  "household_size": "h.size_order"}

HOUSEHOLD_SUMMARY = projection("Household", "h", {
    "village_name": "v.name", "township_name": "t.name", "village_lon": "v.lon", "village_lat": "v.lat",
})


def household_summary(alias: str = "item", carry: str = "") -> str:
    """Cypher that turns `h` into a household summary map named alias (carry: extra variables kept)."""
    kept = f", {carry}" if carry else ""
    return f"""
  OPTIONAL MATCH (h)-[:LIVES_IN]->(v:Region)
  OPTIONAL MATCH (t:Region {{code: h.township_code}})
  WITH h, v, t{kept}
  WITH h{kept}, {HOUSEHOLD_SUMMARY} AS {alias}
"""


def _read(driver: neo4j.Driver, query: str, params: dict, database: str | None) -> list[neo4j.Record]:
    """Run a read query with its parameters and the vocabulary values it names."""
    records, _, _ = driver.execute_query(query, with_vocabulary(query, params), database_=database, routing_=READ)
    return records


def _where(filters: dict, allowed: dict[str, str]) -> list[str]:
    """The fixed WHERE fragments of the filters given (unknown names are a programming error)."""
    clauses = []
    for name, value in filters.items():
        if value is None:
            continue
        if name not in allowed:
            raise ValueError(f"filter not allowed: {name}")
        clauses.append(allowed[name])
    return clauses


def _page_params(filters: dict, skip: int, limit: int) -> dict:
    """Query parameters of a paged search: the filters given, and the page window."""
    return {**{name: value for name, value in filters.items() if value is not None}, "skip": skip, "limit": limit}


def _after(order: str, descending: bool = False) -> str:
    """Keyset condition: rows after ($after_value, $after_id) in `order, h.household_id` order, or in the
    reverse of it (the first part is a range the index seeks to, the rest skips the ties already shown)."""
    beyond, reached = ("<", "<=") if descending else (">", ">=")
    if order == "h.household_id":
        return f"h.household_id {beyond} $after_id"
    return f"{order} {reached} $after_value AND ({order} {beyond} $after_value OR h.household_id {beyond} $after_id)"


REGION_FILTERS = ("village_code", "township_code", "county_code")  # most specific first
_BREAKDOWN_POSITION = {key: position for position, key in enumerate(BREAKDOWN_KEYS)}


# The region figure of each coverage state (core/coverage.py; uncovered: what the other three leave).
_STATE_FIGURES = {"confirmed": "coalesce(r.covered, 0)", "awaiting": "coalesce(r.pending, 0)",
                  "planned": "coalesce(r.planned, 0)",
                  "uncovered": "coalesce(r.households, 0) - coalesce(r.covered, 0) - coalesce(r.pending, 0) "
                               "- coalesce(r.planned, 0)"}


def _figures_count(filters: dict, labour: str | None, covered: bool | None, params: dict,
                   coverage: str | None = None) -> str | None:
    """A count read from the stored region figures (O(1), O(counties) for the province) when the filters are
    regions, coverage and at most one other filter whose counts regions keep (a cause, attribute or
    monitoring code, or a labour category: readstate's breakdown figures); None otherwise (then the count is
    an index-backed query)."""
    given = {name for name, value in filters.items() if value is not None}
    others = [(name, filters[name]) for name in sorted(given - set(REGION_FILTERS))]
    if labour is not None:
        others.append(("labour", labour))
    if len(others) > 1 or (others and others[0] not in _BREAKDOWN_POSITION):
        return None
    if coverage is not None:
        if others or covered is not None:
            return None
        wanted = _STATE_FIGURES[coverage]
        code = next((filters[name] for name in REGION_FILTERS if filters.get(name) is not None), None)
        if code is None:
            return f"MATCH (r:Region {{level: 'county'}}) WHERE r.households > 0 RETURN sum({wanted}) AS total"
        params["figures_code"] = code
        return f"OPTIONAL MATCH (r:Region {{code: $figures_code}}) RETURN coalesce({wanted}, 0) AS total"
    if others:
        params["figures_position"] = _BREAKDOWN_POSITION[others[0]]
        households, covered_ones = "r.breakdown_households[$figures_position]", "r.breakdown_covered[$figures_position]"
    else:
        households, covered_ones = "r.households", "r.covered"
    wanted = {None: f"coalesce({households}, 0)", True: f"coalesce({covered_ones}, 0)",
              False: f"coalesce({households}, 0) - coalesce({covered_ones}, 0)"}[covered]
    code = next((filters[name] for name in REGION_FILTERS if filters.get(name) is not None), None)
    if code is None:
        return f"MATCH (r:Region {{level: 'county'}}) WHERE r.households > 0 RETURN sum({wanted}) AS total"
    params["figures_code"] = code
    return f"OPTIONAL MATCH (r:Region {{code: $figures_code}}) RETURN coalesce({wanted}, 0) AS total"


def search_households(driver: neo4j.Driver, filters: dict, labour: str | None, covered: bool | None, sort: str,
                      skip: int, limit: int, database: str | None = None,
                      after: tuple | None = None, count: bool = True,
                      descending: bool = False, match: HouseholdMatch | None = None,
                      coverage: str | None = None) -> tuple[list[dict], int | None]:
    """A page of active households matching the filters, with labour counts and coverage (`coverage`: one
    coverage state, core/coverage.py, read from the stored `coverage_state`).

    Read from the stored read state. In a county, the composite indexes (county, active, [covered,]
    [sort key,] household id) give the page in 户编号, income or size order without a sort —
    the ORDER BY names the index's leading properties, fixed by the equality filters, so the
    planner reads the order from the index — and the count without touching the households.
    `after` (sort value, household id) continues after that row (keyset pagination). `descending` reverses
    the sort key and the household id (the index is read backwards).
    Each item carries `_sort_value` (the row's sort value, for the next cursor). count=False: no total (None).
    With a search (`match`, graph/search.py) the households it finds are read from its index and filtered and
    ordered here (they are few), and counted by a query."""
    clauses = ["h.active = true", "h.household_id IS NOT NULL"] + _where(filters, HOUSEHOLD_FILTERS)
    if covered is not None:
        clauses.append("h.covered = $covered")
    if coverage is not None:
        clauses.append("h.coverage_state = $coverage_state")
    if labour is not None:
        clauses.append(LABOUR_FILTERS[labour])
    order = HOUSEHOLD_SORT[sort]
    if order != "h.household_id":
        clauses.append(f"{order} IS NOT NULL")  # what lets the planner use the index that holds this key
    leading = []
    if filters.get("county_code") is not None:
        leading = ["h.county_code", "h.active"] + (["h.covered"] if covered is not None else [])
        if coverage is not None and covered is None and order == "h.household_id":
            leading.append("h.coverage_state")  # its index: (county, active, coverage_state, household id)
    order_keys = leading + [order] + ([] if order == "h.household_id" else ["h.household_id"])
    # The leading keys are fixed by equality filters: their direction does not matter, the rest reverses.
    order_by = ", ".join(key + (" DESC" if descending and key not in leading else "") for key in order_keys)
    hint = ""
    indexed = coverage is None or leading[-1:] == ["h.coverage_state"]
    if match is not None:
        order_keys = [order] + ([] if order == "h.household_id" else ["h.household_id"])
        order_by = ", ".join(key + (" DESC" if descending else "") for key in order_keys)
    elif leading and indexed and filters.get("township_code") is None and filters.get("village_code") is None:
        # The index that gives this order (the planner, choosing among equally selective indexes, took
        # one that gives only part of it and sorted the county). In a township or village its own index
        # finds fewer households than the county's ordered scan would read.
        hint = f"USING INDEX h:Household({', '.join(key.removeprefix('h.') for key in order_keys)}) "
    params = _page_params(filters, skip, limit)
    params["covered"] = covered
    if coverage is not None:
        params["coverage_state"] = coverage
    head, count_head = f"MATCH (h:Household) {hint}WHERE ", "MATCH (h:Household) WHERE "
    if match is not None:
        head = count_head = households_found(match, filters.get("county_code") is not None) + " WHERE "
        params.update(match.params())
    count_match = count_head + " AND ".join(clauses)
    page_clauses = list(clauses)
    if after is not None:
        value, household_id = after
        page_clauses.append(_after(order, descending))
        params.update(after_value=value, after_id=household_id)
    page_match = head + " AND ".join(page_clauses)
    count_query = None
    if count:
        count_query = (None if match is not None else _figures_count(filters, labour, covered, params, coverage)) \
            or f"{count_match} RETURN count(h) AS total"
    return read_page(
        driver, count_query,
        f"""{page_match} WITH h ORDER BY {order_by} SKIP $skip LIMIT $limit
        WITH h, {order} AS sort_value
        {household_summary(carry="sort_value")}
        RETURN item {{.*, _sort_value: sort_value}} AS item""",
        params, database,
    )


MEMBER_FIELDS = projection("Member", "m")
HOUSEHOLD_PARTNERSHIP_FIELDS = projection("Partnership", "p", {"enterprise_name": "e.name"})
HOUSEHOLD_RECOMMENDATION_FIELDS = entry({"enterprise_name": "e.name", "current": "true"})


def household_detail(driver: neo4j.Driver, household_id: str, database: str | None = None) -> dict | None:
    """One household with its members, partnerships and current recommendations."""
    records = _read(driver, f"""
        MATCH (h:Household {{household_id: $household_id}})
        {household_summary()}
        CALL (h) {{
          OPTIONAL MATCH (m:Member)-[:MEMBER_OF]->(h)
          WITH m ORDER BY m.member_id, m.id_hash
          RETURN collect({MEMBER_FIELDS}) AS member_list
        }}
        CALL (h) {{
          OPTIONAL MATCH (h)<-[:OF_HOUSEHOLD]-(p:Partnership)
          OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise)
          WITH p, e ORDER BY p.start_date DESC, p.partnership_id
          RETURN collect({HOUSEHOLD_PARTNERSHIP_FIELDS}) AS partnership_list
        }}
        CALL (h) {{
          // The household's list of its county's current run, entry by entry.
          OPTIONAL MATCH (county:Region {{code: h.county_code}})
          OPTIONAL MATCH (l:RecommendationList {{list_id: county.current_run + '-' + h.household_id}})
          UNWIND CASE WHEN l IS NULL THEN [] ELSE range(0, size(l.ranks) - 1) END AS i
          {DECIDED}
          OPTIONAL MATCH (e:Enterprise {{credit_code: l.credit_codes[i]}})
          WITH l, i, decided, e ORDER BY l.ranks[i]
          RETURN collect({HOUSEHOLD_RECOMMENDATION_FIELDS}) AS recommendation_list
        }}
        RETURN item {{.*, member_list: member_list, partnership_list: partnership_list,
                     recommendation_list: recommendation_list}} AS item
        """, {"household_id": household_id}, database)
    return records[0]["item"] if records else None


# A region's stored figures (graph/readstate.py); above the county level they are its counties' sums.
_FIGURES = """
  CALL (r) {
    WITH r WHERE r.level IN ['province', 'prefecture']
    MATCH (c:Region)-[:PART_OF*1..2]->(r) WHERE c.level = 'county'
    RETURN sum(c.households) AS county_households, sum(c.covered) AS county_covered,
           sum(c.pending) AS county_pending, sum(coalesce(c.planned, 0)) AS county_planned,
           collect(c.in_force_counts) AS county_lists
  }
  WITH r, parent, CASE WHEN r.level IN ['province', 'prefecture']
    THEN {households: county_households, covered: county_covered, pending: county_pending, planned: county_planned,
          in_force_counts: """ + readstate.sum_lists("county_lists") + """}
    ELSE {households: coalesce(r.households, 0), covered: coalesce(r.covered, 0), pending: coalesce(r.pending, 0),
          planned: coalesce(r.planned, 0), in_force_counts: coalesce(r.in_force_counts, [])} END AS figures
"""

REGION_FIELDS = projection("Region", "r", {"parent_code": "parent.code", "figures": "figures"})


def _with_mechanisms(region: dict) -> dict:
    """The figures' per-mechanism list as {mechanism code: partnerships in force}."""
    figures = dict(region["figures"])
    figures["in_force"] = {code: n for code, n in zip(VOCABULARY["mechanism_codes"], figures.pop("in_force_counts") or [])
                           if n}
    return {**region, "figures": figures}


def regions(driver: neo4j.Driver, codes: list[str], database: str | None = None) -> list[dict]:
    """Regions by code, with their parent code and `figures` (households, covered, pending, in_force by mechanism)."""
    records = _read(driver, f"""
        UNWIND $codes AS code MATCH (r:Region {{code: code}})
        OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
        {_FIGURES}
        RETURN {REGION_FIELDS} AS region ORDER BY r.code
        """, {"codes": codes}, database)
    return [_with_mechanisms(record["region"]) for record in records]


def child_regions(driver: neo4j.Driver, parent_code: str, database: str | None = None) -> list[dict]:
    """The regions directly under a region, with their figures."""
    records = _read(driver, f"""
        MATCH (r:Region)-[:PART_OF]->(parent:Region {{code: $code}})
        {_FIGURES}
        RETURN {REGION_FIELDS} AS region ORDER BY r.code
        """, {"code": parent_code}, database)
    return [_with_mechanisms(record["region"]) for record in records]


def county_villages(driver: neo4j.Driver, county_code: str, database: str | None = None) -> list[dict]:
    """The villages of a county that have households, with their figures (through the region tree)."""
    records = _read(driver, f"""
        MATCH (r:Region)-[:PART_OF]->(:Region)-[:PART_OF]->(:Region {{code: $code}})
        WHERE r.households > 0
        OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
        {_FIGURES}
        RETURN {REGION_FIELDS} AS region ORDER BY r.code
        """, {"code": county_code}, database)
    return [_with_mechanisms(record["region"]) for record in records]


_MAP_VILLAGES = """
    MATCH (r:Region)-[:PART_OF]->(:Region)-[:PART_OF]->(:Region {code: $code})
    WHERE r.households > 0
    RETURN r {.code, .name, .lon, .lat, .households, .covered, .pending, planned: coalesce(r.planned, 0)} AS village
    ORDER BY r.code
"""
_MAP_ENTERPRISES = """
    MATCH (e:Enterprise) WHERE e.county_code = $code
    RETURN e {.credit_code, .name, .lon, .lat} AS enterprise ORDER BY e.credit_code LIMIT $limit
"""


def county_map(driver: neo4j.Driver, county_code: str, enterprise_limit: int,
               database: str | None = None) -> tuple[list[dict], list[dict]]:
    """What a county's map draws, in one read transaction: its villages with households (code, name,
    position, stored figures) and up to enterprise_limit enterprises (code, name, position)."""
    def work(tx: neo4j.ManagedTransaction):
        villages = [record["village"] for record in tx.run(_MAP_VILLAGES, code=county_code)]
        enterprises = [record["enterprise"] for record in tx.run(_MAP_ENTERPRISES, code=county_code,
                                                                 limit=enterprise_limit)]
        return villages, enterprises

    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        return session.execute_read(work)


ENTERPRISE_FILTERS = {
    "county_code": "e.county_code = $county_code",
    "mechanism": "$mechanism IN e.mechanisms",
    "enterprise_type": "e.enterprise_type = $enterprise_type",
    "credit_codes": "e.credit_code IN $credit_codes",
}
ENTERPRISE_FIELDS = projection("Enterprise", "e")
ENTERPRISE_DETAIL_FIELDS = projection("Enterprise", "e", {"open_partnerships": "open_partnerships",
                                                          "assigned": "assigned"})


def search_enterprises(driver: neo4j.Driver, filters: dict, skip: int, limit: int,
                       database: str | None = None, name_query: str | None = None) -> tuple[list[dict], int]:
    """A page of enterprises matching the filters (name_query: the full-text query of a name search, which
    names the county itself; graph/search.py)."""
    clauses = _where(filters, ENTERPRISE_FILTERS)
    head = enterprises_found() if name_query is not None else "MATCH (e:Enterprise)"
    match = head + (" WHERE " + " AND ".join(clauses) if clauses else "")
    params = _page_params(filters, skip, limit)
    if name_query is not None:
        params["search_value"] = name_query
    return read_page(driver, f"{match} RETURN count(e) AS total",
                     f"{match} WITH e ORDER BY e.credit_code SKIP $skip LIMIT $limit RETURN {ENTERPRISE_FIELDS} AS item",
                     params, database)


# `e, current_runs` → `s`: the enterprise's shortlists of the runs current in their county.
CURRENT_SHORTLISTS = f"""MATCH (s:EnterpriseShortlist)
          WHERE s.credit_code = e.credit_code AND s.run_id IN current_runs AND {is_current("s")}"""


def enterprise_detail(driver: neo4j.Driver, credit_code: str, database: str | None = None) -> dict | None:
    """An enterprise with, per mechanism, partnerships in force, awaiting confirmation and current assignments."""
    records = _read(driver, f"""
        MATCH (e:Enterprise {{credit_code: $credit_code}})
        CALL (e) {{
          OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(p:Partnership) WHERE p.status IN $open_statuses
          RETURN collect({{mechanism: p.mechanism, status: p.status}}) AS open_partnerships
        }}
        CALL (e) {{
          {CURRENT_RUNS}
          {CURRENT_SHORTLISTS}
          UNWIND range(0, size(s.ranks) - 1) AS j
          WITH s, j WHERE s.assigned[j] AND s.statuses[j] IN $holding_statuses
          RETURN collect(s.mechanisms[j]) AS assigned
        }}
        RETURN {ENTERPRISE_DETAIL_FIELDS} AS item
        """, {"credit_code": credit_code}, database)
    return records[0]["item"] if records else None


def enterprise_counties(driver: neo4j.Driver, credit_code: str, database: str | None = None) -> set[str]:
    """Counties an enterprise is tied to: where it sits, and where its recommended or partnered households live."""
    records = _read(driver, f"""
        MATCH (e:Enterprise {{credit_code: $credit_code}})
        CALL (e) {{ {CURRENT_RUNS}
                   OPTIONAL {CURRENT_SHORTLISTS}
                   RETURN collect(DISTINCT s.county_code) AS rec_counties }}
        CALL (e) {{ OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(:Partnership)-[:OF_HOUSEHOLD]->(h:Household)
                   RETURN collect(DISTINCT h.county_code) AS partner_counties }}
        RETURN [e.county_code] + rec_counties + partner_counties AS counties
        """, {"credit_code": credit_code}, database)
    return {code for code in records[0]["counties"] if code} if records else set()


# On the enterprise's shortlist entries `s, j`.
RECOMMENDATION_FILTERS = {
    "credit_code": "s.credit_code = $credit_code",
    "county_code": "s.county_code = $county_code",
    "household_id": "s.household_ids[j] = $household_id",
    "mechanism": "s.mechanisms[j] = $mechanism",
    "status": "s.statuses[j] = $status",
    "assigned": "s.assigned[j] = $assigned",
}
RECOMMENDATION_EXTRA = {
    "enterprise_name": "e.name", "household": "household", "current": is_current("l"),
    "confirmed": "EXISTS { MATCH (h)<-[:OF_HOUSEHOLD]-(cp:Partnership {status: $in_force})-[:WITH_ENTERPRISE]->(e) }",
}
RECOMMENDATION_FIELDS = entry(RECOMMENDATION_EXTRA)
# `l, i` → one recommendation map with its household's summary.
_RECOMMENDATION_ITEM = f"""
        {DECIDED}
        MATCH (e:Enterprise {{credit_code: l.credit_codes[i]}})
        MATCH (h:Household {{household_id: l.household_id}})
        {household_summary("household", "l, i, decided, e")}
        RETURN {RECOMMENDATION_FIELDS} AS item"""


def search_recommendations(driver: neo4j.Driver, filters: dict, skip: int, limit: int,
                           database: str | None = None) -> tuple[list[dict], int]:
    """A page of an enterprise's (or a county's) current recommendations, best score first, with their
    households' summaries.

    An enterprise's are read from its shortlists of the runs current in their counties (an index seek
    each), so a page costs the enterprise's entries, never a county's; a county's (no page lists those:
    tests and tools) from the county's shortlists of its current run. The page's entries are then read
    from their households' lists."""
    clauses = _where(filters, RECOMMENDATION_FILTERS)
    entry_clauses = [clause for clause in clauses if "[j]" in clause]
    list_clauses = [clause for clause in clauses if "[j]" not in clause]
    if filters.get("credit_code") is not None:
        shortlists = f"""{CURRENT_RUNS}
        MATCH (s:EnterpriseShortlist)
        WHERE s.run_id IN current_runs AND {" AND ".join(list_clauses)} AND {is_current("s")}"""
    elif filters.get("county_code") is not None:
        shortlists = f"""MATCH (county:Region {{code: $county_code}})
        MATCH (s:EnterpriseShortlist) WHERE s.run_id = county.current_run AND {" AND ".join(list_clauses)}"""
    else:
        raise ValueError("recommendations are listed per enterprise or per county: credit_code or county_code")
    match = f"""{shortlists}
        UNWIND range(0, size(s.ranks) - 1) AS j
        WITH s, j {"WHERE " + " AND ".join(entry_clauses) if entry_clauses else ""}"""
    params = _page_params(filters, skip, limit)
    return read_page(
        driver, f"{match} RETURN count(*) AS total",
        f"""{match}
        WITH s, j, s.run_id + '-' + s.household_ids[j] AS list_id, s.ranks[j] AS rank, s.scores[j] AS score
        ORDER BY score DESC, list_id, rank SKIP $skip LIMIT $limit
        MATCH (l:RecommendationList {{list_id: list_id}})
        WITH l, {position_of_rank("rank")}[0] AS i, score, list_id, rank
        ORDER BY score DESC, list_id, rank
        {_RECOMMENDATION_ITEM}""",
        params, database,
    )


def recommendation(driver: neo4j.Driver, rec_id: str, database: str | None = None) -> dict | None:
    """One recommendation (current or not) with its household's summary."""
    found = split_rec_id(rec_id)
    if found is None:
        return None
    list_id, rank = found
    records = _read(driver, f"""{ENTRY_BY_ID}
        {_RECOMMENDATION_ITEM}""", {"list_id": list_id, "rank": rank}, database)
    return records[0]["item"] if records else None


PROJECT_FILTERS = {
    "county_code": "p.county_code = $county_code",
    "status": "p.status = $status",
    "mechanism": "p.mechanism = $mechanism",
    "implementer_credit_code": "p.implementer_credit_code = $implementer_credit_code",
}
PROJECT_FIELDS = projection("Project", "p", {"partnerships": "COUNT { (p)<-[:UNDER_PROJECT]-(:Partnership) }"})


def search_projects(driver: neo4j.Driver, filters: dict, skip: int, limit: int,
                    database: str | None = None) -> tuple[list[dict], int]:
    """A page of projects matching the filters."""
    clauses = _where(filters, PROJECT_FILTERS)
    match = "MATCH (p:Project)" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    params = _page_params(filters, skip, limit)
    return read_page(driver, f"{match} RETURN count(p) AS total",
                     f"{match} WITH p ORDER BY p.project_id SKIP $skip LIMIT $limit RETURN {PROJECT_FIELDS} AS item",
                     params, database)


def project_detail(driver: neo4j.Driver, project_id: str, database: str | None = None) -> dict | None:
    """One project."""
    records = _read(driver, f"MATCH (p:Project {{project_id: $project_id}}) RETURN {PROJECT_FIELDS} AS item",
                    {"project_id": project_id}, database)
    return records[0]["item"] if records else None


PARTNERSHIP_FILTERS = {
    "county_code": "h.county_code = $county_code",
    "village_code": "h.village_code = $village_code",
    "household_id": "p.household_id = $household_id",
    "credit_code": "p.credit_code = $credit_code",
    "mechanism": "p.mechanism = $mechanism",
    "status": "p.status = $status",
}
PARTNERSHIP_FIELDS = projection("Partnership", "p", {
    "county_code": "h.county_code", "village_code": "h.village_code", "village_name": "v.name",
    "head_name": "h.head_name", "head_name_masked": "h.head_name_masked", "phone": "h.phone",
    "phone_masked": "h.phone_masked", "enterprise_name": "e.name",
})


def search_partnerships(driver: neo4j.Driver, filters: dict, skip: int, limit: int,
                        database: str | None = None, match: HouseholdMatch | None = None) -> tuple[list[dict], int]:
    """A page of the partnership ledger (帮扶台账), newest first; with a search (`match`), the rows of the
    households it finds (read from its index, graph/search.py)."""
    clauses = _where(filters, PARTNERSHIP_FILTERS)
    head = "MATCH "
    if match is not None and match.mode == SearchMode.ID_SUFFIX and filters.get("county_code") is None:
        clauses.append(suffix_predicate())  # among the rows the other filters find (an enterprise's own)
    elif match is not None:
        head = households_found(match, filters.get("county_code") is not None) + " MATCH "
    match_text = (head + "(h:Household)<-[:OF_HOUSEHOLD]-(p:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise)"
                  + (" WHERE " + " AND ".join(clauses) if clauses else ""))
    params = _page_params(filters, skip, limit)
    if match is not None:
        params.update(match.params())
    return read_page(
        driver, f"{match_text} RETURN count(p) AS total",
        f"""{match_text} WITH p, h, e ORDER BY p.start_date DESC, p.partnership_id SKIP $skip LIMIT $limit
        OPTIONAL MATCH (h)-[:LIVES_IN]->(v:Region)
        RETURN {PARTNERSHIP_FIELDS} AS item""",
        params, database,
    )


def partnership(driver: neo4j.Driver, partnership_id: str, database: str | None = None) -> dict | None:
    """One ledger row."""
    records = _read(driver, f"""
        MATCH (h:Household)<-[:OF_HOUSEHOLD]-(p:Partnership {{partnership_id: $partnership_id}})-[:WITH_ENTERPRISE]->(e:Enterprise)
        OPTIONAL MATCH (h)-[:LIVES_IN]->(v:Region)
        RETURN {PARTNERSHIP_FIELDS} AS item
        """, {"partnership_id": partnership_id}, database)
    return records[0]["item"] if records else None


def household_counties(driver: neo4j.Driver, household_ids: list[str], database: str | None = None) -> dict[str, str]:
    """household id → county code."""
    records = _read(driver, "UNWIND $ids AS id MATCH (h:Household {household_id: id}) RETURN id, h.county_code AS county",
                    {"ids": household_ids}, database)
    return {record["id"]: record["county"] for record in records}


def county_run_history(driver: neo4j.Driver, county_code: str, limit: int = 30,
                       database: str | None = None) -> list[dict]:
    """The completed match runs that computed a county, oldest first, with their metrics and the county's coverage
    figures right after each became current (JSON texts)."""
    records = _read(driver, """
        MATCH (run:MatchRun {status: 'completed'})-[f:FOR_COUNTY]->(:Region {code: $code})
        WITH run, f ORDER BY run.created_at DESC LIMIT $limit
        RETURN run {.run_id, .created_at, .finished_at, .metrics, figures: f.figures} AS run ORDER BY run.created_at
        """, {"code": county_code, "limit": limit}, database)
    return [record["run"] for record in records]


# ---- early warnings and follow-up items (graph/warnings.py, graph/followups.py) --------------------------

def county_warnings(driver: neo4j.Driver, county_code: str, database: str | None = None) -> dict:
    """The county's household-warning counts (Region.warning_counts, HOUSEHOLD_WARNINGS order) and its
    townships' (code, name, counts); stored figures, O(townships)."""
    records = _read(driver, """
        MATCH (county:Region {code: $code})
        OPTIONAL MATCH (t:Region)-[:PART_OF]->(county) WHERE t.households > 0
        WITH county, t ORDER BY t.code
        RETURN coalesce(county.warning_counts, []) AS counts,
               collect(t {.code, .name, counts: coalesce(t.warning_counts, [])}) AS townships
        """, {"code": county_code}, database)
    return records[0].data() if records else {"counts": [], "townships": []}


def warned_households(driver: neo4j.Driver, county_code: str, position: int, township_code: str | None,
                      skip: int, limit: int, database: str | None = None) -> tuple[list[dict], int]:
    """A page of the county's active households with the warning at `position` (HOUSEHOLD_WARNINGS order), in
    户编号 order from the county's index, and their count from the stored region figures."""
    township = "AND h.township_code = $township" if township_code else ""
    return read_page(
        driver,
        "OPTIONAL MATCH (r:Region {code: coalesce($township, $county)}) "
        "RETURN coalesce(r.warning_counts[$position], 0) AS total",
        f"""MATCH (h:Household) WHERE h.county_code = $county AND h.active = true AND h.household_id IS NOT NULL
              AND h.warning_flags[$position] = 1 {township}
            WITH h ORDER BY h.county_code, h.active, h.household_id SKIP $skip LIMIT $limit
            {household_summary()}
            RETURN item""",
        {"county": county_code, "position": position, "township": township_code, "skip": skip, "limit": limit},
        database)


def flagged_enterprises(driver: neo4j.Driver, county_code: str, database: str | None = None) -> list[dict]:
    """The county's enterprises with an enterprise warning, with the figures behind it and their township."""
    records = _read(driver, """
        MATCH (e:Enterprise) WHERE e.county_code = $code AND any(flag IN coalesce(e.warning_flags, []) WHERE flag = 1)
        OPTIONAL MATCH (e)-[:LOCATED_IN]->(place:Region)
        WITH e, place ORDER BY e.credit_code
        RETURN e {.credit_code, .name, .enterprise_type, .warning_flags, .decided_count, .declined_count,
                  .partnership_count, .terminated_count,
                  township_code: CASE WHEN place.level = 'village' THEN place.township_code
                                      WHEN place.level = 'township' THEN place.code END} AS enterprise
        """, {"code": county_code}, database)
    return [record["enterprise"] for record in records]


FOLLOWUP_FIELDS = projection("FollowUp", "f")


def search_followups(driver: neo4j.Driver, county_code: str, statuses: list[str], reason: str | None,
                     township_code: str | None, skip: int, limit: int,
                     database: str | None = None, match: HouseholdMatch | None = None) -> tuple[list[dict], int]:
    """A page of the county's follow-up items of these statuses, soonest due first (the index's order), each with
    its household's summary; with a search (`match`), the items of the households it finds."""
    clauses = ["f.county_code = $county", "f.status IN $statuses", "f.due_date IS NOT NULL"]
    if reason:
        clauses.append("f.reason = $reason")
    if township_code:
        clauses.append("f.township_code = $township")
    where = " AND ".join(clauses)
    params = {"county": county_code, "county_code": county_code, "statuses": statuses, "reason": reason,
              "township": township_code, "skip": skip, "limit": limit}
    head = "MATCH (f:FollowUp)"
    if match is not None:
        head = (households_found(match, True) + " WHERE h.county_code = $county_code "
                "MATCH (f:FollowUp {household_id: h.household_id})")
        params.update(match.params())
    return read_page(
        driver, f"{head} WHERE {where} RETURN count(f) AS total",
        f"""{head} WHERE {where}
            WITH f ORDER BY f.due_date, f.followup_id SKIP $skip LIMIT $limit
            MATCH (h:Household {{household_id: f.household_id}})
            WITH f, h
            {household_summary(alias="household", carry="f")}
            RETURN {FOLLOWUP_FIELDS[:-1]}, household: household}} AS item""",
        params, database)


def followup_summary(driver: neo4j.Driver, county_code: str, statuses: list[str],
                     database: str | None = None) -> list[dict]:
    """The county's items of these statuses counted by reason, status, township and whether past due."""
    records = _read(driver, """
        MATCH (f:FollowUp) WHERE f.county_code = $county AND f.status IN $statuses
        RETURN f.reason AS reason, f.status AS status, f.township_code AS township_code,
               f.due_date < $today AS overdue, count(*) AS items
        """, {"county": county_code, "statuses": statuses, "today": today_iso()}, database)
    return [record.data() for record in records]


def followup(driver: neo4j.Driver, followup_id: str, database: str | None = None) -> dict | None:
    """One follow-up item with its household's summary."""
    records = _read(driver, f"""
        MATCH (f:FollowUp {{followup_id: $id}})
        OPTIONAL MATCH (h:Household {{household_id: f.household_id}})
        WITH f, h
        {household_summary(alias="household", carry="f")}
        RETURN {FOLLOWUP_FIELDS[:-1]}, household: household}} AS item""", {"id": followup_id}, database)
    return records[0]["item"] if records else None


def awaiting_pairings(driver: neo4j.Driver, county_code: str, skip: int, limit: int,
                      database: str | None = None) -> tuple[list[dict], int]:
    """A page of the county's households with a pairing awaiting the bureau's confirmation (户编号 order, read
    from the (county_code, pending, household_id) index), each with its awaiting partnerships; the total."""
    count = """MATCH (h:Household) WHERE h.county_code = $county AND h.pending = true
               AND h.household_id IS NOT NULL RETURN count(h) AS total"""
    page = f"""
        MATCH (h:Household) WHERE h.county_code = $county AND h.pending = true AND h.household_id IS NOT NULL
        WITH h ORDER BY h.county_code, h.pending, h.household_id SKIP $skip LIMIT $limit
        CALL (h) {{
          MATCH (h)<-[:OF_HOUSEHOLD]-(p:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise) WHERE p.status = $awaiting
          WITH p, e ORDER BY p.updated_at DESC, p.partnership_id
          RETURN collect(p {{.partnership_id, .mechanism, .rec_id, .start_date, .updated_at,
                            enterprise_name: e.name, credit_code: e.credit_code}}) AS pairings
        }}
        WITH h, pairings
        {household_summary(carry="pairings")}
        RETURN item {{.*, pairings: pairings}} AS item"""
    return read_page(driver, count, page, {"county": county_code, "skip": skip, "limit": limit}, database)


def bureau_waiting(driver: neo4j.Driver, county_code: str, followup_statuses: list[str], audience: str,
                   database: str | None = None) -> dict:
    """What waits for a county's bureau, in one round trip of index counts: households with a pairing awaiting
    confirmation, follow-up items of these statuses, unread notifications of the audience."""
    records = _read(driver, """
        CALL () { MATCH (h:Household) WHERE h.county_code = $county AND h.pending = true
                  AND h.household_id IS NOT NULL RETURN count(h) AS awaiting }
        CALL () { MATCH (f:FollowUp) WHERE f.county_code = $county AND f.status IN $statuses
                  RETURN count(f) AS followups }
        CALL () { MATCH (n:Notification) WHERE n.audience = $audience AND n.read = false
                  AND n.created_at IS NOT NULL RETURN count(n) AS notifications }
        RETURN awaiting, followups, notifications
        """, {"county": county_code, "statuses": followup_statuses, "audience": audience}, database)
    return records[0].data()