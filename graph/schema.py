"""Constraints and indexes, generated from the graph model (graph/model.py) and applied idempotently.

`flask neo4j schema` applies them to the configured Neo4j; the ETL applies them before every load.
"""
import neo4j

from graph import querybuilder


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
        adopt_current_flags(session)
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


def adopt_current_flags(session: neo4j.Session) -> None:
    """A graph written before counties pointed at their current run (Region.current_run) flagged each
    current recommendation instead: point each such county at the run of its flagged ones."""
    session.run("""
        MATCH (county:Region {level: 'county'}) WHERE county.current_run IS NULL
        CALL (county) {
          // Through the (county_code, run_id, score) index: without it, a label scan per county.
          MATCH (r:Recommendation) USING INDEX r:Recommendation(county_code, run_id, score)
          WHERE r.county_code = county.code AND r.run_id IS NOT NULL AND r.score IS NOT NULL AND r.current = true
          RETURN r.run_id AS run_id LIMIT 1
        }
        SET county.current_run = run_id
    """).consume()
