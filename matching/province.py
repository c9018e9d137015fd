"""A match run as county tasks: read, score, coordinate the shared capacity, write — on Dask or in process.

Per county, on a worker (`prepare_county`): read the county's households and the enterprises in range
(each worker reads an enterprise county once per run and keeps it), compute the input fingerprint; if the
county changed (or the run is forced), build and score its candidate pairs into a CountyProblem. The
prepared county stays on its worker; the client only learns its fingerprint and size.

Then the client coordinates the counties (matching/partition.py): each group of counties is solved as one
task on the workers (`solve_task`), and only its slot use travels back, until no shared
(enterprise, mechanism) slot is over-used — the province optimum. Capacity held by the current plans of
counties this run does not recompute is subtracted in the solve.

Counties likely to be solved together are prepared on one worker (`placement`): the groups the latest run
ended with, else the counties of a prefecture (contests are between neighbours), the workers' shares of
households balanced; a group's solve then reads its counties where they are instead of moving them between
workers (measured at 1,000,000 households: a third of the first round's time went on such transfers).

Last, each county writes its own recommendations (`write_county`), in parallel: deleting first what an
earlier try of the same task wrote, so a retried or re-run task writes its county exactly once.

Tasks are retried (MATCH_TASK_RETRIES); a lost worker's results are recomputed by Dask from the tasks
that made them. Nothing here is current until the run switches (matching/run.py), so a run stopped
half-way leaves the previous current recommendations in place.
"""
import atexit
import ctypes
import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import neo4j
import numpy as np
import pandas as pd
from dask.sizeof import sizeof

from core import geography
from core.settings import Settings
from graph import matching as queries
from graph.db import create_driver
from matching.candidates import Pairs
from matching.exclusions import blocked_keys
from matching.features import Enterprises, Households
from matching.model_store import scorer_for
from matching.partition import (CountyProblem, GroupPlan, GroupSummary, enterprise_keys, plan_groups, solve_group,
                                starting_groups, trim_group, with_slot_capacity)
from matching.reach import neighbour_counties
from matching.pipeline import Scored, recommendation_rows, score_candidates
from matching.rules import MECHANISMS, EligibilityRules
from matching.sides import DECLINED
from matching.scoring import BlendedScorer

def fingerprint(*parts) -> str:
    """A short digest of JSON-able parts (a county's inputs)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
    return digest.hexdigest()[:20]


# ---- worker-process state: one driver per process (as the Neo4j driver wants), enterprise reads per run ----

_DRIVERS: dict[tuple, neo4j.Driver] = {}
_TABLES: dict[str, "EnterpriseTable"] = {}  # run id → the run's enterprises, read once per worker process
_STATE_LOCK = threading.Lock()


def worker_driver(settings: Settings) -> neo4j.Driver:
    """This process's driver for the settings' database (created once, closed at exit)."""
    key = (settings.bolt_uri, settings.neo4j_user)
    with _STATE_LOCK:
        if key not in _DRIVERS:
            _DRIVERS[key] = create_driver(settings)
        return _DRIVERS[key]


@atexit.register
def _close_drivers() -> None:
    for driver in _DRIVERS.values():
        driver.close()


@dataclass
class EnterpriseTable:
    """Every enterprise a run's counties can reach (sorted by credit code), and a digest of each county's."""

    enterprises: Enterprises
    county_digests: dict[str, str]

    def in_range_of(self, counties: list[str]) -> tuple[Enterprises, list[str]]:
        """The enterprises of the counties, and the digests of those counties' enterprise records."""
        positions = np.flatnonzero(np.isin(self.enterprises.county_code, counties))
        return self.enterprises.take(positions), [self.county_digests.get(county, "") for county in sorted(counties)]


def enterprise_table(spec: "RunSpec") -> EnterpriseTable:
    """The run's enterprise table in this process: read from Neo4j by the first task that needs it."""
    with _STATE_LOCK:
        table = _TABLES.get(spec.run_id)
    if table is not None:
        return table
    records = queries.county_enterprises(worker_driver(spec.settings), list(spec.enterprise_counties),
                                         spec.settings.neo4j_database)
    by_county: dict[str, list[dict]] = {}
    for record in records:
        by_county.setdefault(record["county_code"], []).append(record)
    table = EnterpriseTable(Enterprises.from_records(records, spec.params.rules),
                            {county: fingerprint(found) for county, found in by_county.items()})
    with _STATE_LOCK:
        _TABLES.clear()  # an earlier run's: its capacities may have changed since
        _TABLES[spec.run_id] = table
    return table


def placement(counties: list[str], groups: list[tuple[str, ...]], sizes: dict[str, int],
              workers: int) -> dict[str, int]:
    """county → worker index: each of `groups` (counties that will be solved together) on one worker, every
    other county with the rest of its prefecture; the largest units first, each to the least loaded worker."""
    wanted = set(counties)
    units: dict[tuple, list[str]] = {}
    for group in groups:
        members = [county for county in group if county in wanted]
        units[("group", *members)] = members
        wanted -= set(members)
    for county in sorted(wanted):
        units.setdefault(("prefecture", geography.prefecture_code_of(county)), []).append(county)
    load = [0] * max(workers, 1)
    chosen = {}
    for unit in sorted(units.values(), key=lambda members: (-sum(sizes.get(c, 0) for c in members), members)):
        worker = min(range(len(load)), key=lambda index: (load[index], index))
        load[worker] += sum(sizes.get(county, 0) for county in unit)
        chosen.update({county: worker for county in unit})
    return chosen


# ---- the tasks ----

@dataclass
class CountyWork:
    """A prepared county, kept on the worker that prepared it."""

    county: str
    fingerprint: str
    households: int
    scored: Scored | None = None  # None: unchanged since its latest run, not recomputed
    problem: CountyProblem | None = None
    existing: np.ndarray | None = None
    timings: dict = field(default_factory=dict)

    def header(self) -> dict:
        """What the client learns of the county: small."""
        return {"county": self.county, "fingerprint": self.fingerprint, "households": self.households,
                "changed": self.problem is not None, "pairs": len(self.problem.pairs) if self.problem else 0,
                "timings": self.timings}


@dataclass
class RunSpec:
    """What every task of a run needs to know (sent with each task: small)."""

    run_id: str
    writer: str
    settings: Settings
    params: "object"  # matching.run.MatchParams (kept loose: that module imports this one)
    force: bool = False
    enterprise_counties: tuple[str, ...] = ()  # every county whose enterprises a planned county may reach
    # Each county's eligibility rules (its current CountyRules over params.rules; matching/run.py reads them).
    county_rules: dict[str, EligibilityRules] = field(default_factory=dict)

    def rules_for(self, county: str) -> EligibilityRules:
        """The county's eligibility rules: its own if it has applied any, else the run's (params.rules)."""
        return self.county_rules.get(county, self.params.rules)


def _scorer(spec: RunSpec) -> BlendedScorer:
    """The run's scorer: its model (loaded once per worker process) at its blend weight, or the rules alone."""
    params = spec.params
    return scorer_for(worker_driver(spec.settings), params.model_version, params.alpha, params.model_reference,
                      spec.settings.neo4j_database)


def prepare_county(spec: RunSpec, county: str, previous_fingerprint: str | None) -> CountyWork:
    """Read the county and take the enterprises in range; if its inputs changed, score its candidates.

    What is kept for the coordination and the writing is compact: the enterprises its candidates name (with
    the whole table's scale), pair indices as int32, distances and scores as float32."""
    params = spec.params
    rules = spec.rules_for(county)
    started = time.perf_counter()
    driver, database = worker_driver(spec.settings), spec.settings.neo4j_database
    columns = queries.county_household_columns(driver, county, database)
    declines = queries.decisions(driver, [county], database, statuses=[DECLINED])
    in_range, digests = enterprise_table(spec).in_range_of(neighbour_counties([county], rules.search_radius_km()))
    timings = {"read_s": time.perf_counter() - started}
    # The parameters with the county's rules: a change of its rules recomputes it (and a county on the run's
    # rules keeps the fingerprint it had before counties had rules of their own).
    digest = fingerprint(columns, digests, replace(params, rules=rules).as_json(), declines)
    work = CountyWork(county, digest, len(columns["household_id"]), timings=timings)
    if not spec.force and digest == previous_fingerprint:
        return work
    households = Households.from_columns(columns)
    blocked = blocked_keys(households, in_range, columns["open_partner_codes"], declines, columns)
    scored = score_candidates(households, in_range, rules, _scorer(spec), params.per_mechanism, blocked)
    named = np.unique(scored.pairs.enterprise)
    enterprises = in_range.take(named)
    pairs = Pairs(scored.pairs.household.astype(np.int32), np.searchsorted(named, scored.pairs.enterprise).astype(np.int32),
                  scored.pairs.mechanism, scored.pairs.distance_km.astype(np.float32))
    scores = scored.scores.astype(np.float32)
    existing = np.asarray(columns["active_partnerships"], dtype=np.int64)
    work.scored, work.existing = Scored(households, enterprises, pairs, scores, scored.timings), existing
    # Households with follow-up items first (their planning tier tops every need tier), covered or not.
    work.problem = CountyProblem(county, pairs, scores, households.planning_tier,
                                 households.limits(params.household_limit, existing), (existing > 0) & ~households.follow_up,
                                 enterprise_keys(enterprises.ids), enterprises.capacity)
    timings.update({key: value for key, value in scored.timings.items() if key.endswith("_s")})
    return work


def _data_bytes(value, seen: set[int]) -> int:
    """The bytes of the arrays and frames inside `value` (dataclasses, dicts, lists), each counted once (Dask's
    own sizeof measures each array and frame; the walk counts an array two dataclasses share once)."""
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, (np.ndarray, pd.DataFrame, pd.Series)):
        return sizeof(value)
    if hasattr(value, "__dataclass_fields__"):
        return sum(_data_bytes(getattr(value, name), seen) for name in value.__dataclass_fields__)
    if isinstance(value, dict):
        return sum(_data_bytes(item, seen) for item in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_data_bytes(item, seen) for item in value)
    return 0


# What a prepared county and a group's plan hold, for Dask's memory accounting (its default for an object
# is the object alone: every prepared county then counted as unmanaged memory, and Dask warned of a leak).
@sizeof.register(CountyWork)
@sizeof.register(GroupPlan)
def _sizeof_kept(value) -> int:
    return _data_bytes(value, set()) + 1024


def header_of(work: CountyWork) -> dict:
    """The small part of a prepared county (a task, so that only it travels to the client)."""
    return work.header()


def _less_held(problem: CountyProblem, held_slots: np.ndarray, held_counts: np.ndarray) -> CountyProblem:
    """The problem with the capacity held by counties outside the run taken off."""
    return with_slot_capacity(problem, held_slots, held_counts, lambda capacity, held: np.maximum(capacity - held, 0))


def _return_freed_memory() -> None:
    """Give the heap memory a large solve freed back to the system (glibc keeps it otherwise, and a worker's
    RSS then creeps towards its memory limit over the rounds); nothing where there is no glibc."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def solve_task(held: tuple[np.ndarray, np.ndarray], limits: tuple[np.ndarray, np.ndarray], *works: CountyWork) -> GroupPlan:
    """Solve a group of prepared counties together, with its share of shared-out slots (matching.partition)."""
    plan = solve_group([_less_held(work.problem, *held) for work in works], limits)
    _return_freed_memory()
    return plan


def trim_task(held: tuple[np.ndarray, np.ndarray], limits: tuple[np.ndarray, np.ndarray], plan: GroupPlan,
              *works: CountyWork) -> GroupPlan:
    """A group's plan cut to its share of the slots still over-used after the last round (matching.partition)."""
    return trim_group([_less_held(work.problem, *held) for work in works], plan, limits)


def summary_of(plan: GroupPlan) -> GroupSummary:
    """The small part of a group's plan."""
    return plan.summary


def write_county(spec: RunSpec, work: CountyWork, plan: GroupPlan) -> dict:
    """Store the county's recommendations (its top-k and its assigned pairs) and return its figures."""
    started = time.perf_counter()
    chosen = plan.chosen[plan.counties.index(work.county)]
    rows = recommendation_rows(work.scored, chosen, spec.rules_for(work.county), _scorer(spec), spec.params.top_k)
    rows_s = time.perf_counter() - started
    driver = worker_driver(spec.settings)
    database = spec.settings.neo4j_database
    started = time.perf_counter()
    # A try of this task that failed half-way may have written part of the county: start from nothing.
    queries.delete_county_recommendations(driver, spec.run_id, work.county, spec.writer, database)
    written = queries.write_recommendations(driver, spec.run_id, rows, database, writer=spec.writer)
    counts = county_counts(work, chosen)
    counts["exposure"] = rows["credit_code"].value_counts().to_dict()
    listed = np.isin(work.scored.households.ids, rows["household_id"].unique())
    coverable = np.zeros(work.problem.households, bool)
    coverable[work.problem.pairs.household] = True
    counts["unlisted"] = work.scored.households.ids[coverable & ~listed].tolist()
    return {"county": work.county, "written": written, "counts": counts,
            "timings": {"recommendations_s": rows_s, "write_s": time.perf_counter() - started}}


def county_counts(work: CountyWork, chosen: np.ndarray) -> dict:
    """The county's plan figures as counts, so that counties add up (see combine_metrics)."""
    problem = work.problem
    covered = np.zeros(problem.households, bool)
    covered[problem.pairs.household[chosen]] = True
    coverable = np.zeros(problem.households, bool)
    coverable[problem.pairs.household] = True
    need_tier, follow_up = work.scored.households.need_tier, work.scored.households.follow_up
    tiers = {str(tier): [int((need_tier == tier).sum()), int(covered[need_tier == tier].sum())] for tier in (2, 1, 0)}
    return {"households": problem.households, "covered": int(covered.sum()), "coverable": int(coverable.sum()),
            "follow_ups": int(follow_up.sum()), "follow_ups_planned": int(covered[follow_up].sum()),
            "covered_coverable": int(covered[coverable].sum()), "tiers": tiers, "assignments": int(chosen.sum()),
            "total_score": float(problem.scores[chosen].sum()), "candidate_pairs": len(problem.pairs),
            "already_covered": int((work.existing > 0).sum()),
            "covered_with_existing": int((covered | (work.existing > 0)).sum())}


def enterprise_exposure(counts: list[dict]) -> dict[str, int]:
    """How often each enterprise appears in the run's recommendation lists (its counties' counts added up)."""
    total: dict[str, int] = {}
    for item in counts:
        for code, appearances in item.get("exposure", {}).items():
            total[code] = total.get(code, 0) + int(appearances)
    return total


def exposure_metrics(counts: list[dict]) -> dict:
    """Fair exposure: how evenly the lists spread over enterprises (Gini of appearances, the top tenth's share)
    and the eligible households in no list (must be none)."""
    appearances = np.sort(np.array(list(enterprise_exposure(counts).values()), dtype=float))
    unlisted = [household for item in counts for household in item.get("unlisted", [])]
    n = len(appearances)
    gini = float((2 * np.arange(1, n + 1) - n - 1) @ appearances / (n * appearances.sum())) if n and appearances.sum() else 0.0
    top = appearances[::-1][:max(1, n // 10)] if n else appearances
    return {"enterprises_listed": n, "exposure_gini": round(gini, 4),
            "top_tenth_share": round(float(top.sum() / appearances.sum()), 4) if n and appearances.sum() else 0.0,
            "most_listed": int(appearances.max()) if n else 0,
            "eligible_unlisted": len(unlisted), "eligible_unlisted_households": unlisted[:100]}


def combine_metrics(counts: list[dict], capacity_reached: int) -> dict:
    """The run's figures from its counties' counts (the keys matching.assign.plan_metrics gives one solve)."""
    total = {key: sum(item.get(key, 0) for item in counts) for key in
             ("households", "covered", "coverable", "covered_coverable", "assignments", "total_score",
              "candidate_pairs", "already_covered", "covered_with_existing", "follow_ups", "follow_ups_planned")}
    tiers = {}
    for tier in ("2", "1", "0"):
        households = sum(item["tiers"][tier][0] for item in counts)
        tiers[tier] = sum(item["tiers"][tier][1] for item in counts) / households if households else None
    households = total["households"]
    return {
        **exposure_metrics(counts),
        "households": households, "covered": total["covered"],
        "coverage": total["covered"] / households if households else 0.0,
        "coverable": total["coverable"],
        "coverage_of_coverable": total["covered_coverable"] / total["coverable"] if total["coverable"] else 0.0,
        "coverage_by_need_tier": tiers, "assignments": total["assignments"], "capacity": capacity_reached,
        "utilisation": total["assignments"] / capacity_reached if capacity_reached else 0.0,
        "total_score": total["total_score"], "candidate_pairs": total["candidate_pairs"],
        "already_covered": total["already_covered"],
        "coverage_with_existing": total["covered_with_existing"] / households if households else 0.0,
        # Households with unresolved follow-up items, and how many of them this plan gives a pairing.
        "follow_ups": total["follow_ups"], "follow_ups_planned": total["follow_ups_planned"],
    }


def slot_capacity_of(held: tuple[np.ndarray, np.ndarray], work: CountyWork) -> tuple[np.ndarray, np.ndarray]:
    """The slots the county reaches (keys) and their capacity for this run (a task: small result)."""
    problem = _less_held(work.problem, *held)
    keys, first = np.unique(problem.slot_keys(), return_index=True)
    table = np.column_stack([problem.capacity[name] for name in MECHANISMS])
    return keys, table[problem.pairs.enterprise[first], problem.pairs.mechanism[first]].astype(np.int64)


# ---- the client side ----

@dataclass
class ProvinceResult:
    """What a run computed: per county fingerprints, the recomputed and unchanged counties, figures."""

    fingerprints: dict[str, str]
    changed: list[str]
    unchanged: list[str]
    written: int
    metrics: dict
    timings: dict
    groups: list[list[str]]
    # slot → {group's counties: places}: the shared-out capacity the coordination ended with
    shares: dict = field(default_factory=dict)
    exposure: dict = field(default_factory=dict)  # credit code → appearances in the run's lists


class CountyProgress:
    """Each county's stage (读取 → 规划 → 写入), reported as a run fraction and a message, at most every 0.5 s."""

    STAGES = ("prepared", "planned", "written")

    def __init__(self, counties: list[str], report: Callable[[float, str, dict], None]):
        self.stage = {county: None for county in counties}
        self.report = report
        self.last = 0.0

    def advance(self, county: str, stage: str, force: bool = False) -> None:
        self.stage[county] = stage
        now = time.monotonic()
        if force or now - self.last >= 0.5:
            self.last = now
            counts = {name: sum(1 for value in self.stage.values()
                                if value is not None and self.STAGES.index(value) >= self.STAGES.index(name))
                      for name in self.STAGES}
            total = max(len(self.stage), 1)
            fraction = 0.05 + 0.45 * counts["prepared"] / total + 0.15 * counts["planned"] / total \
                + 0.3 * counts["written"] / total
            message = (f"已读取并评分 {counts['prepared']}/{total} 个县，已规划 {counts['planned']}，"
                       f"已写入 {counts['written']} / counties prepared, planned, written")
            self.report(round(fraction, 3), message, {"total": total, **counts,
                                                      "counties": {c: s for c, s in self.stage.items() if s}})


def plan_province(executor, spec: RunSpec, counties: list[str], previous: dict[str, str | None],
                  held_for: Callable[[list[str]], tuple[np.ndarray, np.ndarray]],
                  report: Callable[[float, str, dict], None] = lambda fraction, message, detail: None,
                  log: Callable[[str], None] = lambda message: None,
                  earlier_groups: list[list[str]] | None = None, earlier_shares: dict | None = None,
                  county_sizes: dict[str, int] | None = None) -> ProvinceResult:
    """Prepare, coordinate and write the counties (see the module); `held_for(changed)` gives the slot
    capacity held by the current plans of the counties outside `changed` (sorted slot keys, counts).
    `earlier_groups` and `earlier_shares` (an earlier run's groups and shares) warm-start the coordination;
    `county_sizes` (households, as stored) balance the counties over the workers."""
    retries = spec.settings.match_task_retries
    progress = CountyProgress(counties, report)
    timings: dict = {}
    started = time.perf_counter()
    max_group = spec.settings.match_max_group_households
    sizes = county_sizes or {}
    addresses = executor.worker_addresses()
    where = placement(counties, starting_groups(counties, earlier_groups or [], sizes, max_group), sizes,
                      len(addresses)) if len(addresses) > 1 else {}
    works = {county: executor.submit(prepare_county, spec, county, previous.get(county),
                                     key=f"prepare-{spec.run_id}-{county}", retries=retries,
                                     worker=addresses[where[county]] if county in where else None)
             for county in counties}
    headers = {}
    header_futures = {executor.submit(header_of, future, key=f"header-{spec.run_id}-{county}", retries=retries): county
                      for county, future in works.items()}
    for done in executor.as_completed(list(header_futures)):
        header = done.result()
        headers[header["county"]] = header
        progress.advance(header["county"], "prepared")
    timings["prepare_s"] = time.perf_counter() - started
    changed = sorted(county for county, header in headers.items() if header["changed"])
    unchanged = sorted(set(counties) - set(changed))
    for county in unchanged:
        # Released by dropping the future (an explicit cancel of a finished task made the scheduler assert
        # and a LocalCluster then hung while closing).
        works.pop(county)
    header_futures.clear()
    log(f"需重新计算 {len(changed)} 个县，{len(unchanged)} 个县未变 / changed vs unchanged")
    result = ProvinceResult({county: header["fingerprint"] for county, header in headers.items()}, changed, unchanged,
                            0, {}, timings, [])
    if not changed:
        return result

    started = time.perf_counter()
    held = held_for(changed)
    plans: dict[tuple[str, ...], object] = {}
    solves_so_far = [0]  # a group solved again (with another share) is another task

    def submit_groups(name: str, task, groups: list[tuple[str, ...]],
                      limits: list[tuple[np.ndarray, np.ndarray]]) -> list[GroupSummary]:
        """Each group's plan by `task` (solved, or cut from its last plan), kept on a worker; their summaries."""
        summaries = []
        for group, group_limits in zip(groups, limits):
            solves_so_far[0] += 1
            label = f"{spec.run_id}-{solves_so_far[0]}-{'+'.join(group)}"
            earlier = [plans[group]] if task is trim_task else []
            plans[group] = executor.submit(task, held, group_limits, *earlier, *[works[county] for county in group],
                                           key=f"{name}-{label}", retries=retries)
            summaries.append(executor.submit(summary_of, plans[group], key=f"summary-{label}", retries=retries))
        return executor.gather(summaries)

    sizes = {county: headers[county]["households"] for county in changed}
    # Counties start in the groups the latest run ended with (the contests it found), or alone: their
    # solves are small and the merges find the contested groups (measured at 1,000,000 households:
    # starting from prefectures solved more and converged less within the rounds).
    # The shares they ended with too (a warm start: the rounds then mend what changed since).
    shares: dict = {}
    groups, objective, rounds, solves, shared_out = plan_groups(
        changed, lambda groups, limits: submit_groups("solve", solve_task, groups, limits), log, sizes, max_group,
        lambda groups, limits: submit_groups("trim", trim_task, groups, limits), spec.settings.match_coordination_rounds,
        starting_groups(changed, earlier_groups or [], sizes, max_group), earlier_shares, shares)
    for group in groups:
        for county in group:
            progress.advance(county, "planned")
    timings["coordinate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    writes = [executor.submit(write_county, spec, works[county], plans[group],
                              key=f"write-{spec.run_id}-{county}", retries=retries)
              for group in groups for county in group]
    reach = [executor.submit(slot_capacity_of, held, works[county], key=f"reach-{spec.run_id}-{county}",
                             retries=retries) for county in changed]
    counts, written, stage_timings = [], 0, {}
    for done in executor.as_completed(writes):
        figures = done.result()
        counts.append(figures["counts"])
        written += figures["written"]
        for key, value in figures["timings"].items():
            stage_timings[key] = stage_timings.get(key, 0.0) + value
        progress.advance(figures["county"], "written")
    progress.advance(changed[-1], "written", force=True)
    slots = executor.gather(reach)
    keys = np.concatenate([item[0] for item in slots])
    capacity = np.concatenate([item[1] for item in slots])
    _, first = np.unique(keys, return_index=True)
    timings["write_s"] = time.perf_counter() - started
    timings["county_task_s"] = {**{key: sum(header["timings"].get(key, 0.0) for header in headers.values())
                                   for key in ("read_s", "candidates_s", "scoring_s")}, **stage_timings}
    metrics = combine_metrics(counts, int(capacity[first].sum()))
    metrics.update({"objective": objective, "coordination_rounds": rounds, "group_solves": solves,
                    "largest_group": max(len(group) for group in groups), "groups": len(groups),
                    "slots_shared_out": shared_out})
    return ProvinceResult(result.fingerprints, changed, unchanged, written, metrics, timings,
                          [list(group) for group in groups], shares, enterprise_exposure(counts))
