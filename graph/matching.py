"""Cypher for matching: read a county's households, enterprises and partnerships column-wise,
and store match runs with their recommendations."""
import neo4j

READ = neo4j.RoutingControl.READ


def county_households(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> list[dict]:
    """Active households of the counties with their village position and labour counts by skill."""
    records, _, _ = driver.execute_query(
        """
        MATCH (h:Household)-[:LIVES_IN]->(v:Region)
        WHERE h.county_code IN $counties AND h.active
        CALL (h) {
          OPTIONAL MATCH (m:Member)-[:MEMBER_OF]->(h)
          RETURN count(CASE WHEN m.labour_skill = '01' THEN 1 END) AS ordinary,
                 count(CASE WHEN m.labour_skill = '02' THEN 1 END) AS skilled,
                 count(CASE WHEN m.labour_skill = '03' THEN 1 END) AS weak,
                 count(m) AS members
        }
        RETURN h.household_id AS household_id, h.county_code AS county_code, v.code AS village_code,
               v.lon AS lon, v.lat AS lat, h.attribute AS attribute, h.main_cause AS main_cause,
               coalesce(h.other_causes, []) AS other_causes, h.monitoring_category AS monitoring_category,
               h.income_per_capita AS income_per_capita, coalesce(h.relocated, false) AS relocated,
               coalesce(h.arable_mu, 0.0) AS arable_mu, coalesce(h.forest_mu, 0.0) AS forest_mu,
               coalesce(h.orchard_mu, 0.0) AS orchard_mu, coalesce(h.industry_codes, []) AS industry_codes,
               coalesce(h.in_cooperative, false) AS in_cooperative,
               ordinary, skilled, weak, members
        ORDER BY household_id
        """,
        counties=county_codes, database_=database, routing_=READ,
    )
    return [record.data() for record in records]


def county_enterprises(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> list[dict]:
    """Enterprises of the counties with capacities, industries and the villages of their partners."""
    records, _, _ = driver.execute_query(
        """
        MATCH (e:Enterprise) WHERE e.county_code IN $counties AND e.lon IS NOT NULL
        CALL (e) {
          OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(p:Partnership)-[:OF_HOUSEHOLD]->(h:Household)
          WHERE p.status IN ['01', '04']
          RETURN collect(DISTINCT h.village_code) AS partner_villages,
                 [m IN ['01', '02', '03', '04', '05'] | size([x IN collect(p.mechanism) WHERE x = m])] AS used
        }
        RETURN e.credit_code AS credit_code, e.name AS name, e.county_code AS county_code, e.lon AS lon, e.lat AS lat,
               e.enterprise_type AS enterprise_type, coalesce(e.mechanisms, []) AS mechanisms,
               coalesce(e.jobs_offered, 0) AS jobs_offered, coalesce(e.contract_households, 0) AS contract_households,
               coalesce(e.land_wanted_mu, 0.0) AS land_wanted_mu, coalesce(e.equity_households, 0) AS equity_households,
               coalesce(e.ecommerce_households, 0) AS ecommerce_households, e.skill_required AS skill_required,
               coalesce(e.industry_codes, []) AS industry_codes, coalesce(e.bought_codes, []) AS bought_codes,
               partner_villages, used
        ORDER BY credit_code
        """,
        counties=county_codes, database_=database, routing_=READ,
    )
    return [record.data() for record in records]


def partnerships(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> list[dict]:
    """Past and current partnerships of the counties' households (for training and evaluation)."""
    records, _, _ = driver.execute_query(
        """
        MATCH (h:Household)<-[:OF_HOUSEHOLD]-(p:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise)
        WHERE h.county_code IN $counties
        RETURN p.partnership_id AS partnership_id, h.household_id AS household_id, e.credit_code AS credit_code,
               p.mechanism AS mechanism, p.start_date AS start_date, p.status AS status
        ORDER BY partnership_id
        """,
        counties=county_codes, database_=database, routing_=READ,
    )
    return [record.data() for record in records]


def counties_with_households(driver: neo4j.Driver, database: str | None = None) -> list[dict]:
    """Counties that have active households, with their position."""
    records, _, _ = driver.execute_query(
        """
        MATCH (c:Region {level: 'county'}) WHERE EXISTS { MATCH (h:Household {county_code: c.code}) WHERE h.active }
        RETURN c.code AS code, c.name AS name, c.lon AS lon, c.lat AS lat ORDER BY code
        """,
        database_=database, routing_=READ,
    )
    return [record.data() for record in records]
