"""Neo4j's own bulk path, LOAD CSV … CALL { } IN TRANSACTIONS, used as the ETL's yardstick.

The CSV files must lie in the server's import directory; labels, keys and relationship
types come from the graph model, file names are passed as parameters.
"""
import neo4j

from graph.model import node_type, relationship_type

ROWS_PER_TRANSACTION = 10_000


def load_csv_nodes(driver: neo4j.Driver, label: str, file_name: str, database: str | None = None) -> None:
    """MERGE nodes of `label` from a CSV with a `key` column and property columns."""
    key = node_type(label).key
    query = (
        "LOAD CSV WITH HEADERS FROM 'file:///' + $file AS row "
        f"CALL (row) {{ MERGE (n:{label} {{{key}: row.key}}) SET n += row }} "
        f"IN TRANSACTIONS OF {ROWS_PER_TRANSACTION} ROWS"
    )
    with driver.session(database=database) as session:
        session.run(query, file=file_name).consume()


def load_csv_relationships(driver: neo4j.Driver, rel_type: str, start: str, end: str, file_name: str,
                           database: str | None = None) -> None:
    """MERGE relationships from a CSV with `start` and `end` key columns."""
    relationship_type(rel_type, start, end)
    start_key, end_key = node_type(start).key, node_type(end).key
    query = (
        "LOAD CSV WITH HEADERS FROM 'file:///' + $file AS row "
        f"CALL (row) {{ MATCH (a:{start} {{{start_key}: row.start}}) MATCH (b:{end} {{{end_key}: row.end}}) "
        f"MERGE (a)-[:{rel_type}]->(b) }} IN TRANSACTIONS OF {ROWS_PER_TRANSACTION} ROWS"
    )
    with driver.session(database=database) as session:
        session.run(query, file=file_name).consume()


def count_entities(driver: neo4j.Driver, database: str | None = None) -> tuple[int, int]:
    """(nodes, relationships) in the database, from the count store."""
    records, _, _ = driver.execute_query(
        "CALL () { MATCH (n) RETURN count(n) AS nodes } CALL () { MATCH ()-[r]->() RETURN count(r) AS rels } "
        "RETURN nodes, rels", database_=database, routing_=neo4j.RoutingControl.READ)
    return records[0]["nodes"], records[0]["rels"]
