"""Constraints and indexes, generated from the graph model (graph/model.py) and applied idempotently.

`flask neo4j schema` applies them to the configured Neo4j; the ETL applies them before every load.
"""
import neo4j

from graph import querybuilder


def schema_statements() -> list[str]:
    """Every CREATE CONSTRAINT / CREATE INDEX statement of the model, each safe to repeat (IF NOT EXISTS)."""
    return querybuilder.schema_statements()


def apply_schema(driver: neo4j.Driver, database: str | None = None) -> int:
    """Create all constraints and indexes and wait until they are online; returns the count."""
    statements = schema_statements()
    with driver.session(database=database) as session:
        for statement in statements:
            session.run(statement).consume()
        session.run("CALL db.awaitIndexes(300)").consume()
    return len(statements)


def existing_schema(driver: neo4j.Driver, database: str | None = None) -> dict[str, set[str]]:
    """Names of the constraints and indexes that exist now."""
    constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name", database_=database)
    indexes, _, _ = driver.execute_query("SHOW INDEXES YIELD name", database_=database)
    return {
        "constraints": {record["name"] for record in constraints},
        "indexes": {record["name"] for record in indexes},
    }
