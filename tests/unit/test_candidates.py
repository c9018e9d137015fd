"""The spatial search finds exactly the nearest enterprises in range, as a brute-force great-circle search does."""
import numpy as np
import pytest

from core.codes import Mechanism
from core.mechanisms import MECHANISMS
from matching.candidates import Pairs, candidate_pairs, filter_eligible, haversine_km
from tests.support.matching_cases import enterprise, household, inputs


def _scattered(record, rng, spread_deg):
    record["lat"] += float(rng.uniform(-spread_deg, spread_deg))
    record["lon"] += float(rng.uniform(-spread_deg, spread_deg))
    return record


def _brute_force(households, enterprises, rules, mechanism, k):
    """The k nearest offering enterprises of each household within the mechanism's range, then the rules."""
    m = MECHANISMS.index(mechanism)
    offering = np.flatnonzero(enterprises.capacity[mechanism] > 0)
    found = []
    for h in range(len(households)):
        distance = haversine_km(households.lat[h], households.lon[h], enterprises.lat[offering], enterprises.lon[offering])
        nearest = np.argsort(distance, kind="stable")[:k]
        found += [(h, int(offering[j]), float(distance[j])) for j in nearest if distance[j] <= rules.max_km(mechanism)]
    pairs = Pairs(np.array([f[0] for f in found]), np.array([f[1] for f in found]),
                  np.full(len(found), m, np.int8), np.array([f[2] for f in found]))
    return filter_eligible(pairs, households, enterprises, rules)


@pytest.mark.parametrize("seed", range(3))
def test_nearest_enterprises_in_range_are_found_exactly(seed):
    rng = np.random.default_rng(seed)
    # Spread over about ±1.5° (≈ 165 km): many enterprises lie beyond the employment and land-lease ranges.
    houses = [_scattered(household(f"h{i}", ordinary=1, arable=2.0), rng, 1.5) for i in range(400)]
    firms = [_scattered(enterprise(f"e{j}", mechanisms=[Mechanism.EMPLOYMENT, Mechanism.LAND_LEASE], jobs=5,
                                   land_mu=20.0), rng, 1.5) for j in range(60)]
    households, enterprises, rules = inputs(houses, firms)
    k = 4
    found = candidate_pairs(households, enterprises, rules, per_mechanism=k)
    for mechanism in (Mechanism.EMPLOYMENT, Mechanism.LAND_LEASE):
        expected = _brute_force(households, enterprises, rules, mechanism, k)
        mine = found.take(found.mechanism == MECHANISMS.index(mechanism))
        assert len(expected) > 50
        assert sorted(zip(mine.household.tolist(), mine.enterprise.tolist())) == \
            sorted(zip(expected.household.tolist(), expected.enterprise.tolist()))
        order = np.lexsort((mine.enterprise, mine.household))
        expected_order = np.lexsort((expected.enterprise, expected.household))
        np.testing.assert_allclose(mine.distance_km[order], expected.distance_km[expected_order], rtol=0, atol=1e-9)
