"""The province's assignment from its counties' (matching/partition.py) equals one solve of the whole province:
same objective, same coverage, within every capacity — with border enterprises contested by several counties."""
import numpy as np
import pytest

from matching.candidates import Pairs
from matching.partition import CountyProblem, _combined, plan_partitioned, slot_keys, solve_group
from matching.rules import MECHANISMS


def _province(seed: int, counties: int = 5, households: int = 40, enterprises: int = 12, contested: float = 0.5):
    """Counties in a row; each reaches its own enterprises and, at the border, its neighbours' (small capacity
    where `contested` is high)."""
    rng = np.random.default_rng(seed)
    owner = rng.integers(0, counties, enterprises)
    capacity = {name: rng.integers(0, 4, enterprises) if rng.random() < contested else rng.integers(5, 40, enterprises)
                for name in MECHANISMS}
    problems = []
    for county in range(counties):
        reachable = np.flatnonzero(np.abs(owner - county) <= 1)
        n_pairs = households * 4
        household = rng.integers(0, households, n_pairs)
        enterprise = rng.choice(reachable, n_pairs) if len(reachable) else np.zeros(0, np.int64)
        mechanism = rng.integers(0, len(MECHANISMS), n_pairs).astype(np.int8)
        pairs = Pairs(household, enterprise, mechanism, rng.random(n_pairs) * 30)
        # one candidate per (household, slot), as candidate generation gives
        _, first = np.unique(np.column_stack([household, slot_keys(pairs)]), axis=0, return_index=True)
        pairs = pairs.take(np.sort(first))
        problems.append(CountyProblem(
            f"43312{county}000000", pairs, rng.random(len(pairs)), rng.integers(0, 3, households),
            rng.integers(1, 3, households), rng.random(households) < 0.1))
    return problems, capacity


def _whole(problems, capacity):
    combined, _ = _combined(problems)
    return solve_group([combined], capacity)


@pytest.mark.parametrize("seed", range(12))
def test_the_partitioned_plan_is_the_global_optimum(seed):
    problems, capacity = _province(seed)
    plan = plan_partitioned(problems, capacity)
    (whole_chosen,), whole_objective = _whole(problems, capacity)
    assert plan.objective == whole_objective
    # The same coverage, and every slot within its capacity.
    covered = sum(len(np.unique(problem.pairs.household[plan.chosen[problem.county]])) for problem in problems)
    combined, _ = _combined(problems)
    assert covered == len(np.unique(combined.pairs.household[whole_chosen]))
    used_keys = np.concatenate([slot_keys(problem.pairs.take(plan.chosen[problem.county])) for problem in problems])
    keys, counts = np.unique(used_keys, return_counts=True)
    enterprise, mechanism = np.divmod(keys, len(MECHANISMS))
    limit = np.column_stack([capacity[name] for name in MECHANISMS])[enterprise, mechanism]
    assert (counts <= limit).all()
    # Each household within its limit.
    for problem in problems:
        per_household = np.bincount(problem.pairs.household[plan.chosen[problem.county]], minlength=problem.households)
        assert (per_household <= problem.household_limit).all()


def test_uncontested_counties_are_solved_one_by_one():
    problems, capacity = _province(3, contested=0.0)
    capacity = {name: np.full_like(values, 10_000) for name, values in capacity.items()}
    plan = plan_partitioned(problems, capacity)
    assert plan.groups == [[problem.county] for problem in problems]
    assert plan.rounds == 1 and plan.solves == len(problems)
    assert plan.objective == _whole(problems, capacity)[1]


def test_contested_border_capacity_merges_only_the_counties_that_contest_it():
    problems, capacity = _province(5, counties=6, contested=1.0)
    messages = []
    plan = plan_partitioned(problems, capacity, progress=messages.append)
    assert plan.rounds > 1 and messages  # the first plans over-used a shared slot
    assert plan.objective == _whole(problems, capacity)[1]
    assert sorted(county for group in plan.groups for county in group) == sorted(p.county for p in problems)
