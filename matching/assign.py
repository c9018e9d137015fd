"""Assignment: one plan for a county (or province) as a min-cost flow, solved by OR-Tools.

Network: source → household (first unit: a coverage bonus by need tier; further units up to
the per-household limit: no bonus) → (enterprise, mechanism) slot (cost −score) → sink
(capacity = the slot's remaining capacity), plus a zero-cost bypass source → sink so that
only worthwhile units flow. The coverage bonus dominates every score, so the plan covers as
many households as possible, the greatest-need tier first (the households that can be
covered form a matroid, so the weighted optimum is also a maximum coverage); scores decide
among plans of equal coverage.
"""
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.candidates import Pairs
from matching.rules import MECHANISMS

SCORE_SCALE = 1000  # scores in [0, 1] become integer costs 0…1000
COVER_BONUS = 1_000_000  # per need tier step; larger than any sum of score differences a swap can make


@dataclass
class Assignment:
    """The chosen pairs (a mask over the candidate pairs) and the plan's figures."""

    chosen: np.ndarray
    objective: int
    metrics: dict


def slot_ids(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """(unique slot keys, slot index per pair), a slot being one (enterprise, mechanism)."""
    keys = pairs.enterprise.astype(np.int64) * len(MECHANISMS) + pairs.mechanism
    return np.unique(keys, return_inverse=True)


def slot_capacity(slot_keys: np.ndarray, capacity: dict[str, np.ndarray]) -> np.ndarray:
    """Remaining capacity of each slot."""
    enterprise, mechanism = np.divmod(slot_keys, len(MECHANISMS))
    table = np.column_stack([capacity[m] for m in MECHANISMS])
    return table[enterprise, mechanism].astype(np.int64)


def assign(pairs: Pairs, scores: np.ndarray, need_tier: np.ndarray, capacity: dict[str, np.ndarray],
           household_limit: int | np.ndarray = 1, already_covered: np.ndarray | None = None,
           with_metrics: bool = True) -> Assignment:
    """Maximise coverage (greatest need first), then total score, within every capacity.

    `household_limit` may differ per household (e.g. the limit less its current partnerships);
    households `already_covered` by a partnership get no coverage bonus, only their scores.
    Without `with_metrics` (a province's group solves, which only need the plan) metrics is empty.
    """
    n_households = len(need_tier)
    limits = np.broadcast_to(np.asarray(household_limit, dtype=np.int64), (n_households,))
    covered_before = np.zeros(n_households, bool) if already_covered is None else already_covered.astype(bool)
    slot_keys, slot_of_pair = slot_ids(pairs)
    caps = slot_capacity(slot_keys, capacity)
    # A household takes at most one mechanism of an enterprise: with a limit above one, its pairs with an
    # enterprise pass through one node of capacity 1 (with a limit of one the household's own arc suffices).
    if limits.max(initial=0) > 1 and len(pairs):
        _, pair_group = np.unique(pairs.household.astype(np.int64) * (int(pairs.enterprise.max()) + 1) + pairs.enterprise,
                                  return_inverse=True)
        n_groups = int(pair_group.max()) + 1
    else:
        pair_group, n_groups = None, 0
    source, first_household = 0, 1
    first_group = first_household + n_households
    first_slot = first_group + n_groups
    sink = first_slot + len(slot_keys)

    flow = min_cost_flow.SimpleMinCostFlow()
    households = np.arange(n_households)
    costs_first = np.where(covered_before, 0, -(COVER_BONUS * (1 + need_tier.astype(np.int64))))
    # source → household: first unit with the coverage bonus, further units without.
    tails = [np.full(n_households, source), np.full(n_households, source)]
    heads = [first_household + households, first_household + households]
    capacities = [np.minimum(limits, 1), np.maximum(limits - 1, 0)]
    costs = [costs_first, np.zeros(n_households, np.int64)]
    if pair_group is not None:  # household → its (household, enterprise) nodes
        group_household = np.zeros(n_groups, np.int64)
        group_household[pair_group] = pairs.household
        tails.append(first_household + group_household)
        heads.append(first_group + np.arange(n_groups))
        capacities.append(np.ones(n_groups, np.int64))
        costs.append(np.zeros(n_groups, np.int64))
    pair_arc_start = 2 * n_households + n_groups
    tails.append(first_household + pairs.household if pair_group is None else first_group + pair_group)
    heads.append(first_slot + slot_of_pair)
    capacities.append(np.ones(len(pairs), np.int64))
    costs.append(-np.rint(scores * SCORE_SCALE).astype(np.int64))
    tails.append(first_slot + np.arange(len(slot_keys)))
    heads.append(np.full(len(slot_keys), sink))
    capacities.append(caps)
    costs.append(np.zeros(len(slot_keys), np.int64))
    supply = int(limits.sum())
    tails.append(np.array([source]))
    heads.append(np.array([sink]))
    capacities.append(np.array([supply], np.int64))
    costs.append(np.array([0], np.int64))
    flow.add_arcs_with_capacity_and_unit_cost(*(np.concatenate(a).astype(np.int64) for a in (tails, heads, capacities, costs)))
    del tails, heads, capacities, costs  # the solver holds its own copy: free ours before it allocates more
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")
    arc_flows = flow.flows(np.arange(pair_arc_start, pair_arc_start + len(pairs)))
    chosen = arc_flows > 0
    objective = -int(flow.optimal_cost())
    del flow, arc_flows
    metrics = plan_metrics(pairs, scores, chosen, need_tier, slot_of_pair, caps, limits) if with_metrics else {}
    return Assignment(chosen, objective, metrics)


def plan_metrics(pairs: Pairs, scores: np.ndarray, chosen: np.ndarray, need_tier: np.ndarray,
                 slot_of_pair: np.ndarray, caps: np.ndarray, limits: np.ndarray) -> dict:
    """Coverage (all and by need tier), utilisation of capacity, total score and blocking pairs."""
    n_households = len(need_tier)
    covered = np.zeros(n_households, dtype=bool)
    covered[pairs.household[chosen]] = True
    eligible = np.zeros(n_households, dtype=bool)
    eligible[pairs.household] = True
    used = np.bincount(slot_of_pair[chosen], minlength=len(caps))
    by_tier = {}
    for tier in (2, 1, 0):
        in_tier = need_tier == tier
        by_tier[str(tier)] = float(covered[in_tier].mean()) if in_tier.any() else None
    return {
        "households": int(n_households),
        "covered": int(covered.sum()),
        "coverage": float(covered.mean()) if n_households else 0.0,
        "coverable": int(eligible.sum()),
        "coverage_of_coverable": float(covered[eligible].mean()) if eligible.any() else 0.0,
        "coverage_by_need_tier": by_tier,
        "assignments": int(chosen.sum()),
        "capacity": int(caps.sum()),
        "utilisation": float(used.sum() / caps.sum()) if caps.sum() else 0.0,
        "total_score": float(scores[chosen].sum()),
        "blocking_pairs": blocking_pairs(pairs, scores, chosen, slot_of_pair, caps, limits),
        "candidate_pairs": int(len(pairs)),
    }


def blocking_pairs(pairs: Pairs, scores: np.ndarray, chosen: np.ndarray, slot_of_pair: np.ndarray,
                   caps: np.ndarray, limits: np.ndarray) -> int:
    """Unchosen pairs where both sides would rather have each other (the stability cost of coverage).

    The household may take a pair (limit above zero) and prefers it to its worst assigned pair
    (or has none); the slot has spare capacity or prefers the pair to its worst assigned household.
    """
    n_households = len(limits)
    worst_of_household = np.full(n_households, np.inf)
    np.minimum.at(worst_of_household, pairs.household[chosen], scores[chosen])
    worst_of_household[np.isinf(worst_of_household)] = -np.inf
    worst_of_slot = np.full(len(caps), np.inf)
    np.minimum.at(worst_of_slot, slot_of_pair[chosen], scores[chosen])
    used = np.bincount(slot_of_pair[chosen], minlength=len(caps))
    spare = used < caps
    household_wants = (scores > worst_of_household[pairs.household]) & (limits[pairs.household] > 0)
    slot_wants = spare[slot_of_pair] | (scores > worst_of_slot[slot_of_pair])
    return int((~chosen & household_wants & slot_wants).sum())
