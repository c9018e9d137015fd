"""Constraints and indexes, generated from graph/model.py and applied idempotently.

    python -m graph.schema        # apply to the Neo4j named by the settings
"""
import sys

import neo4j

from core.settings import Settings
from graph.db import create_driver
from graph.model import NODES


def schema_statements() -> list[str]:
    """Every CREATE CONSTRAINT / CREATE INDEX statement, each safe to repeat (IF NOT EXISTS)."""
    statements = []
    for node in NODES.values():
        statements.append(
            f"CREATE CONSTRAINT {node.label.lower()}_{node.key}_unique IF NOT EXISTS "
            f"FOR (n:{node.label}) REQUIRE n.{node.key} IS UNIQUE"
        )
        for prop in node.indexed:
            statements.append(
                f"CREATE INDEX {node.label.lower()}_{prop} IF NOT EXISTS FOR (n:{node.label}) ON (n.{prop})"
            )
    return statements


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


def main() -> int:
    """Apply the schema to the configured Neo4j."""
    settings = Settings()
    with create_driver(settings) as driver:
        count = apply_schema(driver, settings.neo4j_database)
    print(f"图模式已就绪 / schema applied: {count} constraints and indexes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
