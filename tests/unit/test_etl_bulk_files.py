"""The files and arguments the bulk path gives neo4j-admin database import (no Neo4j needed)."""
import csv

import pandas as pd

from etl.bulk import ARRAY_DELIMITER, EMPTY_LIST, ImportFiles


def _rows(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_a_chunk_becomes_a_node_file_with_typed_header_and_a_file_per_relationship_type(tmp_path):
    files = ImportFiles(tmp_path / "import")
    keys = pd.Series(["4331230000000001", "4331230000000002"])
    props = pd.DataFrame({
        "household_id": keys,
        "household_size": pd.array([3, None], dtype="Int64"),
        "income_per_capita": [3200.5, float("nan")],
        "active": [True, False],
        "products": [["猕猴桃", "黄金茶"], []],
        "head_name_masked": pd.array(["张*丰", None], dtype="string"),
        "nothing_here": pd.array([None, None], dtype="string"),
    })
    rels = {"LIVES_IN": pd.Series([["433123101201"], ["433123101202"]]), "PRODUCES": pd.Series([["kiwi", "tea"], []])}
    files.add_nodes("Household", keys, props, rels)
    [(label, node_file)] = files.nodes
    header, first, second = _rows(node_file)
    assert label == "Household"
    assert header == ["household_id:ID(Household)", "household_size:long", "income_per_capita:double",
                      "active:boolean", "products:string[]", "head_name_masked:string"], \
        "the key is the ID column; a column without a value in the chunk is left out"
    assert first == ["4331230000000001", "3", "3200.5", "true", f"猕猴桃{ARRAY_DELIMITER}黄金茶", "张*丰"]
    assert second == ["4331230000000002", "", "", "false", EMPTY_LIST, ""], "missing → no property; [] → marker"
    assert files.empty_lists == {("Household", "products")}
    assert {rel_type for rel_type, _ in files.relationships} == {"LIVES_IN", "PRODUCES"}
    industries = dict(files.relationships)["PRODUCES"]
    assert _rows(industries) == [[":START_ID(Household)", ":END_ID(Industry)"],
                                 ["4331230000000001", "kiwi"], ["4331230000000001", "tea"]]
    assert not files.multiline


def test_the_arguments_overwrite_the_store_and_parse_fields_across_lines_only_when_needed(tmp_path):
    files = ImportFiles(tmp_path / "import")
    keys = pd.Series(["91433123MA4L000012"])
    files.add_nodes("Enterprise", keys, pd.DataFrame({"credit_code": keys, "name": ["第一\n合作社"]}),
                    {"LOCATED_IN": pd.Series([["433123101000"]]), "IN_INDUSTRY": pd.Series([[]]),
                     "BUYS": pd.Series([[]])})
    arguments = files.arguments("neo4j")
    assert arguments[:5] == ["database", "import", "full", "neo4j", "--overwrite-destination=true"]
    assert "--multiline-fields=true" in arguments and "--skip-bad-relationships=false" in arguments
    assert f"--nodes=Enterprise={files.nodes[0][1]}" in arguments
    assert f"--relationships=LOCATED_IN={files.relationships[0][1]}" in arguments
    assert any(argument.startswith("--report-file=") and str(tmp_path) in argument for argument in arguments)


def test_only_declared_list_properties_are_cleared_of_the_empty_list_marker():
    import pytest

    from graph import loading

    with pytest.raises(ValueError, match="head_name"):
        loading.clear_list_markers(None, "Household", ["products", "head_name"], EMPTY_LIST)
    with pytest.raises(ValueError):
        loading.clear_list_markers(None, "Household", [], EMPTY_LIST)
