"""services.privacy without a database: pseudonyms, the view each role gets, what each view shows, audit records."""
import hashlib
import hmac

from services.principal import Principal
from services.privacy import (FULL, MASKED, PARTNER, PSEUDONYMOUS, RequestFacts, audit_event, audit_events,
                              household_view, personal_ids, present_household, present_member, pseudonym)

KEY = "test-secret"
HOUSEHOLD = {
    "household_id": "4331231010010001", "county_code": "433123000000", "village_code": "433123101001",
    "village_name": "沱江村", "township_name": "沱江镇", "head_name": "王五", "head_name_masked": "王*",
    "phone": "13800000000", "phone_masked": "138****0000", "household_size": 4, "arable_mu": 3.5,
    "labour_ordinary": 2, "labour_skilled": 0, "labour_weak": 1, "members": 4, "main_cause": "01",
    "village_lon": 109.6, "village_lat": 27.9, "id_hash": "never shown",
}
MEMBER = {"member_id": "M1", "name": "王五", "name_masked": "王*", "relation": "户主", "sex": "男",
          "birth_year": 1970, "labour_skill": "01", "id_hash": "never shown"}
PERSONAL = {"household_id", "head_name", "phone"}


def principal(role, county=None, credit=None):
    return Principal("tok_1", f"test {role}", role, county, credit)


def test_pseudonym_is_the_keyed_hmac_as_before():
    expected = "H" + hmac.new(KEY.encode(), HOUSEHOLD["household_id"].encode(), hashlib.sha256).hexdigest()[:14]
    assert pseudonym(KEY, HOUSEHOLD["household_id"]) == expected
    assert len(expected) == 15 and pseudonym("another key", HOUSEHOLD["household_id"]) != expected


def test_each_role_gets_its_view():
    assert household_view(principal("bureau", county="433123000000")) == FULL
    assert household_view(principal("admin")) == FULL
    assert household_view(principal("enterprise", credit="X")) == MASKED
    assert household_view(principal("enterprise", credit="X"), confirmed_partner=True) == PARTNER
    assert household_view(principal("analyst")) == PSEUDONYMOUS


def test_full_view_identifies_the_household():
    shown = present_household(HOUSEHOLD, FULL, KEY)
    assert shown["household_id"] == HOUSEHOLD["household_id"] and shown["head_name"] == "王五"
    assert shown["phone"] == "13800000000" and shown["household_ref"] == pseudonym(KEY, HOUSEHOLD["household_id"])
    assert "id_hash" not in shown and "phone_masked" not in shown


def test_pseudonymous_and_masked_views_carry_no_identity():
    for view in (PSEUDONYMOUS, MASKED):
        shown = present_household(HOUSEHOLD, view, KEY)
        assert not PERSONAL & {key for key, value in shown.items() if value is not None}, view
        assert shown["household_ref"].startswith("H") and "id_hash" not in shown
    assert present_household(HOUSEHOLD, MASKED, KEY)["head_name_masked"] == "王*"
    assert "county_code" not in present_household(HOUSEHOLD, MASKED, KEY)
    assert "head_name_masked" not in present_household(HOUSEHOLD, PSEUDONYMOUS, KEY)


def test_partner_view_adds_name_and_phone_only():
    shown = present_household(HOUSEHOLD, PARTNER, KEY)
    assert shown["head_name"] == "王五" and shown["phone"] == "13800000000"
    assert shown["household_id"] == HOUSEHOLD["household_id"] and "village_lon" not in shown


def test_members_are_named_only_in_the_full_view():
    assert present_member(MEMBER, FULL)["name"] == "王五"
    assert "name" not in present_member(MEMBER, MASKED) and present_member(MEMBER, MASKED)["name_masked"] == "王*"
    pseudonymous = present_member(MEMBER, PSEUDONYMOUS)
    assert "name" not in pseudonymous and "name_masked" not in pseudonymous and "member_id" not in pseudonymous
    assert all("id_hash" not in present_member(MEMBER, view) for view in (FULL, PARTNER, MASKED, PSEUDONYMOUS))


def test_only_presented_rows_with_a_name_or_phone_are_audited():
    rows = [present_household(HOUSEHOLD, view, KEY) for view in (FULL, PARTNER, MASKED, PSEUDONYMOUS)]
    assert personal_ids(rows) == [HOUSEHOLD["household_id"]] * 2


def test_an_audit_record_carries_the_request_facts_passed_in():
    facts = RequestFacts(path="/api/v1/households", method="GET", request_id="req-1", client="10.0.0.1")
    event = audit_event(principal("bureau", county="433123000000"), "households.search", ["a", "b"], facts)
    assert (event["path"], event["method"], event["request_id"], event["client"]) == (
        "/api/v1/households", "GET", "req-1", "10.0.0.1")
    assert event["token_id"] == "tok_1" and event["role"] == "bureau" and event["action"] == "households.search"
    assert event["household_ids"] == ["a", "b"] and event["household_count"] == 2
    many = audit_events(principal("admin"), "export", [str(i) for i in range(1500)], RequestFacts())
    assert [event["household_ids"] for event in many] == [[str(i) for i in range(1000)],
                                                          [str(i) for i in range(1000, 1500)]], "every household"
    assert [(event["part"], event["parts"], event["household_count"]) for event in many] == [(1, 2, 1000),
                                                                                              (2, 2, 500)]
    assert many[0]["path"] is None
