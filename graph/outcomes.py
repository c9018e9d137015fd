"""Cypher of the outcomes (帮扶成效): a county's ledger and households' income histories as rows for
matching/outcomes.py, and the computed report stored per county (CountyOutcomes) so pages read it in O(1).

The rows carry 户编号 only to join partnerships to households; the report built from them holds none.
"""
import json

import neo4j

READ = neo4j.RoutingControl.READ

PARTNERSHIP_COLUMNS = ("partnership_id", "household_id", "mechanism", "enterprise_type", "township_code",
                       "township_name", "start_date", "end_date", "status", "income_gain")
HOUSEHOLD_COLUMNS = ("household_id", "county_code", "township_code", "need_tier", "labourers", "income_dates",
                     "income_values")


def county_partnerships(driver: neo4j.Driver, county_code: str, database: str | None = None) -> list[dict]:
    """Every ledger partnership of the county's households: mechanism, the enterprise's type, the household's
    township (code and name), start and end dates, status and 年增收."""
    records, _, _ = driver.execute_query(
        """
        MATCH (h:Household {county_code: $county})<-[:OF_HOUSEHOLD]-(p:Partnership)
        OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise)
        OPTIONAL MATCH (t:Region {code: h.township_code})
        RETURN p.partnership_id AS partnership_id, h.household_id AS household_id, p.mechanism AS mechanism,
               e.enterprise_type AS enterprise_type, h.township_code AS township_code, t.name AS township_name,
               p.start_date AS start_date, p.end_date AS end_date, p.status AS status, p.income_gain AS income_gain
        ORDER BY partnership_id
        """, county=county_code, database_=database, routing_=READ)
    return [record.data() for record in records]


def county_households(driver: neo4j.Driver, county_code: str, database: str | None = None) -> list[dict]:
    """The county's households with what the comparison stratifies on (need tier, labourers: stored read state)
    and their income history (graph/incomes.py)."""
    records, _, _ = driver.execute_query(
        """
        MATCH (h:Household {county_code: $county})
        RETURN h.household_id AS household_id, h.county_code AS county_code, h.township_code AS township_code,
               h.need_tier AS need_tier, h.labourers AS labourers,
               coalesce(h.income_dates, []) AS income_dates, coalesce(h.income_values, []) AS income_values
        ORDER BY household_id
        """, county=county_code, database_=database, routing_=READ)
    return [record.data() for record in records]


def store_report(driver: neo4j.Driver, county_code: str, report: dict, computed_at: str, seconds: float,
                 database: str | None = None) -> None:
    """Keep the county's computed report (replacing the one before)."""
    driver.execute_query(
        "MERGE (o:CountyOutcomes {county_code: $county}) "
        "SET o.report = $report, o.computed_at = $computed_at, o.seconds = $seconds",
        county=county_code, report=json.dumps(report, ensure_ascii=False), computed_at=computed_at,
        seconds=seconds, database_=database)


def stored_report(driver: neo4j.Driver, county_code: str, database: str | None = None) -> dict | None:
    """The county's stored report with when it was computed and how long it took, or None before the first."""
    records, _, _ = driver.execute_query(
        "MATCH (o:CountyOutcomes {county_code: $county}) "
        "RETURN o.report AS report, o.computed_at AS computed_at, o.seconds AS seconds",
        county=county_code, database_=database, routing_=READ)
    if not records:
        return None
    record = records[0]
    return {**json.loads(record["report"] or "{}"), "computed_at": record["computed_at"],
            "seconds": record["seconds"]}
