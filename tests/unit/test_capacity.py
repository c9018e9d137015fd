"""The land-lease capacity at the plan level: an enterprise that wants 30 亩 at 3 亩 per household has
10 places — in core.mechanisms, in the matching inputs, and in the plan.

(The ledger's accept / confirm: tests/integration/test_capacity_ledger.py; the enterprise's offer page:
tests/integration/test_capacity_pages.py.)"""
import numpy as np
import pytest

from core.codes import Mechanism
from core.mechanisms import CAPACITY, LAND_MU_PER_HOUSEHOLD, MECHANISMS, capacity_of, places, position
from matching.pipeline import make_plan
from matching.scoring import BlendedScorer
from tests.support.matching_cases import enterprise, household, inputs


@pytest.mark.parametrize("land_wanted_mu, expected", [
    (30, 10), (30.0, 10), ("30", 10), (29.9, 9), (3, 1), (2.9, 0), (0, 0), (None, 0), (float("nan"), 0), (-6, 0),
    ("三十", 0),
])
def test_land_lease_places_are_whole_households_of_three_mu(land_wanted_mu, expected):
    assert LAND_MU_PER_HOUSEHOLD == 3.0
    assert places({"land_wanted_mu": land_wanted_mu}, Mechanism.LAND_LEASE) == expected
    assert CAPACITY[Mechanism.LAND_LEASE].places(land_wanted_mu) == expected


def test_every_other_mechanism_counts_households_or_jobs_one_to_one():
    record = {"jobs_offered": 7, "contract_households": 30, "land_wanted_mu": 30, "equity_households": 4,
              "ecommerce_households": 12}
    assert {mechanism: places(record, mechanism) for mechanism in MECHANISMS} == {
        Mechanism.EMPLOYMENT: 7, Mechanism.CONTRACT_PURCHASE: 30, Mechanism.LAND_LEASE: 10, Mechanism.EQUITY: 4,
        Mechanism.ECOMMERCE: 12}
    assert capacity_of("03").unit == "亩" and capacity_of(Mechanism.EMPLOYMENT).unit == "人"
    assert [position(mechanism) for mechanism in MECHANISMS] == list(range(len(MECHANISMS)))
    assert CAPACITY[Mechanism.LAND_LEASE].places_array(np.array([30, 29.9, np.nan, -3, 90])).tolist() == [10, 9, 0, 0, 30]


def _farm(**overrides):
    return enterprise("FARM", **{"mechanisms": [Mechanism.LAND_LEASE], "land_mu": 30, **overrides})


def test_an_enterprise_wanting_30_mu_has_10_land_lease_places():
    _, enterprises, _ = inputs([household("h", arable=3)], [_farm()])
    assert enterprises.capacity[Mechanism.LAND_LEASE].tolist() == [10]
    assert enterprises.total_capacity[Mechanism.LAND_LEASE].tolist() == [10]
    assert all(enterprises.capacity[m].tolist() == [0] for m in MECHANISMS if m != Mechanism.LAND_LEASE)


def test_places_taken_by_open_partnerships_are_subtracted_in_households():
    used = [0] * len(MECHANISMS)
    used[position(Mechanism.LAND_LEASE)] = 4  # four households already lease land to it
    record = _farm()
    record["used"] = used
    _, enterprises, _ = inputs([household("h", arable=3)], [record])
    assert enterprises.capacity[Mechanism.LAND_LEASE].tolist() == [6]


def test_the_plan_assigns_exactly_10_of_15_eligible_households_to_it_by_land_lease():
    houses = [household(f"h{n:02d}", arable=3.0, dx_km=n * 0.5) for n in range(15)]  # all within 10 km, 3 亩 each
    households, enterprises, rules = inputs(houses, [_farm()])
    plan = make_plan(households, enterprises, rules, BlendedScorer(), top_k=5)
    recommendations = plan.recommendations
    land = recommendations[(recommendations.credit_code == "FARM") & (recommendations.mechanism == Mechanism.LAND_LEASE)]
    assert set(land.household_id) == {house["household_id"] for house in houses}, "all 15 are eligible"
    assert int(land.assigned.sum()) == 10, "30 亩 ÷ 3 亩 per household = 10 places"
    assert int(recommendations.assigned.sum()) == 10
