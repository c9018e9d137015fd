"""Keyset cursors of the household search: what they carry, and that forged ones are refused."""
import base64
import json

import pytest

from services import households
from services.errors import Invalid
from services.privacy import FULL, PSEUDONYMOUS


def _decoded(cursor: str):
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def test_a_full_page_names_its_last_row_and_a_short_page_ends_the_walk():
    rows = [{"household_id": f"43312300000000{i:02d}", "_sort_value": 1000.0 + i} for i in range(3)]
    cursor = households._next_cursor(rows, 3, "income_per_capita", FULL, 0)
    assert _decoded(cursor) == ["income_per_capita", 1002.0, "4331230000000002"]
    assert households._decode(cursor, "income_per_capita") == ((1002.0, "4331230000000002"), 0)
    assert households._next_cursor(rows, 4, "income_per_capita", FULL, 0) is None


def test_a_pseudonymous_view_gets_an_offset_that_names_no_household():
    rows = [{"household_id": "4331230000000001", "_sort_value": "4331230000000001"}]
    cursor = households._next_cursor(rows, 1, "household_id", PSEUDONYMOUS, 40)
    assert _decoded(cursor) == ["offset", 41]
    assert "4331230000000001" not in base64.urlsafe_b64decode(cursor + "==").decode()
    assert households._decode(cursor, "household_id") == (None, 41)


@pytest.mark.parametrize("value", [
    ["household_id", None, 5], ["household_id", {"a": 1}, "1"], ["household_id", True, "1"],
    ["income_per_capita", 1, "1"], ["offset", "3"], ["offset", -1], ["household_id", None, ""],
    ["household_id", None, "9" * 65], "text", {"after": 1},
])
def test_forged_cursors_are_refused(value):
    cursor = base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")
    with pytest.raises(Invalid) as refused:
        households._decode(cursor, "household_id")
    assert refused.value.code == "invalid_cursor"


@pytest.mark.parametrize("cursor", ["!!!", "QQ", "x" * 201])
def test_undecodable_cursors_are_refused(cursor):
    with pytest.raises(Invalid):
        households._decode(cursor, "household_id")
