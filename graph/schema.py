"""Constraints and indexes, generated from the graph model (graph/model.py) and applied idempotently.

`flask neo4j schema` applies them to the configured Neo4j; the ETL applies them before every load.
"""
import neo4j

from graph import matching, querybuilder


def schema_statements() -> list[str]:
    """Every CREATE CONSTRAINT / CREATE INDEX statement of the model, each safe to repeat (IF NOT EXISTS)."""
    return querybuilder.schema_statements()


def apply_schema(driver: neo4j.Driver, database: str | None = None) -> int:
    """Create all constraints and indexes, drop the indexes the model no longer declares, and wait until
    they are online; returns the count of statements applied."""
    statements = schema_statements()
    with driver.session(database=database) as session:
        for statement in statements:
            session.run(statement).consume()
        session.run("CALL db.awaitIndexes(300)").consume()
    adopt_recommendation_nodes(driver, database)
    with driver.session(database=database) as session:
        for name in retired_indexes(driver, database):
            session.run(f"DROP INDEX {querybuilder.identifier(name)} IF EXISTS").consume()
        session.run("CALL db.awaitIndexes(300)").consume()
    return len(statements)


def retired_indexes(driver: neo4j.Driver, database: str | None = None) -> list[str]:
    """Range indexes on the model's labels that it no longer declares (each costs every write)."""
    records, _, _ = driver.execute_query(
        "SHOW RANGE INDEXES YIELD name, entityType, labelsOrTypes, owningConstraint "
        "WHERE entityType = 'NODE' AND owningConstraint IS NULL AND any(label IN labelsOrTypes WHERE label IN $labels) "
        "RETURN name", labels=list(querybuilder.NODES), database_=database)
    declared = querybuilder.declared_index_names()
    return sorted(record["name"] for record in records if record["name"] not in declared)


def existing_schema(driver: neo4j.Driver, database: str | None = None) -> dict[str, set[str]]:
    """Names of the constraints and indexes that exist now."""
    constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name", database_=database)
    indexes, _, _ = driver.execute_query("SHOW INDEXES YIELD name", database_=database)
    return {
        "constraints": {record["name"] for record in constraints},
        "indexes": {record["name"] for record in indexes},
    }


def adopt_recommendation_nodes(driver: neo4j.Driver, database: str | None = None, progress=None) -> int:
    """A graph written before recommendations were stored as lists (graph/matching.py) holds a node per
    recommendation, linked to its household: each county's current ones become lists and shortlists (a
    decided one keeps its node, renamed to the list entry's id), and the rest go. Returns the counties
    converted. Nothing to do (and instant) on a graph without such nodes."""
    records, _, _ = driver.execute_query("MATCH ()-[link:FOR_HOUSEHOLD]->() RETURN count(link) AS n",
                                         database_=database)
    if not records[0]["n"]:
        return 0
    counties, _, _ = driver.execute_query("""
        MATCH (county:Region {level: 'county'})
        CALL (county) {
          OPTIONAL MATCH (r:Recommendation {county_code: county.code}) WHERE r.current = true
          RETURN r.run_id AS flagged LIMIT 1
        }
        WITH county, coalesce(county.current_run, flagged) AS run_id WHERE run_id IS NOT NULL
        RETURN county.code AS code, run_id""", database_=database)
    for record in counties:
        county, run_id = record["code"], record["run_id"]
        rows, _, _ = driver.execute_query("""
            MATCH (r:Recommendation {county_code: $county})-[:FOR_HOUSEHOLD]->() WHERE r.run_id = $run_id
            RETURN r.household_id AS household_id, r.county_code AS county_code, r.credit_code AS credit_code,
                   r.mechanism AS mechanism, r.rank AS rank, r.score AS score, r.rule_score AS rule_score,
                   r.distance_km AS distance_km, coalesce(r.assigned, false) AS assigned,
                   coalesce(r.reasons, []) AS reasons""", county=county, run_id=run_id, database_=database)
        matching.write_recommendations(driver, run_id, [row.data() for row in rows], database)
        driver.execute_query("MATCH (county:Region {code: $county}) SET county.current_run = $run_id",
                             county=county, run_id=run_id, database_=database)
        if progress:
            progress(f"推荐改存为清单：{county} / recommendations stored as lists: {county}")
    with driver.session(database=database) as session:
        # Decided ones keep their node under the entry's id; their status goes into the lists.
        decided = session.run("""
            MATCH (r:Recommendation)-[:FOR_HOUSEHOLD]->() WHERE r.status <> $proposed
            SET r.rec_id = r.run_id + '-' + r.household_id + '-' + toString(r.rank)
            REMOVE r.current, r.attempt
            RETURN collect(r.rec_id) AS ids""", proposed=matching.PROPOSED).single()["ids"]
        for rec_id in decided:
            session.execute_write(matching.sync_entry_status, rec_id)
        session.run("MATCH ()-[link:FROM_ENTERPRISE|FOR_HOUSEHOLD]->() "
                    "CALL (link) { DELETE link } IN TRANSACTIONS OF 20000 ROWS").consume()
        session.run("MATCH (r:Recommendation) WHERE r.status = $proposed "
                    "CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS", proposed=matching.PROPOSED).consume()
    return len(counties)
