"""Schema: every declared key is unique, applying it is idempotent, and isolation holds."""
import neo4j
import pytest

from graph.maintenance import clear_graph, count_nodes
from graph.model import NODES
from graph.schema import apply_schema, existing_schema, schema_statements


def test_every_node_key_has_a_uniqueness_constraint(graph_db):
    names = existing_schema(graph_db)["constraints"]
    for node in NODES.values():
        assert f"{node.label.lower()}_{node.key}_unique" in names


def test_applying_the_schema_twice_changes_nothing(graph_db):
    before = existing_schema(graph_db)
    assert apply_schema(graph_db) == len(schema_statements())
    assert existing_schema(graph_db) == before


@pytest.mark.parametrize("label", ["Household", "Enterprise", "Member", "Region"])
def test_duplicate_keys_are_refused(graph_db, label):
    key = NODES[label].key
    graph_db.execute_query(f"CREATE (:{label} {{{key}: 'dup'}})")
    with pytest.raises(neo4j.exceptions.ConstraintError):
        graph_db.execute_query(f"CREATE (:{label} {{{key}: 'dup'}})")


def test_clear_graph_leaves_an_empty_graph_and_the_schema(graph_db):
    graph_db.execute_query("UNWIND range(1, 25000) AS i CREATE (:Household {household_id: toString(i)})")
    assert count_nodes(graph_db) == 25000
    clear_graph(graph_db)
    assert count_nodes(graph_db) == 0
    assert existing_schema(graph_db)["constraints"]


def test_each_test_starts_with_an_empty_graph(graph_db):
    assert count_nodes(graph_db) == 0
