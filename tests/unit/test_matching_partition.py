"""The province's assignment from its counties' (matching/partition.py) equals one solve of the whole province:
same objective, same coverage, within every capacity — with border enterprises contested by several counties."""
import numpy as np
import pytest

from matching.candidates import Pairs
from matching.partition import (CountyProblem, _combined, enterprise_keys, plan_objective, plan_partitioned, solve_group,
                                starting_groups)
from matching.rules import MECHANISMS


def slot_keys(pairs: Pairs) -> np.ndarray:
    """Slot keys of a province whose enterprise keys are their indices."""
    return pairs.enterprise.astype(np.int64) * len(MECHANISMS) + pairs.mechanism


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
            rng.integers(1, 3, households), rng.random(households) < 0.1, np.arange(enterprises), capacity))
    return problems, capacity


def _whole(problems, capacity):
    """One solve of the whole province: the counties' chosen masks as one, and the objective."""
    combined, _ = _combined(problems)
    whole = solve_group([combined])
    return whole.chosen, whole.summary.objective


@pytest.mark.parametrize("seed", range(12))
def test_the_partitioned_plan_is_the_global_optimum(seed):
    problems, capacity = _province(seed)
    plan = plan_partitioned(problems)
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
    for problem in problems:
        problem.capacity = capacity
    plan = plan_partitioned(problems)
    assert plan.groups == [[problem.county] for problem in problems]
    assert plan.rounds == 1 and plan.solves == len(problems)
    assert plan.objective == _whole(problems, capacity)[1]


def test_contested_border_capacity_merges_only_the_counties_that_contest_it():
    problems, capacity = _province(5, counties=6, contested=1.0)
    messages = []
    plan = plan_partitioned(problems, progress=messages.append)
    assert plan.rounds > 1 and messages  # the first plans over-used a shared slot
    assert plan.objective == _whole(problems, capacity)[1]
    assert sorted(county for group in plan.groups for county in group) == sorted(p.county for p in problems)


def _local(problem: CountyProblem, codes: np.ndarray) -> CountyProblem:
    """The county's problem over only the enterprises it reaches, in its own order, keyed by credit code
    (as a county task on a Dask worker builds it)."""
    reached = np.unique(problem.pairs.enterprise)[::-1]  # an order of its own
    local_index = np.full(len(codes), -1)
    local_index[reached] = np.arange(len(reached))
    pairs = Pairs(problem.pairs.household, local_index[problem.pairs.enterprise], problem.pairs.mechanism,
                  problem.pairs.distance_km)
    return CountyProblem(problem.county, pairs, problem.scores, problem.need_tier, problem.household_limit,
                         problem.already_covered, enterprise_keys(codes[reached]),
                         {name: values[reached] for name, values in problem.capacity.items()})


@pytest.mark.parametrize("seed", range(4))
def test_counties_with_their_own_enterprise_tables_agree_through_global_keys(seed):
    problems, capacity = _province(seed, contested=0.8)
    codes = np.array([f"91433100MA4L{i:06d}" for i in range(12)])
    local = [_local(problem, codes) for problem in problems]
    plan, reference = plan_partitioned(local), plan_partitioned(problems)
    assert plan.objective == reference.objective == _whole(problems, capacity)[1]
    used = np.concatenate([problem.slot_keys(plan.chosen[problem.county]) for problem in local])
    slots, counts = np.unique(used, return_counts=True)
    key_of = dict(zip(enterprise_keys(codes), range(len(codes))))
    enterprise = np.array([key_of[key] for key in slots // len(MECHANISMS)])
    limit = np.column_stack([capacity[name] for name in MECHANISMS])[enterprise, slots % len(MECHANISMS)]
    assert (counts <= limit).all()


def test_enterprise_keys_are_stable_distinct_and_leave_room_for_the_mechanism():
    codes = [f"91433100MA4L{i:06d}" for i in range(20_000)]
    keys = enterprise_keys(codes)
    assert len(np.unique(keys)) == len(codes)
    assert (keys >= 0).all() and int(keys.max()) * len(MECHANISMS) + len(MECHANISMS) < 2 ** 63
    assert enterprise_keys(codes[:3]).tolist() == keys[:3].tolist()


def _assert_feasible(problems, plan, capacity):
    used_keys = np.concatenate([slot_keys(problem.pairs.take(plan.chosen[problem.county])) for problem in problems])
    keys, counts = np.unique(used_keys, return_counts=True)
    enterprise, mechanism = np.divmod(keys, len(MECHANISMS))
    assert (counts <= np.column_stack([capacity[name] for name in MECHANISMS])[enterprise, mechanism]).all()
    for problem in problems:
        per_household = np.bincount(problem.pairs.household[plan.chosen[problem.county]], minlength=problem.households)
        assert (per_household <= problem.household_limit).all()


@pytest.mark.parametrize("seed", range(8))
def test_groups_held_to_a_size_share_the_contested_places_within_every_capacity(seed):
    problems, capacity = _province(seed, counties=8, households=60, contested=0.7)
    messages = []
    plan = plan_partitioned(problems, progress=messages.append, max_group=120)  # at most two counties together
    assert max(len(group) for group in plan.groups) <= 2
    _assert_feasible(problems, plan, capacity)
    optimum = _whole(problems, capacity)[1]
    assert plan.objective <= optimum
    assert plan.objective >= 0.95 * optimum, "shared out in proportion to use, close to the optimum"
    if plan.metrics["slots_shared_out"]:
        assert any("按比例分配" in message for message in messages)


def test_without_a_size_limit_nothing_is_shared_out():
    problems, capacity = _province(4, counties=8, households=60, contested=0.7)
    plan = plan_partitioned(problems)
    assert plan.metrics["slots_shared_out"] == 0
    assert plan.objective == _whole(problems, capacity)[1]


@pytest.mark.parametrize("seed", range(6))
def test_after_the_last_round_the_plans_are_cut_to_their_shares_within_every_capacity(seed):
    problems, capacity = _province(seed, counties=8, households=60, contested=0.9)
    messages = []
    plan = plan_partitioned(problems, progress=messages.append, max_group=120, max_rounds=1)
    assert plan.rounds == 1
    _assert_feasible(problems, plan, capacity)
    optimum = _whole(problems, capacity)[1]
    assert plan.objective <= optimum
    recount = sum(plan_objective(problem, plan.chosen[problem.county]) for problem in problems)
    assert plan.objective == recount, "the cut plans' objective is counted as the solver counts it"
    if any(message.startswith("第 1 轮后") for message in messages):
        assert plan.metrics["slots_shared_out"] > 0


def test_a_plans_objective_is_counted_as_the_solver_counts_it():
    problems, capacity = _province(2)
    for problem in problems:
        plan = solve_group([problem])
        assert plan_objective(problem, plan.chosen[0]) == plan.summary.objective


def test_starting_from_given_groups_keeps_the_optimum():
    from matching.partition import plan_groups
    problems, capacity = _province(6, counties=6, contested=0.8)
    by_county = {problem.county: problem for problem in problems}
    plans = {}

    def solve(groups, limits):
        for group, group_limits in zip(groups, limits):
            plans[group] = solve_group([by_county[c] for c in group], group_limits)
        return [plans[group].summary for group in groups]

    counties = sorted(by_county)
    groups, objective, rounds, solves, shared = plan_groups(
        counties, solve, sizes={c: by_county[c].households for c in counties},
        initial_groups=[tuple(counties[:2]), tuple(counties[2:4]), tuple(counties[4:])])
    assert shared == 0 and objective == _whole(problems, capacity)[1]


def test_the_first_round_starts_from_an_earlier_runs_groups_within_the_size_limit():
    sizes = {"A": 10, "B": 20, "C": 30, "D": 5, "E": 1}
    earlier = [["A", "B", "X"], ["C", "D"], ["E"]]
    assert starting_groups(["A", "B", "C", "D", "E"], earlier, sizes, 30) == [
        ("A", "B"), ("C",), ("D",), ("E",)], "C+D would exceed the limit: alone again"
    assert starting_groups(["B", "C", "D"], earlier, sizes, None) == [("B",), ("C", "D")]
    assert starting_groups(["A"], [], sizes, None) == [("A",)]


@pytest.mark.parametrize("seed", range(6))
def test_a_run_warm_started_from_an_earlier_runs_groups_and_shares_needs_fewer_solves(seed):
    problems, capacity = _province(seed, counties=8, households=60, contested=0.7)
    shares = {}
    cold = plan_partitioned(problems, max_group=120, final_shares=shares)
    warm = plan_partitioned(problems, max_group=120, initial_groups=[tuple(group) for group in cold.groups],
                            initial_shares=shares)
    _assert_feasible(problems, warm, capacity)
    assert warm.solves <= cold.solves and warm.rounds <= cold.rounds
    assert warm.objective >= 0.99 * cold.objective
    assert all(len(by_group) > 1 for by_group in shares.values()), "a share is between groups"
    if cold.metrics["slots_shared_out"]:
        assert shares and warm.metrics["slots_shared_out"] >= len(shares)
