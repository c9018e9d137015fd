"""Cypher for the ETL, generated from the graph model (graph/model.py).

Rows arrive as {key, props, row_hash, rels: {TYPE: [target keys]}}. An upsert MERGEs
the node on its key and, only when the row changed since the last load (row_hash),
sets its properties (a null property removes it) and makes its outgoing relationships
of each declared type exactly the listed ones. Each batch is one transaction, so a
load stopped at any point and run again converges to the same graph.
"""
import re
from dataclasses import dataclass

import neo4j

from graph.model import node_type, relationship_type

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class RelationshipSpec:
    """Outgoing relationships of one type from the loaded node to nodes of a target label."""

    type: str
    target: str


def _identifier(name: str) -> str:
    """A property name safe to write into Cypher (allow-listed shape)."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"unsafe identifier: {name!r}")
    return name


def upsert_query(label: str, relationships: tuple[RelationshipSpec, ...] = ()) -> str:
    """UNWIND-batched upsert of nodes of `label` with their declared outgoing relationships."""
    node = node_type(label)
    parts = [
        "UNWIND $rows AS row",
        f"MERGE (n:{label} {{{node.key}: row.key}})",
        "WITH n, row WHERE n.row_hash IS NULL OR n.row_hash <> row.row_hash",
        "SET n += row.props, n.row_hash = row.row_hash",
        "WITH n, row",
    ]
    for spec in relationships:
        relationship_type(spec.type, label, spec.target)
        target_key = node_type(spec.target).key
        parts += [
            f"CALL (n, row) {{ MATCH (n)-[old:{spec.type}]->(o:{spec.target}) "
            f"WHERE NOT o.{target_key} IN row.rels.{spec.type} DELETE old }}",
            f"CALL (n, row) {{ UNWIND row.rels.{spec.type} AS target_key "
            f"MATCH (t:{spec.target} {{{target_key}: target_key}}) MERGE (n)-[:{spec.type}]->(t) }}",
        ]
    parts.append("RETURN count(*) AS written")
    return "\n".join(parts)


def create_query(label: str, relationships: tuple[RelationshipSpec, ...] = ()) -> str:
    """UNWIND-batched creation of nodes known to be new (no MERGE, nothing to delete: far fewer locks)."""
    node = node_type(label)
    parts = [
        "UNWIND $rows AS row",
        f"CREATE (n:{label} {{{node.key}: row.key}})",
        "SET n += row.props, n.row_hash = row.row_hash",
        "WITH n, row",
    ]
    for spec in relationships:
        relationship_type(spec.type, label, spec.target)
        target_key = node_type(spec.target).key
        parts.append(
            f"CALL (n, row) {{ UNWIND row.rels.{spec.type} AS target_key "
            f"MATCH (t:{spec.target} {{{target_key}: target_key}}) CREATE (n)-[:{spec.type}]->(t) }}"
        )
    parts.append("RETURN count(*) AS written")
    return "\n".join(parts)


def upsert_batch(driver: neo4j.Driver, query: str, rows: list[dict], database: str | None = None) -> None:
    """Write one batch in one managed transaction (retried on transient errors)."""
    with driver.session(database=database) as session:
        session.execute_write(lambda tx: tx.run(query, rows=rows).consume())


def create_missing_regions(driver: neo4j.Driver, rows: list[dict], database: str | None = None) -> None:
    """Create township / village regions met in data files, only where none exists yet.

    A region already loaded (e.g. from a villages file with real coordinates) is left as it is.
    """
    query = (
        "UNWIND $rows AS row "
        "MERGE (r:Region {code: row.code}) "
        "ON CREATE SET r += row.props "
        "WITH r, row MATCH (p:Region {code: row.parent_code}) MERGE (r)-[:PART_OF]->(p)"
    )
    with driver.session(database=database) as session:
        session.execute_write(lambda tx: tx.run(query, rows=rows).consume())


def existing_keys(driver: neo4j.Driver, label: str, keys: list[str], database: str | None = None) -> set[str]:
    """The subset of keys for which a node of `label` exists."""
    key = node_type(label).key
    found: set[str] = set()
    for start in range(0, len(keys), 50_000):
        records, _, _ = driver.execute_query(
            f"UNWIND $keys AS k MATCH (n:{label} {{{key}: k}}) RETURN n.{key} AS k",
            keys=keys[start:start + 50_000], database_=database, routing_=neo4j.RoutingControl.READ,
        )
        found.update(record["k"] for record in records)
    return found


def stored_row_hashes(driver: neo4j.Driver, label: str, keys: list[str], database: str | None = None) -> dict[str, str | None]:
    """key → row_hash (None if unset) of the nodes among keys that exist (to send only rows that changed)."""
    key = node_type(label).key
    hashes: dict[str, str] = {}
    for start in range(0, len(keys), 50_000):
        records, _, _ = driver.execute_query(
            f"UNWIND $keys AS k MATCH (n:{label} {{{key}: k}}) RETURN k, n.row_hash AS h",
            keys=keys[start:start + 50_000], database_=database, routing_=neo4j.RoutingControl.READ,
        )
        hashes.update((record["k"], record["h"]) for record in records)
    return hashes


# How the county of an existing node is found: its own county_code, or that of its household
# (by relationship and by the household_id it stores, so a node that lost its link still has a county).
_COUNTY_OF = {
    "Region": "RETURN k, [n.county_code] AS counties",
    "Household": "RETURN k, [n.county_code] AS counties",
    "Enterprise": "RETURN k, [n.county_code] AS counties",
    "Project": "RETURN k, [n.county_code] AS counties",
    "Member": ("OPTIONAL MATCH (n)-[:MEMBER_OF]->(linked:Household) "
               "OPTIONAL MATCH (named:Household {household_id: n.household_id}) "
               "RETURN k, collect(linked.county_code) + collect(named.county_code) AS counties"),
    "Partnership": ("OPTIONAL MATCH (n)-[:OF_HOUSEHOLD]->(linked:Household) "
                    "OPTIONAL MATCH (named:Household {household_id: n.household_id}) "
                    "RETURN k, collect(linked.county_code) + collect(named.county_code) AS counties"),
}


def stored_counties(driver: neo4j.Driver, label: str, keys: list[str], database: str | None = None) -> dict[str, set[str]]:
    """key → the county codes an existing node of `label` belongs to (empty set when none is recorded).

    Keys without a node are absent. Members and partnerships belong to their household's county.
    """
    if label not in _COUNTY_OF:
        raise ValueError(f"no county rule for label {label!r}")
    key = node_type(label).key
    counties: dict[str, set[str]] = {}
    for start in range(0, len(keys), 50_000):
        records, _, _ = driver.execute_query(
            f"UNWIND $keys AS k MATCH (n:{label} {{{key}: k}}) {_COUNTY_OF[label]}",
            keys=keys[start:start + 50_000], database_=database, routing_=neo4j.RoutingControl.READ,
        )
        counties.update((record["k"], {code for code in record["counties"] if code is not None}) for record in records)
    return counties


def region_positions(driver: neo4j.Driver, codes: list[str], database: str | None = None) -> dict[str, tuple]:
    """(lon, lat) of the given regions where known."""
    records, _, _ = driver.execute_query(
        "UNWIND $codes AS c MATCH (r:Region {code: c}) WHERE r.lon IS NOT NULL RETURN r.code AS code, r.lon AS lon, r.lat AS lat",
        codes=codes, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return {record["code"]: (record["lon"], record["lat"]) for record in records}


def active_household_ids(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> set[str]:
    """Ids of the active households of the given counties."""
    records, _, _ = driver.execute_query(
        "MATCH (h:Household) WHERE h.county_code IN $counties AND h.active RETURN h.household_id AS id",
        counties=county_codes, database_=database, routing_=neo4j.RoutingControl.READ,
    )
    return {record["id"] for record in records}


def deactivate_households(driver: neo4j.Driver, ids: list[str], as_of: str, database: str | None = None) -> None:
    """Mark households inactive (never deleted); clearing row_hash makes a returning row rewrite them."""
    query = (
        "UNWIND $ids AS id MATCH (h:Household {household_id: id}) "
        "SET h.active = false, h.inactive_since = $as_of, h.row_hash = null"
    )
    for start in range(0, len(ids), 10_000):
        upsert_batch_ids = ids[start:start + 10_000]
        with driver.session(database=database) as session:
            session.execute_write(lambda tx: tx.run(query, ids=upsert_batch_ids, as_of=as_of).consume())


def record_load_run(driver: neo4j.Driver, load_id: str, props: dict, database: str | None = None) -> None:
    """Create or update the LoadRun node describing one file's load."""
    driver.execute_query(
        "MERGE (l:LoadRun {load_id: $load_id}) SET l += $props",
        load_id=load_id, props=props, database_=database,
    )
