"""API benchmark: latency and throughput of the HTTP API and web pages (gunicorn) on a province-scale graph.

    .venv/bin/python bench/api_load.py --prepare          # once: 1,000,000 households loaded and matched (~45 min)
    .venv/bin/python bench/api_load.py [--concurrency 8] [--duration 30] [--scenario regions] [--exclude healthz] ...
    .venv/bin/python bench/api_load.py --households 20000 --prepare    # small scale, its own Neo4j
    .venv/bin/python bench/api_load.py --scenario households --rate 300  # open loop only, 300 req/s offered

Preparation (idempotent) uses a dedicated local Neo4j (var/neo4j/apibench, port 7691; other sizes
var/neo4j/apibench-small, port 7692): generates the synthetic data set (devtools.synth, in a subprocess;
files bench/etl_load.py left in var/bench are reused), applies the schema, loads it with the ETL and
runs matching for every county. Each stage prints its duration and peak memory. The graph is kept.

The benchmark applies the schema again, creates API tokens, serves the app with gunicorn and drives
it from a separate load process (Python threads, one keep-alive connection each) for D seconds per
measurement, after an unmeasured warm-up. The scenarios:
  healthz           GET /healthz (no auth, no database): the ceiling of the stack;
  recommendations   an enterprise's current recommendations, with that enterprise's token;
  households        a bureau's household search in its county (with filter variants), with its token;
  household_detail  GET /api/v1/households/<id>, households spread over several counties, each with the
                    bureau token of its county;
  regions           the region tree: a county's children, the county and one of its townships (bureau
                    token of that county), alternating with the top level GET /api/v1/regions (analyst);
  dashboard         the bureau web dashboard GET /dashboard, in a browser session of each county's bureau;
  enterprise_page   the enterprise web page GET /enterprise, in a browser session of each enterprise.
The web scenarios sign in once per county / enterprise before the load (GET /login for the CSRF token,
POST /login with the API token, the redirect followed once as a browser does) and send the session
cookie as a fixed Cookie header. healthz is measured first whenever another scenario is chosen (the
others are compared with it) unless `--exclude healthz` or `--rate`.

Two kinds of measurement:
  saturation (closed loop)  C connections (--concurrency) each send their next request as soon as the
                            previous answer arrives: the most requests/s the stack serves. At saturation
                            the latency is queueing (≈ C / throughput, Little's law), so its p99 says
                            nothing about the latency at a given load.
  at a rate (open loop)     requests are sent on a fixed timetable, request i due at start + i/R
                            (constant arrival rate, as wrk2 and k6's constant-arrival-rate do), whatever
                            the answers: the latency at that load. The --concurrency connections are a
                            pool: any free one takes the next request when it is due; when all are busy
                            the request goes out as soon as one is free, and its latency still counts from
                            its due time (no coordinated omission: a closed loop, or an open loop timing
                            from the send, would quietly leave the wait out). Requests sent more than
                            10 ms late are counted ("late"): a late send means every connection was busy
                            (when the service time, send → answer, also printed, stays low, the pool is
                            too small for R × service time: raise --concurrency), or, counted apart as
                            "woke late", that the load process itself got the CPU late. Requests
                            due before the window's end are sent for up to 5 s after it; those never
                            sent ("unsent": the server fell behind) count in the percentiles with their
                            wait so far, a lower bound, and fail the verdict.
A scenario with a throughput goal (households and recommendations: ≥ 200 req/s with p99 ≤ 50 ms) gets
both: the saturation run must reach the requests/s, and a run at exactly that rate (printed as
`households @200/s`) must keep its p99, counted from the due times, within the goal; PASS needs both.
The other scenarios get the saturation run, judged as before (p99 at saturation ≤ 200 ms; healthz
has no goal). `--rate R` instead runs every chosen scenario at R requests/s only, judged on p99 (and,
for a throughput goal, on R reaching it).

It prints, per measurement, requests, errors (non-2xx), requests/s (achieved; at a rate also the
offered rate and the late sends), p50/p90/p99/max latency, requests/s as a percentage of healthz's (the
ceiling), the load process's own CPU seconds per 1,000 requests (it shares the machine's CPUs with
gunicorn and Neo4j, so it must stay cheap) and what the measurement is judged on; then each goal's
verdict (any error fails), and writes them to var/bench/api_load.json ("scenarios": every measurement
by its printed name; "verdicts": each goal's). Scenarios mixing request kinds (regions) also get
figures per kind.
"""
import argparse
import http.client
import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import PROJECT_ROOT, Settings  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
PROVINCE_HOUSEHOLDS = 1_000_000
MATCH_GROUP = 10  # counties per match run while preparing
LOADED_MARKER = ".api-bench-loaded"  # in the Neo4j home: the ETL finished (an interrupted load is run again)
RESULT_FILE = BENCH_DIR / "api_load.json"
GUNICORN_PID_FILE = BENCH_DIR / "api_gunicorn.pid"
GUNICORN_ACCESS_LOG = BENCH_DIR / "api_access.log"
GUNICORN_ERROR_LOG = BENCH_DIR / "api_gunicorn.log"
GUNICORN_OUTPUT = BENCH_DIR / "api_gunicorn.out"
READY_TIMEOUT_S = 120
SCENARIOS = ("healthz", "recommendations", "households", "household_detail", "regions", "dashboard",
             "enterprise_page")
CEILING = "healthz"  # every other scenario's requests/s is reported as a share of this one's
HOUSEHOLD_SEARCH_VARIANTS = ("", "&cause=01", "&labour=none", "&labour=skilled", "&sort=income_per_capita")
TOWNSHIPS_PER_COUNTY = 4  # the regions scenario: townships of each county it asks for


@dataclass(frozen=True)
class Goal:
    """What a scenario must reach: at least min_rps requests/s (None: no throughput goal), p99 ≤ max_p99_ms.

    With a throughput goal the two halves are measured apart (see the module's docstring): the saturation
    run's requests/s against min_rps, the p99 of a run at min_rps requests/s against max_p99_ms. Without
    one, the saturation run's p99."""

    max_p99_ms: float
    min_rps: float | None = None

    def describe(self) -> str:
        return (f"≥{self.min_rps:,.0f}/s " if self.min_rps is not None else "") + f"p99≤{self.max_p99_ms:g}ms"

    def checks(self, rate: float | None) -> str:
        """What a measurement at `rate` requests/s (None: saturation) is judged on."""
        if rate is None and self.min_rps is not None:
            return f"≥{self.min_rps:,.0f}/s"
        return f"p99≤{self.max_p99_ms:g}ms"

    def judge(self, figures: dict, rate: float | None = None) -> list[str]:
        """Why a measurement's figures miss the goal (empty: met); `rate` is its offered rate (None:
        saturation). Errors fail too: an error's latency is no answer's."""
        misses = []
        if figures["errors"]:
            misses.append(f"{figures['errors']:,} errors")
        if not figures["requests"]:
            misses.append("no requests")
        if rate is None and self.min_rps is not None:  # saturation: the throughput (its p99 is queueing)
            if figures["rps"] < self.min_rps:
                misses.append(f"{figures['rps']:,.0f} < {self.min_rps:,.0f} req/s")
            return misses
        if rate is not None:
            if figures.get("unsent"):
                misses.append(f"{figures['unsent']:,} requests never sent (the server fell behind)")
            if self.min_rps is not None and rate < self.min_rps:
                misses.append(f"offered {rate:,.0f}/s < {self.min_rps:,.0f} req/s")
        if figures["p99_ms"] is not None and figures["p99_ms"] > self.max_p99_ms:
            misses.append(f"p99 {figures['p99_ms']:,.1f} > {self.max_p99_ms:g} ms")
        return misses


GOALS = {
    "households": Goal(max_p99_ms=50, min_rps=200),
    "recommendations": Goal(max_p99_ms=50, min_rps=200),
    "household_detail": Goal(max_p99_ms=200),
    "regions": Goal(max_p99_ms=200),
    "dashboard": Goal(max_p99_ms=200),
    "enterprise_page": Goal(max_p99_ms=200),
}


@dataclass(frozen=True)
class Measurement:
    """One load run of a scenario: saturation (closed loop, rate None) or at a fixed rate (open loop)."""

    scenario: str
    rate: float | None = None

    @property
    def name(self) -> str:
        """The name it is printed and stored under: `households`, `households @200/s`."""
        return self.scenario if self.rate is None else f"{self.scenario} @{self.rate:g}/s"


def plan_measurements(scenarios: list[str], rate: float | None = None) -> list[Measurement]:
    """The runs of the chosen scenarios, in order. With `rate` (--rate): each at that rate only. Otherwise
    each at saturation, followed, for a scenario with a throughput goal, by a run at exactly that goal's rate."""
    if rate is not None:
        return [Measurement(name, rate) for name in scenarios]
    plan = []
    for name in scenarios:
        plan.append(Measurement(name))
        goal = GOALS.get(name)
        if goal is not None and goal.min_rps is not None:
            plan.append(Measurement(name, goal.min_rps))
    return plan


def goal_verdict(scenario: str, results: dict[str, dict], rate: float | None = None) -> dict | None:
    """A scenario's verdict against its goal, from every measurement the goal needs (`rate`: --rate):
    PASS only when each of them was measured and met its half. None for a scenario without a goal."""
    goal = GOALS.get(scenario)
    if goal is None:
        return None
    needed = plan_measurements([scenario], rate)
    reasons = []
    for measurement in needed:
        figures = results.get(measurement.name)
        if figures is None:
            reasons.append(f"{measurement.name}: not measured")
        else:
            reasons += [f"{measurement.name}: {miss}" for miss in goal.judge(figures, measurement.rate)]
    return {"goal": goal.describe(), "verdict": "fail" if reasons else "pass", "reasons": reasons,
            "measurements": [measurement.name for measurement in needed]}


@dataclass
class Request:
    """One request a scenario cycles over. `kind` names its sort when a scenario mixes several (figures are
    also given per kind); `sign_in` is the API token a browser session is opened with before the load, whose
    cookie then goes into the headers (web pages)."""

    path: str
    headers: dict = field(default_factory=dict)
    kind: str = ""
    sign_in: str | None = None

    def for_worker(self) -> list:
        return [self.path, self.headers, self.kind]


@dataclass(frozen=True)
class BenchGraph:
    """Which data set and which dedicated Neo4j instance a benchmark run uses."""

    households: int
    home: Path
    port: int
    heap: str
    pagecache: str

    @classmethod
    def for_households(cls, households: int, heap: str | None, pagecache: str | None) -> "BenchGraph":
        """The province graph for the province size, a separate small instance for any other size."""
        if households == PROVINCE_HOUSEHOLDS:
            return cls(households, PROJECT_ROOT / "var" / "neo4j" / "apibench", 7691, heap or "3g", pagecache or "3g")
        return cls(households, PROJECT_ROOT / "var" / "neo4j" / "apibench-small", 7692, heap or "1g", pagecache or "1g")

    @property
    def is_province(self) -> bool:
        return self.households == PROVINCE_HOUSEHOLDS

    @property
    def data_dir(self) -> Path:
        return BENCH_DIR / ("apidata" if self.is_province else f"apidata-{self.households}")

    def settings(self) -> Settings:
        # Explicit values win over the environment and .env, so a NEO4J_URI there cannot redirect the benchmark.
        return Settings(neo4j_uri=None, neo4j_database=None, local_neo4j_port=self.port,
                        local_neo4j_home=self.home.resolve(), local_neo4j_heap=self.heap,
                        local_neo4j_pagecache=self.pagecache, id_hash_key="bench", var_dir=BENCH_DIR / "var")

    def instance(self):
        from graph import server

        return server.LocalInstance.from_settings(self.settings())


# --- memory and stage figures --------------------------------------------------------------------


def _status_kb(field: str, pid: int | str = "self") -> int | None:
    """A /proc/PID/status figure in kB (VmHWM = peak RSS, VmRSS = current), or None."""
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def reset_peak_rss() -> None:
    """Start a new peak-RSS measurement for this process (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # then the figure is the process's peak so far


def peak_rss_mb() -> float:
    """This process's peak RSS since the last reset."""
    kb = _status_kb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024


def neo4j_rss_mb(instance) -> str:
    """The Neo4j JVM's current and peak RSS, as text for the stage lines."""
    try:
        pid = int(instance.pid_file.read_text().strip())
    except (OSError, ValueError):
        return "Neo4j RSS n/a"
    rss, peak = _status_kb("VmRSS", pid), _status_kb("VmHWM", pid)
    if rss is None or peak is None:
        return "Neo4j RSS n/a"
    return f"Neo4j RSS {rss / 1024:,.0f} MB (peak {peak / 1024:,.0f} MB)"


class Stage:
    """Times one preparation stage and prints its duration and peak memory when it ends."""

    def __init__(self, name: str, instance=None):
        self.name, self.instance = name, instance

    def __enter__(self):
        print(f"\n== {self.name} …", flush=True)
        reset_peak_rss()
        self.started = time.monotonic()
        return self

    def __exit__(self, kind, value, traceback):
        seconds = time.monotonic() - self.started
        state = "完成 / done" if kind is None else "失败 / FAILED"
        extra = f"; {neo4j_rss_mb(self.instance)}" if self.instance is not None else ""
        print(f"== {self.name}: {state} in {seconds:,.1f} s; 本进程峰值内存 / peak RSS {peak_rss_mb():,.0f} MB{extra}",
              flush=True)
        return False


# --- preparation ---------------------------------------------------------------------------------


def existing_data_files(graph: BenchGraph) -> list[Path] | None:
    """Files of this size already generated (by an earlier run, or by bench/etl_load.py), or None."""
    candidates = [graph.data_dir] + sorted(BENCH_DIR.glob(f"data-{graph.households}"))
    for directory in candidates:
        if any(directory.glob(f".done-{graph.households}-*")):
            return sorted(path for path in directory.iterdir() if path.suffix == ".csv")
    return None


def generate_data(graph: BenchGraph) -> list[Path]:
    """Generate the data set in a subprocess (its memory is not this process's) and mark it complete."""
    out_dir = graph.data_dir
    shutil.rmtree(out_dir, ignore_errors=True)  # a half-written set from an interrupted run
    if graph.is_province:
        size_args = ["--preset", "province"]
    else:
        # The synthesiser scales enterprises (÷50) and projects (×3/1000) and picks the Xiangxi counties.
        size_args = ["--households", str(graph.households)]
    subprocess.run([sys.executable, "-m", "devtools.synth", "--out", str(out_dir), *size_args],
                   cwd=PROJECT_ROOT, check=True)
    (out_dir / f".done-{graph.households}-api").touch()
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"生成进程峰值内存 / peak RSS of the generator: {child_peak:,.0f} MB", flush=True)
    return sorted(path for path in out_dir.iterdir() if path.suffix == ".csv")


def prepare(graph: BenchGraph, keep_running: bool = False) -> None:
    """Bring the dedicated Neo4j to 'loaded and matched'; each step runs only when still needed.

    Neo4j is stopped afterwards (the graph stays on disk) unless the benchmark follows at once."""
    from etl.load import load_files
    from graph import bench_queries, bulk, server
    from graph.db import create_driver
    from graph.schema import apply_schema
    from matching.run import MatchParams, MatchRunner

    settings, instance = graph.settings(), graph.instance()
    marker = instance.home / LOADED_MARKER
    print(f"准备数据 / preparing {graph.households:,} households in {instance.home} (port {instance.port}, "
          f"heap {instance.heap}, page cache {instance.pagecache})", flush=True)
    prepared_at = time.monotonic()
    with Stage("启动 Neo4j / start Neo4j"):
        server.start(instance)
    try:
        with create_driver(settings) as driver:
            loaded = bench_queries.household_count(driver) > 0 and marker.exists()
            if loaded:
                print(f"已加载，跳过 / already loaded: {bench_queries.household_count(driver):,} households", flush=True)
            else:
                files = existing_data_files(graph)
                if files:
                    print(f"使用已生成的数据 / reusing data in {files[0].parent}", flush=True)
                else:
                    with Stage("生成数据 / generate data (devtools.synth)"):
                        files = generate_data(graph)
                print("文件 / files: " + ", ".join(f"{p.name} ({p.stat().st_size / 1e6:,.0f} MB)" for p in files),
                      flush=True)
                with Stage("模式 / schema", instance):
                    apply_schema(driver)
                with Stage("加载 / ETL load", instance):
                    result = load_files(files, driver, settings, progress=False)
                read = sum(item.rows_read for item in result.files)
                rejected = sum(item.rows_rejected for item in result.files)
                nodes, rels = bulk.count_entities(driver)
                print(f"  {read:,} rows read, {rejected:,} rejected; graph: {nodes:,} nodes, {rels:,} relationships",
                      flush=True)
                with Stage("索引统计 / index statistics (resample, replan)", instance):
                    bench_queries.prepare_for_replanning(driver)
                marker.write_text(datetime.now(timezone.utc).isoformat())
            if bench_queries.missing_read_state(driver):
                # A graph loaded before the read state existed (graph/readstate.py): what `flask readstate
                # repair` does on an upgraded installation.
                from graph import readstate

                with Stage("模式 / schema (composite indexes)", instance):
                    apply_schema(driver)
                with Stage("读状态 / read state (readstate repair, every county)", instance):
                    def progress(done, total, county, result):
                        if done % 10 == 0 or done == total:
                            print(f"  {done}/{total} counties", flush=True)
                    report = readstate.check(driver, repair=True, progress=progress)
                print(f"  repaired {sum(len(item['households']) for item in report):,} households, "
                      f"{sum(len(item['regions']) for item in report):,} regions", flush=True)
            pending = bench_queries.counties_without_current_recommendations(driver)
            if not pending:
                print("已有当前推荐，跳过匹配 / every county has current recommendations, matching skipped", flush=True)
            else:
                # Counties in groups: a run's memory grows with the counties it plans at once (issue 14),
                # and an interrupted preparation resumes with the counties still unmatched.
                with Stage(f"匹配 / matching {len(pending)} counties in groups of {MATCH_GROUP} (top_k=3)", instance):
                    for start in range(0, len(pending), MATCH_GROUP):
                        group = pending[start:start + MATCH_GROUP]
                        run = MatchRunner(driver, settings, progress=None).run(group, MatchParams(top_k=3))
                        timings = json.loads(run.get("timings") or "{}")
                        print(f"  {start + len(group)}/{len(pending)} counties; "
                              f"{timings.get('total_s', 0):,.1f} s; peak RSS {peak_rss_mb():,.0f} MB", flush=True)
                nodes, rels = bulk.count_entities(driver)
                print(f"  graph: {nodes:,} nodes, {rels:,} relationships", flush=True)
                with Stage("索引统计 / index statistics (resample, replan)", instance):
                    bench_queries.prepare_for_replanning(driver)  # the API's queries meet millions of new nodes
    except BaseException:
        server.stop(instance)
        raise
    if not keep_running:
        server.stop(instance)  # the memory goes back to the machine
    print(f"\n准备完成 / prepared in {time.monotonic() - prepared_at:,.0f} s; graph kept in {instance.home}", flush=True)


# --- the load process ------------------------------------------------------------------------------

REQUEST_TIMEOUT_S = 30
LATE_S = 0.010  # open loop: a request sent this much after its due time counts as a late send
DRAIN_S = 5.0  # open loop: how long after the window requests still due are sent; the rest count as unsent
START_DELAY_S = 0.05  # open loop: the timetable starts this long after the threads are created


class KeepAlive:
    """One keep-alive HTTP connection, opened on first use and again after an error or a closing answer."""

    def __init__(self, host: str, port: int):
        self.host, self.port, self.connection = host, port, None

    def get(self, path: str, headers: dict) -> tuple[int | str, bytes]:
        """(status, body) of GET path; the status is the exception's name when there was no answer."""
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_S)
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
            if response.will_close:
                self.close()
            return response.status, body
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return type(error).__name__, str(error).encode()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None


@dataclass
class ConnectionTally:
    """What one keep-alive connection saw inside the measured window (`sent` counts the warm-up too)."""

    latencies: list = field(default_factory=list)  # closed loop: send → answer; open loop: due time → answer
    kinds: list = field(default_factory=list)  # the request kind of each latency
    kind_errors: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    last_finish: float = 0.0
    error_sample: str | None = None
    sent: int = 0  # every request sent, warm-up included: the load process's CPU per request
    indices: list = field(default_factory=list)  # open loop: the timetable index of each latency
    service: list = field(default_factory=list)  # open loop: send → answer of each latency
    late: int = 0  # open loop: requests sent more than LATE_S after their due time …
    late_wakeups: int = 0  # … of which the connection was free and waiting, but woke up late (CPU contention)
    max_late: float = 0.0

    def record(self, latency: float, finished_at: float, path: str, kind: str, status, body: bytes) -> None:
        self.latencies.append(latency)
        self.kinds.append(kind)
        self.statuses[str(status)] += 1
        self.last_finish = max(self.last_finish, finished_at)
        if not (isinstance(status, int) and 200 <= status < 300):
            self.kind_errors[kind] += 1
            if self.error_sample is None:
                self.error_sample = f"{status} GET {path}: {body[:300].decode('utf-8', 'replace')}"


def drive_connection(host: str, port: int, requests: list, first: int, measure_from: float, stop_at: float,
                     tally: ConnectionTally) -> None:
    """Closed loop: send requests ([path, headers, kind]) back to back on one connection until stop_at."""
    connection = KeepAlive(host, port)
    index = first
    while (sent_at := time.perf_counter()) < stop_at:
        path, headers, kind = requests[index % len(requests)]
        index += 1
        status, body = connection.get(path, headers)
        finished_at = time.perf_counter()
        tally.sent += 1
        if sent_at < measure_from:
            continue  # warm-up: connections, driver pools and Neo4j's page cache fill up
        tally.record(finished_at - sent_at, finished_at, path, kind, status, body)
    connection.close()


class Schedule:
    """The open loop's timetable: request i is due at start + i / rate, for warm-up + duration seconds (the
    ones due in the warm-up, index < first_measured, are sent but not measured). Connections take the
    indices in order, whichever asks first (take), so a request waits for a connection only while every
    connection is busy. Requests still due are sent until give_up_at, DRAIN_S after the window."""

    def __init__(self, start: float, rate: float, warmup: float, duration: float, drain: float = DRAIN_S):
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate}")
        self.start, self.rate = start, rate
        self.first_measured = _count_below(warmup * rate)
        self.total = _count_below((warmup + duration) * rate)
        self.measure_from = start + warmup
        self.stop_at = start + warmup + duration
        self.give_up_at = self.stop_at + drain
        self._next = 0
        self._lock = threading.Lock()

    def due(self, index: int) -> float:
        return self.start + index / self.rate  # from the start each time: no drift adding up intervals

    def take(self) -> int | None:
        """The next request's index, or None when the timetable is through."""
        with self._lock:
            if self._next >= self.total:
                return None
            self._next += 1
            return self._next - 1

    @property
    def measured(self) -> int:
        """How many requests are due in the measured window."""
        return self.total - self.first_measured


def _count_below(bound: float) -> int:
    """How many whole numbers i ≥ 0 are below `bound` (rounded to a µ-request against float noise)."""
    return max(0, math.ceil(round(bound, 6)))


def drive_schedule(schedule: Schedule, send, tally: ConnectionTally, clock=time.perf_counter,
                   sleep=time.sleep) -> None:
    """Open loop, one connection: take the timetable's next request, wait for its due time when early, send
    it (send(index) → (path, kind, status, body)), repeat. The latency counts from the due time, so a
    request sent late because every connection was busy carries its wait (no coordinated omission)."""
    while (index := schedule.take()) is not None:
        due = schedule.due(index)
        early = due - clock()
        if early > 0:
            sleep(early)
        sent_at = clock()
        if sent_at > schedule.give_up_at:
            return  # the server fell behind: this request and the rest count as unsent
        path, kind, status, body = send(index)
        finished_at = clock()
        tally.sent += 1
        if index < schedule.first_measured:
            continue  # warm-up
        late = sent_at - due
        if late > LATE_S:
            tally.late += 1
            tally.late_wakeups += early > 0  # a connection was free: this process got the CPU late
        tally.max_late = max(tally.max_late, late)
        tally.indices.append(index)
        tally.service.append(finished_at - sent_at)
        tally.record(finished_at - due, finished_at, path, kind, status, body)


def scheduled_connection(host: str, port: int, requests: list, schedule: Schedule, tally: ConnectionTally) -> None:
    """One pooled connection of the open loop; request i of the timetable is requests[i mod len]."""
    connection = KeepAlive(host, port)

    def send(index: int) -> tuple:
        path, headers, kind = requests[index % len(requests)]
        status, body = connection.get(path, headers)
        return path, kind, status, body

    try:
        drive_schedule(schedule, send, tally)
    finally:
        connection.close()


def unsent_latencies(schedule: Schedule, sent_indices) -> tuple:
    """The measured requests never sent (their indices) and their latency's lower bound: due → give-up."""
    import numpy as np

    unsent = np.setdiff1d(np.arange(schedule.first_measured, schedule.total), np.asarray(sent_indices, dtype=int))
    return unsent, schedule.give_up_at - (schedule.start + unsent / schedule.rate)


def run_load(spec: dict) -> dict:
    """One measurement: `concurrency` connections for warm-up + duration seconds, back to back (closed loop)
    or, with spec["rate"], on the timetable of that many requests/s (open loop); the measured window's figures."""
    import numpy as np

    requests, concurrency, rate = spec["requests"], spec["concurrency"], spec.get("rate")
    tallies = [ConnectionTally() for _ in range(concurrency)]
    cpu_before, started = _cpu_s(), time.perf_counter()
    if rate:
        schedule = Schedule(started + START_DELAY_S, rate, spec["warmup"], spec["duration"],
                            spec.get("drain", DRAIN_S))
        measure_from, stop_at, last_send = schedule.measure_from, schedule.stop_at, schedule.give_up_at
        threads = [threading.Thread(target=scheduled_connection, daemon=True,
                                    args=(spec["host"], spec["port"], requests, schedule, tally))
                   for tally in tallies]
    else:
        measure_from = started + spec["warmup"]
        stop_at = last_send = measure_from + spec["duration"]
        # Each connection starts at a different request so the cycle is spread over enterprises and counties.
        threads = [threading.Thread(target=drive_connection, daemon=True,
                                    args=(spec["host"], spec["port"], requests, i * len(requests) // concurrency,
                                          measure_from, stop_at, tally))
                   for i, tally in enumerate(tallies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, last_send - time.perf_counter()) + REQUEST_TIMEOUT_S + 5)
    cpu_s, elapsed = _cpu_s() - cpu_before, time.perf_counter() - started
    sent = sum(tally.sent for tally in tallies)
    latencies_ms = np.array([value for tally in tallies for value in tally.latencies]) * 1000
    kind_of = np.array([kind for tally in tallies for kind in tally.kinds], dtype=object)
    statuses = sum((tally.statuses for tally in tallies), Counter())
    window = max([tally.last_finish for tally in tallies] + [stop_at]) - measure_from
    errors = sum(n for status, n in statuses.items() if not status.startswith("2"))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    figures = {"requests": int(latencies_ms.size), "errors": errors, "rps": latencies_ms.size / window,
               "window_s": window, "statuses": dict(statuses), "distinct_requests": len(requests),
               "load_process_cpu_s": usage.ru_utime + usage.ru_stime, "load_cpu_s": cpu_s, "load_sent": sent,
               "load_cpu_s_per_1k": 1000 * cpu_s / sent if sent else None,
               "load_cpu_share": cpu_s / elapsed if elapsed > 0 else None,  # of one CPU
               "error_sample": next((tally.error_sample for tally in tallies if tally.error_sample), None)}
    if rate:
        unsent, waits = unsent_latencies(schedule, [i for tally in tallies for i in tally.indices])
        service_ms = np.array([value for tally in tallies for value in tally.service]) * 1000
        figures.update({"offered_rps": rate, "scheduled": schedule.measured, "unsent": int(unsent.size),
                        "late": sum(tally.late for tally in tallies), "late_threshold_ms": LATE_S * 1000,
                        "late_wakeups": sum(tally.late_wakeups for tally in tallies),
                        "max_late_ms": 1000 * max(tally.max_late for tally in tallies),
                        "service_p50_ms": float(np.percentile(service_ms, 50)) if service_ms.size else None,
                        "service_p99_ms": float(np.percentile(service_ms, 99)) if service_ms.size else None})
        if unsent.size:  # their wait so far counts (a lower bound): leaving them out would flatter the p99
            latencies_ms = np.concatenate([latencies_ms, waits * 1000])
            kind_of = np.concatenate([kind_of, np.array([requests[i % len(requests)][2] for i in unsent],
                                                        dtype=object)])
    figures.update(percentiles(latencies_ms))
    kinds = sorted({kind for _, _, kind in requests})
    if len(kinds) > 1:  # a mixed scenario: the figures of each kind of request as well
        kind_errors = sum((tally.kind_errors for tally in tallies), Counter())
        answered = Counter(kind for tally in tallies for kind in tally.kinds)
        figures["kinds"] = {kind: {"requests": answered[kind], "errors": kind_errors[kind],
                                   **percentiles(latencies_ms[kind_of == kind])} for kind in kinds}
    return figures


def _cpu_s() -> float:
    """This process's CPU seconds so far (user + system, every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentiles(latencies_ms) -> dict:
    """p50, p90, p99 and max (None each without samples) of an array of latencies in ms."""
    import numpy as np

    return {name: float(np.percentile(latencies_ms, q)) if latencies_ms.size else None
            for name, q in (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99), ("max_ms", 100))}


def load_worker() -> int:
    """--load-worker: read a scenario spec (JSON) on stdin, drive the server, write the figures (JSON) on stdout."""
    print(json.dumps(run_load(json.load(sys.stdin))))
    return 0


# --- the benchmark -------------------------------------------------------------------------------


def pick_evenly(items: list, n: int) -> list:
    """n items spread over the whole list (all when there are fewer)."""
    if len(items) <= n:
        return list(items)
    return [items[i * len(items) // n] for i in range(n)]


def choose_scenarios(selected: list | None, excluded: list | None, ceiling_first: bool = True) -> list[str]:
    """The scenarios to run, in order: those selected (default: all), the ceiling (healthz) first whenever
    another one runs (unless not `ceiling_first`: --rate), because the others are reported as a share of it;
    minus the excluded ones."""
    names = list(dict.fromkeys(selected or SCENARIOS))
    excluded = set(excluded or ())
    if ceiling_first and CEILING not in excluded and any(name != CEILING for name in names):
        names = [CEILING] + [name for name in names if name != CEILING]
    return [name for name in names if name not in excluded]


def scenario_requests(name: str, driver, settings: Settings, args, tokens: dict | None = None) -> list | None:
    """The Requests a scenario cycles over; None (with the reason printed) when it cannot run.

    `tokens` keeps the API tokens issued in this run, one per role and scope, for every scenario."""
    if name == "healthz":
        return [Request("/healthz")]
    try:
        from services.context import Context
        from services.errors import ServiceError
        from services.tokens import issue_token
    except ImportError as error:
        print(f"场景 {name} 跳过：无法导入 services.tokens.issue_token / scenario {name} skipped: "
              f"cannot import services.tokens.issue_token ({error})", flush=True)
        return None
    tokens = {} if tokens is None else tokens

    def issue(role: str, token_name: str, **scope) -> str:
        key = (role, tuple(sorted(scope.items())))
        if key not in tokens:
            tokens[key] = issue_token(Context(driver, settings), role, token_name, **scope)
        return tokens[key]

    builders = {
        "recommendations": lambda: recommendation_requests(driver, issue, args.enterprises),
        "households": lambda: household_search_requests(driver, issue, args.counties),
        "household_detail": lambda: household_detail_requests(driver, issue, args.counties, args.detail_households),
        "regions": lambda: region_requests(driver, issue, args.counties),
        "dashboard": lambda: dashboard_requests(driver, issue, args.counties),
        "enterprise_page": lambda: enterprise_page_requests(driver, issue, args.enterprises),
    }
    try:
        return builders[name]()
    except (TypeError, ValueError, ServiceError) as error:  # the token API changed under us: say so, measure the rest
        print(f"场景 {name} 跳过：创建令牌失败 / scenario {name} skipped: issue_token failed ({error!r})", flush=True)
        return None


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _bureau_token(issue_token, county_code: str) -> str:
    return issue_token("bureau", f"api-bench {county_code}", county_code=county_code)


def _enterprise_token(issue_token, credit_code: str) -> str:
    return issue_token("enterprise", f"api-bench {credit_code}", credit_code=credit_code)


def _counties(driver, limit: int, scenario: str) -> list[dict]:
    """Up to `limit` counties with households, spread over the list (printed when there are none)."""
    from graph import bench_queries

    counties = pick_evenly(bench_queries.counties_with_households(driver), limit)
    if not counties:
        print(f"场景 {scenario} 跳过：没有户 / skipped: no households", flush=True)
    return counties


def _enterprises(driver, limit: int, scenario: str) -> list[dict]:
    """Up to `limit` enterprises with current recommendations (printed when there are none)."""
    from graph import bench_queries

    enterprises = bench_queries.enterprises_with_current_recommendations(driver, limit)
    if not enterprises:
        print(f"场景 {scenario} 跳过：没有当前推荐 / skipped: no current recommendations", flush=True)
    return enterprises


def recommendation_requests(driver, issue_token, limit: int) -> list | None:
    """An enterprise's first page of current recommendations, with its own token, for `limit` enterprises."""
    enterprises = _enterprises(driver, limit, "recommendations")
    if not enterprises:
        return None
    requests = [Request(f"/api/v1/enterprises/{enterprise['credit_code']}/recommendations?page_size=10",
                        _bearer(_enterprise_token(issue_token, enterprise["credit_code"])))
                for enterprise in enterprises]
    print(f"  recommendations: {len(enterprises)} enterprises, one token each", flush=True)
    return requests


def household_search_requests(driver, issue_token, limit: int) -> list | None:
    """A bureau's search for uncovered households in its county (with filter variants), for `limit` counties."""
    counties = _counties(driver, limit, "households")
    if not counties:
        return None
    requests = []
    for county in counties:
        headers = _bearer(_bureau_token(issue_token, county["code"]))
        base = f"/api/v1/households?county={county['code']}&covered=false&page_size=20"
        requests += [Request(base + variant, headers) for variant in HOUSEHOLD_SEARCH_VARIANTS]
    print(f"  households: {len(counties)} counties × {len(HOUSEHOLD_SEARCH_VARIANTS)} filter variants, "
          f"one bureau token per county", flush=True)
    return requests


def household_detail_requests(driver, issue_token, limit: int, per_county: int) -> list | None:
    """One household's detail with the bureau token of its county: `per_county` households in each of `limit`
    counties, taking the counties in turn."""
    from urllib.parse import quote

    from graph import bench_queries

    counties = _counties(driver, limit, "household_detail")
    by_county = [(_bearer(_bureau_token(issue_token, county["code"])),
                  bench_queries.household_ids(driver, county["code"], per_county))
                 for county in counties]
    requests = [Request(f"/api/v1/households/{quote(ids[i], safe='')}", headers)
                for i in range(max((len(ids) for _, ids in by_county), default=0))
                for headers, ids in by_county if i < len(ids)]
    if not requests:
        print("场景 household_detail 跳过：没有户 / skipped: no households", flush=True)
        return None
    print(f"  household_detail: {len(requests):,} households in {len(counties)} counties, one bureau token per county",
          flush=True)
    return requests


def region_requests(driver, issue_token, limit: int) -> list | None:
    """The region tree: for each of `limit` counties and a few of its townships in turn, the county's children,
    the county and the township (that county's bureau token), then the top level (an analyst token)."""
    from graph import bench_queries

    counties = _counties(driver, limit, "regions")
    if not counties:
        return None
    top_level = Request("/api/v1/regions", _bearer(issue_token("analyst", "api-bench analyst")), "top level (analyst)")
    requests, townships_seen = [], 0
    for county in counties:
        code, headers = county["code"], _bearer(_bureau_token(issue_token, county["code"]))
        townships = pick_evenly(bench_queries.township_codes(driver, code), TOWNSHIPS_PER_COUNTY)
        townships_seen += len(townships)
        for township in townships or [None]:
            requests += [Request(f"/api/v1/regions?parent={code}", headers, "children of county"),
                         Request(f"/api/v1/regions/{code}", headers, "county")]
            if township:
                requests.append(Request(f"/api/v1/regions/{township}", headers, "township"))
            requests.append(top_level)
    print(f"  regions: {len(counties)} counties, {townships_seen} townships; bureau token per county, "
          f"one analyst token for the top level", flush=True)
    return requests


def dashboard_requests(driver, issue_token, limit: int) -> list | None:
    """The bureau dashboard page, in a browser session of each of `limit` counties' bureau."""
    counties = _counties(driver, limit, "dashboard")
    if not counties:
        return None
    print(f"  dashboard: {len(counties)} counties, one signed-in bureau session each", flush=True)
    return [Request("/dashboard", sign_in=_bureau_token(issue_token, county["code"])) for county in counties]


def enterprise_page_requests(driver, issue_token, limit: int) -> list | None:
    """The enterprise page, in a browser session of each of `limit` enterprises (with current recommendations)."""
    enterprises = _enterprises(driver, limit, "enterprise_page")
    if not enterprises:
        return None
    print(f"  enterprise_page: {len(enterprises)} enterprises, one signed-in session each", flush=True)
    return [Request("/enterprise", sign_in=_enterprise_token(issue_token, enterprise["credit_code"]))
            for enterprise in enterprises]


# --- web sessions --------------------------------------------------------------------------------

LOGIN_PATH = "/login"  # the pages are served at the root of the site (app/web registers no prefix)
CSRF_FIELD = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


class BrowserSession:
    """A minimal browser on one keep-alive connection: keeps the cookies the site sets (name and value; the
    Secure flag is not checked, as browsers keep Secure cookies on http://127.0.0.1 and localhost too)."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def exchange(self, method: str, path: str, form: dict | None = None) -> tuple[int, str | None, str]:
        """(status, Location, body) of one request with the cookies; the cookies the answer sets are kept."""
        from urllib.parse import urlencode

        headers = {"Cookie": self.cookie_header()} if self.cookies else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value, _, attributes = rest.partition(";")
            if not value or re.search(r"(?i)max-age=0\b", attributes):
                self.cookies.pop(name.strip(), None)  # the site deletes it
            else:
                self.cookies[name.strip()] = value.strip()
        return response.status, response.getheader("Location"), text

    def close(self) -> None:
        self.connection.close()


def sign_in(port: int, token: str) -> str:
    """Sign in with an API token as a browser does (the form and its CSRF token, the POST, the redirect to the
    role's home page followed once); the Cookie header of that session. RuntimeError when it fails."""
    from urllib.parse import urlsplit

    browser = BrowserSession(port)
    try:
        status, _, page = browser.exchange("GET", LOGIN_PATH)
        csrf = CSRF_FIELD.search(page)
        if status != 200 or csrf is None:
            raise RuntimeError(f"GET {LOGIN_PATH}: {status}, CSRF token {'found' if csrf else 'missing'}")
        status, location, page = browser.exchange("POST", LOGIN_PATH, {"token": token, "csrf_token": csrf.group(1)})
        if status != 302 or not location:
            raise RuntimeError(f"POST {LOGIN_PATH}: {status} (302 expected): {page[:200]!r}")
        home = urlsplit(location)
        status, _, page = browser.exchange("GET", home.path + (f"?{home.query}" if home.query else ""))
        if status != 200:
            raise RuntimeError(f"GET {location} after sign-in: {status}: {page[:200]!r}")
        return browser.cookie_header()
    except (OSError, http.client.HTTPException) as error:
        raise RuntimeError(f"{type(error).__name__}: {error}") from error
    finally:
        browser.close()


def sign_in_pages(requests: dict[str, list | None], port: int) -> None:
    """Give every web-page request the Cookie header of a signed-in session (one sign-in per token); a
    scenario whose sign-in fails is skipped (set to None) with the reason printed."""
    started, sessions = time.monotonic(), {}
    for name, items in requests.items():
        if not items or not any(item.sign_in for item in items):
            continue
        try:
            for item in items:
                if item.sign_in:
                    if item.sign_in not in sessions:
                        sessions[item.sign_in] = sign_in(port, item.sign_in)
                    item.headers = {**item.headers, "Cookie": sessions[item.sign_in]}
        except RuntimeError as error:
            print(f"场景 {name} 跳过：网页登录失败 / scenario {name} skipped: web sign-in failed ({error})",
                  flush=True)
            requests[name] = None
    if sessions:
        print(f"网页登录 / signed in {len(sessions)} browser sessions in {time.monotonic() - started:.1f} s", flush=True)


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _get_status(port: int, path: str) -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status
    except (OSError, http.client.HTTPException):
        return None


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start_gunicorn(graph: BenchGraph, args) -> subprocess.Popen:
    """gunicorn in the foreground of a child process (not daemonised: this script owns and ends it)."""
    if _port_in_use(args.base_port):
        raise SystemExit(f"端口 {args.base_port} 已被占用 / port {args.base_port} is taken; use --base-port")
    for log in (GUNICORN_ACCESS_LOG, GUNICORN_ERROR_LOG, GUNICORN_OUTPUT):
        log.unlink(missing_ok=True)  # one run's lines per file
    env = {**os.environ, "NEO4J_URI": f"bolt://127.0.0.1:{graph.port}", "LIANJIE_BIND": f"127.0.0.1:{args.base_port}",
           "LIANJIE_WORKERS": str(args.workers), "LIANJIE_THREADS": str(args.threads),
           "LIANJIE_PIDFILE": str(GUNICORN_PID_FILE), "LIANJIE_ACCESSLOG": str(GUNICORN_ACCESS_LOG),
           "LIANJIE_ERRORLOG": str(GUNICORN_ERROR_LOG), "ID_HASH_KEY": "bench", "VAR_DIR": str(BENCH_DIR / "var")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # gunicorn.conf.py derives it beside the pid file
    with open(GUNICORN_OUTPUT, "ab") as output:
        process = subprocess.Popen([str(PROJECT_ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
                                   cwd=PROJECT_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT)
    started = time.monotonic()
    while time.monotonic() - started < READY_TIMEOUT_S:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn 启动失败 / gunicorn exited ({process.returncode}):\n{_tail(GUNICORN_ERROR_LOG)}"
                             f"\n{_tail(GUNICORN_OUTPUT)}")
        if _get_status(args.base_port, "/readyz") == 200:
            print(f"gunicorn 就绪 / ready in {time.monotonic() - started:.1f} s (pid {process.pid}, "
                  f"{args.workers} workers × {args.threads} threads) on 127.0.0.1:{args.base_port}", flush=True)
            return process
        time.sleep(0.25)
    stop_gunicorn(process)
    raise SystemExit(f"gunicorn 未就绪 / /readyz not 200 within {READY_TIMEOUT_S} s:\n{_tail(GUNICORN_ERROR_LOG)}")


def gunicorn_worker_peak_rss_mb(process: subprocess.Popen) -> list[float]:
    """Peak RSS of each live gunicorn worker (children of the master)."""
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    except OSError:
        return []
    return [round(kb / 1024) for kb in (_status_kb("VmHWM", pid) for pid in children) if kb is not None]


def stop_gunicorn(process: subprocess.Popen) -> None:
    """SIGTERM (graceful: workers close their drivers), SIGKILL if it outlives the grace period."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    print(f"gunicorn 已停止 / stopped (pid {process.pid})", flush=True)


def run_scenario(measurement: Measurement, requests: list, args, ceiling: dict | None = None) -> dict:
    """Run one measurement in a separate load process (its CPU use is not the server's GIL); the figures with
    the share of the ceiling's requests/s and the verdict on what the measurement is judged on."""
    name, rate = measurement.scenario, measurement.rate
    spec = {"host": "127.0.0.1", "port": args.base_port, "requests": [item.for_worker() for item in requests],
            "concurrency": args.concurrency, "duration": args.duration, "warmup": args.warmup, "rate": rate}
    how = (f"{args.concurrency} connections back to back" if rate is None
           else f"{rate:g} req/s offered over a pool of {args.concurrency} connections")
    print(f"\n场景 / scenario {measurement.name}: {how}, {args.warmup:g} s warm-up + {args.duration:g} s …",
          flush=True)
    timeout = args.warmup + args.duration + (0 if rate is None else DRAIN_S) + REQUEST_TIMEOUT_S + 60
    completed = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--load-worker"], input=json.dumps(spec),
                               capture_output=True, text=True, timeout=timeout)
    if completed.returncode != 0:
        raise RuntimeError(f"load process failed / 负载进程失败:\n{completed.stderr[-3000:]}")
    figures = json.loads(completed.stdout)
    figures.update(assess(measurement, figures, ceiling))
    if rate is None:
        rates = f"{figures['rps']:,.0f} req/s ({_pct(figures['healthz_ratio_pct'])} of {CEILING})"
    else:
        rates = (f"{figures['rps']:,.0f} of {rate:g} req/s offered, {figures['late']:,} sent >"
                 f"{figures['late_threshold_ms']:g} ms late (at most {_ms(figures['max_late_ms'])} ms; "
                 f"{figures['late_wakeups']:,} with a connection free: the load process woke late), "
                 f"{figures['unsent']:,} unsent")
    print(f"  {figures['requests']:,} requests, {figures['errors']:,} errors, {rates}, p50 {_ms(figures['p50_ms'])}, "
          f"p99 {_ms(figures['p99_ms'])} ms{'' if rate is None else ' from the due times'}; "
          f"statuses {figures['statuses']}; {_verdict_text(name, figures)}", flush=True)
    if rate is not None:
        print(f"  service time (send → answer) p50 {_ms(figures['service_p50_ms'])}, "
              f"p99 {_ms(figures['service_p99_ms'])} ms", flush=True)
    print(f"  负载进程 / load process: {_num(figures.get('load_cpu_s_per_1k'), 3)} CPU s per 1,000 requests, "
          f"{_pct(_times(figures.get('load_cpu_share'), 100))} of one CPU", flush=True)
    for kind, part in figures.get("kinds", {}).items():
        print(f"    {kind}: {part['requests']:,} requests, {part['errors']:,} errors, p50 {_ms(part['p50_ms'])}, "
              f"p99 {_ms(part['p99_ms'])}, max {_ms(part['max_ms'])} ms", flush=True)
    if figures["error_sample"]:
        print(f"  首个错误 / first error: {figures['error_sample']}", flush=True)
    return figures


def assess(measurement: Measurement, figures: dict, ceiling: dict | None) -> dict:
    """A measurement's requests/s as a percentage of the ceiling's (None without a ceiling measured, and for
    a run at a fixed rate), its scenario's goal, what it is judged on and its verdict: "pass", "fail" (with the
    reasons) or None for a scenario without a goal (the ceiling)."""
    name, rate = measurement.scenario, measurement.rate
    ratio = None
    if rate is None and name == CEILING:
        ratio = 100.0
    elif rate is None and ceiling and ceiling.get("rps"):
        ratio = 100 * figures["rps"] / ceiling["rps"]
    goal = GOALS.get(name)
    misses = goal.judge(figures, rate) if goal else []
    return {"scenario": name, "mode": "saturation" if rate is None else "rate", "offered_rps": rate,
            "healthz_ratio_pct": ratio,
            "goal": None if goal is None else {"min_rps": goal.min_rps, "max_p99_ms": goal.max_p99_ms,
                                               "text": goal.describe()},
            "checks": None if goal is None else goal.checks(rate),
            "verdict": None if goal is None else ("fail" if misses else "pass"), "verdict_reasons": misses}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}%"


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _times(value: float | None, factor: float) -> float | None:
    return None if value is None else value * factor


def _verdict_text(name: str, figures: dict) -> str:
    if figures["verdict"] is None:
        return "ceiling 上限" if name == CEILING and figures.get("mode") != "rate" else "no goal"
    if figures["verdict"] == "pass":
        return "PASS 达标"
    return "FAIL 未达标: " + "; ".join(figures["verdict_reasons"])


def print_summary(results: dict[str, dict], verdicts: dict[str, dict] | None = None) -> None:
    """The final table, one line per measurement (and per request kind): figures, share of the ceiling, what
    the line is judged on and its verdict; then each goal's verdict over its lines."""
    print(f"\n{'measurement 测量':<22}{'requests':>10}{'errors':>8}{'offered/s':>10}{'req/s':>9}{'%healthz':>10}"
          f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'late':>7}{'cpu s/1k':>10}  {'checks 检查':<13}verdict 结论")
    for name, figures in results.items():
        print(f"{name:<24}{figures['requests']:>10,}{figures['errors']:>8,}{_num(figures.get('offered_rps')):>10}"
              f"{figures['rps']:>9,.0f}{_pct(figures['healthz_ratio_pct']):>10}{_ms(figures['p50_ms']):>9}"
              f"{_ms(figures['p90_ms']):>9}{_ms(figures['p99_ms']):>9}{_ms(figures['max_ms']):>9}"
              f"{_num(figures.get('late')):>7}{_num(figures.get('load_cpu_s_per_1k'), 3):>10}  "
              f"{figures.get('checks') or '-':<15}{_verdict_text(figures.get('scenario', name), figures)}")
        for kind, part in figures.get("kinds", {}).items():
            print(f"{'  · ' + kind:<24}{part['requests']:>10,}{part['errors']:>8,}{'':>10}{'':>9}{'':>10}"
                  f"{_ms(part['p50_ms']):>9}{_ms(part['p90_ms']):>9}{_ms(part['p99_ms']):>9}{_ms(part['max_ms']):>9}")
    print(f"(at a rate: latency from each request's due time; late = sent >{LATE_S * 1000:g} ms after it; "
          f"cpu s/1k = the load process's CPU seconds per 1,000 requests)")
    if verdicts:
        print("目标 / goals (PASS needs every line named):")
        for name, verdict in verdicts.items():
            text = "PASS 达标" if verdict["verdict"] == "pass" else "FAIL 未达标: " + "; ".join(verdict["reasons"])
            print(f"  {name:<18}{verdict['goal']:<18}{' + '.join(verdict['measurements']):<44}{text}")
        passed = sum(verdict["verdict"] == "pass" for verdict in verdicts.values())
        print(f"目标 / goals: {passed} of {len(verdicts)} scenarios met")


def benchmark(graph: BenchGraph, args) -> int:
    """Serve the prepared graph with gunicorn and measure every chosen scenario."""
    from graph import bench_queries, server
    from graph.db import create_driver
    from graph.schema import apply_schema

    settings, instance = graph.settings(), graph.instance()
    scenarios = choose_scenarios(args.scenario, args.exclude, ceiling_first=args.rate is None)
    if not scenarios:
        raise SystemExit("没有要测的场景 / no scenario left to run (check --scenario and --exclude)")
    plan = plan_measurements(scenarios, args.rate)
    print(f"场景 / scenarios: {', '.join(scenarios)}; 测量 / measurements: "
          f"{', '.join(measurement.name for measurement in plan)}", flush=True)
    server.start(instance)
    gunicorn = None
    try:
        with create_driver(settings) as driver:
            households = bench_queries.household_count(driver)
            if households == 0:
                raise SystemExit("图为空，请先运行 --prepare / the graph is empty: run with --prepare first")
            apply_schema(driver)  # indexes added since the preparation
            print(f"图 / graph: {households:,} households at {instance.bolt_uri}", flush=True)
            tokens = {}  # one token per role and scope, shared by the scenarios
            requests = {name: scenario_requests(name, driver, settings, args, tokens) for name in scenarios}
        gunicorn = start_gunicorn(graph, args)
        sign_in_pages(requests, args.base_port)  # the web pages' sessions, before any load
        results = {}
        for measurement in plan:
            if requests[measurement.scenario]:
                results[measurement.name] = run_scenario(measurement, requests[measurement.scenario], args,
                                                         ceiling=results.get(CEILING))
        worker_rss = gunicorn_worker_peak_rss_mb(gunicorn)
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        server.stop(instance)
    verdicts = {name: goal_verdict(name, results, args.rate) for name in scenarios
                if name in GOALS and requests.get(name)}
    print_summary(results, verdicts)
    print(f"gunicorn 工作进程峰值内存 / worker peak RSS: {', '.join(f'{mb:,.0f} MB' for mb in worker_rss) or 'n/a'}; "
          f"负载进程与服务共用 {os.cpu_count()} 个 CPU / the load process shares the {os.cpu_count()} CPUs")
    report = {"finished_at": datetime.now(timezone.utc).isoformat(), "households": households,
              "neo4j": {"home": str(instance.home), "port": instance.port, "heap": instance.heap,
                        "pagecache": instance.pagecache},
              "gunicorn": {"workers": args.workers, "threads": args.threads, "worker_peak_rss_mb": worker_rss},
              "concurrency": args.concurrency, "duration_s": args.duration, "warmup_s": args.warmup,
              "rate": args.rate, "late_threshold_ms": LATE_S * 1000, "drain_s": DRAIN_S,
              "cpus": os.cpu_count(), "skipped": [name for name in scenarios if not requests.get(name)],
              "ceiling": CEILING, "ceiling_rps": results.get(CEILING, {}).get("rps"),
              "goals": {name: {"min_rps": goal.min_rps, "max_p99_ms": goal.max_p99_ms} for name, goal in GOALS.items()},
              "scenarios": results, "verdicts": verdicts}
    RESULT_FILE.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"结果 / results: {RESULT_FILE}")
    return 0


# --- command line --------------------------------------------------------------------------------


def main() -> int:
    """Prepare the graph, or run the benchmark (preparing first when needed)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="only prepare the graph (idempotent), then exit")
    parser.add_argument("--skip-prepare", action="store_true", help="benchmark the graph as it is (no preparation check)")
    parser.add_argument("--households", type=int, default=PROVINCE_HOUSEHOLDS,
                        help="data set size; other than 1,000,000 uses var/neo4j/apibench-small on port 7692")
    parser.add_argument("--heap", help="Neo4j heap (default 3g province, 1g small)")
    parser.add_argument("--pagecache", help="Neo4j page cache (default 3g province, 1g small)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="keep-alive connections (default 8); at a rate, the pool: too small shows as late sends")
    parser.add_argument("--rate", type=float,
                        help="open loop only: every chosen scenario at this many requests/s offered (no saturation "
                             "runs; healthz only when chosen). Default: saturation runs, plus a run at the goal's "
                             "rate for households and recommendations")
    parser.add_argument("--duration", type=float, default=30, help="measured seconds per scenario (default 30)")
    parser.add_argument("--warmup", type=float, default=5, help="unmeasured seconds before each scenario (default 5)")
    parser.add_argument("--base-port", type=int, default=8100, help="gunicorn's port on 127.0.0.1 (default 8100)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (default 4)")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS,
                        help=f"repeatable; default: all. {CEILING} is measured first whenever another one runs")
    parser.add_argument("--exclude", action="append", choices=SCENARIOS, default=[],
                        help=f"repeatable: leave a scenario out (also {CEILING}; the others then get no ratio)")
    parser.add_argument("--enterprises", type=int, default=50,
                        help="enterprises the recommendations and enterprise_page scenarios cycle over")
    parser.add_argument("--counties", type=int, default=20,
                        help="counties the households, household_detail, regions and dashboard scenarios cycle over")
    parser.add_argument("--detail-households", type=int, default=50,
                        help="households per county the household_detail scenario cycles over (default 50)")
    parser.add_argument("--load-worker", action="store_true", help=argparse.SUPPRESS)  # internal: the load process
    args = parser.parse_args()
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    if args.load_worker:
        return load_worker()
    graph = BenchGraph.for_households(args.households, args.heap, args.pagecache)
    if args.prepare:
        prepare(graph)
        return 0
    if not args.skip_prepare:
        prepare(graph, keep_running=True)  # idempotent: seconds when the graph is ready
    return benchmark(graph, args)


if __name__ == "__main__":
    sys.exit(main())
