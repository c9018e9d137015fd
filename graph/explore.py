"""Read-only Cypher for analysts' notebooks: what the graph holds, and one village's neighbourhood.

Labels and relationship types come from the graph model (graph/model.py); the village view projects
only what the model declares neither personal nor secret.
"""
import neo4j

from graph.model import NODES, RELATIONSHIPS
from graph.querybuilder import identifier, projection

READ = neo4j.RoutingControl.READ


def label_counts(driver: neo4j.Driver, database: str | None = None) -> dict[str, int]:
    """Node count per label of the model (from the count store, so cheap at any size)."""
    counts = {}
    for label in NODES:  # labels come from the model's allow-list
        records, _, _ = driver.execute_query(f"MATCH (n:{identifier(label)}) RETURN count(n) AS n", database_=database,
                                             routing_=READ)
        counts[label] = records[0]["n"]
    return counts


def relationship_counts(driver: neo4j.Driver, database: str | None = None) -> dict[str, int]:
    """Relationship count per type of the model."""
    counts = {}
    for rel_type in RELATIONSHIPS:
        records, _, _ = driver.execute_query(f"MATCH ()-[r:{identifier(rel_type)}]->() RETURN count(r) AS n",
                                             database_=database, routing_=READ)
        counts[rel_type] = records[0]["n"]
    return counts


def busiest_villages(driver: neo4j.Driver, county_code: str, limit: int = 5, database: str | None = None) -> list[dict]:
    """Villages of a county with the most households, with their partnership counts."""
    records, _, _ = driver.execute_query(
        """
        MATCH (h:Household {county_code: $county})-[:LIVES_IN]->(v:Region)
        WITH v, count(h) AS households,
             count { (v)<-[:LIVES_IN]-(:Household)<-[:OF_HOUSEHOLD]-(:Partnership) } AS partnerships
        RETURN v.code AS code, v.name AS name, households, partnerships
        ORDER BY households DESC, code LIMIT $limit
        """,
        county=county_code, limit=limit, database_=database, routing_=READ,
    )
    return [record.data() for record in records]


# What an analyst's village view shows of each node: the model's shown properties, minus personal ones.
_VILLAGE = projection("Region", "v", personal=False)
_HOUSEHOLD = projection("Household", "h", personal=False)
_MEMBER = projection("Member", "m", {"node_id": "elementId(m)"}, personal=False)
_PARTNERSHIP = projection("Partnership", "p", personal=False)
_ENTERPRISE = projection("Enterprise", "e", personal=False)
_PROJECT = projection("Project", "project", personal=False)


def village_subgraph(driver: neo4j.Driver, village_code: str, database: str | None = None) -> dict:
    """One village's households, members, partnerships, enterprises and projects, as node and edge lists.

    Neither personal nor secret properties are returned (a member, keyed by a secret hash, is told apart
    by `node_id`, the database's own element id).
    """
    records, _, _ = driver.execute_query(
        f"""
        MATCH (v:Region {{code: $code}})
        OPTIONAL MATCH (h:Household)-[:LIVES_IN]->(v)
        OPTIONAL MATCH (m:Member)-[:MEMBER_OF]->(h)
        OPTIONAL MATCH (p:Partnership)-[:OF_HOUSEHOLD]->(h)
        OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise)
        OPTIONAL MATCH (p)-[:UNDER_PROJECT]->(project:Project)
        RETURN {_VILLAGE} AS village,
               collect(DISTINCT {_HOUSEHOLD}) AS households,
               collect(DISTINCT {_MEMBER}) AS members,
               collect(DISTINCT {_PARTNERSHIP}) AS partnerships,
               collect(DISTINCT {_ENTERPRISE}) AS enterprises,
               collect(DISTINCT {_PROJECT}) AS projects
        """,
        code=village_code, database_=database, routing_=READ,
    )
    return records[0].data() if records else {}
