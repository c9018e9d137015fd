"""Cypher for per-county eligibility rules: the ledger evidence they are calibrated from (matching/calibrate.py)
and their versions (CountyRules: one node per version, the highest version is the county's current rules).

A version is never changed once written; applying rules writes the next version, so a run names the
version it used (MatchRun.rules_versions) and the history shows who changed what, when.
"""
import json

import neo4j

from graph.querybuilder import open_projection

READ = neo4j.RoutingControl.READ
RULES = open_projection("CountyRules", "r")


class RulesVersionTaken(Exception):
    """Another change of the county's rules was written at the same time (the version exists already)."""


def county_region(driver: neo4j.Driver, county_code: str, database: str | None = None) -> dict | None:
    """The county's Region (code, name), or None when the graph has no such county."""
    records, _, _ = driver.execute_query(
        "MATCH (c:Region {code: $code}) WHERE c.level = 'county' RETURN c.code AS code, c.name AS name",
        code=county_code, database_=database, routing_=READ)
    return records[0].data() if records else None


def partnership_evidence(driver: neo4j.Driver, county_code: str, database: str | None = None) -> list[dict]:
    """Every ledger partnership of the county's households with what calibration needs: mechanism, status,
    source, the household's village position (and where it came from), the enterprise's position, type and
    the household's land (耕地 + 林地 + 林果, 亩) and labour counts (stored read state)."""
    query = """
        MATCH (h:Household {county_code: $county})<-[:OF_HOUSEHOLD]-(p:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise)
        OPTIONAL MATCH (h)-[:LIVES_IN]->(v:Region)
        RETURN p.partnership_id AS partnership_id, p.mechanism AS mechanism, p.status AS status, p.source AS source,
               v.lon AS household_lon, v.lat AS household_lat, v.position_source AS household_position,
               e.lon AS enterprise_lon, e.lat AS enterprise_lat, e.position_source AS enterprise_position,
               e.enterprise_type AS enterprise_type,
               coalesce(h.arable_mu, 0.0) + coalesce(h.forest_mu, 0.0) + coalesce(h.orchard_mu, 0.0) AS land_mu,
               coalesce(h.labour_ordinary, 0) + coalesce(h.labour_skilled, 0) AS able_labour,
               coalesce(h.labour_weak, 0) AS weak_labour
        ORDER BY partnership_id
    """
    records, _, _ = driver.execute_query(query, county=county_code, database_=database, routing_=READ)
    return [record.data() for record in records]


def _parsed(rules: dict) -> dict:
    """A stored version with its JSON fields as data."""
    return {**rules, "values": json.loads(rules.get("values") or "{}"),
            "changes": json.loads(rules.get("changes") or "{}")}


def current_county_rules(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> dict[str, dict]:
    """county code → its current rules version (values and changes as dicts), for the counties that have one."""
    records, _, _ = driver.execute_query(
        f"""
        UNWIND $counties AS code
        CALL (code) {{
          MATCH (r:CountyRules {{county_code: code}})
          RETURN r ORDER BY r.version DESC LIMIT 1
        }}
        RETURN code, {RULES} AS rules
        """, counties=list(county_codes), database_=database, routing_=READ)
    return {record["code"]: _parsed(record["rules"]) for record in records}


def county_rules_history(driver: neo4j.Driver, county_code: str, limit: int = 20,
                         database: str | None = None) -> list[dict]:
    """The county's rules versions, newest first (at most `limit`)."""
    records, _, _ = driver.execute_query(
        f"MATCH (r:CountyRules {{county_code: $county}}) RETURN {RULES} AS rules ORDER BY r.version DESC LIMIT $limit",
        county=county_code, limit=limit, database_=database, routing_=READ)
    return [_parsed(record["rules"]) for record in records]


def _append(tx: neo4j.ManagedTransaction, county_code: str, based_on: int, changes: dict, record: dict) -> dict:
    latest = tx.run("MATCH (r:CountyRules {county_code: $county}) "
                    "RETURN r.version AS version, r.values AS values ORDER BY r.version DESC LIMIT 1",
                    county=county_code).single()
    if (latest["version"] if latest else 0) != based_on:
        raise RulesVersionTaken(f"{county_code}: version {latest['version']} written since {based_on}")
    version = based_on + 1
    values = {**json.loads(latest["values"] if latest else "{}"),
              **{name: change["to"] for name, change in changes.items()}}
    rules = {**record, "rules_id": f"{county_code}-{version}", "county_code": county_code, "version": version,
             "values": json.dumps(values, sort_keys=True), "changes": json.dumps(changes, ensure_ascii=False,
                                                                                  sort_keys=True)}
    created = tx.run(f"CREATE (r:CountyRules) SET r = $rules RETURN {RULES} AS rules", rules=rules).single()
    return _parsed(created["rules"])


def append_county_rules(driver: neo4j.Driver, county_code: str, based_on: int, changes: dict, record: dict,
                        database: str | None = None) -> dict:
    """Write the county's next rules version after `based_on` (0: none yet): that version's values with
    `changes` ({field: {from, to, source}}) applied, stamped with `record` (applied_by, applied_by_actor,
    applied_at); returns it.

    RulesVersionTaken when the county's current version is no longer `based_on` (another change came first;
    two at the same moment collide on the uniqueness of rules_id)."""
    with driver.session(database=database) as session:
        try:
            return session.execute_write(_append, county_code, based_on, changes, record)
        except neo4j.exceptions.ConstraintError as error:
            raise RulesVersionTaken(str(error)) from None
