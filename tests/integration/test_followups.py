"""Follow-up items: each event raises exactly one item, whatever writes it and however often it is seen; a
partnership in force or staff close them; the next run plans their households first and marks them planned.

Loaded through the ETL from bureau files (a baseline, then newer extracts), edited through graph.ledger, run
by the MatchRunner against the real Neo4j.
"""
import pytest

from core.clock import days_after, today_iso
from core.codes import Mechanism, PartnershipStatus
from core.followup import FollowUpReason, FollowUpStatus, monitoring_line
from etl.load import load_files
from graph import followups, ledger
from matching.run import MatchParams, MatchRunner
from tests.support import bureau_files as bf

TODAY = today_iso()
ENTERPRISE = bf.credit_code("91433123MA4L00051")
OTHER_ENTERPRISE = bf.credit_code("91433123MA4L00052")
MONITORING_HEADER = ["监测对象类别", "风险类型", "纳入监测时间", "是否风险消除"]
LEDGER_HEADER = bf.PARTNERSHIP_HEADER + ["结束日期"]
LINE = monitoring_line(int(TODAY[:4]))


def _households(tmp_path, name: str, changes: dict[int, dict] | None = None, count: int = 6):
    """Households 1..count (income above the monitoring line, none monitored), with per-household changes:
    income, monitoring (category, risks, since, removed)."""
    rows = []
    for number in range(1, count + 1):
        row = bf.household_row(number)
        change = (changes or {}).get(number, {})
        row[bf.HOUSEHOLD_HEADER.index("人均纯收入（元）")] = change.get("income", LINE + 2000)
        rows.append(row + list(change.get("monitoring", ("", "", "", ""))))
    return bf.write_table(tmp_path / f"{name}.csv", bf.HOUSEHOLD_HEADER + MONITORING_HEADER, rows)


def _members(tmp_path, count: int = 6):
    return bf.write_table(tmp_path / "members.csv", bf.MEMBER_HEADER,
                          [bf.member_row(number, 1) for number in range(1, count + 1)])


def _enterprises(tmp_path, name: str, contract: int = 30, mechanisms: str = "就业务工、订单收购",
                 other_places: bool = True):
    rows = [bf.enterprise_row(51, code=ENTERPRISE), bf.enterprise_row(52, code=OTHER_ENTERPRISE)]
    rows[0][bf.ENTERPRISE_HEADER.index("订单收购带动户数")] = contract
    rows[0][bf.ENTERPRISE_HEADER.index("联结方式")] = mechanisms
    if not other_places:
        for column in ("用工需求（人）", "订单收购带动户数"):
            rows[1][bf.ENTERPRISE_HEADER.index(column)] = 0
    return bf.write_table(tmp_path / f"{name}.csv", bf.ENTERPRISE_HEADER, rows)


def _ledger(tmp_path, name: str, statuses: dict[int, str] | None = None, ends: dict[int, str] | None = None):
    """Partnerships P1..P3 of households 1..3 with ENTERPRISE (contract purchase), started a month apart."""
    rows = [bf.partnership_row(f"P{number}", number, ENTERPRISE, start=f"2024-0{number}-01",
                               status=(statuses or {}).get(number, "履约中")) + [(ends or {}).get(number, "")]
            for number in (1, 2, 3)]
    return bf.write_table(tmp_path / f"{name}.csv", LEDGER_HEADER, rows)


def _load(driver, settings, tmp_path, *paths):
    result = load_files(list(paths), driver, settings, progress=False, report_path=tmp_path / "report.csv")
    assert all(file.rows_rejected == 0 and not file.error for file in result.files), result.files
    return result


def _items(driver, household: int | None = None) -> list[dict]:
    records, _, _ = driver.execute_query(
        "MATCH (f:FollowUp) WHERE $id IS NULL OR f.household_id = $id "
        "OPTIONAL MATCH (f)-[:FOLLOWS_UP]->(h:Household) "
        "RETURN f {.*, linked: h.household_id, open_count: h.open_followups} AS item ORDER BY item.followup_id",
        id=None if household is None else bf.household_id(household))
    return [record["item"] for record in records]


@pytest.fixture
def baseline(graph_db, test_settings, tmp_path):
    """Six households (1–3 partnered with ENTERPRISE in force), two enterprises: loaded, nothing raised."""
    _load(graph_db, test_settings, tmp_path, _households(tmp_path, "households"), _members(tmp_path),
          _enterprises(tmp_path, "enterprises"), _ledger(tmp_path, "ledger"))
    assert _items(graph_db) == []  # a first load is the baseline
    return graph_db


def test_a_partnership_ended_in_a_newer_extract_raises_one_item(baseline, test_settings, tmp_path):
    newer = _ledger(tmp_path, "ledger-2", statuses={2: "已终止"})
    _load(baseline, test_settings, tmp_path, newer)
    _load(baseline, test_settings, tmp_path, _ledger(tmp_path, "ledger-3", statuses={2: "已终止"}, ends={1: "2099-01-01"}))
    items = _items(baseline)
    assert [(item["household_id"], item["reason"], item["subject"], item["status"]) for item in items] == [
        (bf.household_id(2), FollowUpReason.PARTNERSHIP_ENDED.value, "P2", FollowUpStatus.OPEN.value)]
    item = items[0]
    assert item["linked"] == bf.household_id(2) and item["open_count"] == 1
    assert item["county_code"] == bf.COUNTY and item["since"] == TODAY
    # Due by need tier: household 2 (因病, with labour) is of high need: 30 days.
    assert item["need_tier"] == 1 and item["due_date"] == days_after(TODAY, 30)


def test_a_ledger_edit_ending_a_partnership_raises_one_item_and_a_new_one_in_force_closes_it(baseline):
    assert ledger.update_partnership(baseline, "P1", {"status": PartnershipStatus.TERMINATED.value,
                                                      "end_date": "2024-11-30"}, "bureau:x", TODAY)
    assert ledger.update_partnership(baseline, "P1", {"note": "已回访"}, "bureau:x", TODAY)  # no second event
    items = _items(baseline, 1)
    assert [(item["reason"], item["since"], item["status"]) for item in items] == [
        (FollowUpReason.PARTNERSHIP_ENDED.value, "2024-11-30", FollowUpStatus.OPEN.value)]
    # Put back in force (a mistake corrected): the household has a partnership in force, the item closes.
    assert ledger.update_partnership(baseline, "P1", {"status": PartnershipStatus.IN_FORCE.value}, "bureau:x", TODAY)
    items = _items(baseline, 1)
    assert [(item["status"], item["closed_by"], item["partnership_id"], item["open_count"]) for item in items] == [
        (FollowUpStatus.CLOSED.value, "partnership", "P1", 0)]


def test_a_capacity_cut_raises_items_for_the_latest_partnerships_beyond_the_places(baseline, test_settings, tmp_path):
    _load(baseline, test_settings, tmp_path, _enterprises(tmp_path, "enterprises-2", contract=1))
    _load(baseline, test_settings, tmp_path, _enterprises(tmp_path, "enterprises-3", contract=1))  # seen again
    items = _items(baseline)
    # Three in force, one place left: the two started last (P3, P2) are beyond it.
    assert [(item["household_id"], item["reason"]) for item in items] == [
        (bf.household_id(2), FollowUpReason.CAPACITY_CUT.value), (bf.household_id(3), FollowUpReason.CAPACITY_CUT.value)]
    assert items[0]["subject"] == f"{ENTERPRISE}:{Mechanism.CONTRACT_PURCHASE.value}:P2"


def test_an_enterprise_that_stops_a_mechanism_puts_every_household_of_it_back_in_play(baseline, test_settings, tmp_path):
    _load(baseline, test_settings, tmp_path, _enterprises(tmp_path, "enterprises-2", mechanisms="就业务工"))
    assert [(item["household_id"], item["reason"]) for item in _items(baseline)] == [
        (bf.household_id(number), FollowUpReason.ENTERPRISE_LEFT.value) for number in (1, 2, 3)]


def test_monitoring_risk_and_income_events_each_raise_one_item(baseline, test_settings, tmp_path):
    monitored = {4: {"monitoring": ("边缘易致贫户", "因病", "2024-06-01", "否")},
                 5: {"income": LINE - 500}}
    _load(baseline, test_settings, tmp_path, _households(tmp_path, "households-2", monitored))
    _load(baseline, test_settings, tmp_path, _households(tmp_path, "households-2b", monitored))  # the same again
    changed = {4: {"monitoring": ("边缘易致贫户", "因病、因灾", "2024-06-01", "否")}, 5: {"income": LINE - 800}}
    _load(baseline, test_settings, tmp_path, _households(tmp_path, "households-3", changed))
    items = _items(baseline)
    assert [(item["household_id"], item["reason"]) for item in items] == [
        (bf.household_id(4), FollowUpReason.BECAME_MONITORED.value),
        (bf.household_id(4), FollowUpReason.RISK_CHANGED.value),
        (bf.household_id(5), FollowUpReason.INCOME_BELOW_LINE.value)]
    assert items[0]["since"] == "2024-06-01"
    # A monitored household is of high need at least (core.need): 30 days or less.
    assert items[1]["due_date"] <= days_after(TODAY, 30)


def test_a_first_load_raises_an_item_only_for_a_recent_monitoring(graph_db, test_settings, tmp_path):
    recent, old = days_after(TODAY, -10), "2022-03-01"
    households = _households(tmp_path, "households", {1: {"monitoring": ("突发严重困难户", "因灾", recent, "否")},
                                                      2: {"monitoring": ("边缘易致贫户", "因病", old, "否")}})
    _load(graph_db, test_settings, tmp_path, households, _members(tmp_path))
    items = _items(graph_db)
    assert [(item["household_id"], item["reason"], item["since"]) for item in items] == [
        (bf.household_id(1), FollowUpReason.BECAME_MONITORED.value, recent)]
    assert items[0]["need_tier"] == 2 and items[0]["due_date"] == days_after(TODAY, 15)  # urgent category


def test_a_passed_end_date_raises_one_item_at_the_sweep(baseline, test_settings, tmp_path):
    _load(baseline, test_settings, tmp_path, _ledger(tmp_path, "ledger-2", ends={3: days_after(TODAY, -3)}))
    assert _items(baseline) == []  # still in force: the sweep finds it
    assert followups.raise_expired(baseline, TODAY) == 1
    assert followups.raise_expired(baseline, TODAY) == 0
    assert [(item["household_id"], item["reason"]) for item in _items(baseline)] == [
        (bf.household_id(3), FollowUpReason.PARTNERSHIP_EXPIRED.value)]


def test_staff_close_an_item_with_a_reason(baseline):
    ledger.update_partnership(baseline, "P2", {"status": PartnershipStatus.COMPLETED.value}, "bureau:x", TODAY)
    [item] = _items(baseline, 2)
    assert followups.close_by_staff(baseline, item["followup_id"], "已外出务工，无需帮扶", "王科长（商务局）",
                                    "bureau:t1") == {"followup_id": item["followup_id"],
                                                     "household_id": bf.household_id(2)}
    assert followups.close_by_staff(baseline, item["followup_id"], "again", "x", "bureau:t1") is None
    [closed] = _items(baseline, 2)
    assert (closed["status"], closed["closed_by"], closed["close_reason"], closed["open_count"]) == (
        FollowUpStatus.CLOSED.value, "staff", "已外出务工，无需帮扶", 0)


def test_the_next_run_plans_follow_up_households_first_and_marks_their_items(graph_db, test_settings, tmp_path):
    """One contract place, two candidates: household 1 of higher need, household 2 with a follow-up item."""
    households = _households(tmp_path, "households", count=2)
    _load(graph_db, test_settings, tmp_path, households, _members(tmp_path, 2),
          _enterprises(tmp_path, "enterprises", contract=1, mechanisms="订单收购", other_places=False))
    rows = [bf.partnership_row("P-old", 2, OTHER_ENTERPRISE, status="履约中")]
    _load(graph_db, test_settings, tmp_path, bf.write_table(tmp_path / "ledger.csv", bf.PARTNERSHIP_HEADER, rows))
    runner = MatchRunner(graph_db, test_settings, progress=None)
    params = MatchParams(top_k=3, model_version=None)
    first = runner.run([bf.COUNTY], params)
    assert _assigned(graph_db, first["run_id"]) == {bf.household_id(1)}  # household 2 is covered already
    # Household 2's partnership ends: it comes back in play, ahead of household 1.
    ledger.update_partnership(graph_db, "P-old", {"status": PartnershipStatus.TERMINATED.value}, "bureau:x", TODAY)
    second = runner.run([bf.COUNTY], params)
    assert second["counties"] == [bf.COUNTY]
    assert _assigned(graph_db, second["run_id"]) == {bf.household_id(2)}
    [item] = _items(graph_db, 2)
    assert (item["status"], item["run_id"], item["open_count"]) == (FollowUpStatus.PLANNED.value, second["run_id"], 1)


def _assigned(driver, run_id: str) -> set[str]:
    records, _, _ = driver.execute_query(
        "MATCH (l:RecommendationList {run_id: $run}) WHERE any(a IN l.assigned WHERE a) RETURN l.household_id AS id",
        run=run_id)
    return {record["id"] for record in records}


def test_an_offer_change_cutting_places_or_stopping_a_mechanism_raises_items(baseline, test_settings):
    """The enterprise's own offer change (services/offers.py) is observed in its transaction."""
    from services.context import Context
    from services.offers import update_offer
    from services.principal import Principal

    ctx = Context(baseline, test_settings)
    enterprise = Principal("t-e", "第51合作社", "enterprise", credit_code=ENTERPRISE)
    result = update_offer(ctx, enterprise, ENTERPRISE, {"contract_households": 2})
    assert result["changed"]
    assert [(item["household_id"], item["reason"]) for item in _items(baseline)] == [
        (bf.household_id(3), FollowUpReason.CAPACITY_CUT.value)]
    update_offer(ctx, enterprise, ENTERPRISE, {"mechanisms": [Mechanism.EMPLOYMENT.value]})
    assert [(item["household_id"], item["reason"]) for item in _items(baseline)] == [
        (bf.household_id(1), FollowUpReason.ENTERPRISE_LEFT.value), (bf.household_id(2), FollowUpReason.ENTERPRISE_LEFT.value),
        (bf.household_id(3), FollowUpReason.CAPACITY_CUT.value), (bf.household_id(3), FollowUpReason.ENTERPRISE_LEFT.value)]


def test_a_household_whose_partnership_expired_is_planned_a_replacement(graph_db, test_settings, tmp_path):
    """Still 履约中 but past its end date: the household counts as partnered, yet the run gives it a pairing."""
    _load(graph_db, test_settings, tmp_path, _households(tmp_path, "households", count=2), _members(tmp_path, 2),
          _enterprises(tmp_path, "enterprises", contract=1, mechanisms="订单收购", other_places=False))
    rows = [bf.partnership_row("P-old", 2, OTHER_ENTERPRISE, status="履约中") + [days_after(TODAY, -5)]]
    _load(graph_db, test_settings, tmp_path, bf.write_table(tmp_path / "ledger.csv", LEDGER_HEADER, rows))
    assert followups.raise_expired(graph_db, TODAY) == 1
    run = MatchRunner(graph_db, test_settings, progress=None).run([bf.COUNTY], MatchParams(top_k=3, model_version=None))
    assert _assigned(graph_db, run["run_id"]) == {bf.household_id(2)}
    [item] = _items(graph_db, 2)
    assert (item["reason"], item["status"]) == (FollowUpReason.PARTNERSHIP_EXPIRED.value, FollowUpStatus.PLANNED.value)
