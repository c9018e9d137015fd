"""Match runs: plan a county's (or every county's) households as county tasks (matching/province.py), store the run.

A run recomputes only the counties whose inputs (households, enterprises in range, rules,
model) changed since their latest completed run; the others keep their current
recommendations, and the capacity those hold counts as used. Older runs are kept.
The county tasks run on Dask (matching/cluster.py); the run's own state lives in its MatchRun node.

By default a run scores with the current learned model, trained first when the partnership history changed
since (matching/model_store.py), at the blend weight chosen with it; with too little history, the rules alone.
The run records the model, the weight and why.

Command line: `flask --app wsgi match run [--county 433123000000] [--model auto|none|VERSION] [--alpha A]` (cli/).
"""
import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone

import neo4j
import numpy as np

from core.settings import Settings
from graph import followups
from graph import match_rules as rule_queries
from graph import matching as queries
from matching.cluster import open_executor
from matching.features import Enterprises, Households
from graph import models as graph_models
from matching.model_store import current_choice, scorer_for
from matching.partition import enterprise_keys
from matching.pipeline import make_plan
from matching.province import RunSpec, neighbour_counties, plan_province
from matching.rules import MECHANISMS, EligibilityRules, widest_radius_km

__all__ = ["AUTO", "MatchParams", "MatchRunner", "neighbour_counties"]
RUNNING, COMPLETED, FAILED = "running", "completed", "failed"  # a MatchRun's status
AUTO = "auto"


@dataclass
class MatchParams:
    """Everything that determines a run's result (stored with the run)."""

    top_k: int = 5
    household_limit: int = 1
    model_version: str | None = AUTO  # AUTO: the current model (trained when stale); None: the rules alone
    alpha: float | None = None  # weight of the rule score (1.0 = rules only); None: the model's own
    model_reference: float = 0.0  # the model's even-chance probability (matching.scoring.blend), set with it
    model_note: str = ""  # why the run scores as it does
    seed: int = 0
    per_mechanism: int = 8
    rules: EligibilityRules = field(default_factory=EligibilityRules)

    def as_json(self) -> str:
        """Canonical JSON of the parameters."""
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)


def shares_to_json(shares: dict) -> str:
    """A run's final shares (slot → {group's counties: places}) as JSON: {slot: [[counties, places], …]}."""
    return json.dumps({str(slot): [[list(group), places] for group, places in by_group.items()]
                       for slot, by_group in shares.items()})


def shares_from_json(text: str | None) -> dict:
    """The shares shares_to_json wrote (nothing when there are none)."""
    return {int(slot): {tuple(group): places for group, places in entries}
            for slot, entries in json.loads(text or "{}").items()}


class MatchRunner:
    """Runs matching against one Neo4j database."""

    def __init__(self, driver: neo4j.Driver, settings: Settings, progress=print):
        self.driver = driver
        self.settings = settings
        self.database = settings.neo4j_database
        self.progress = progress or (lambda message: None)

    def county_rules(self, counties: list[str], params: MatchParams) -> tuple[dict[str, EligibilityRules],
                                                                           dict[str, int | None]]:
        """Each county's eligibility rules — the values its current CountyRules version sets over params.rules
        (services/match_rules.py applies them) — and that version (None: none applied, params.rules as they are)."""
        stored = rule_queries.current_county_rules(self.driver, counties, self.database)
        rules = {county: params.rules.with_values(stored[county]["values"]) if county in stored else params.rules
                 for county in counties}
        return rules, {county: stored[county]["version"] if county in stored else None for county in counties}

    def read_inputs(self, counties: list[str], params: MatchParams) -> tuple[list[dict], list[dict]]:
        """Household records of the counties and enterprise records of every county in range (of their rules)."""
        radius = widest_radius_km(self.county_rules(counties, params)[0].values())
        households = queries.county_households(self.driver, counties, self.database)
        enterprises = queries.county_enterprises(self.driver, neighbour_counties(counties, radius), self.database)
        return households, enterprises

    def run(self, counties: list[str] | None = None, params: MatchParams | None = None, run_id: str | None = None,
            force: bool = False, writer: str | None = None) -> dict:
        """Plan the counties (default: every county with households) and store the run; returns it.

        Running an existing run_id again (a job taken over after its process died) finishes that run
        instead of writing it twice: a completed run is returned as it is; a run whose recommendations
        were all written only has its switch to current finished; otherwise what the interrupted attempt
        wrote is deleted and the run is computed again. `writer` names this attempt; once another attempt
        takes the run over, this one's writes raise graph.matching.RunSuperseded.
        """
        params = params or MatchParams()
        run_id = run_id or f"run-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"
        writer = writer or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        started = time.perf_counter()
        previous = queries.match_run(self.driver, run_id, self.database)
        if previous is not None and previous.get("status") == COMPLETED:
            return previous
        counties = counties or [row["code"] for row in queries.counties_with_households(self.driver, self.database)]
        queries.begin_match_run(self.driver, run_id, writer, datetime.now(timezone.utc).isoformat(), {
            "status": RUNNING, "requested_counties": counties, "params": params.as_json(),
            "model_version": params.model_version, "seed": params.seed, "progress": 0.0,
        }, self.database)
        try:
            params = self.choose_model(params)
            queries.save_match_run(self.driver, run_id, {
                "params": params.as_json(), "model_version": params.model_version, "alpha": params.alpha,
                "model_note": params.model_note}, self.database, writer=writer)
            if previous is not None and self._fully_written(run_id, previous):
                return self._finish_switch(run_id, writer, previous, started)
            return self._run(run_id, writer, counties, params, force, started, again=previous is not None)
        except queries.RunSuperseded:
            raise  # the run belongs to the attempt that took it over: leave its state alone
        except Exception as error:
            try:
                queries.save_match_run(self.driver, run_id, {"status": FAILED, "error": str(error)[:2000],
                                                             "finished_at": datetime.now(timezone.utc).isoformat()},
                                       self.database, writer=writer)
            except queries.RunSuperseded:
                pass
            raise

    def choose_model(self, params: MatchParams) -> MatchParams:
        """The parameters with the model settled: AUTO → the current model (trained first when the history
        changed), None → the rules alone, a version → that stored model (at its own weight unless given)."""
        if params.model_version == AUTO:
            choice = current_choice(self.driver, self.settings, self.progress)
            return replace(params, model_version=choice.version, alpha=choice.alpha if params.alpha is None else params.alpha,
                           model_reference=choice.reference, model_note=choice.note)
        if not params.model_version:
            return replace(params, alpha=1.0, model_reference=0.0,
                           model_note="按要求仅用规则评分 / rules only, as asked")
        record = graph_models.model_record(self.driver, params.model_version, self.database)
        if record is None or not record.get("uses_model"):
            raise LookupError(f"模型版本不存在 / no model {params.model_version}")
        alpha = record["alpha"] if params.alpha is None else params.alpha
        return replace(params, alpha=float(alpha), model_reference=float(record.get("reference") or 0.0),
                       model_note=f"指定模型 {params.model_version}，规则权重 {alpha} / the model asked for")

    def _fully_written(self, run_id: str, previous: dict) -> bool:
        """True when an earlier attempt wrote all of the run's recommendations (and recorded how many)."""
        total = previous.get("written_total")
        return total is not None and queries.run_recommendation_count(
            self.driver, run_id, self.database, attempt=previous.get("written_by")) == total

    def _finish_switch(self, run_id: str, writer: str, previous: dict, started: float) -> dict:
        """Finish a run whose recommendations are all written: make them current, record it completed."""
        self.progress(f"匹配运行 {run_id} 已全部写入，完成切换 / already written, finishing the switch")
        queries.make_run_current(self.driver, run_id, previous.get("counties") or [], self.database, writer=writer,
                                 attempt=previous.get("written_by"), expected=previous.get("written_total"))
        followups.mark_planned(self.driver, previous.get("counties") or [], self.database)
        timings = json.loads(previous.get("timings") or "{}")
        timings["resumed_total_s"] = time.perf_counter() - started
        queries.save_match_run(self.driver, run_id, {
            "status": COMPLETED, "finished_at": datetime.now(timezone.utc).isoformat(), "progress": 1.0,
            "timings": json.dumps(timings)}, self.database, writer=writer)
        return queries.match_run(self.driver, run_id, self.database)

    def _run(self, run_id: str, writer: str, counties: list[str], params: MatchParams, force: bool, started: float,
             again: bool) -> dict:
        self.progress(f"匹配运行 {run_id}：{len(counties)} 个县 / counties")
        if again:  # an interrupted attempt may have written part of the run: never current, so never acted on
            removed = queries.delete_unfinished_recommendations(self.driver, run_id, writer, self.database)
            if removed:
                self.progress(f"删除中断时写入的 {removed} 条推荐 / removed {removed} from the interrupted attempt")
        previous = queries.latest_county_fingerprints(self.driver, counties, self.database)
        county_rules, rules_versions = self.county_rules(counties, params)
        radius = widest_radius_km(county_rules.values())
        spec = RunSpec(run_id, writer, self.settings, params, force, tuple(neighbour_counties(counties, radius)),
                       county_rules)

        def report(fraction: float, message: str, detail: dict) -> None:
            queries.save_match_run(self.driver, run_id, {
                "progress": fraction, "message": message,
                "county_progress": json.dumps(detail, ensure_ascii=False)}, self.database, writer=writer)
            self.progress(message)

        earlier_groups, earlier_shares = (queries.latest_groups(self.driver, self.database)
                                          if self.settings.match_warm_start else ([], None))
        with open_executor(self.settings, len(counties)) as executor:
            result = plan_province(executor, spec, counties, {c: previous.get(c, (None,))[0] for c in counties},
                                   lambda changed: self.held_outside(changed, params, radius), report, self.progress,
                                   earlier_groups, shares_from_json(earlier_shares),
                                   queries.county_household_counts(self.driver, counties, self.database))
        timings = dict(result.timings)
        metrics = {"recomputed_counties": result.changed, "unchanged_counties": result.unchanged, **result.metrics}
        if result.changed:
            queries.link_run_counties(self.driver, run_id, {c: result.fingerprints[c] for c in result.changed},
                                      self.database)
            # Written in full: from here a new attempt only finishes the switch (_finish_switch).
            queries.save_match_run(self.driver, run_id, {
                "written_total": result.written, "written_by": writer, "counties": result.changed,
                "unchanged_counties": result.unchanged, "groups": json.dumps(result.groups),
                "shares": shares_to_json(result.shares), "exposure": json.dumps(result.exposure, ensure_ascii=False),
                "rules_versions": json.dumps(rules_versions, sort_keys=True),
                "metrics": json.dumps(metrics, ensure_ascii=False), "timings": json.dumps(timings),
            }, self.database, writer=writer)
            switch_started = time.perf_counter()
            queries.make_run_current(self.driver, run_id, result.changed, self.database, writer=writer, attempt=writer,
                                     expected=result.written)
            followups.mark_planned(self.driver, result.changed, self.database)
            timings["switch_s"] = time.perf_counter() - switch_started
        timings["total_s"] = time.perf_counter() - started
        queries.save_match_run(self.driver, run_id, {
            "status": COMPLETED, "finished_at": datetime.now(timezone.utc).isoformat(), "progress": 1.0,
            "message": f"完成：写入 {result.written} 条推荐 / completed",
            "metrics": json.dumps(metrics, ensure_ascii=False), "timings": json.dumps(timings),
            "counties": result.changed, "unchanged_counties": result.unchanged,
            "rules_versions": json.dumps(rules_versions, sort_keys=True),
        }, self.database, writer=writer)
        summary = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
        self.progress(f"完成 / done: {json.dumps(summary, ensure_ascii=False)}")
        return queries.match_run(self.driver, run_id, self.database)

    def held_outside(self, planned: list[str], params: MatchParams,
                     radius_km: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Slot capacity held by the current plans of counties outside `planned` at the enterprises they reach
        (within radius_km: the widest of their rules; default params.rules'), as sorted slot keys
        (matching.partition) and counts."""
        near = neighbour_counties(planned, radius_km or params.rules.search_radius_km())
        rows = queries.held_outside(self.driver, near, planned, self.database)
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        keys = enterprise_keys([row["credit_code"] for row in rows]) * len(MECHANISMS) + np.array(
            [MECHANISMS.index(row["mechanism"]) for row in rows], dtype=np.int64)
        order = np.argsort(keys)
        return keys[order], np.array([row["n"] for row in rows], dtype=np.int64)[order]

    def plan(self, counties: list[str], household_records: list[dict], enterprise_records: list[dict],
             params: MatchParams):
        """Plan the counties' households with the enterprises in range and the capacity left to them, under
        the counties' rules (ValueError when they differ: one plan has one set of rules; plan them one at a
        time, or run() them, which plans each county under its own)."""
        distinct = set(self.county_rules(counties, params)[0].values())
        if len(distinct) > 1:
            raise ValueError("这些县的资格规则不同，请逐县规划 / the counties' rules differ: plan them one at a time")
        rules = distinct.pop() if distinct else params.rules
        households = Households.from_records(household_records)
        enterprises = Enterprises.from_records(enterprise_records, rules)
        near = neighbour_counties(counties, rules.search_radius_km())
        held = queries.held_outside(self.driver, near, counties, self.database)
        index = {code: position for position, code in enumerate(enterprises.ids)}
        for row in held:
            capacity = enterprises.capacity[row["mechanism"]]
            position = index.get(row["credit_code"])
            if position is None:
                continue  # an enterprise of a near county not among the records given
            capacity[position] = max(capacity[position] - row["n"], 0)
        existing = np.array([record["active_partnerships"] for record in household_records], dtype=np.int64)
        params = self.choose_model(params)
        scorer = scorer_for(self.driver, params.model_version, params.alpha, params.model_reference, self.database)
        return make_plan(households, enterprises, rules, scorer, top_k=params.top_k,
                         household_limit=params.household_limit, existing_partnerships=existing,
                         per_mechanism=params.per_mechanism)
