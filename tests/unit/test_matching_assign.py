"""Assignment: equals independent optima, never exceeds capacity, covers greatest need first."""
import networkx as nx
import numpy as np
import pytest

from core.mechanisms import MECHANISMS
from devtools.oracle import lp_objective
from matching.assign import COVER_BONUS, SCORE_SCALE, assign, slot_capacity, slot_ids
from matching.candidates import Pairs


def _pairs(household, enterprise, mechanism):
    n = len(household)
    return Pairs(np.array(household), np.array(enterprise), np.array(mechanism, dtype=np.int8), np.zeros(n))


def _capacity(n_enterprises, values):
    """values: {(enterprise, mechanism index): capacity}."""
    capacity = {m: np.zeros(n_enterprises, np.int64) for m in MECHANISMS}
    for (e, m), c in values.items():
        capacity[MECHANISMS[m]][e] = c
    return capacity


def _random_instance(seed, n_households=25, n_enterprises=6, density=0.3):
    rng = np.random.default_rng(seed)
    h, e, m = np.nonzero(rng.random((n_households, n_enterprises, 2)) < density)
    scores = np.round(rng.random(len(h)), 3)
    tiers = rng.integers(0, 3, n_households)
    capacity = _capacity(n_enterprises, {(j, k): int(rng.integers(0, 4)) for j in range(n_enterprises) for k in range(2)})
    return _pairs(h, e, m), scores, tiers, capacity


def _integer_costs(pairs, scores, tiers):
    return -np.rint(scores * SCORE_SCALE).astype(int), -(COVER_BONUS * (1 + tiers))


def _networkx_optimum(pairs, scores, tiers, capacity, limit):
    """The same model solved by networkx's network simplex (an independent solver)."""
    slot_keys, slot_of_pair = slot_ids(pairs)
    caps = slot_capacity(slot_keys, capacity)
    pair_costs, first_costs = _integer_costs(pairs, scores, tiers)
    graph = nx.DiGraph()
    supply = limit * len(tiers)
    graph.add_node("s", demand=-supply)
    graph.add_node("t", demand=supply)
    graph.add_edge("s", "t", capacity=supply, weight=0)
    for h, tier_cost in enumerate(first_costs):
        graph.add_edge("s", ("h", h), capacity=1, weight=int(tier_cost))
        if limit > 1:
            graph.add_node(("x", h))
            graph.add_edge("s", ("x", h), capacity=limit - 1, weight=0)
            graph.add_edge(("x", h), ("h", h), capacity=limit - 1, weight=0)
    for i in range(len(pairs)):  # through a (household, enterprise) node: one mechanism of an enterprise each
        h, e = int(pairs.household[i]), int(pairs.enterprise[i])
        graph.add_edge(("h", h), ("he", h, e), capacity=1, weight=0)
        graph.add_edge(("he", h, e), ("slot", int(slot_of_pair[i])), capacity=1, weight=int(pair_costs[i]))
    for k, cap in enumerate(caps):
        graph.add_edge(("slot", k), "t", capacity=int(cap), weight=0)
    return -nx.min_cost_flow_cost(graph)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("limit", [1, 2])
def test_assignment_equals_independent_optima(seed, limit):
    pairs, scores, tiers, capacity = _random_instance(seed)
    plan = assign(pairs, scores, tiers, capacity, household_limit=limit)
    assert plan.objective == _networkx_optimum(pairs, scores, tiers, capacity, limit)
    assert plan.objective == lp_objective(pairs, scores, tiers, capacity, limit)


@pytest.mark.parametrize("seed", range(8))
def test_capacity_and_household_limit_are_never_exceeded(seed):
    pairs, scores, tiers, capacity = _random_instance(seed, n_households=60, density=0.5)
    plan = assign(pairs, scores, tiers, capacity, household_limit=2)
    slot_keys, slot_of_pair = slot_ids(pairs)
    used = np.bincount(slot_of_pair[plan.chosen], minlength=len(slot_keys))
    assert (used <= slot_capacity(slot_keys, capacity)).all()
    assert np.bincount(pairs.household[plan.chosen], minlength=len(tiers)).max() <= 2
    assert plan.metrics["utilisation"] <= 1.0
    chosen_pairs = set(zip(pairs.household[plan.chosen].tolist(), pairs.enterprise[plan.chosen].tolist()))
    assert len(chosen_pairs) == int(plan.chosen.sum()), "one mechanism of an enterprise per household"


def test_coverage_beats_a_better_score():
    # h0 could take slot A (0.9) or B (0.1); h1 only A (0.5). Covering both needs h0 on B.
    pairs = _pairs([0, 0, 1], [0, 1, 0], [0, 0, 0])
    plan = assign(pairs, np.array([0.9, 0.1, 0.5]), np.zeros(2, int), _capacity(2, {(0, 0): 1, (1, 0): 1}))
    assert plan.chosen.tolist() == [False, True, True]
    assert plan.metrics["coverage"] == 1.0


def test_greatest_need_is_covered_first_even_with_a_lower_score():
    pairs = _pairs([0, 1], [0, 0], [0, 0])  # one place, two households
    plan = assign(pairs, np.array([0.95, 0.05]), np.array([0, 2]), _capacity(1, {(0, 0): 1}))
    assert plan.chosen.tolist() == [False, True]
    assert plan.metrics["coverage_by_need_tier"] == {"2": 1.0, "1": None, "0": 0.0}


def test_blocking_pairs_are_counted():
    # h0 assigned to A (0.2) to make room for h1 on B; h0 would rather have B (0.9) → one blocking pair? B is full
    # with h1 (0.3 < 0.9), so B prefers h0 too.
    pairs = _pairs([0, 0, 1], [0, 1, 1], [0, 0, 0])
    plan = assign(pairs, np.array([0.2, 0.9, 0.3]), np.zeros(2, int), _capacity(2, {(0, 0): 1, (1, 0): 1}))
    assert plan.chosen.tolist() == [True, False, True]
    assert plan.metrics["blocking_pairs"] == 1
