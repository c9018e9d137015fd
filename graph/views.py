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

from graph.db import read_page
from graph.querybuilder import projection
from graph.vocabulary import with_vocabulary

READ = neo4j.RoutingControl.READ

COVERED = "EXISTS { MATCH (h)<-[:OF_HOUSEHOLD]-(cp:Partnership) WHERE cp.status = $in_force }"
PENDING = "EXISTS { MATCH (h)<-[:OF_HOUSEHOLD]-(pp:Partnership) WHERE pp.status = $awaiting }"

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
    "none": "NOT EXISTS { MATCH (lm:Member)-[:MEMBER_OF]->(h) WHERE lm.labour_skill IN $labour_skills }",
    "weak": "EXISTS { MATCH (lm:Member)-[:MEMBER_OF]->(h) WHERE lm.labour_skill = $weak_skill }",
    "ordinary": "EXISTS { MATCH (lm:Member)-[:MEMBER_OF]->(h) WHERE lm.labour_skill = $ordinary_skill }",
    "skilled": "EXISTS { MATCH (lm:Member)-[:MEMBER_OF]->(h) WHERE lm.labour_skill = $skilled_skill }",
    "any": "EXISTS { MATCH (lm:Member)-[:MEMBER_OF]->(h) WHERE lm.labour_skill IN $labour_skills }",
}
HOUSEHOLD_SORT = {"household_id": "h.household_id", "income_per_capita": "h.income_per_capita",
                  "household_size": "h.household_size"}

# Labour per skill of a household's members (CALL (h) { … } body).
LABOUR_COUNTS = """
    OPTIONAL MATCH (m:Member)-[:MEMBER_OF]->(h)
    RETURN count(CASE WHEN m.labour_skill = $ordinary_skill THEN 1 END) AS ordinary,
           count(CASE WHEN m.labour_skill = $skilled_skill THEN 1 END) AS skilled,
           count(CASE WHEN m.labour_skill = $weak_skill THEN 1 END) AS weak,
           count(m) AS members"""

HOUSEHOLD_SUMMARY = projection("Household", "h", {
    "village_name": "v.name", "township_name": "t.name", "village_lon": "v.lon", "village_lat": "v.lat",
    "labour_ordinary": "ordinary", "labour_skilled": "skilled", "labour_weak": "weak", "members": "members",
    "covered": COVERED, "pending": PENDING,
})


def household_summary(alias: str = "item", carry: str = "") -> str:
    """Cypher that turns `h` into a household summary map named alias (carry: extra variables kept)."""
    kept = f", {carry}" if carry else ""
    return f"""
  CALL (h) {{{LABOUR_COUNTS}
  }}
  OPTIONAL MATCH (h)-[:LIVES_IN]->(v:Region)
  OPTIONAL MATCH (t:Region {{code: h.township_code}})
  WITH h, v, t, ordinary, skilled, weak, members{kept}
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


def search_households(driver: neo4j.Driver, filters: dict, labour: str | None, covered: bool | None, sort: str,
                      skip: int, limit: int, database: str | None = None) -> tuple[list[dict], int]:
    """A page of active households matching the filters, with labour counts and coverage."""
    clauses = ["h.active"] + _where(filters, HOUSEHOLD_FILTERS)
    if labour is not None:
        clauses.append(LABOUR_FILTERS[labour])
    if covered is not None:
        clauses.append(COVERED if covered else f"NOT {COVERED}")
    match = "MATCH (h:Household) WHERE " + " AND ".join(clauses)
    order = HOUSEHOLD_SORT[sort]
    params = _page_params(filters, skip, limit)
    return read_page(
        driver, f"{match} RETURN count(h) AS total",
        f"{match} WITH h ORDER BY {order}, h.household_id SKIP $skip LIMIT $limit {household_summary()} RETURN item",
        params, database,
    )


MEMBER_FIELDS = projection("Member", "m")
HOUSEHOLD_PARTNERSHIP_FIELDS = projection("Partnership", "p", {"enterprise_name": "e.name"})
HOUSEHOLD_RECOMMENDATION_FIELDS = projection("Recommendation", "r", {"enterprise_name": "e.name"})


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
          OPTIONAL MATCH (r:Recommendation {{household_id: h.household_id, current: true}})
          OPTIONAL MATCH (e:Enterprise {{credit_code: r.credit_code}})
          WITH r, e ORDER BY r.rank
          RETURN collect({HOUSEHOLD_RECOMMENDATION_FIELDS}) AS recommendation_list
        }}
        RETURN item {{.*, member_list: member_list, partnership_list: partnership_list,
                     recommendation_list: recommendation_list}} AS item
        """, {"household_id": household_id}, database)
    return records[0]["item"] if records else None


def coverage_by(driver: neo4j.Driver, group: str, parent_property: str | None, parent_code: str | None,
                database: str | None = None) -> dict[str, dict]:
    """Households, covered and pending counts per county / township / village code."""
    groups = {"county_code", "township_code", "village_code"}
    if group not in groups or (parent_property is not None and parent_property not in groups):
        raise ValueError("coverage grouping not allowed")
    where = "h.active" + (f" AND h.{parent_property} = $parent_code" if parent_property else "")
    records = _read(driver, f"""
        MATCH (h:Household) WHERE {where}
        WITH h.{group} AS code, {COVERED} AS covered, {PENDING} AS pending
        RETURN code, count(*) AS households, sum(CASE WHEN covered THEN 1 ELSE 0 END) AS covered,
               sum(CASE WHEN pending AND NOT covered THEN 1 ELSE 0 END) AS pending
        """, {"parent_code": parent_code}, database)
    return {record["code"]: record.data() for record in records}


REGION_FIELDS = projection("Region", "r", {"parent_code": "parent.code"})
CHILD_REGION_FIELDS = projection("Region", "r", {"parent_code": "$code"})


def regions(driver: neo4j.Driver, codes: list[str], database: str | None = None) -> list[dict]:
    """Regions by code, with their parent code."""
    records = _read(driver, f"""
        UNWIND $codes AS code MATCH (r:Region {{code: code}})
        OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
        RETURN {REGION_FIELDS} AS region ORDER BY r.code
        """, {"codes": codes}, database)
    return [record["region"] for record in records]


def child_regions(driver: neo4j.Driver, parent_code: str, database: str | None = None) -> list[dict]:
    """The regions directly under a region."""
    records = _read(driver, f"""
        MATCH (r:Region)-[:PART_OF]->(:Region {{code: $code}})
        RETURN {CHILD_REGION_FIELDS} AS region ORDER BY r.code
        """, {"code": parent_code}, database)
    return [record["region"] for record in records]


def mechanism_counts(driver: neo4j.Driver, group: str, code: str, database: str | None = None) -> dict[str, int]:
    """Partnerships in force per mechanism for the households of a county / township / village."""
    if group not in {"county_code", "township_code", "village_code"}:
        raise ValueError("grouping not allowed")
    records = _read(driver, f"""
        MATCH (h:Household {{{group}: $code}})<-[:OF_HOUSEHOLD]-(p:Partnership {{status: $in_force}})
        RETURN p.mechanism AS mechanism, count(*) AS n
        """, {"code": code}, database)
    return {record["mechanism"]: record["n"] for record in records}


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
                       database: str | None = None) -> tuple[list[dict], int]:
    """A page of enterprises matching the filters."""
    clauses = _where(filters, ENTERPRISE_FILTERS)
    match = "MATCH (e:Enterprise)" + (" WHERE " + " AND ".join(clauses) if clauses else "")
    params = _page_params(filters, skip, limit)
    return read_page(driver, f"{match} RETURN count(e) AS total",
                     f"{match} WITH e ORDER BY e.credit_code SKIP $skip LIMIT $limit RETURN {ENTERPRISE_FIELDS} AS item",
                     params, database)


def enterprise_detail(driver: neo4j.Driver, credit_code: str, database: str | None = None) -> dict | None:
    """An enterprise with, per mechanism, partnerships in force, awaiting confirmation and current assignments."""
    records = _read(driver, f"""
        MATCH (e:Enterprise {{credit_code: $credit_code}})
        CALL (e) {{
          OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(p:Partnership) WHERE p.status IN $open_statuses
          RETURN collect({{mechanism: p.mechanism, status: p.status}}) AS open_partnerships
        }}
        CALL (e) {{
          OPTIONAL MATCH (r:Recommendation {{credit_code: e.credit_code, current: true, assigned: true}})
          WHERE r.status IN $holding_statuses
          RETURN collect(r.mechanism) AS assigned
        }}
        RETURN {ENTERPRISE_DETAIL_FIELDS} AS item
        """, {"credit_code": credit_code}, database)
    return records[0]["item"] if records else None


def enterprise_counties(driver: neo4j.Driver, credit_code: str, database: str | None = None) -> set[str]:
    """Counties an enterprise is tied to: where it sits, and where its recommended or partnered households live."""
    records = _read(driver, """
        MATCH (e:Enterprise {credit_code: $credit_code})
        CALL (e) { OPTIONAL MATCH (r:Recommendation {credit_code: e.credit_code, current: true})
                   RETURN collect(DISTINCT r.county_code) AS rec_counties }
        CALL (e) { OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(:Partnership)-[:OF_HOUSEHOLD]->(h:Household)
                   RETURN collect(DISTINCT h.county_code) AS partner_counties }
        RETURN [e.county_code] + rec_counties + partner_counties AS counties
        """, {"credit_code": credit_code}, database)
    return {code for code in records[0]["counties"] if code} if records else set()


RECOMMENDATION_FILTERS = {
    "credit_code": "r.credit_code = $credit_code",
    "county_code": "r.county_code = $county_code",
    "household_id": "r.household_id = $household_id",
    "mechanism": "r.mechanism = $mechanism",
    "status": "r.status = $status",
    "assigned": "r.assigned = $assigned",
}
RECOMMENDATION_FIELDS = projection("Recommendation", "r", {
    "enterprise_name": "e.name", "household": "household",
    "confirmed": "EXISTS { MATCH (h)<-[:OF_HOUSEHOLD]-(cp:Partnership {status: $in_force})-[:WITH_ENTERPRISE]->(e) }",
})


def search_recommendations(driver: neo4j.Driver, filters: dict, skip: int, limit: int,
                           database: str | None = None) -> tuple[list[dict], int]:
    """A page of current recommendations (best score first) with their household's summary."""
    clauses = ["r.current"] + _where(filters, RECOMMENDATION_FILTERS)
    match = "MATCH (r:Recommendation) WHERE " + " AND ".join(clauses)
    params = _page_params(filters, skip, limit)
    return read_page(
        driver, f"{match} RETURN count(r) AS total",
        f"""{match} WITH r ORDER BY r.score DESC, r.rec_id SKIP $skip LIMIT $limit
        MATCH (e:Enterprise {{credit_code: r.credit_code}})
        MATCH (h:Household {{household_id: r.household_id}})
        {household_summary("household", "r, e")}
        RETURN {RECOMMENDATION_FIELDS} AS item""",
        params, database,
    )


def recommendation(driver: neo4j.Driver, rec_id: str, database: str | None = None) -> dict | None:
    """One recommendation (current or not) with its household's summary."""
    records = _read(driver, f"""MATCH (r:Recommendation {{rec_id: $rec_id}})
        MATCH (e:Enterprise {{credit_code: r.credit_code}})
        MATCH (h:Household {{household_id: r.household_id}})
        {household_summary("household", "r, e")}
        RETURN {RECOMMENDATION_FIELDS} AS item""", {"rec_id": rec_id}, database)
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
                        database: str | None = None) -> tuple[list[dict], int]:
    """A page of the partnership ledger (帮扶台账), newest first."""
    clauses = _where(filters, PARTNERSHIP_FILTERS)
    match = ("MATCH (h:Household)<-[:OF_HOUSEHOLD]-(p:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise)"
             + (" WHERE " + " AND ".join(clauses) if clauses else ""))
    params = _page_params(filters, skip, limit)
    return read_page(
        driver, f"{match} RETURN count(p) AS total",
        f"""{match} WITH p, h, e ORDER BY p.start_date DESC, p.partnership_id SKIP $skip LIMIT $limit
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
    """The completed match runs that computed a county, oldest first, with their metrics (JSON text)."""
    records = _read(driver, """
        MATCH (run:MatchRun {status: 'completed'})-[:FOR_COUNTY]->(:Region {code: $code})
        WITH run ORDER BY run.created_at DESC LIMIT $limit
        RETURN run {.run_id, .created_at, .finished_at, .metrics} AS run ORDER BY run.created_at
        """, {"code": county_code, "limit": limit}, database)
    return [record["run"] for record in records]
