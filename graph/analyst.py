"""Cypher of the analysts' data files (services/analyst_data.py): one county's records, table by table, streamed.

Every query is bounded by a county ($county) and returns raw graph values — household ids included, because the
service replaces them by keyed references before anything is written; no query returns a name, a phone, an ID
hash or free text written by people (decline reasons, 帮扶措施 notes, close reasons). Rows arrive in chunks
(`stream`): the driver fetches records as they are consumed, so a county of 60,000 households is never held
whole in the client.
"""
from collections.abc import Iterator

import neo4j

from graph.vocabulary import with_vocabulary

READ_ACCESS = neo4j.READ_ACCESS

# Household properties read (each returned under its own name). Never head_name, phone, hashes or their masks.
HOUSEHOLD_FIELDS = (
    "household_id", "county_code", "township_code", "village_code", "active", "inactive_since", "attribute",
    "main_cause", "other_causes", "poverty_status", "exit_year", "identification_year", "household_type",
    "monitoring_category", "risk_causes", "monitoring_since", "risk_removed", "risk_removed_date", "household_size",
    "members", "income_per_capita", "labour_ordinary", "labour_skilled", "labour_weak", "labourers", "arable_mu",
    "irrigated_mu", "forest_mu", "orchard_mu", "water_mu", "pasture_mu", "road_distance_km", "dilapidated_house",
    "housing_secure", "relocated", "in_cooperative", "has_leading_enterprise", "products", "industry_codes",
    "need_tier", "coverage_state", "covered", "pending", "planned", "active_partnerships", "in_force_counts",
    "open_followups", "warning_flags", "income_dates", "income_values",
)

# Enterprise properties read: the public business record and its offer; never contact, phone or address.
ENTERPRISE_FIELDS = (
    "credit_code", "name", "enterprise_type", "region_code", "county_code", "lon", "lat", "industries",
    "industry_codes", "products_bought", "bought_codes", "mechanisms", "jobs_offered", "skill_required",
    "contract_households", "land_wanted_mu", "equity_households", "ecommerce_households", "households_capacity",
    "certified_poverty_products", "decided_count", "declined_count", "partnership_count", "terminated_count",
    "warning_flags", "offer_updated_at",
)

PROJECT_FIELDS = (
    "project_id", "name", "region_code", "county_code", "industries", "industry_codes", "fund_source", "budget_wan",
    "implementer_credit_code", "mechanism", "target_households", "start_year", "end_year", "status",
)


def _projection(variable: str, fields: tuple[str, ...]) -> str:
    return f"{variable} {{" + ", ".join(f".{name}" for name in fields) + "}"


QUERIES = {
    "regions": """
        MATCH (r:Region) WHERE r.code = $county OR r.county_code = $county
        OPTIONAL MATCH (r)-[:PART_OF]->(parent:Region)
        WITH r, head(collect(parent.code)) AS parent_code
        RETURN r.code AS code, r.name AS name, r.level AS level, parent_code, r.township_code AS township_code,
               r.lon AS lon, r.lat AS lat, r.is_poor_village AS poor_village, r.relocation_site AS relocation_site,
               r.households AS households, r.covered AS covered, r.pending AS pending, r.planned AS planned
        ORDER BY code
        """,
    "households": f"""
        MATCH (h:Household) WHERE h.county_code = $county
        RETURN {_projection("h", HOUSEHOLD_FIELDS)} AS row
        """,
    "partnerships": """
        MATCH (h:Household)<-[:OF_HOUSEHOLD]-(p:Partnership) WHERE h.county_code = $county
        OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise)
        OPTIONAL MATCH (p)-[:UNDER_PROJECT]->(project:Project)
        OPTIONAL MATCH (decided:Recommendation {rec_id: p.rec_id})
        RETURN p.partnership_id AS partnership_id, h.household_id AS household_id,
               coalesce(e.credit_code, p.credit_code) AS credit_code,
               coalesce(project.project_id, p.project_id) AS project_id, p.mechanism AS mechanism,
               p.start_date AS start_date, p.end_date AS end_date, p.status AS status, p.income_gain AS income_gain,
               coalesce(p.source, 'ledger') AS source, p.rec_id AS rec_id, decided.run_id AS run_id,
               decided.decided_at AS decided_at, p.created_at AS created_at, p.updated_at AS updated_at
        """,
    # Every run that computed the county, every entry of its household lists; `decided`: the entry's own node
    # when someone decided on it (its decline reason is read only to be reduced to a topic by the service).
    "recommendations": """
        MATCH (run:MatchRun)-[:FOR_COUNTY]->(county:Region {code: $county})
        MATCH (l:RecommendationList) WHERE l.county_code = $county AND l.run_id = run.run_id
        UNWIND range(0, size(l.ranks) - 1) AS i
        OPTIONAL MATCH (decided:Recommendation {rec_id: l.list_id + '-' + toString(l.ranks[i])})
        RETURN run.run_id AS run_id, l.household_id AS household_id, l.ranks[i] AS rank,
               l.credit_codes[i] AS credit_code, l.mechanisms[i] AS mechanism, l.scores[i] AS score,
               l.rule_scores[i] AS rule_score, l.distances_km[i] AS distance_km,
               CASE l.levels[i] WHEN '' THEN null ELSE l.levels[i] END AS level,
               CASE coalesce(l.other_mechanisms[i], '') WHEN '' THEN [] ELSE split(l.other_mechanisms[i], ',') END
                 AS other_mechanisms,
               l.assigned[i] AS assigned, coalesce(decided.status, l.statuses[i]) AS status,
               county.current_run = run.run_id AS current, decided.partnership_id AS partnership_id,
               decided.decided_at AS decided_at, decided.declined_by_role AS declined_by_role,
               decided.decline_reason AS decline_reason
        """,
    "runs": """
        MATCH (run:MatchRun)-[f:FOR_COUNTY]->(county:Region {code: $county})
        RETURN run.run_id AS run_id, run.created_at AS created_at, run.finished_at AS finished_at,
               run.status AS status, run.model_version AS model_version, run.alpha AS alpha, run.seed AS seed,
               run.params AS params, run.metrics AS metrics, run.rules_versions AS rules_versions,
               county.current_run = run.run_id AS current, f.switched_at AS switched_at,
               f.previous_run AS previous_run, f.figures AS figures,
               size(coalesce(f.newly_planned, [])) AS newly_planned,
               size(coalesce(f.no_longer_planned, [])) AS no_longer_planned
        ORDER BY created_at
        """,
    "unplaced": """
        MATCH (run:MatchRun)-[f:FOR_COUNTY]->(:Region {code: $county}) WHERE f.unplaced IS NOT NULL
        RETURN run.run_id AS run_id, f.unplaced AS unplaced, f.unplaced_at AS unplaced_at
        ORDER BY run.created_at
        """,
    "projects": f"""
        MATCH (project:Project) WHERE project.county_code = $county
        OPTIONAL MATCH (project)<-[:UNDER_PROJECT]-(p:Partnership)
        WITH project, count(p) AS linked_partnerships, count(DISTINCT p.household_id) AS linked_households,
             count(DISTINCT CASE WHEN p.status = $in_force THEN p.household_id END) AS linked_in_force
        RETURN {_projection("project", PROJECT_FIELDS)} AS row, linked_partnerships, linked_households,
               linked_in_force
        ORDER BY project.project_id
        """,
    # The county's own enterprises, and those of elsewhere that partner with or were recommended to its households.
    "enterprises": f"""
        CALL () {{
          MATCH (e:Enterprise) WHERE e.county_code = $county RETURN e
          UNION
          MATCH (:Household {{county_code: $county}})<-[:OF_HOUSEHOLD]-(:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise)
          RETURN e
          UNION
          MATCH (s:EnterpriseShortlist) WHERE s.county_code = $county
          MATCH (e:Enterprise {{credit_code: s.credit_code}})
          RETURN e
        }}
        RETURN {_projection("e", ENTERPRISE_FIELDS)} AS row
        ORDER BY e.credit_code
        """,
    "followups": """
        MATCH (f:FollowUp) WHERE f.county_code = $county
        RETURN f.household_id AS household_id, f.reason AS reason, f.status AS status, f.since AS since,
               f.due_date AS due_date, f.created_at AS created_at, f.closed_at AS closed_at, f.closed_by AS closed_by,
               f.run_id AS run_id, f.partnership_id AS partnership_id, f.need_tier AS need_tier
        ORDER BY f.due_date
        """,
}

# Queries whose single `row` map is the record (the rest is merged into it).
_ROW_MAPS = {"households", "projects", "enterprises"}


def stream(driver: neo4j.Driver, table: str, county: str, database: str | None = None, chunk: int = 5000,
           **params) -> Iterator[list[dict]]:
    """The county's records of a table (QUERIES) in chunks of at most `chunk` dicts, read in one auto-commit
    read transaction whose records the driver fetches as they are consumed."""
    query = QUERIES[table]
    with driver.session(database=database, default_access_mode=READ_ACCESS,
                        fetch_size=min(chunk, 1000)) as session:
        result = session.run(query, with_vocabulary(query, {"county": county, **params}))
        batch: list[dict] = []
        for record in result:
            data = record.data()
            if table in _ROW_MAPS:
                row = data.pop("row")
                data = {**row, **data}
            batch.append(data)
            if len(batch) >= chunk:
                yield batch
                batch = []
        if batch:
            yield batch


def counties(driver: neo4j.Driver, database: str | None = None) -> list[str]:
    """Every county with households (the codes, in order)."""
    with driver.session(database=database, default_access_mode=READ_ACCESS) as session:
        return [record["code"] for record in session.run(
            "MATCH (c:Region {level: 'county'}) WHERE c.households > 0 RETURN c.code AS code ORDER BY code")]


def county_name(driver: neo4j.Driver, county: str, database: str | None = None) -> str | None:
    """The county's name (None when there is no such region)."""
    with driver.session(database=database, default_access_mode=READ_ACCESS) as session:
        record = session.run("MATCH (c:Region {code: $county}) RETURN c.name AS name", county=county).single()
    return record["name"] if record else None
