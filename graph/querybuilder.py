"""Cypher generated from the graph model (graph/model.py): schema, the ETL's writes, read projections.

Nothing here runs a query; every function returns text, so the generated Cypher is asserted
in unit tests without a database. Labels, keys, property names, relationship types and row
fields are written into the text only after passing an allow-listed shape (`identifier`);
values always travel as parameters.

ETL rows arrive as {key, props, row_hash, rels: {TYPE: [target keys]}}. An upsert MERGEs the
node on its key and, only when the row changed since the last load (row_hash), sets its
properties (a null property removes it) and makes its outgoing relationships of each declared
type exactly the listed ones. The create path is for keys known to be new: no MERGE and nothing
to delete, far fewer locks.
"""
import re
from collections.abc import Iterable, Mapping

from graph.model import NODES, NodeType

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def identifier(name: str) -> str:
    """A label, property, relationship type or variable safe to write into Cypher (allow-listed shape)."""
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"unsafe identifier: {name!r}")
    return name


def _node(node: NodeType | str, model: Mapping[str, NodeType]) -> NodeType:
    """The node type itself, or the one declared under that label in the model."""
    if isinstance(node, NodeType):
        return node
    try:
        return model[node]
    except KeyError:
        raise ValueError(f"unknown node label: {node!r}") from None


# --- schema ---------------------------------------------------------------------------------

def constraint_name(node: NodeType) -> str:
    """The name of a node's uniqueness constraint on its key."""
    return f"{identifier(node.label).lower()}_{identifier(node.key)}_unique"


def index_name(node: NodeType, prop: str) -> str:
    """The name of the index on one property."""
    return f"{identifier(node.label).lower()}_{identifier(prop)}"


def composite_index_name(node: NodeType, props: tuple[str, ...]) -> str:
    """The name of a composite index."""
    return f"{identifier(node.label).lower()}_" + "_".join(identifier(prop) for prop in props)


def fulltext_index_name(node: NodeType, props: tuple[str, ...]) -> str:
    """The name of a full-text index."""
    return f"{identifier(node.label).lower()}_" + "_".join(identifier(prop) for prop in props) + "_fulltext"


FULLTEXT_ANALYZER = "cjk"  # Lucene's CJK analyser: ideographs indexed in overlapping pairs, Latin words whole


def schema_statements_for(node: NodeType) -> list[str]:
    """The node's uniqueness constraint on its key, an index per indexed property and its composite indexes."""
    label, key = identifier(node.label), identifier(node.key)
    statements = [f"CREATE CONSTRAINT {constraint_name(node)} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"]
    statements += [f"CREATE INDEX {index_name(node, prop)} IF NOT EXISTS FOR (n:{label}) ON (n.{identifier(prop)})"
                   for prop in node.indexed]
    for props in node.composite_indexes:
        for prop in props:
            node.prop(prop)  # a declared property, or ValueError
        columns = ", ".join(f"n.{identifier(prop)}" for prop in props)
        statements.append(f"CREATE INDEX {composite_index_name(node, props)} IF NOT EXISTS FOR (n:{label}) ON ({columns})")
    for props in node.fulltext_indexes:
        for prop in props:
            node.prop(prop)
        columns = ", ".join(f"n.{identifier(prop)}" for prop in props)
        statements.append(f"CREATE FULLTEXT INDEX {fulltext_index_name(node, props)} IF NOT EXISTS FOR (n:{label}) "
                          f"ON EACH [{columns}] OPTIONS {{indexConfig: {{`fulltext.analyzer`: '{FULLTEXT_ANALYZER}'}}}}")
    return statements


def declared_index_names(nodes: Iterable[NodeType] | None = None) -> set[str]:
    """Names of the indexes the model declares (single-property and composite; not the constraints')."""
    return {name for node in (NODES.values() if nodes is None else nodes)
            for name in [index_name(node, prop) for prop in node.indexed]
            + [composite_index_name(node, props) for props in node.composite_indexes]}


def schema_statements(nodes: Iterable[NodeType] | None = None) -> list[str]:
    """Every constraint and index statement of the model (or of the nodes given), in declaration order."""
    return [statement for node in (NODES.values() if nodes is None else nodes)
            for statement in schema_statements_for(node)]


# --- the ETL's writes -------------------------------------------------------------------------

def _write_head(node: NodeType, verb: str) -> list[str]:
    return ["UNWIND $rows AS row", f"{verb} (n:{identifier(node.label)} {{{identifier(node.key)}: row.key}})"]


def upsert_query(node: NodeType | str, model: Mapping[str, NodeType] = NODES) -> str:
    """UNWIND-batched upsert of a node's rows with its ETL-drawn relationships (skipped when row_hash is unchanged;
    a row without one, e.g. with a warning, is always written)."""
    node = _node(node, model)
    parts = _write_head(node, "MERGE") + [
        "WITH n, row WHERE n.row_hash IS NULL OR row.row_hash IS NULL OR n.row_hash <> row.row_hash",
        "SET n += row.props, n.row_hash = row.row_hash",
        "WITH n, row",
    ]
    for rel in node.loaded_relationships:
        rel_type, target = identifier(rel.type), _node(rel.target, model)
        target_label, target_key = identifier(target.label), identifier(target.key)
        parts += [
            f"CALL (n, row) {{ MATCH (n)-[old:{rel_type}]->(o:{target_label}) "
            f"WHERE NOT o.{target_key} IN row.rels.{rel_type} DELETE old }}",
            f"CALL (n, row) {{ UNWIND row.rels.{rel_type} AS target_key "
            f"MATCH (t:{target_label} {{{target_key}: target_key}}) MERGE (n)-[:{rel_type}]->(t) }}",
        ]
    parts.append("RETURN count(*) AS written")
    return "\n".join(parts)


def create_query(node: NodeType | str, model: Mapping[str, NodeType] = NODES) -> str:
    """UNWIND-batched creation of rows whose keys are known to be new, with their ETL-drawn relationships."""
    node = _node(node, model)
    parts = _write_head(node, "CREATE") + ["SET n += row.props, n.row_hash = row.row_hash", "WITH n, row"]
    for rel in node.loaded_relationships:
        rel_type, target = identifier(rel.type), _node(rel.target, model)
        target_label, target_key = identifier(target.label), identifier(target.key)
        parts.append(
            f"CALL (n, row) {{ UNWIND row.rels.{rel_type} AS target_key "
            f"MATCH (t:{target_label} {{{target_key}: target_key}}) CREATE (n)-[:{rel_type}]->(t) }}"
        )
    parts.append("RETURN count(*) AS written")
    return "\n".join(parts)


def keyed_match(node: NodeType | str, returns: str, model: Mapping[str, NodeType] = NODES) -> str:
    """`UNWIND $keys AS k MATCH (n:Label {key: k})` followed by the given (fixed) RETURN part."""
    node = _node(node, model)
    return f"UNWIND $keys AS k MATCH (n:{identifier(node.label)} {{{identifier(node.key)}: k}}) {returns}"


# --- read projections -----------------------------------------------------------------------

def projected_properties(node: NodeType | str, personal: bool = True, exclude: Iterable[str] = (),
                         model: Mapping[str, NodeType] = NODES) -> tuple[str, ...]:
    """The properties a projection of the node carries: shown ones (never secret nor internal)."""
    node = _node(node, model)
    excluded = set(exclude)
    return tuple(name for name in node.shown(personal) if name not in excluded)


def projection(node: NodeType | str, variable: str, extra: Mapping[str, str] | None = None, *,
               personal: bool = True, exclude: Iterable[str] = (), model: Mapping[str, NodeType] = NODES) -> str:
    """A map projection such as `e {.credit_code, .name, …, extra_key: expression}`.

    The properties come from the declaration (secret and internal ones never appear; personal ones
    only when `personal`); `extra` adds computed entries, whose expressions are fixed Cypher text.
    """
    names = projected_properties(node, personal, exclude, model)
    repeated = set(names) & set(extra or {})
    if repeated:
        raise ValueError(f"extra entries repeat projected properties: {sorted(repeated)}")
    entries = [f".{identifier(name)}" for name in names]
    entries += [f"{identifier(key)}: {expression}" for key, expression in (extra or {}).items()]
    return f"{identifier(variable)} {{{', '.join(entries)}}}"


def open_projection(node: NodeType | str, variable: str, extra: Mapping[str, str] | None = None,
                    model: Mapping[str, NodeType] = NODES) -> str:
    """Every stored property (`.*`) with the node's secret ones blanked, plus `extra` computed entries.

    For state nodes whose properties the application sets as a whole (jobs, runs, tokens, audit events).
    """
    node = _node(node, model)
    entries = [".*"] + [f"{identifier(name)}: null" for name in node.secret]
    entries += [f"{identifier(key)}: {expression}" for key, expression in (extra or {}).items()]
    return f"{identifier(variable)} {{{', '.join(entries)}}}"
