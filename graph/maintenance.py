"""Whole-graph maintenance used by tests and benchmarks."""
import neo4j


def clear_graph(driver: neo4j.Driver, database: str | None = None) -> None:
    """Delete every node and relationship in batches; constraints and indexes stay.

    Relationships go first so that a dense node (an industry with a million households)
    is never detached in one oversized transaction.
    """
    with driver.session(database=database) as session:
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS").consume()
        session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 20000 ROWS").consume()


def count_nodes(driver: neo4j.Driver, database: str | None = None) -> int:
    """Number of nodes in the graph."""
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=database)
    return records[0]["n"]


def graph_snapshot(driver: neo4j.Driver, database: str | None = None, skip_labels: tuple[str, ...] = ("LoadRun",)) -> dict:
    """Every node and relationship with its properties, in a comparable, order-free form."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) WHERE none(label IN labels(n) WHERE label IN $skip) "
        "RETURN labels(n) AS labels, properties(n) AS props",
        skip=list(skip_labels), database_=database, routing_=neo4j.RoutingControl.READ,
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) WHERE none(label IN labels(a) + labels(b) WHERE label IN $skip) "
        "RETURN type(r) AS type, properties(a) AS a, properties(b) AS b, properties(r) AS props",
        skip=list(skip_labels), database_=database, routing_=neo4j.RoutingControl.READ,
    )

    def frozen(value):
        return repr(sorted(value.items())) if isinstance(value, dict) else repr(value)

    return {
        # Properties in key order: the order Neo4j returns them in follows how they were stored.
        "nodes": sorted(repr((sorted(record["labels"]), frozen(record["props"]))) for record in nodes),
        "relationships": sorted(
            repr((record["type"], frozen(record["a"]), frozen(record["b"]), frozen(record["props"]))) for record in rels
        ),
    }
