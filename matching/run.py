"""Match runs: read a county's (or every county's) inputs from Neo4j, plan, store the run.

A run recomputes only the counties whose inputs (households, enterprises in range, rules,
model) changed since their latest completed run; the others keep their current
recommendations, and the capacity those hold counts as used. Older runs are kept.

Command line: `flask --app wsgi match run [--county 433123000000] [--alpha 1.0] [--model VERSION]` (cli/).
"""
import hashlib
import json
import os
import socket
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import neo4j
import numpy as np
import pandas as pd

from core.settings import Settings
from core import geography
from graph import matching as queries
from matching.features import Enterprises, Households
from matching.model_store import load_model
from matching.pipeline import make_plan
from matching.rules import EligibilityRules
from matching.scoring import BlendedScorer

NEIGHBOUR_MARGIN_KM = 40.0  # a county's own extent beyond its centroid
RUNNING, COMPLETED, FAILED = "running", "completed", "failed"  # a MatchRun's status


@dataclass
class MatchParams:
    """Everything that determines a run's result (stored with the run)."""

    top_k: int = 5
    household_limit: int = 1
    alpha: float = 1.0  # weight of the rule score; 1.0 = rules only
    model_version: str | None = None
    seed: int = 0
    per_mechanism: int = 8
    rules: EligibilityRules = field(default_factory=EligibilityRules)

    def as_json(self) -> str:
        """Canonical JSON of the parameters."""
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)


def neighbour_counties(county_codes: list[str], radius_km: float) -> list[str]:
    """The counties whose centre lies within radius_km (+ margin) of any of the given counties."""
    table = geography.divisions()
    counties = table[table["level"] == "county"]
    chosen = counties[counties["code"].isin(county_codes)]
    if chosen.empty:
        return list(county_codes)
    from matching.candidates import haversine_km

    distance = haversine_km(chosen["lat"].to_numpy()[:, None], chosen["lon"].to_numpy()[:, None],
                            counties["lat"].to_numpy()[None, :], counties["lon"].to_numpy()[None, :])
    near = (distance <= radius_km + 2 * NEIGHBOUR_MARGIN_KM).any(axis=0)
    return sorted(set(counties["code"][near]) | set(county_codes))


def _fingerprint(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(json.dumps(part, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))
    return digest.hexdigest()[:20]


class MatchRunner:
    """Runs matching against one Neo4j database."""

    def __init__(self, driver: neo4j.Driver, settings: Settings, progress=print):
        self.driver = driver
        self.settings = settings
        self.database = settings.neo4j_database
        self.progress = progress or (lambda message: None)

    def read_inputs(self, counties: list[str], params: MatchParams) -> tuple[list[dict], list[dict]]:
        """Household records of the counties and enterprise records of every county in range."""
        radius = params.rules.search_radius_km()
        households = queries.county_households(self.driver, counties, self.database)
        enterprises = queries.county_enterprises(self.driver, neighbour_counties(counties, radius), self.database)
        return households, enterprises

    @staticmethod
    def county_fingerprints(counties: list[str], households: list[dict], enterprises: list[dict],
                            params: MatchParams) -> dict[str, str]:
        """An input fingerprint per county: its households, the enterprises in range, the parameters."""
        radius = params.rules.search_radius_km()
        by_county: dict[str, list] = {county: [] for county in counties}
        for record in households:
            by_county.setdefault(record["county_code"], []).append(record)
        result = {}
        for county in counties:
            in_range = set(neighbour_counties([county], radius))
            nearby = [record for record in enterprises if record["county_code"] in in_range]
            result[county] = _fingerprint(by_county[county], nearby, params.as_json())
        return result

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

    def _fully_written(self, run_id: str, previous: dict) -> bool:
        """True when an earlier attempt wrote all of the run's recommendations (and recorded how many)."""
        total = previous.get("written_total")
        return total is not None and queries.run_recommendation_count(self.driver, run_id, self.database) == total

    def _finish_switch(self, run_id: str, writer: str, previous: dict, started: float) -> dict:
        """Finish a run whose recommendations are all written: make them current, record it completed."""
        self.progress(f"匹配运行 {run_id} 已全部写入，完成切换 / already written, finishing the switch")
        queries.make_run_current(self.driver, run_id, previous.get("counties") or [], self.database, writer=writer)
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
        read_started = time.perf_counter()
        household_records, enterprise_records = self.read_inputs(counties, params)
        fingerprints = self.county_fingerprints(counties, household_records, enterprise_records, params)
        previous = queries.latest_county_fingerprints(self.driver, counties, self.database)
        changed = [c for c in counties if force or previous.get(c, (None,))[0] != fingerprints[c]]
        unchanged = sorted(set(counties) - set(changed))
        timings = {"read_s": time.perf_counter() - read_started}
        self._progress(run_id, 0.2, f"需重新计算 {len(changed)} 个县，{len(unchanged)} 个县未变 / changed vs unchanged")
        metrics = {"recomputed_counties": changed, "unchanged_counties": unchanged}
        if changed:
            changed_set = set(changed)
            households = [record for record in household_records if record["county_code"] in changed_set]
            plan = self.plan(changed, households, enterprise_records, params)
            metrics.update(plan.metrics)
            timings.update(plan.timings)
            self._progress(run_id, 0.7, f"写入 {len(plan.recommendations)} 条推荐 / writing recommendations")
            write_started = time.perf_counter()
            self._store(run_id, writer, plan.recommendations)
            queries.link_run_counties(self.driver, run_id, {c: fingerprints[c] for c in changed}, self.database)
            timings["write_s"] = time.perf_counter() - write_started
            # Written in full: from here a new attempt only finishes the switch (_finish_switch).
            queries.save_match_run(self.driver, run_id, {
                "written_total": len(plan.recommendations), "counties": changed, "unchanged_counties": unchanged,
                "metrics": json.dumps(metrics, ensure_ascii=False), "timings": json.dumps(timings),
            }, self.database, writer=writer)
            switch_started = time.perf_counter()
            queries.make_run_current(self.driver, run_id, changed, self.database, writer=writer)
            timings["switch_s"] = time.perf_counter() - switch_started
        timings["total_s"] = time.perf_counter() - started
        queries.save_match_run(self.driver, run_id, {
            "status": COMPLETED, "finished_at": datetime.now(timezone.utc).isoformat(), "progress": 1.0,
            "metrics": json.dumps(metrics, ensure_ascii=False), "timings": json.dumps(timings),
            "counties": changed, "unchanged_counties": unchanged,
        }, self.database, writer=writer)
        summary = {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}
        self.progress(f"完成 / done: {json.dumps(summary, ensure_ascii=False)}")
        return queries.match_run(self.driver, run_id, self.database)

    def _progress(self, run_id: str, fraction: float, message: str) -> None:
        queries.save_match_run(self.driver, run_id, {"progress": fraction, "message": message}, self.database)
        self.progress(message)

    def plan(self, counties: list[str], household_records: list[dict], enterprise_records: list[dict],
             params: MatchParams):
        """Plan the counties' households with the enterprises in range and the capacity left to them."""
        households = Households.from_records(household_records)
        enterprises = Enterprises.from_records(enterprise_records, params.rules)
        held = queries.assigned_elsewhere(self.driver, enterprises.ids.tolist(), counties, self.database)
        index = {code: position for position, code in enumerate(enterprises.ids)}
        for row in held:
            capacity = enterprises.capacity[row["mechanism"]]
            position = index[row["credit_code"]]
            capacity[position] = max(capacity[position] - row["n"], 0)
        existing = np.array([record["active_partnerships"] for record in household_records], dtype=np.int64)
        learned = load_model(self.settings, params.model_version) if params.model_version else None
        scorer = BlendedScorer(learned=learned, alpha=params.alpha if learned else 1.0)
        return make_plan(households, enterprises, params.rules, scorer, top_k=params.top_k,
                         household_limit=params.household_limit, existing_partnerships=existing,
                         per_mechanism=params.per_mechanism)

    def _store(self, run_id: str, writer: str, recommendations: pd.DataFrame) -> None:
        batch = 5000
        frame = recommendations.copy()
        frame["rec_id"] = [f"{run_id}-{i}" for i in range(len(frame))]
        frame["assigned"] = frame["assigned"].astype(bool)
        for start in range(0, len(frame), batch):
            rows = frame.iloc[start:start + batch].to_dict("records")
            for row in rows:
                row["rank"], row["score"] = int(row["rank"]), float(row["score"])
                row["rule_score"], row["distance_km"] = float(row["rule_score"]), float(row["distance_km"])
            queries.write_recommendations(self.driver, run_id, rows, self.database, writer=writer)
