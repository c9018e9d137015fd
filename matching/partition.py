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

A county's problem carries its own enterprises (a global key each, so that counties planned on different
machines agree on which slot is which) and their capacities; a group's solve is matching.assign.assign on
the union. `plan_groups` only sees each group's slot use and objective, so the problems and the plans can
stay where they were computed (Dask workers, matching/province.py); `plan_partitioned` runs it in process.
"""
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from matching.assign import COVER_BONUS, SCORE_SCALE, assign
from matching.candidates import Pairs
from matching.rules import MECHANISMS


def enterprise_keys(credit_codes) -> np.ndarray:
    """A stable 59-bit integer per credit code: the same on every machine, and small enough that a slot key
    (key × mechanisms + mechanism) fits in int64. Collisions among a nation's enterprises are ~1e-7 likely."""
    return np.array([int.from_bytes(hashlib.blake2b(str(code).encode("utf-8"), digest_size=8).digest(), "big") >> 5
                     for code in credit_codes], dtype=np.int64)


@dataclass
class CountyProblem:
    """One county's part of the assignment: its candidate pairs and scores, its households' need and limits,
    and the enterprises it reaches (pairs.enterprise indexes them) with their keys and whole capacities."""

    county: str
    pairs: Pairs  # household: index among this county's households; enterprise: index into enterprise_keys
    scores: np.ndarray
    need_tier: np.ndarray
    household_limit: np.ndarray
    already_covered: np.ndarray
    enterprise_keys: np.ndarray
    capacity: dict[str, np.ndarray]  # mechanism → remaining capacity of each of the county's enterprises

    @property
    def households(self) -> int:
        return len(self.need_tier)

    def slot_keys(self, chosen=slice(None)) -> np.ndarray:
        """The global (enterprise, mechanism) slot key of each (chosen) pair."""
        return self.enterprise_keys[self.pairs.enterprise[chosen]] * len(MECHANISMS) + self.pairs.mechanism[chosen]


@dataclass
class GroupSummary:
    """What the coordination needs of a group's plan: the slots it uses, how much of each, their capacity."""

    slots: np.ndarray
    used: np.ndarray
    capacity: np.ndarray
    objective: int


@dataclass
class GroupPlan:
    """A group's solved plan: each county's chosen pairs (a mask over its pairs) and its summary."""

    counties: list[str]
    chosen: list[np.ndarray]
    summary: GroupSummary


@dataclass
class PartitionedPlan:
    """Each county's chosen pairs (a mask over its pairs), the province objective and how it was found."""

    chosen: dict[str, np.ndarray]
    objective: int
    groups: list[list[str]]  # the counties solved together in the end (one per group)
    rounds: int
    solves: int
    metrics: dict = field(default_factory=dict)


def _combined(problems: Sequence[CountyProblem]) -> tuple[CountyProblem, list[int]]:
    """The group's counties as one problem over the union of their enterprises, and where each county's
    pairs start in it."""
    all_keys = np.concatenate([problem.enterprise_keys for problem in problems]) if problems else np.empty(0, np.int64)
    keys, first, inverse = np.unique(all_keys, return_index=True, return_inverse=True)
    capacity = {name: np.concatenate([problem.capacity[name] for problem in problems])[first] if problems
                else np.empty(0, np.int64) for name in MECHANISMS}
    parts, pair_starts, household_offset, enterprise_offset, pair_start = [], [], 0, 0, 0
    for problem in problems:
        pair_starts.append(pair_start)
        parts.append(Pairs(problem.pairs.household + household_offset,
                           inverse[enterprise_offset + problem.pairs.enterprise], problem.pairs.mechanism,
                           problem.pairs.distance_km))
        household_offset += problem.households
        enterprise_offset += len(problem.enterprise_keys)
        pair_start += len(problem.pairs)
    combined = CountyProblem(
        "+".join(problem.county for problem in problems), Pairs.concat(parts),
        np.concatenate([problem.scores for problem in problems]) if problems else np.empty(0),
        np.concatenate([problem.need_tier for problem in problems]) if problems else np.empty(0, np.int64),
        np.concatenate([problem.household_limit for problem in problems]) if problems else np.empty(0, np.int64),
        np.concatenate([problem.already_covered for problem in problems]) if problems else np.empty(0, bool),
        keys, capacity)
    return combined, pair_starts


def summarise(problem: CountyProblem, chosen: np.ndarray, objective: int) -> GroupSummary:
    """The slot use of a (combined) problem's plan."""
    slots, used = np.unique(problem.slot_keys(chosen), return_counts=True)
    enterprise_of_slot = np.searchsorted(problem.enterprise_keys, slots // len(MECHANISMS))
    table = np.column_stack([problem.capacity[name] for name in MECHANISMS]) if len(problem.enterprise_keys) \
        else np.zeros((0, len(MECHANISMS)), np.int64)
    capacity = table[enterprise_of_slot, slots % len(MECHANISMS)].astype(np.int64) if len(slots) else np.empty(0, np.int64)
    return GroupSummary(slots, used, capacity, int(objective))


def with_slot_capacity(problem: CountyProblem, keys: np.ndarray, values: np.ndarray, combine) -> CountyProblem:
    """The problem with the capacity of the given slots (sorted keys) replaced by combine(capacity, value)."""
    if len(keys) == 0:
        return problem
    capacity = {}
    for position, name in enumerate(MECHANISMS):
        slots = problem.enterprise_keys * len(MECHANISMS) + position
        at = np.clip(np.searchsorted(keys, slots), 0, len(keys) - 1)
        capacity[name] = np.where(keys[at] == slots, combine(problem.capacity[name], values[at]), problem.capacity[name])
    return CountyProblem(problem.county, problem.pairs, problem.scores, problem.need_tier, problem.household_limit,
                         problem.already_covered, problem.enterprise_keys, capacity)


def _limited(problem: CountyProblem, limits: tuple[np.ndarray, np.ndarray] | None) -> CountyProblem:
    """The problem with the given slots (sorted keys) limited to the given places: its share of them."""
    return problem if limits is None else with_slot_capacity(problem, *limits, np.minimum)


def solve_group(problems: Sequence[CountyProblem], limits: tuple[np.ndarray, np.ndarray] | None = None) -> GroupPlan:
    """Solve counties together, each slot with its whole capacity or, for the slots in `limits`, the group's
    share of it; each county's chosen mask and the summary (which states every slot's whole capacity)."""
    whole, pair_starts = _combined(problems)
    combined = _limited(whole, limits)
    counties = [problem.county for problem in problems]
    if len(combined.pairs) == 0:
        return GroupPlan(counties, [np.zeros(0, bool) for _ in problems], summarise(whole, np.zeros(0, bool), 0))
    result = assign(combined.pairs, combined.scores, combined.need_tier, combined.capacity,
                    household_limit=combined.household_limit, already_covered=combined.already_covered,
                    with_metrics=False)
    ends = pair_starts[1:] + [len(combined.pairs)]
    return GroupPlan(counties, [result.chosen[start:end] for start, end in zip(pair_starts, ends)],
                     summarise(whole, result.chosen, result.objective))


def plan_objective(problem: CountyProblem, chosen: np.ndarray) -> int:
    """A plan's objective as matching.assign counts it: each chosen pair's score, and the coverage bonus of
    every household it newly covers."""
    covered = np.zeros(problem.households, bool)
    covered[problem.pairs.household[chosen]] = True
    covered &= ~problem.already_covered.astype(bool)
    bonus = COVER_BONUS * (1 + problem.need_tier.astype(np.int64))
    return int(np.rint(problem.scores[chosen].astype(np.float64) * SCORE_SCALE).astype(np.int64).sum()
               + bonus[covered].sum())


def trim_group(problems: Sequence[CountyProblem], plan: GroupPlan, limits: tuple[np.ndarray, np.ndarray]) -> GroupPlan:
    """The group's plan with each limited slot cut to its share, letting go of the pairs there whose loss to the
    objective is least (no new solve: the last rounds' few over-used slots are settled this way)."""
    whole, pair_starts = _combined(problems)
    chosen = np.concatenate(plan.chosen) if plan.chosen else np.zeros(0, bool)
    keys, places = limits
    slot_of_pair = whole.slot_keys()
    bonus = np.where(whole.already_covered.astype(bool), 0, COVER_BONUS * (1 + whole.need_tier.astype(np.int64)))
    for key, share in zip(keys, places):
        holding = np.flatnonzero(chosen & (slot_of_pair == key))
        if len(holding) <= share:
            continue
        # Let go of the pairs whose loss is least: a household that keeps another pair (or was covered
        # already) loses only the score; one left without any loses its coverage bonus as well.
        pairs_of_household = np.bincount(whole.pairs.household[chosen], minlength=whole.households)
        household = whole.pairs.household[holding]
        loss = np.rint(whole.scores[holding].astype(np.float64) * SCORE_SCALE) + np.where(
            pairs_of_household[household] > 1, 0, bonus[household])
        order = np.lexsort((-whole.scores[holding], loss))
        chosen[holding[order[:len(holding) - share]]] = False
    ends = pair_starts[1:] + [len(whole.pairs)]
    return GroupPlan(plan.counties, [chosen[start:end] for start, end in zip(pair_starts, ends)],
                     summarise(whole, chosen, plan_objective(whole, chosen)))


def _shares(capacity: int, users: np.ndarray, used: np.ndarray) -> dict[int, int]:
    """A slot's places shared among its users in proportion to their use (largest remainder)."""
    exact = capacity * used / used.sum()
    shares = np.floor(exact).astype(np.int64)
    for position in np.argsort(-(exact - shares), kind="stable")[:capacity - int(shares.sum())]:
        shares[position] += 1
    return {int(user): int(share) for user, share in zip(users, shares)}


LEFTOVER_ROUNDS = 3  # times the unused places of shared-out slots are handed to the groups that used their share


def _give_leftovers(shared: dict[int, dict[int, int]], slots: np.ndarray, total: np.ndarray, capacity: np.ndarray,
                    solved: dict[int, GroupSummary], members: dict) -> set[int]:
    """Hand each shared-out slot's unused places to the groups that use all of their share (they may want more),
    in proportion to their share; the groups given more (to be solved again)."""
    given: set[int] = set()
    for slot, slot_shares in shared.items():
        at = np.searchsorted(slots, slot)
        used_total = int(total[at]) if at < len(slots) and slots[at] == slot else 0
        leftover = (int(capacity[at]) if at < len(slots) and slots[at] == slot else sum(slot_shares.values())) - used_total
        if leftover <= 0:
            continue
        binding = []
        for group, share in slot_shares.items():
            if group not in members or share == 0:
                continue
            summary = solved[group]
            position = np.searchsorted(summary.slots, slot)
            used = int(summary.used[position]) if position < len(summary.slots) and summary.slots[position] == slot else 0
            if used >= share:
                binding.append(group)
        if not binding:
            continue
        extra = _shares(leftover, np.array(binding), np.array([slot_shares[group] for group in binding], float))
        for group, places in extra.items():
            if places:
                slot_shares[group] += places
                given.add(group)
    return given


def _share_out(shared: dict[int, dict[int, int]], over: np.ndarray, unique: np.ndarray, inverse: np.ndarray,
               users: np.ndarray, used: np.ndarray, capacity: np.ndarray) -> list[int]:
    """Share each over-used slot among the groups using it, in proportion to their use; the groups concerned."""
    concerned: set[int] = set()
    for slot_index in over:
        at = inverse == slot_index
        roots, use = np.unique(users[at], return_inverse=True)
        shared[int(unique[slot_index])] = _shares(int(capacity[slot_index]), roots, np.bincount(use, weights=used[at]))
        concerned.update(int(group) for group in roots)
    return sorted(concerned)


def plan_groups(counties: Sequence[str],
                solve: Callable[[list[tuple[str, ...]], list[tuple[np.ndarray, np.ndarray]]], list[GroupSummary]],
                progress: Callable[[str], None] | None = None, sizes: dict[str, int] | None = None,
                max_group: int | None = None,
                trim: Callable[[list[tuple[str, ...]], list[tuple[np.ndarray, np.ndarray]]], list[GroupSummary]]
                | None = None, max_rounds: int | None = None, initial_groups: list[tuple[str, ...]] | None = None,
                initial_shares: dict[int, dict[tuple[str, ...], int]] | None = None,
                final_shares: dict[int, dict[tuple[str, ...], int]] | None = None
                ) -> tuple[list[tuple[str, ...]], int, int, int, int]:
    """Coordinate the counties' plans (see the module): (final groups, province objective, rounds, solves,
    slots shared out).

    `solve(groups, limits)` solves a batch of groups (each a sorted tuple of counties), each with its share of
    the shared-out slots (sorted slot keys, places) — in parallel where it can — keeps their plans and returns
    their summaries. Groups merge while their `sizes` (households) stay within `max_group` (None: always, the
    exact optimum); a slot over-used by groups that may not merge is shared out among its users in proportion
    to their use, and closed to every other group. After `max_rounds` rounds of solving (None: no limit), the
    slots still over-used are shared out the same way and each group's plan is cut to its share by `trim`
    (its lowest-scored pairs there let go) instead of being solved again. `initial_groups` (default: each county
    alone) are the groups of the first round; `initial_shares` (slot → {group's counties: places}, an earlier
    run's `final_shares`) the shares they start with, where every group sharing a slot is among them: a warm
    start, after which the rounds go on as ever. `final_shares`, when given, is filled with the final shares."""
    sizes = sizes or {}
    members: dict[int, tuple[str, ...]] = dict(enumerate(initial_groups or [(county,) for county in sorted(counties)]))
    shared: dict[int, dict[int, int]] = {}  # shared-out slot → {group: places}
    group_of = {group_counties: group for group, group_counties in members.items()}
    for slot, by_group in (initial_shares or {}).items():
        if len(by_group) > 1 and all(tuple(group_counties) in group_of for group_counties in by_group):
            shared[int(slot)] = {group_of[tuple(group_counties)]: int(places)
                                 for group_counties, places in by_group.items()}
    solved: dict[int, GroupSummary] = {}
    rounds = solves = handed = 0

    def size(group: int) -> int:
        return sum(sizes.get(county, 0) for county in members[group])

    def limits_of(group: int) -> tuple[np.ndarray, np.ndarray]:
        keys = np.array(sorted(shared), dtype=np.int64)
        return keys, np.array([shared[key].get(group, 0) for key in keys], dtype=np.int64)

    while True:
        rounds += 1
        pending = [group for group in members if group not in solved]
        for group, summary in zip(pending, solve([members[group] for group in pending],
                                                 [limits_of(group) for group in pending])):
            solved[group] = summary
        solves += len(pending)
        # Slot use of every group's plan, and the groups that use each slot.
        keys = [solved[group].slots for group in members]
        all_keys = np.concatenate(keys) if keys else np.empty(0, np.int64)
        all_used = np.concatenate([solved[group].used for group in members]) if keys else np.empty(0, np.int64)
        all_capacity = np.concatenate([solved[group].capacity for group in members]) if keys else np.empty(0, np.int64)
        all_users = np.concatenate([np.full(len(solved[group].slots), group, np.int64) for group in members]) \
            if keys else np.empty(0, np.int64)
        unique, inverse = np.unique(all_keys, return_inverse=True)
        total = np.bincount(inverse, weights=all_used, minlength=len(unique))
        capacity = np.zeros(len(unique), np.int64)
        capacity[inverse] = all_capacity
        over = np.flatnonzero(total > capacity)
        if len(over) == 0:
            given = _give_leftovers(shared, unique, total, capacity, solved, members) if handed < LEFTOVER_ROUNDS else set()
            if not given:
                break
            handed += 1
            for group in given:
                solved.pop(group)
            if progress is not None:
                progress(f"第 {rounds} 轮：分配名额的剩余部分再分给用满份额的 {len(given)} 组 / round {rounds}: "
                         f"leftover places of shared-out slots handed to {len(given)} groups that used their share")
            continue
        if max_rounds is not None and trim is not None and rounds >= max_rounds:
            cut = _share_out(shared, over, unique, inverse, all_users, all_used, capacity)
            for group, summary in zip(cut, trim([members[group] for group in cut], [limits_of(group) for group in cut])):
                solved[group] = summary
            if progress is not None:
                progress(f"第 {rounds} 轮后：{len(over)} 个仍超出的共用名额按比例分配，{len(cut)} 组按份额裁减 / after round "
                         f"{rounds}: {len(over)} slots still over capacity shared out, {len(cut)} groups cut to their share")
            break
        # Merge the groups that over-use a slot together, largest excess first, while the size allows.
        parent = {group: group for group in members}
        grown = {group: size(group) for group in members}

        def root(group: int) -> int:
            while parent[group] != group:
                parent[group] = parent[parent[group]]
                group = parent[group]
            return group

        contested = np.isin(inverse, over)
        order = np.argsort(inverse[contested], kind="stable")
        slot_of, users, uses = inverse[contested][order], all_users[contested][order], all_used[contested][order]
        starts = np.r_[0, np.flatnonzero(np.diff(slot_of)) + 1] if len(slot_of) else np.empty(0, np.int64)
        ends = np.r_[starts[1:], len(slot_of)]
        excess = total[slot_of[starts]] - capacity[slot_of[starts]] if len(starts) else np.empty(0)
        to_share = []
        for position in np.argsort(-excess, kind="stable"):
            start, end = starts[position], ends[position]
            roots = sorted({root(int(user)) for user in users[start:end]})
            if max_group is None or sum(grown[r] for r in roots) <= max_group:
                for other in roots[1:]:
                    parent[other] = roots[0]
                    grown[roots[0]] += grown[other]
            else:
                to_share.append(position)
        merged: dict[int, list[str]] = {}
        for group, group_counties in members.items():
            merged.setdefault(root(group), []).extend(group_counties)
        for slot_shares in shared.values():  # a merged group holds its parts' shares
            for group in list(slot_shares):
                if root(group) != group:
                    slot_shares[root(group)] = slot_shares.get(root(group), 0) + slot_shares.pop(group)
        changed = {group for group in merged if len(merged[group]) != len(members[group])}
        for position in to_share:
            start, end = starts[position], ends[position]
            slot = int(unique[slot_of[start]])
            user_roots = np.array([root(int(user)) for user in users[start:end]])
            roots, use = np.unique(user_roots, return_inverse=True)
            shared[slot] = _shares(int(capacity[slot_of[start]]), roots, np.bincount(use, weights=uses[start:end]))
            changed.update(int(group) for group in roots)
        for group in list(solved):
            if group not in merged or group in changed:
                solved.pop(group)  # merged into another, grown, or given a share: solved again next round
        members = {group: tuple(sorted(group_counties)) for group, group_counties in merged.items()}
        if progress is not None:
            progress(f"第 {rounds} 轮：{len(over)} 个共用名额超出，合并为 {len(members)} 组，"
                     f"{len(shared)} 个名额按比例分配 / round {rounds}: {len(over)} shared slots over capacity, "
                     f"{len(members)} groups, {len(shared)} slots shared out")
    objective = sum(solved[group].objective for group in members)
    if final_shares is not None:
        final_shares.update({slot: {members[group]: places for group, places in slot_shares.items() if group in members}
                             for slot, slot_shares in shared.items() if len(slot_shares) > 1})
    return sorted(members.values()), int(objective), rounds, solves, len(shared)


def starting_groups(counties: Sequence[str], earlier: Sequence[Sequence[str]], sizes: dict[str, int],
                    max_group: int | None) -> list[tuple[str, ...]]:
    """The first round's groups: an earlier run's final groups (the contests it found) restricted to these
    counties, each within max_group; every other county alone."""
    wanted, groups = set(counties), []
    for group in earlier:
        members = tuple(sorted(county for county in group if county in wanted))
        if len(members) > 1 and (max_group is None or sum(sizes.get(county, 0) for county in members) <= max_group):
            groups.append(members)
            wanted -= set(members)
    return sorted(groups + [(county,) for county in wanted])


def plan_partitioned(problems: Sequence[CountyProblem], progress: Callable[[str], None] | None = None,
                     max_group: int | None = None, max_rounds: int | None = None,
                     initial_groups: list[tuple[str, ...]] | None = None, initial_shares: dict | None = None,
                     final_shares: dict | None = None) -> PartitionedPlan:
    """The province's assignment in this process, county by county where capacity is not contested (optimal
    when max_group is None; see plan_groups, which takes the warm start and fills final_shares)."""
    by_county = {problem.county: problem for problem in problems}
    plans: dict[tuple[str, ...], GroupPlan] = {}

    def solve(groups: list[tuple[str, ...]], limits: list) -> list[GroupSummary]:
        for group, group_limits in zip(groups, limits):
            plans[group] = solve_group([by_county[county] for county in group], group_limits)
        return [plans[group].summary for group in groups]

    def trim(groups: list[tuple[str, ...]], limits: list) -> list[GroupSummary]:
        for group, group_limits in zip(groups, limits):
            plans[group] = trim_group([by_county[county] for county in group], plans[group], group_limits)
        return [plans[group].summary for group in groups]

    groups, objective, rounds, solves, shared = plan_groups(
        list(by_county), solve, progress, {problem.county: problem.households for problem in problems}, max_group,
        trim, max_rounds, initial_groups, initial_shares, final_shares)
    chosen = {county: mask for group in groups for county, mask in zip(plans[group].counties, plans[group].chosen)}
    return PartitionedPlan(chosen, objective, [list(group) for group in groups], rounds, solves,
                           {"slots_shared_out": shared})
