"""What-ifs, concentration and figures with intervals on small hand-made export tables (matching/whatif.py,
matching/quality.py)."""
import numpy as np
import pandas as pd
import pytest

from core.codes import Mechanism, PartnershipStatus
from matching import quality, whatif

EMP, LAND = Mechanism.EMPLOYMENT.value, Mechanism.LAND_LEASE.value
IN_FORCE, DONE, ENDED, AWAITING = (PartnershipStatus.IN_FORCE.value, PartnershipStatus.COMPLETED.value,
                                   PartnershipStatus.TERMINATED.value, PartnershipStatus.AWAITING_CONFIRMATION.value)


def ledger(rows):
    return pd.DataFrame(rows, columns=["partnership_ref", "household_ref", "credit_code", "mechanism", "status",
                                       "start_date", "income_gain", "project_id"])


def recs(rows):
    return pd.DataFrame(rows, columns=["run_id", "household_ref", "credit_code", "mechanism", "rank", "score",
                                       "assigned", "current", "status"])


@pytest.fixture
def world():
    partnerships = ledger([
        ("P1", "A1", "E1", EMP, IN_FORCE, "2020-01-01", 2000, None),
        ("P2", "A2", "E1", EMP, IN_FORCE, "2020-02-01", 1800, None),
        ("P3", "A2", "E2", EMP, IN_FORCE, "2020-03-01", 1500, None),
        ("P4", "A3", "E2", EMP, ENDED, "2019-01-01", 500, None),    # ended: no longer a partner
        ("P5", "A4", "E3", EMP, AWAITING, "2021-01-01", None, None),  # awaiting: holds a place
    ])
    recommendations = recs([
        ("R2", "A5", "E1", EMP, 1, 0.9, True, True, "proposed"),
        ("R2", "A6", "E1", EMP, 1, 0.8, True, True, "proposed"),
        ("R2", "A3", "E1", EMP, 2, 0.7, True, True, "proposed"),
        ("R2", "A3", "E2", EMP, 1, 0.6, False, True, "proposed"),  # listed, not assigned
        ("R1", "A7", "E2", EMP, 1, 0.9, True, False, "proposed"),  # an older run: not the plan
    ])
    enterprises = pd.DataFrame({"credit_code": ["E1", "E2", "E3"], "jobs_offered": [5, 2, 1],
                                "places_equity": [0, 4, 0],
                                "land_wanted_mu": [0, 9.5, 0], "lon": [110.0, 110.5, 111.0],
                                "lat": [28.0, 28.0, 28.0]})
    return partnerships, recommendations, enterprises


def test_links_hold_open_partnerships_and_the_current_plan(world):
    partnerships, recommendations, _ = world
    links = whatif.partner_links(partnerships, recommendations)
    assert sorted(map(tuple, links[["household_ref", "credit_code"]].to_numpy())) == [
        ("A1", "E1"), ("A2", "E1"), ("A2", "E2"), ("A3", "E1"), ("A4", "E3"), ("A5", "E1"), ("A6", "E1")]


def test_closing_an_enterprise_strands_only_its_sole_dependants(world):
    partnerships, recommendations, _ = world
    links = whatif.partner_links(partnerships, recommendations)
    lost = whatif.close_enterprise(links, "E1")
    assert list(lost["household_ref"]) == ["A1", "A3", "A5", "A6"]  # A2 keeps E2
    assert set(lost.loc[lost["household_ref"] == "A5", "source"]) == {"planned"}
    assert whatif.close_enterprise(links, "E2").empty
    spof = whatif.single_points_of_failure(whatif.partner_graph(links))
    assert list(spof["credit_code"]) == ["E1", "E3", "E2"]
    assert spof.set_index("credit_code").loc["E1", ["households", "sole", "shares_with"]].tolist() == [5, 4, 1]
    assert spof.set_index("credit_code").loc["E2", "sole"] == 0


def test_concentration_counts_active_partnerships_only(world):
    partnerships, _, _ = world
    result = whatif.concentration(partnerships, top=1)
    assert result["total"] == 3 and result["enterprises"] == 2
    assert result["top_share"] == pytest.approx(2 / 3)
    assert result["hhi"] == pytest.approx((2 / 3) ** 2 + (1 / 3) ** 2)
    assert list(result["table"]["credit_code"]) == ["E1", "E2"]


def test_places_follow_each_mechanisms_unit(world):
    _, _, enterprises = world
    places = whatif.places_table(enterprises).set_index(["credit_code", "mechanism"])["places"]
    assert places[("E1", EMP)] == 5 and places[("E2", LAND)] == 3  # 9.5 亩 at 3 亩 a household
    assert ("E1", LAND) not in places.index
    assert places[("E2", Mechanism.EQUITY.value)] == 4  # the export's places_equity taken as is


def test_a_capacity_cut_takes_places_from_the_lowest_ranked(world):
    partnerships, recommendations, enterprises = world
    places = whatif.places_table(enterprises)
    use = whatif.place_use(places, partnerships, recommendations).set_index(["credit_code", "mechanism"])
    assert use.loc[("E1", EMP), ["places", "open", "planned", "left"]].tolist() == [5, 2, 3, 0]
    assert whatif.capacity_cut(places, partnerships, recommendations, 0.0).empty
    # E1: 5 places → 4 at a 20 % cut; 2 in force keep theirs, 2 planned of 3 keep theirs: A3 (rank 2) loses.
    lost = whatif.capacity_cut(places, partnerships, recommendations, 0.2)
    assert list(lost["household_ref"]) == ["A3"]
    # 60 %: 2 places, both held by the partnerships in force: every planned household loses its place.
    assert sorted(whatif.capacity_cut(places, partnerships, recommendations, 0.6)["household_ref"]) == ["A3", "A5", "A6"]
    curve = whatif.capacity_cut_curve(places, partnerships, recommendations, (0.2, 0.6))
    assert curve["lose_place"].tolist() == [1, 3] and curve["planned"].tolist() == [3, 3]
    with pytest.raises(ValueError):
        whatif.capacity_cut(places, partnerships, recommendations, 1.5)


def test_a_wider_radius_reaches_distance_bound_households_within_places_left():
    unplaced = pd.DataFrame({"household_ref": ["A1", "A2", "A3", "A4"],
                             "binding": ["distance", "distance", "no_labour", "distance"]})
    regions = pd.DataFrame({"code": ["V1", "V2"], "lon": [110.0, 110.0], "lat": [28.0, 28.9]})
    households = pd.DataFrame({"household_ref": ["A1", "A2", "A3", "A4"], "village_code": ["V1", "V1", "V1", None]})
    positions = whatif.household_positions(households, regions)
    assert list(positions["household_ref"]) == ["A1", "A2", "A3"]  # A4 has no position
    # E1 ~ 35 km east of V1 with one place left; E2 far away.
    enterprises = pd.DataFrame({"credit_code": ["E1", "E2"], "lon": [110.36, 115.0], "lat": [28.0, 28.0]})
    use = pd.DataFrame({"credit_code": ["E1", "E2"], "mechanism": [EMP, EMP], "left": [1, 5]})
    limits = {EMP: 30.0}
    assert whatif.wider_radius(unplaced, positions, enterprises, use, limits, 0).empty
    reached = whatif.wider_radius(unplaced, positions, enterprises, use, limits, 10)
    assert len(reached) == 1 and reached["credit_code"].tolist() == ["E1"]  # one place: one household
    assert 30 < reached["distance_km"].iloc[0] < 40
    use.loc[0, "left"] = 3
    assert whatif.wider_radius(unplaced, positions, enterprises, use, limits, 10)["household_ref"].tolist() == ["A1", "A2"]
    curve = whatif.wider_radius_curve(unplaced, positions, enterprises, use, limits, (0, 10))
    assert curve["reached"].tolist() == [0, 2] and curve["distance_bound"].tolist() == [3, 3]
    # With each mechanism's reason: A2 cannot work (no labour), so employment further away does not help it.
    unplaced["reason_employment"] = ["distance", "no_labour", "no_labour", "distance"]
    assert whatif.wider_radius(unplaced, positions, enterprises, use, limits, 10)["household_ref"].tolist() == ["A1"]


def test_intervals_say_when_a_difference_is_noise():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, 200)
    noise = quality.paired_difference(a, a + rng.normal(0, 0.01, 200))
    assert noise["within_noise"] and "差异在抽样误差之内" in quality.describe_difference("x", noise)
    real = quality.paired_difference(a + 1, a)
    assert not real["within_noise"] and real["low"] > 0.9
    rate = quality.rate_interval(30, 100)
    assert rate["low"] < 0.3 < rate["high"] and not rate["small"]
    assert quality.rate_interval(0, 0)["rate"] is None
    none = quality.rate_interval(0, 40)  # no terminations of 40: still not "certainly 0"
    assert none["low"] == 0 and 0.05 < none["high"] < 0.1


def test_time_split_evaluation_finds_the_nearest_enterprise():
    # Every household partners with the enterprise in its own village; the latest 40 % are held out.
    n = 10
    households = pd.DataFrame({"household_ref": [f"A{i}" for i in range(n)], "township_code": ["T1"] * n,
                               "village_code": [f"V{i % 3}" for i in range(n)]})
    regions = pd.DataFrame({"code": ["V0", "V1", "V2"], "lon": [110.0, 110.5, 111.0], "lat": [28.0] * 3})
    positions = whatif.household_positions(households, regions)
    enterprises = pd.DataFrame({"credit_code": ["E0", "E1", "E2"], "lon": [110.0, 110.5, 111.0], "lat": [28.0] * 3})
    partnerships = ledger([(f"P{i}", f"A{i}", f"E{i % 3}", EMP, IN_FORCE, f"2020-01-{i + 1:02d}", 1000, None)
                           for i in range(n)])
    evaluation = quality.time_split_evaluation(partnerships, households, positions, enterprises, test_share=0.4, k=1,
                                               bootstrap=200)
    assert evaluation["held_out"] == 4 and evaluation["households"] == 4 and evaluation["cut"] == "2020-01-07"
    assert evaluation["methods"]["nearest"]["recall@1"]["mean"] == 1.0
    assert evaluation["methods"]["popular"]["recall@1"]["mean"] < 1.0
    difference = quality.compare_methods(evaluation, "nearest", "nearest", "recall@1")
    assert difference["within_noise"]
    assert list(quality.evaluation_table(evaluation)["方法"])[0] == "最近的企业"


def test_per_household_metrics():
    scores = np.array([[0.9, 0.1, 0.5], [0.1, 0.2, 0.3]])
    relevant = np.array([[False, False, True], [True, False, False]])
    figures = quality.per_household_metrics(scores, relevant, k=2)
    assert figures["recall@2"].tolist() == [1.0, 0.0]
    assert figures["precision@2"].tolist() == [0.5, 0.0]
    assert figures["ndcg@2"].iloc[0] == pytest.approx(1 / np.log2(3))


def test_outcome_figures(world):
    partnerships, recommendations, _ = world
    partnerships = partnerships.assign(project_id=["J1", "J1", None, None, None])
    rates = quality.termination_rates(partnerships, "mechanism", min_size=1, label=quality.mechanism_label)
    assert rates.loc[0, "label"] == "就业务工" and rates.loc[0, "terminated"] == 1 and rates.loc[0, "formed"] == 4
    assert quality.termination_rates(partnerships, "credit_code", min_size=3).empty  # no enterprise has 3
    gain = quality.gain_by_mechanism(partnerships)
    assert gain.loc[0, "联结方式"] == "就业务工" and gain.loc[0, "n"] == 4 and gain.loc[0, "mean"] == pytest.approx(1450)
    projects = pd.DataFrame({"project_id": ["J1", "J2"], "funds": [100000, 2125000], "target_households": [10, 342]})
    funds = quality.project_funds(projects, partnerships).set_index("project_id")
    assert funds.loc["J2", "linked"] == 0 and funds.loc["J2", "gap"] == 342 and np.isnan(funds.loc["J2", "funds_per_linked"])
    assert funds.loc["J1", "linked"] == 2 and funds.loc["J1", "funds_per_linked"] == 50000
    funnel = quality.recommendation_funnel(recommendations, partnerships)
    assert funnel["户数"].tolist() == [3, 0, 0, 0]


def test_uncovered_monitoring_by_village():
    households = pd.DataFrame({"household_ref": [f"A{i}" for i in range(8)],
                               "monitoring_category": ["01", "01", "02", None, None, "03", "01", None],
                               "coverage_state": ["uncovered", "confirmed", "planned", "uncovered", "confirmed",
                                                  "awaiting", "uncovered", "confirmed"],
                               "village_code": ["V1"] * 4 + ["V2"] * 4})
    regions = pd.DataFrame({"code": ["V1", "V2"], "name": ["甲村", "乙村"]})
    result = quality.uncovered_monitoring(households, regions, min_households=3)
    assert result["monitored"] == 5 and result["monitored_uncovered"] == 3  # planned is not covered
    assert result["by_village"]["村"].tolist() == ["甲村"]
    assert set(result["by_category"]["类别"]) == {"脱贫不稳定户", "边缘易致贫户", "突发严重困难户"}
