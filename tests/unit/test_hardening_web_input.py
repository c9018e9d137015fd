"""What the web forms send reaches the services without the API's schemas: the services refuse the same
control characters and impossible dates themselves, so neither path can store them."""
import pytest

from services import ledger, recommendations
from services.errors import Invalid
from services.principal import Principal

BUREAU = Principal("tok_test", "凤凰县商务局", "bureau", county_code="433123000000")


@pytest.mark.parametrize("reason", ["土地不连片\x07", "\x00", "原因\x1b[31m"])
def test_a_decline_reason_with_control_characters_is_refused_before_anything_is_read(reason):
    with pytest.raises(Invalid) as refused:
        recommendations.decline(None, BUREAU, "rec-1", reason)  # no graph: refused before any read
    assert refused.value.code == "invalid_text"


@pytest.mark.parametrize("changes, code", [
    ({"note": "=HYPERLINK(\"http://evil\")\x07"}, "invalid_text"),
    ({"end_date": "2024-13-45"}, "invalid_date"),
    ({"end_date": "2023-02-29"}, "invalid_date"),
    ({"end_date": "31/12/2024"}, "invalid_date"),
])
def test_ledger_changes_with_control_characters_or_impossible_dates_are_refused(changes, code):
    with pytest.raises(Invalid) as refused:
        ledger.check_changes(changes)
    assert refused.value.code == code


def test_ordinary_ledger_changes_pass():
    checked = ledger.check_changes({"note": "第一年分红已到账\n第二行", "end_date": "2024-02-29", "income_gain": 1200})
    assert checked["end_date"] == "2024-02-29"
