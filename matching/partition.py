"""A province's assignment from its counties' assignments, with the same optimum as one solve of the whole.

Counties are coupled only through (enterprise, mechanism) slots that households of several counties can
reach. Each county is first solved on its own as if it had every slot's whole capacity (a relaxation:
its optimum is at least its share of the province optimum). Where the counties' plans together use more
of a slot than it has, the counties using that slot are merged into one problem and solved together,
again with whole capacities towards everyone outside the group; this repeats until no slot is
over-used. Then every group's plan is optimal for its relaxation and together they are feasible, so
together they are optimal for the province: the same objective as the global min-cost flow, hence the
same coverage (the coverable households form a matroid; see matching/assign.py), found county by county
whenever border capacity is not contested, and with groups only as large as the contest requires.

The solve of a group is matching.assign.assign on the concatenation of its counties' candidate pairs
(enterprise indices refer to the province's enterprise table, household indices to the county).
"""
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from matching.assign import Assignment, assign
from matching.candidates import Pairs
from matching.rules import MECHANISMS


@dataclass
class CountyProblem:
    """One county's part of the assignment: its candidate pairs and scores, its households' need and limits."""

    county: str
    pairs: Pairs  # household: index among this county's households; enterprise: index into the province's
    scores: np.ndarray
    need_tier: np.ndarray
    household_limit: np.ndarray
    already_covered: np.ndarray

    @property
    def households(self) -> int:
        return len(self.need_tier)


@dataclass
class PartitionedPlan:
    """Each county's chosen pairs (a mask over its pairs), the province objective and how it was found."""

    chosen: dict[str, np.ndarray]
    objective: int
    groups: list[list[str]]  # the counties solved together in the end (one per group)
    rounds: int
    solves: int
    metrics: dict = field(default_factory=dict)


def slot_keys(pairs: Pairs) -> np.ndarray:
    """The (enterprise, mechanism) slot of each pair, as one integer (matching.assign's slot key)."""
    return pairs.enterprise.astype(np.int64) * len(MECHANISMS) + pairs.mechanism


def _combined(problems: list[CountyProblem]) -> tuple[CountyProblem, list[int]]:
    """The group's counties as one problem, and where each county's pairs start in it."""
    offsets, pair_starts, start, pair_start = [], [], 0, 0
    for problem in problems:
        offsets.append(start)
        pair_starts.append(pair_start)
        start += problem.households
        pair_start += len(problem.pairs)
    pairs = Pairs.concat([Pairs(problem.pairs.household + offset, problem.pairs.enterprise, problem.pairs.mechanism,
                                problem.pairs.distance_km) for problem, offset in zip(problems, offsets)])
    combined = CountyProblem(
        "+".join(problem.county for problem in problems), pairs,
        np.concatenate([problem.scores for problem in problems]) if problems else np.empty(0),
        np.concatenate([problem.need_tier for problem in problems]) if problems else np.empty(0, np.int64),
        np.concatenate([problem.household_limit for problem in problems]) if problems else np.empty(0, np.int64),
        np.concatenate([problem.already_covered for problem in problems]) if problems else np.empty(0, bool))
    return combined, pair_starts


def solve_group(problems: list[CountyProblem], capacity: dict[str, np.ndarray]) -> tuple[list[np.ndarray], int]:
    """Solve counties together with whole capacities; each county's chosen mask and the group's objective."""
    combined, pair_starts = _combined(problems)
    if len(combined.pairs) == 0:
        return [np.zeros(0, bool) for _ in problems], 0
    result: Assignment = assign(combined.pairs, combined.scores, combined.need_tier, capacity,
                                household_limit=combined.household_limit, already_covered=combined.already_covered)
    ends = pair_starts[1:] + [len(combined.pairs)]
    return [result.chosen[start:end] for start, end in zip(pair_starts, ends)], result.objective


def _slot_capacity(keys: np.ndarray, capacity: dict[str, np.ndarray]) -> np.ndarray:
    enterprise, mechanism = np.divmod(keys, len(MECHANISMS))
    table = np.column_stack([capacity[name] for name in MECHANISMS])
    return table[enterprise, mechanism].astype(np.int64)


def plan_partitioned(problems: list[CountyProblem], capacity: dict[str, np.ndarray],
                     solve: Callable[[list[CountyProblem], dict], tuple[list[np.ndarray], int]] = solve_group,
                     progress: Callable[[str], None] | None = None) -> PartitionedPlan:
    """The province's optimal assignment, county by county where capacity is not contested (see the module).

    `solve` solves a group of counties (a Dask task in a distributed run); it is called once per county and
    once per merged group."""
    by_county = {problem.county: problem for problem in problems}
    group_of = {county: index for index, county in enumerate(by_county)}  # county → group id
    members: dict[int, list[str]] = {index: [county] for county, index in group_of.items()}
    solved: dict[int, tuple[list[np.ndarray], int]] = {}
    rounds = solves = 0
    while True:
        rounds += 1
        for group, counties in members.items():
            if group not in solved:
                solved[group] = solve([by_county[county] for county in counties], capacity)
                solves += 1
        # Slot use of every group's plan, and the groups that use each slot.
        keys, users = [], []
        for group, counties in members.items():
            for county, chosen in zip(counties, solved[group][0]):
                used = slot_keys(by_county[county].pairs.take(chosen))
                keys.append(used)
                users.append(np.full(len(used), group, np.int64))
        all_keys = np.concatenate(keys) if keys else np.empty(0, np.int64)
        all_users = np.concatenate(users) if users else np.empty(0, np.int64)
        unique, counts = np.unique(all_keys, return_counts=True)
        over = unique[counts > _slot_capacity(unique, capacity)]
        if len(over) == 0:
            break
        # Merge the groups that over-use a slot together (union over every over-used slot).
        parent = {group: group for group in members}

        def root(group: int) -> int:
            while parent[group] != group:
                parent[group] = parent[parent[group]]
                group = parent[group]
            return group

        contested = np.isin(all_keys, over)
        for key in over:
            groups = np.unique(all_users[contested & (all_keys == key)])
            for other in groups[1:]:
                parent[root(int(other))] = root(int(groups[0]))
        merged: dict[int, list[str]] = {}
        for group, counties in members.items():
            merged.setdefault(root(group), []).extend(counties)
        for group in list(solved):
            if root(group) != group or len(merged[group]) != len(members[group]):
                solved.pop(group)  # changed: solved again next round
        members = {group: sorted(counties) for group, counties in merged.items()}
        if progress is not None:
            progress(f"第 {rounds} 轮：{len(over)} 个共用名额超出，合并为 {len(members)} 组 / round {rounds}: "
                     f"{len(over)} shared slots over capacity, {len(members)} groups")
    chosen = {county: mask for group, counties in members.items()
              for county, mask in zip(counties, solved[group][0])}
    objective = sum(result[1] for result in solved.values())
    return PartitionedPlan(chosen, int(objective), sorted(members.values()), rounds, solves)
