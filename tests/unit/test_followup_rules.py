"""The follow-up rules on plain records (graph/followups.py): which change is an event, and the item it names."""
from core.codes import Mechanism, PartnershipStatus
from core.followup import FollowUpReason, monitoring_line
from graph.followups import enterprise_events, household_events, item, observed_offer, partnership_events

DAY = "2024-06-30"
LINE = monitoring_line(2024)


def household(**values) -> dict:
    base = {"household_id": "H1", "monitoring_category": "", "risk_causes": [], "risk_removed": None,
            "monitoring_since": None, "income_per_capita": LINE + 1000, "observed_at": "2024-01-01",
            "observed_monitoring": "", "observed_risks": [], "observed_risk_removed": None,
            "observed_income": LINE + 1000}
    return {**base, **values}


def reasons(events: list[dict]) -> list[str]:
    return [event["reason"] for event in events]


def test_an_unchanged_household_raises_nothing():
    assert household_events(household(), DAY) == []


def test_a_first_sight_is_a_baseline_but_a_recent_monitoring_is_news():
    first = dict(observed_at=None, observed_income=None)
    assert household_events(household(**first, monitoring_category="02", monitoring_since="2023-01-01"), DAY) == []
    events = household_events(household(**first, monitoring_category="02", monitoring_since="2024-06-01"), DAY)
    assert reasons(events) == [FollowUpReason.BECAME_MONITORED.value] and events[0]["since"] == "2024-06-01"
    # A monitoring already marked 风险消除 is no news.
    assert household_events(household(**first, monitoring_category="02", monitoring_since="2024-06-01",
                                      risk_removed=True), DAY) == []


def test_becoming_monitored_and_changing_risk_are_events_with_stable_ids():
    became = household_events(household(monitoring_category="01", monitoring_since="2024-05-01"), DAY)
    assert became == [item("H1", FollowUpReason.BECAME_MONITORED, "2024-05-01", "2024-05-01", became[0]["detail"])]
    seen = dict(observed_monitoring="01", observed_risks=["01", "02"])
    assert household_events(household(monitoring_category="01", risk_causes=["02", "01"], **seen), DAY) == [], \
        "the same risks in another order are no change"
    changed = household_events(household(monitoring_category="01", risk_causes=["01"], **seen), DAY)
    assert reasons(changed) == [FollowUpReason.RISK_CHANGED.value]
    again = household_events(household(monitoring_category="01", risk_causes=["01"], **seen), "2024-07-15")
    assert again[0]["followup_id"] == changed[0]["followup_id"], "one state, one item, whenever seen"
    # Risk removed, then back: an event; removed alone is not.
    removed = dict(observed_monitoring="01", observed_risks=["01"], observed_risk_removed=True)
    assert reasons(household_events(household(monitoring_category="01", risk_causes=["01"], **removed), DAY)) == [
        FollowUpReason.RISK_CHANGED.value]
    assert household_events(household(monitoring_category="01", risk_causes=["01"], risk_removed=True,
                                      observed_monitoring="01", observed_risks=["01"]), DAY) == []


def test_income_falling_below_the_years_line_is_an_event_once_a_year():
    fell = household_events(household(income_per_capita=LINE - 1), DAY)
    assert reasons(fell) == [FollowUpReason.INCOME_BELOW_LINE.value] and fell[0]["subject"] == "2024"
    assert household_events(household(income_per_capita=LINE - 1, observed_income=LINE - 100), DAY) == [], \
        "already below: no new event"
    assert household_events(household(income_per_capita=None), DAY) == [], "an unknown income is not low"
    assert monitoring_line(2020) is None and monitoring_line(2030) == monitoring_line(2024)


def test_a_partnership_ends_only_from_in_force_and_comes_into_force_once():
    in_force, ended = PartnershipStatus.IN_FORCE.value, PartnershipStatus.TERMINATED.value
    record = {"partnership_id": "P1", "household_id": "H1", "enterprise_name": "甲公司", "end_date": None}
    events, confirmed = partnership_events({**record, "status": ended, "observed_status": in_force}, DAY)
    assert reasons(events) == [FollowUpReason.PARTNERSHIP_ENDED.value] and not confirmed
    assert events[0]["since"] == DAY and events[0]["subject"] == "P1"
    awaiting = PartnershipStatus.AWAITING_CONFIRMATION.value
    assert partnership_events({**record, "status": ended, "observed_status": awaiting}, DAY) == ([], False)
    assert partnership_events({**record, "status": ended, "observed_status": None}, DAY) == ([], False)
    assert partnership_events({**record, "status": in_force, "observed_status": awaiting}, DAY) == ([], True)
    assert partnership_events({**record, "status": in_force, "observed_status": None}, DAY) == ([], True)
    assert partnership_events({**record, "status": in_force, "observed_status": in_force}, DAY) == ([], False)


def test_an_enterprise_cut_puts_the_latest_partnerships_beyond_its_places_back_in_play():
    contract = Mechanism.CONTRACT_PURCHASE.value
    enterprise = {"credit_code": "E1", "name": "甲公司", "mechanisms": [contract], "contract_households": 3}
    before = observed_offer(enterprise)
    open_ones = [{"partnership_id": f"P{n}", "household_id": f"H{n}", "mechanism": contract,
                  "start_date": f"2024-0{n}-01"} for n in (1, 2, 3)]
    assert enterprise_events({**enterprise, "observed_places": None}, open_ones, DAY) == [], "first sight"
    assert enterprise_events({**enterprise, **before}, open_ones, DAY) == []
    cut = enterprise_events({**enterprise, "contract_households": 1, **before}, open_ones, DAY)
    assert [(event["household_id"], event["reason"]) for event in cut] == [
        ("H3", FollowUpReason.CAPACITY_CUT.value), ("H2", FollowUpReason.CAPACITY_CUT.value)]
    gone = enterprise_events({**enterprise, "mechanisms": [Mechanism.EMPLOYMENT.value], "jobs_offered": 5, **before},
                             open_ones, DAY)
    assert [event["reason"] for event in gone] == [FollowUpReason.ENTERPRISE_LEFT.value] * 3
    zero = enterprise_events({**enterprise, "contract_households": 0, **before}, open_ones, DAY)
    assert [event["reason"] for event in zero] == [FollowUpReason.ENTERPRISE_LEFT.value] * 3
    # Places raised: nothing.
    assert enterprise_events({**enterprise, "contract_households": 10, **before}, open_ones, DAY) == []
