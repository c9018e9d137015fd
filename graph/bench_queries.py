"""Cypher for the benchmarks: what a benchmark needs to know about the graph it runs on
(is it loaded, is it matched, whom to impersonate)."""
import neo4j

from graph.matching import CURRENT_RUNS, PROPOSED, REC_ID, is_current
from graph.matching import counties_with_households  # noqa: F401  (re-exported: the benchmarks' county list)

READ = neo4j.RoutingControl.READ


def household_count(driver: neo4j.Driver, database: str | None = None) -> int:
    """Household nodes in the database (from the count store: instant at any size)."""
    records, _, _ = driver.execute_query("MATCH (h:Household) RETURN count(h) AS n", database_=database, routing_=READ)
    return records[0]["n"]


def has_current_recommendations(driver: neo4j.Driver, database: str | None = None) -> bool:
    """True when some county has current recommendations (a completed match run)."""
    records, _, _ = driver.execute_query(
        "MATCH (county:Region) WHERE county.current_run IS NOT NULL RETURN county.code AS code LIMIT 1",
        database_=database, routing_=READ,
    )
    return bool(records)


def counties_without_current_recommendations(driver: neo4j.Driver, database: str | None = None) -> list[str]:
    """Counties with households (stored figures) and no current recommendation yet, in code order."""
    records, _, _ = driver.execute_query(
        "MATCH (c:Region {level: 'county'}) WHERE c.households > 0 AND c.current_run IS NULL "
        "RETURN c.code AS code ORDER BY code",
        database_=database, routing_=READ,
    )
    return [record["code"] for record in records]


def enterprises_with_current_recommendations(driver: neo4j.Driver, limit: int,
                                             database: str | None = None) -> list[dict]:
    """Up to `limit` enterprises that have current recommendations, in credit-code order (stable across runs)."""
    records, _, _ = driver.execute_query(
        f"""
        {CURRENT_RUNS}
        MATCH (e:Enterprise)
        WHERE EXISTS {{ MATCH (s:EnterpriseShortlist)
                        WHERE s.credit_code = e.credit_code AND s.run_id IN current_runs AND {is_current("s")} }}
        RETURN e.credit_code AS credit_code, e.name AS name, e.county_code AS county_code
        ORDER BY credit_code
        LIMIT $limit
        """,
        limit=limit, database_=database, routing_=READ,
    )
    return [record.data() for record in records]


def prepare_for_replanning(driver: neo4j.Driver, timeout_s: int = 900, database: str | None = None) -> None:
    """Resample every index, wait for it, and clear the query caches.

    Right after a bulk load the planner may still hold pre-load index selectivities: a plan made then
    read 20,000 households in 384 s instead of 9 s. Afterwards every query is planned on current statistics.
    """
    with driver.session(database=database) as session:
        session.run("CALL db.prepareForReplanning($timeout_s)", timeout_s=timeout_s).consume()


def missing_read_state(driver: neo4j.Driver, database: str | None = None) -> bool:
    """Whether some household or county lacks stored read state (a graph loaded before it, or before its newest
    figures: the finder's sort keys and the regions' breakdown figures, existed)."""
    records, _, _ = driver.execute_query(
        """CALL () { MATCH (h:Household) WHERE h.covered IS NULL OR h.income_order IS NULL RETURN h LIMIT 1 }
        RETURN true AS missing
        UNION
        CALL () { MATCH (r:Region {level: 'county'}) WHERE r.households > 0 AND r.breakdown_households IS NULL
                  RETURN r LIMIT 1 }
        RETURN true AS missing""",
        database_=database, routing_=READ)
    return bool(records)


def household_ids(driver: neo4j.Driver, county_code: str, n: int, database: str | None = None) -> list[str]:
    """Up to n ids of a county's active households, evenly spaced in id order (the same ones every run)."""
    records, _, _ = driver.execute_query(
        """
        MATCH (h:Household {county_code: $county}) WHERE h.active
        WITH h.household_id AS id ORDER BY id
        WITH collect(id) AS ids WHERE size(ids) > 0
        UNWIND range(0, size(ids) - 1, toInteger(ceil(toFloat(size(ids)) / $n))) AS i
        RETURN ids[i] AS household_id
        """,
        county=county_code, n=max(n, 1), database_=database, routing_=READ,
    )
    return [record["household_id"] for record in records][:n]


def township_codes(driver: neo4j.Driver, county_code: str, database: str | None = None) -> list[str]:
    """The townships of a county that have active households (their stored figures), in code order."""
    records, _, _ = driver.execute_query(
        "MATCH (t:Region)-[:PART_OF]->(:Region {code: $county}) WHERE t.households > 0 "
        "RETURN t.code AS code ORDER BY code",
        county=county_code, database_=database, routing_=READ,
    )
    return [record["code"] for record in records]


def prune_old_recommendations(driver: neo4j.Driver, database: str | None = None, batch: int = 5_000) -> int:
    """Delete earlier runs' recommendation lists and shortlists (a benchmark graph is planned again and
    again; they would pile up; decided recommendations keep their own nodes), county by county. Returns
    how many lists and shortlists were deleted."""
    query = """
        MATCH (county:Region {code: $county})
        CALL (county) {
          MATCH (l:RecommendationList) WHERE l.county_code = county.code AND l.run_id IS NOT NULL
            AND l.run_id <> coalesce(county.current_run, '') RETURN l AS node
          UNION ALL
          MATCH (s:EnterpriseShortlist) WHERE s.county_code = county.code AND s.run_id IS NOT NULL
            AND s.run_id <> coalesce(county.current_run, '') RETURN s AS node
        }
        WITH node LIMIT $batch DETACH DELETE node RETURN count(*) AS n"""
    counties, _, _ = driver.execute_query("MATCH (county:Region {level: 'county'}) RETURN county.code AS code",
                                          database_=database, routing_=READ)
    deleted = 0
    for record in counties:
        while True:
            records, _, _ = driver.execute_query(query, county=record["code"], batch=batch, database_=database)
            deleted += records[0]["n"]
            if records[0]["n"] < batch:
                break
    return deleted


def proposed_recommendations(driver: neo4j.Driver, county_code: str, database: str | None = None) -> list[dict]:
    """The county's current recommendations nobody decided on yet: rec_id and credit_code of each."""
    records, _, _ = driver.execute_query(
        f"""MATCH (county:Region {{code: $county}})
        MATCH (l:RecommendationList) WHERE l.county_code = county.code AND l.run_id = county.current_run
        UNWIND range(0, size(l.ranks) - 1) AS i
        WITH l, i WHERE l.statuses[i] = $proposed
        RETURN {REC_ID} AS rec_id, l.credit_codes[i] AS credit_code""",
        county=county_code, proposed=PROPOSED, database_=database, routing_=READ)
    return [record.data() for record in records]
