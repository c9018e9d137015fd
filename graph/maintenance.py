"""Whole-graph maintenance used by tests and benchmarks."""
import neo4j


def clear_graph(driver: neo4j.Driver, database: str | None = None) -> None:
    """Delete every node and relationship in batches; constraints and indexes stay."""
    with driver.session(database=database) as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


def count_nodes(driver: neo4j.Driver, database: str | None = None) -> int:
    """Number of nodes in the graph."""
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=database)
    return records[0]["n"]
