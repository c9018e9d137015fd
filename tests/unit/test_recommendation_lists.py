"""The stored shape of a run's recommendations (graph/matching.py): household lists and enterprise shortlists."""
import pandas as pd
import pytest

from graph import matching
from graph.querybuilder import projected_properties

RUN = "run-20261130-abc123"


def _row(household, credit_code, rank, score, mechanism="01", assigned=False, reasons=("就近务工",)):
    return {"household_id": household, "county_code": "433123000000", "credit_code": credit_code,
            "mechanism": mechanism, "rank": rank, "score": score, "rule_score": score - 0.1, "distance_km": 2.5,
            "assigned": assigned, "reasons": list(reasons)}


ROWS = [
    _row("H2", "E1", 2, 0.5), _row("H1", "E2", 1, 0.9, "02", assigned=True), _row("H2", "E2", 1, 0.8),
    _row("H1", "E1", 2, 0.7, reasons=()), _row("H1", "E1", 7, 0.2, "03", assigned=True, reasons=("甲", "乙")),
]


def test_each_household_gets_one_list_of_its_entries_in_rank_order():
    lists, _ = matching.stored_shape(RUN, ROWS)
    assert [item["list_id"] for item in lists] == [f"{RUN}-H1", f"{RUN}-H2"]
    first = lists[0]
    assert first["ranks"] == [1, 2, 7] and first["credit_codes"] == ["E2", "E1", "E1"]
    assert first["mechanisms"] == ["02", "01", "03"] and first["assigned"] == [True, False, True]
    assert first["reasons"] == ["就近务工", "", "甲\n乙"], "a reason per line; none is an empty text"
    assert first["statuses"] == [matching.PROPOSED] * 3
    assert first["scores"] == [0.9, 0.7, 0.2] and first["rule_scores"] == pytest.approx([0.8, 0.6, 0.1])
    assert {type(value) for item in lists for value in item["ranks"]} == {int}, "plain values for the driver"


def test_each_enterprise_gets_one_shortlist_per_county_best_first():
    _, shortlists = matching.stored_shape(RUN, ROWS)
    assert [item["shortlist_id"] for item in shortlists] == [f"{RUN}-433123000000-E1", f"{RUN}-433123000000-E2"]
    e1 = shortlists[0]
    assert e1["household_ids"] == ["H1", "H2", "H1"] and e1["ranks"] == [2, 2, 7]
    assert e1["scores"] == [0.7, 0.5, 0.2] and e1["assigned"] == [False, False, True]
    assert sum(len(item["ranks"]) for item in shortlists) == len(ROWS), "every entry on one shortlist"


def test_a_data_frame_and_dicts_give_the_same_shape_and_extra_fields_are_ignored():
    extra = [{**row, "rec_id": "ignored", "status": "04"} for row in ROWS]
    assert matching.stored_shape(RUN, pd.DataFrame(ROWS)) == matching.stored_shape(RUN, extra)
    assert matching.stored_shape(RUN, []) == ([], [])


def test_a_recommendation_id_is_its_list_and_its_rank():
    assert matching.split_rec_id(f"{RUN}-4331230000000076-3") == (f"{RUN}-4331230000000076", 3)
    for wrong in ("", "R1", f"{RUN}-H1-", f"{RUN}-H1-x", f"{RUN}-H1-1234567", "-3"):
        assert matching.split_rec_id(wrong) is None, wrong


def test_a_list_entry_carries_exactly_a_recommendations_fields():
    names = set(projected_properties("Recommendation"))
    entry = matching.entry({"current": "true"})
    for name in names | {"current"}:
        assert f"{name}: " in entry


def test_compact_float32_figures_are_stored_as_the_rounded_decimals():
    import numpy as np

    from matching.candidates import Pairs
    from matching.pipeline import Scored, recommendation_rows
    from matching.rules import EligibilityRules
    from matching.scoring import BlendedScorer
    from tests.support.matching_cases import enterprise, household, inputs

    households, enterprises, rules = inputs([household("h", ordinary=2)], [enterprise("E", dx_km=3.43, jobs=5)])
    pairs = Pairs(np.array([0], np.int32), np.array([0], np.int32), np.array([0], np.int8),
                  np.array([3.43], np.float32))
    scored = Scored(households, enterprises, pairs, np.array([0.8312345], np.float32))
    rows = recommendation_rows(scored, np.array([True]), EligibilityRules(), BlendedScorer(), 5)
    lists, _ = matching.stored_shape(RUN, rows)
    assert lists[0]["distances_km"] == [3.43] and lists[0]["scores"] == [0.8312]


@pytest.mark.parametrize("shape", [matching.HOUSEHOLD_LISTS, matching.ENTERPRISE_SHORTLISTS], ids=lambda s: s.label)
def test_the_create_query_sets_exactly_the_declared_properties_from_parameters(shape):
    import re

    from graph.model import node_type

    query = shape.create_query()
    created = set(re.findall(r"[{,] (\w+): ", query.replace("{", "{ ", 1)))
    assert created == set(node_type(shape.label).names), "every declared property, nothing else"
    assert f"CREATE (:{shape.label} {{" in query and "'" not in query.replace("'-'", ""), "values only as parameters"
    for _, field in shape.entry_fields:
        assert f"${field}[first..after]" in query


def test_batches_hold_whole_nodes_and_their_entries_in_order(monkeypatch):
    nodes_in_default_batches = matching.stored_shape(RUN, ROWS)
    monkeypatch.setattr(matching, "LIST_ENTRIES_BATCH", 2)
    monkeypatch.setattr(matching, "SHORTLIST_ENTRIES_BATCH", 2)
    lists, shortlists = matching.stored_batches(ROWS)
    # H1 has three entries: a batch never splits a household's list, even when it is larger than the batch.
    assert [batch["household_id"] for batch in lists] == [["H1"], ["H2"]]
    assert lists[0]["starts"] == [0, 3] and lists[0]["rank"] == [1, 2, 7]
    assert [batch["credit_code"] for batch in shortlists] == [["E1"], ["E2"]]
    assert shortlists[0]["starts"] == [0, 3] and shortlists[1]["household_id"] == ["H1", "H2"]
    assert matching.stored_shape(RUN, ROWS) == nodes_in_default_batches, "the nodes do not depend on the batch size"
