"""Eligibility limits calibrated from a county's ledger (matching/calibrate.py): percentiles, readable rounding,
bounds, too little evidence, and which partnerships count."""
import numpy as np
import pytest

from core.codes import EnterpriseType, Mechanism, PartnershipStatus
from matching.calibrate import (LIMITS, LIMITS_BY_FIELD, MIN_PARTNERSHIPS, fit_county_rules, fit_distance_km,
                                fit_min_land_mu, out_of_bounds, readable_km, readable_mu, share_at_least,
                                share_within)
from matching.candidates import EARTH_RADIUS_KM
from matching.rules import EligibilityRules, widest_radius_km

VILLAGE = (27.95, 109.60)  # lat, lon
KM_PER_DEGREE_LAT = EARTH_RADIUS_KM * np.pi / 180


def partnership(mechanism: str, north_km: float, *, land: float = 2.0, able: int = 1, weak: int = 0,
                status: str = PartnershipStatus.IN_FORCE.value, source: str | None = None,
                etype: str = EnterpriseType.PROCESSING.value, village_position: str = "data",
                enterprise_position: str = "data") -> dict:
    """A ledger record as graph.match_rules.partnership_evidence returns it, the enterprise north_km due north."""
    lat, lon = VILLAGE
    return {"partnership_id": "p", "mechanism": mechanism, "status": status, "source": source,
            "household_lon": lon, "household_lat": lat, "household_position": village_position,
            "enterprise_lon": lon, "enterprise_lat": lat + north_km / KM_PER_DEGREE_LAT,
            "enterprise_position": enterprise_position, "enterprise_type": etype, "land_mu": land,
            "able_labour": able, "weak_labour": weak}


def by_field(suggestions):
    return {suggestion.field: suggestion for suggestion in suggestions}


@pytest.mark.parametrize("km,readable", [(0.2, 1), (3.0, 3), (3.01, 4), (9.4, 10), (10.0, 10), (10.01, 15),
                                         (14.9, 15), (23.0, 25), (25.0, 25), (141.2, 145)])
def test_distances_round_up_to_whole_km_under_ten_then_to_five(km, readable):
    assert readable_km(km) == readable


def test_land_rounds_down_to_a_tenth_of_a_mu():
    assert readable_mu(0.87) == 0.8 and readable_mu(0.8) == 0.8 and readable_mu(1.25) == 1.2


def test_the_distance_is_the_95th_percentile_rounded_up():
    distances = np.arange(1, 101, dtype=float) / 10  # 0.1 … 10.0 km: 95 % lie within 9.5 km
    suggested, observed = fit_distance_km(distances, LIMITS_BY_FIELD["land_max_km"])
    assert observed == pytest.approx(9.5) and suggested == 10.0
    assert np.mean(distances <= suggested) >= 0.95


def test_a_suggestion_keeps_95_percent_of_the_partnerships_eligible_in_any_sample():
    rng = np.random.default_rng(3)
    limit = LIMITS_BY_FIELD["contract_max_km"]
    for _ in range(200):
        distances = rng.gamma(2.0, rng.uniform(2, 30), size=rng.integers(30, 400))
        suggested, observed = fit_distance_km(distances, limit)
        if limit.floor < suggested < limit.ceiling:
            assert np.mean(distances <= suggested) >= 0.95
            assert suggested - observed < (1 if observed <= 10 else 5)


def test_suggestions_stay_between_floor_and_ceiling():
    employment = LIMITS_BY_FIELD["employment_max_km"]
    assert fit_distance_km(np.full(50, 0.3), employment)[0] == employment.floor
    assert fit_distance_km(np.full(50, 500.0), employment)[0] == employment.ceiling
    land = LIMITS_BY_FIELD["min_land_mu"]
    assert fit_min_land_mu(np.zeros(50), land)[0] == land.floor
    assert fit_min_land_mu(np.full(50, 40.0), land)[0] == land.ceiling


def test_every_default_lies_within_its_bounds():
    defaults = EligibilityRules()
    for limit in LIMITS:
        assert limit.floor <= getattr(defaults, limit.field) <= limit.ceiling, limit.field


def test_min_land_is_the_5th_percentile_rounded_down():
    land = np.linspace(0.35, 6.0, 100)
    suggested, observed = fit_min_land_mu(land, LIMITS_BY_FIELD["min_land_mu"])
    assert observed == pytest.approx(land[5]) and suggested == readable_mu(land[5])  # 95 of 100 at or above
    assert np.mean(land >= suggested) >= 0.95


@pytest.mark.parametrize("count", [1, 2, 19, 20, 21, 30, 57, 60, 99, 100, 1001])
def test_the_percentiles_keep_at_least_the_share_and_no_more_than_needed(count):
    values = np.random.default_rng(count).permutation(np.arange(count, dtype=float))
    within, at_least = share_within(values, 0.95), share_at_least(values, 0.95)
    assert np.mean(values <= within) >= 0.95 and np.mean(values >= at_least) >= 0.95
    assert count == 1 or np.mean(values < within) < 0.95, "the next smaller value would keep too few"
    assert count == 1 or np.mean(values > at_least) < 0.95


def test_a_county_gets_suggestions_only_where_it_has_enough_partnerships():
    lease = [partnership(Mechanism.LAND_LEASE.value, 0.1 * (n + 1), land=1.0 + n / 10) for n in range(60)]
    employment = [partnership(Mechanism.EMPLOYMENT.value, 2.0) for _ in range(MIN_PARTNERSHIPS - 1)]
    found = by_field(fit_county_rules(lease + employment, EligibilityRules()))
    assert found["land_max_km"].suggested == 6.0 and found["land_max_km"].evidence == 60  # 95 % within 5.7 km
    assert found["min_land_mu"].suggested == 1.3  # 57 of the 60 leasing households (95 %) had 1.3 亩 or more
    assert found["employment_max_km"].suggested is None and found["employment_max_km"].evidence == 29
    assert "少于 30 条" in found["employment_max_km"].reason and found["employment_max_km"].current == 30.0
    assert {s.field for s in found.values() if s.suggested is None} == {
        "employment_max_km", "workshop_max_km", "contract_max_km", "ecommerce_max_km"}


def test_suggestions_name_the_current_and_default_values():
    current = EligibilityRules().with_values({"land_max_km": 7.0})
    found = by_field(fit_county_rules([], current))
    assert found["land_max_km"].current == 7.0 and found["land_max_km"].default == 10.0


def test_only_formed_partnerships_recorded_by_the_ledger_with_real_positions_count():
    counted = [partnership(Mechanism.CONTRACT_PURCHASE.value, 12.0) for _ in range(30)]
    left_out = [
        partnership(Mechanism.CONTRACT_PURCHASE.value, 90.0, status=PartnershipStatus.AWAITING_CONFIRMATION.value),
        partnership(Mechanism.CONTRACT_PURCHASE.value, 90.0, source="recommendation"),
        partnership(Mechanism.CONTRACT_PURCHASE.value, 90.0, village_position="county"),
        partnership(Mechanism.CONTRACT_PURCHASE.value, 90.0, enterprise_position="county"),
        {**partnership(Mechanism.CONTRACT_PURCHASE.value, 90.0), "household_lat": None},
    ]
    still_counted = [partnership(Mechanism.CONTRACT_PURCHASE.value, 12.0, status=status)
                     for status in PartnershipStatus.codes(PartnershipStatus.COMPLETED, PartnershipStatus.TERMINATED)]
    found = by_field(fit_county_rules(counted + left_out + still_counted, EligibilityRules()))["contract_max_km"]
    assert found.evidence == 32 and found.excluded == 5
    assert found.suggested == 15.0  # 12 km rounded up: none of the 90 km rows counted
    assert found.suggested == by_field(fit_county_rules(counted + still_counted, EligibilityRules()))[
        "contract_max_km"].suggested


def test_workshop_evidence_is_weak_labour_at_a_workshop_and_employment_the_able():
    workshop = [partnership(Mechanism.EMPLOYMENT.value, 4.0, able=0, weak=1, etype=EnterpriseType.WORKSHOP.value)
                for _ in range(35)]
    able_at_workshop = [partnership(Mechanism.EMPLOYMENT.value, 22.0, able=2, etype=EnterpriseType.WORKSHOP.value)
                        for _ in range(35)]
    found = by_field(fit_county_rules(workshop + able_at_workshop, EligibilityRules()))
    assert found["workshop_max_km"].evidence == 35 and found["workshop_max_km"].suggested == 4.0
    assert found["employment_max_km"].evidence == 35 and found["employment_max_km"].suggested == 25.0


def test_a_bounded_suggestion_says_so():
    far = [partnership(Mechanism.ECOMMERCE.value, 2.0) for _ in range(40)]
    found = by_field(fit_county_rules(far, EligibilityRules()))["ecommerce_max_km"]
    assert found.suggested == 20.0 and "不低于下限 20 公里" in found.reason


def test_set_values_are_checked_against_the_bounds():
    assert out_of_bounds({"land_max_km": 8, "min_land_mu": 0.3}) == []
    assert out_of_bounds({"land_max_km": 31.0, "min_land_mu": 0.0, "employment_max_km": float("nan"),
                          "equity_same_county": False, "workshop_max_km": True}) == [
        "land_max_km", "min_land_mu", "employment_max_km", "equity_same_county", "workshop_max_km"]


def test_county_values_replace_only_known_fields():
    rules = EligibilityRules().with_values({"land_max_km": 6.0, "retired_field": 3})
    assert rules.land_max_km == 6.0 and rules.employment_max_km == 30.0
    assert widest_radius_km([rules, EligibilityRules().with_values({"ecommerce_max_km": 200.0})]) == 200.0
