"""Soak benchmark: a bounded run (10 minutes by default) of mixed reads and writes through the proxy.

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 6] [--port 8120] [--upstream-port 8121]
    make bench-soak BENCH_ARGS="--minutes 10"

It runs the deployment as `make run` does — nginx (deploy/nginx.py) in front of gunicorn (gunicorn.conf.py,
2 workers × 4 threads) — on its own Neo4j (var/neo4j/soak, port 7693) holding the sample county (凤凰县,
generated once into var/bench/soak-sample, loaded and matched afresh at every start, as `flask sample` and
`flask match run` would), with its own var/ (var/bench/soak: keys, logs, nginx files).

C client threads (pausing about --think seconds between requests) keep the service busy with a weighted mix, each through its own keep-alive connection
to nginx: a bureau's household search and household detail, enterprises' recommendations (each with its
own token), enterprises accepting and declining recommendations, ledger PATCHes, both Excel exports;
beside them a match run is started every 150 s and a small file uploaded every 30 s (background jobs).

Every minute it prints requests, errors (any 5xx or connection error; 4xx are counted apart: a
recommendation taken by another client answers 409), p50 / p99 latency per operation and the RSS of
each gunicorn worker (and nginx, Neo4j); at the end a summary with each worker's memory slope after
the warm-up and over the second half (memory that stops growing is flat; a leak keeps its slope). It
exits 1 when there was an error, a failed job or a worker whose memory kept growing. Figures also go to
var/bench/soak.json.
"""
import argparse
import io
import json
import os
import random
import re
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import PROJECT_ROOT, Settings  # noqa: E402
from deploy.stack import Stack, start_stack  # noqa: E402

BENCH_DIR = PROJECT_ROOT / "var" / "bench"
SOAK_DIR = BENCH_DIR / "soak"
SAMPLE_DIR = BENCH_DIR / "soak-sample"
RESULT_FILE = BENCH_DIR / "soak.json"
COUNTY = "433123000000"  # the sample county (凤凰县)
READY_TIMEOUT_S = 120
REQUEST_TIMEOUT_S = 60
MEMORY_EVERY_S = 10
WARMUP_MINUTES = 2          # memory slope is judged after this (imports, caches, pools fill first)
FLAT_MB_PER_MINUTE = 1.0    # a worker growing faster than this after the warm-up is "not flat"
MATCH_RUN_EVERY_S = 150
UPLOAD_EVERY_S = 30
# Operation → weight of the random mix (the scheduled match runs and uploads come on top).
MIX = {"household_search": 30, "household_detail": 25, "enterprise_recommendations": 20, "accept": 3,
       "decline": 3, "ledger_patch": 8, "export_households": 2, "export_partnerships": 2, "job_status": 3}
SEARCH_VARIANTS = ("&covered=false", "&covered=true", "&labour=ordinary", "&cause=01", "&sort=income_per_capita", "")


def _status_kb(field_name: str, pid: int) -> int | None:
    try:
        match = re.search(rf"^{field_name}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


# --- preparation: own Neo4j with the sample county, matched -----------------------------------------


def soak_settings(neo4j_port: int) -> Settings:
    """Explicit values (not the environment's NEO4J_URI): the soak never touches another graph."""
    return Settings(neo4j_uri=None, neo4j_database=None, local_neo4j_port=neo4j_port,
                    local_neo4j_home=PROJECT_ROOT / "var" / "neo4j" / "soak", local_neo4j_heap="1g",
                    local_neo4j_pagecache="512m", id_hash_key="soak", var_dir=SOAK_DIR / "var")


def prepare_graph(settings: Settings):
    """Start the soak's Neo4j, empty it, load the sample county and run matching; returns the instance."""
    from devtools.synth import PRESETS, generate
    from etl.load import load_files
    from graph import server
    from graph.db import create_driver
    from graph.maintenance import clear_graph
    from graph.schema import apply_schema
    from matching.run import MatchParams, MatchRunner

    instance = server.LocalInstance.from_settings(settings)
    started = time.monotonic()
    server.start(instance)
    with create_driver(settings) as driver:
        apply_schema(driver)
        clear_graph(driver)  # every soak starts from the same graph
        if not (SAMPLE_DIR / "households.csv").exists():
            generate(SAMPLE_DIR, progress=False, **PRESETS["sample"])
        files = [SAMPLE_DIR / f"{name}.csv" for name in
                 ("villages", "households", "members", "enterprises", "projects", "partnerships")
                 if (SAMPLE_DIR / f"{name}.csv").exists()]
        result = load_files(files, driver, settings, progress=False)
        assert not result.failed_files, result.failed_files
        MatchRunner(driver, settings, progress=None).run([COUNTY], MatchParams(top_k=5))
    print(f"图已就绪 / graph ready: sample county loaded and matched in {time.monotonic() - started:.0f} s "
          f"({instance.bolt_uri})", flush=True)
    return instance


@dataclass
class Actors:
    """Tokens and ids the clients use."""

    bureau: str
    enterprises: dict[str, str]                  # credit code → token
    households: list[str]
    partnerships: list[str]
    proposed: dict[str, list[str]]               # credit code → proposed recommendation ids (consumed)
    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: list[str] = field(default_factory=list)

    def take_proposed(self) -> tuple[str, str] | None:
        """A proposed recommendation nobody acted on yet, with its enterprise (None when all are taken)."""
        with self.lock:
            codes = [code for code, recs in self.proposed.items() if recs]
            if not codes:
                return None
            code = random.choice(codes)
            return code, self.proposed[code].pop()

    def offer(self, code: str, recs: list[dict]) -> None:
        """Recommendations an enterprise just listed: the proposed ones become actionable again."""
        with self.lock:
            known = set(self.proposed[code])
            self.proposed[code].extend(r["rec_id"] for r in recs
                                       if r.get("status") == "proposed" and r["rec_id"] not in known)


def make_actors(settings: Settings, enterprise_count: int) -> Actors:
    from graph import bench_queries, views
    from graph.db import create_driver
    from services.context import Context
    from services.tokens import issue_token

    with create_driver(settings) as driver:
        ctx = Context(driver, settings)
        by_enterprise = defaultdict(list)
        for rec in bench_queries.proposed_recommendations(driver, COUNTY):
            by_enterprise[rec["credit_code"]].append(rec["rec_id"])
        codes = sorted(by_enterprise, key=lambda code: -len(by_enterprise[code]))[:enterprise_count]
        households, _ = views.search_households(driver, {"county_code": COUNTY}, None, None, "household_id", 0, 5000)
        partnerships, _ = views.search_partnerships(driver, {"county_code": COUNTY}, 0, 500)
        actors = Actors(bureau=issue_token(ctx, "bureau", "soak bureau", county_code=COUNTY),
                        enterprises={code: issue_token(ctx, "enterprise", f"soak {code}", credit_code=code)
                                     for code in codes},
                        households=[h["household_id"] for h in households],
                        partnerships=[p["partnership_id"] for p in partnerships],
                        proposed={code: list(by_enterprise[code]) for code in codes})
    print(f"  {len(actors.households)} households, {len(actors.partnerships)} ledger rows, {len(codes)} enterprises "
          f"with {sum(map(len, actors.proposed.values()))} proposed recommendations", flush=True)
    return actors


# --- the deployment: gunicorn behind nginx ------------------------------------------------------------


def start_deployment(settings: Settings, port: int, upstream_port: int, workers: int, threads: int) -> Stack:
    """gunicorn (private port) and nginx (public port) as children of this process, both ready (deploy/stack.py)."""
    SOAK_DIR.mkdir(parents=True, exist_ok=True)
    for log in ("gunicorn.log", "access.log", "nginx-access.log", "nginx-error.log", "gunicorn.out"):
        (SOAK_DIR / log).unlink(missing_ok=True)
    started = time.monotonic()
    with open(SOAK_DIR / "gunicorn.out", "ab") as output:
        try:
            deployment = start_stack(settings, SOAK_DIR, public=f"127.0.0.1:{port}", upstream=f"127.0.0.1:{upstream_port}",
                                     ready_timeout_s=READY_TIMEOUT_S, output=output, LIANJIE_WORKERS=workers,
                                     LIANJIE_THREADS=threads)
        except RuntimeError as error:
            raise SystemExit(f"部署未就绪 / not ready; see {SOAK_DIR}/gunicorn.log and nginx-error.log\n{error}")
    print(f"就绪 / ready in {time.monotonic() - started:.1f} s: nginx {deployment.url} → gunicorn "
          f"{deployment.upstream_url} ({workers} workers × {threads} threads)", flush=True)
    return deployment


# --- the clients ------------------------------------------------------------------------------------


class Tally:
    """Latencies and outcomes per operation, per minute window and in total (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.window = defaultdict(list)        # op → [seconds]
        self.total = defaultdict(list)
        self.errors = defaultdict(int)         # op → 5xx or connection errors (window)
        self.total_errors = defaultdict(int)
        self.rejected = defaultdict(int)       # op → 4xx (window)
        self.total_rejected = defaultdict(int)
        self.samples: dict[str, str] = {}      # first error / unexpected 4xx per (op, status)

    def record(self, op: str, seconds: float, status, text: str = "") -> None:
        with self.lock:
            self.window[op].append(seconds)
            self.total[op].append(seconds)
            error = not isinstance(status, int) or status >= 500
            if error:
                self.errors[op] += 1
                self.total_errors[op] += 1
            elif status >= 400:
                self.rejected[op] += 1
                self.total_rejected[op] += 1
            if (error or status >= 400) and f"{op} {status}" not in self.samples:
                self.samples[f"{op} {status}"] = text[:300]

    def take_window(self):
        with self.lock:
            window, errors, rejected = self.window, self.errors, self.rejected
            self.window, self.errors, self.rejected = defaultdict(list), defaultdict(int), defaultdict(int)
        return window, errors, rejected


class Client:
    """One simulated user: a keep-alive session through nginx, picking operations from the mix."""

    def __init__(self, base: str, actors: Actors, tally: Tally, seed: int, think: float = 0.0):
        self.base, self.actors, self.tally, self.think = base, actors, tally, think
        self.random = random.Random(seed)
        self.session = requests.Session()
        self.ops, self.weights = list(MIX), list(MIX.values())

    def call(self, op: str, method: str, path: str, token: str, **kwargs):
        started = time.perf_counter()
        try:
            response = self.session.request(method, self.base + path, timeout=REQUEST_TIMEOUT_S,
                                            headers={"Authorization": f"Bearer {token}"}, **kwargs)
            _ = response.content
            self.tally.record(op, time.perf_counter() - started, response.status_code, response.text
                              if response.status_code >= 400 else "")
            return response
        except requests.RequestException as error:
            self.tally.record(op, time.perf_counter() - started, type(error).__name__, str(error))
            self.session.close()
            self.session = requests.Session()
            return None

    def step(self) -> None:
        op = self.random.choices(self.ops, self.weights)[0]
        actors, rnd = self.actors, self.random
        if op == "household_search":
            page = rnd.randint(1, 5)
            self.call(op, "GET", f"/api/v1/households?county={COUNTY}&page={page}&page_size=20"
                      + rnd.choice(SEARCH_VARIANTS), actors.bureau)
        elif op == "household_detail":
            self.call(op, "GET", f"/api/v1/households/{rnd.choice(actors.households)}", actors.bureau)
        elif op == "enterprise_recommendations":
            code = rnd.choice(list(actors.enterprises))
            response = self.call(op, "GET", f"/api/v1/enterprises/{code}/recommendations?page_size=50",
                                 actors.enterprises[code])
            if response is not None and response.status_code == 200:
                actors.offer(code, response.json().get("items", []))
        elif op in ("accept", "decline"):
            taken = actors.take_proposed()
            if taken is None:
                return
            code, rec_id = taken
            if op == "accept":
                self.call(op, "POST", f"/api/v1/recommendations/{rec_id}/accept", actors.enterprises[code])
            else:
                self.call(op, "POST", f"/api/v1/recommendations/{rec_id}/decline", actors.enterprises[code],
                          json={"reason": rnd.choice(["用工岗位已满", "距离过远", "产品不符"])})
        elif op == "ledger_patch":
            if actors.partnerships:
                self.call(op, "PATCH", f"/api/v1/partnerships/{rnd.choice(actors.partnerships)}", actors.bureau,
                          json={"income_gain": rnd.randint(0, 20000), "note": f"浸泡测试 soak {rnd.randint(0, 999)}"})
        elif op == "export_households":
            self.call(op, "GET", f"/api/v1/households/export.xlsx?county={COUNTY}", actors.bureau)
        elif op == "export_partnerships":
            self.call(op, "GET", f"/api/v1/partnerships/export.xlsx?county={COUNTY}", actors.bureau)
        elif op == "job_status":
            with actors.lock:
                job = rnd.choice(actors.jobs) if actors.jobs else None
            if job:
                kind, job_id = job
                self.call(op, "GET", f"/api/v1/{'match-runs' if kind == 'match' else 'uploads'}/{job_id}",
                          actors.bureau)


def small_upload() -> bytes:
    """The first 20 households of the sample file: a re-upload (validated, unchanged rows skipped)."""
    lines = (SAMPLE_DIR / "households.csv").read_bytes().splitlines(keepends=True)
    return b"".join(lines[:21])


def scheduler(base: str, actors: Actors, tally: Tally, stop: threading.Event) -> None:
    """A match run every MATCH_RUN_EVERY_S and an upload every UPLOAD_EVERY_S, as a bureau would start them."""
    client = Client(base, actors, tally, seed=999)
    upload = small_upload()
    next_run, next_upload = time.monotonic() + 20, time.monotonic() + 5
    while not stop.wait(0.5):
        now = time.monotonic()
        if now >= next_upload:
            next_upload = now + UPLOAD_EVERY_S
            response = client.call("upload", "POST", "/api/v1/uploads", actors.bureau,
                                   files={"file": ("soak-households.csv", io.BytesIO(upload), "text/csv")})
            if response is not None and response.status_code == 202:
                with actors.lock:
                    actors.jobs.append(("upload", response.json()["job_id"]))
        if now >= next_run:
            next_run = now + MATCH_RUN_EVERY_S
            response = client.call("match_run_start", "POST", "/api/v1/match-runs", actors.bureau,
                                   json={"county_code": COUNTY, "top_k": 5, "force": True})
            if response is not None and response.status_code == 202:
                with actors.lock:
                    actors.jobs.append(("match", response.json()["job_id"]))


def client_loop(client: Client, stop: threading.Event) -> None:
    while not stop.is_set():
        client.step()
        if client.think:
            stop.wait(client.random.uniform(0, 2 * client.think))  # a user reads before the next click


# --- memory and the report --------------------------------------------------------------------------


class Memory:
    """RSS of each gunicorn worker (by pid), nginx (all processes) and Neo4j, sampled every MEMORY_EVERY_S."""

    def __init__(self, deployment: Stack, neo4j_pid: int | None):
        self.deployment, self.neo4j_pid = deployment, neo4j_pid
        self.started = time.monotonic()
        self.workers: dict[int, list[tuple[float, float]]] = defaultdict(list)  # pid → [(minutes, MB)]
        self.others: dict[str, float] = {}
        self.alive_at_end: set[int] | None = None  # taken before the deployment stops

    def sample(self) -> None:
        minutes = (time.monotonic() - self.started) / 60
        for pid in _children(self.deployment.gunicorn.pid):
            kb = _status_kb("VmRSS", pid)
            if kb is not None:
                self.workers[pid].append((minutes, kb / 1024))
        nginx_pids = [self.deployment.nginx.pid, *_children(self.deployment.nginx.pid)]
        self.others["nginx"] = sum((_status_kb("VmRSS", pid) or 0) for pid in nginx_pids) / 1024
        if self.neo4j_pid:
            self.others["neo4j"] = (_status_kb("VmRSS", self.neo4j_pid) or 0) / 1024

    def current(self) -> str:
        workers = ", ".join(f"{pid}: {series[-1][1]:,.1f} MB" for pid, series in sorted(self.workers.items())
                            if series and self._alive(pid))
        others = ", ".join(f"{name} {mb:,.0f} MB" for name, mb in self.others.items())
        return f"gunicorn workers {workers}; {others}"

    def _alive(self, pid: int) -> bool:
        if self.alive_at_end is not None:
            return pid in self.alive_at_end
        return pid in _children(self.deployment.gunicorn.pid)

    def finish(self) -> None:
        """The last sample, and which workers are still the master's children."""
        self.sample()
        self.alive_at_end = set(_children(self.deployment.gunicorn.pid))

    def slopes(self) -> dict[int, dict]:
        """Per worker: first, last, peak RSS and least-squares slopes (MB/minute) after the warm-up and over the
        second half of the run. Memory that grows and then stops (allocator arenas, caches) has a second-half
        slope near zero; a leak keeps the same slope to the end."""
        result = {}
        for pid, series in self.workers.items():
            after = [(m, mb) for m, mb in series if m >= WARMUP_MINUTES] or series
            middle = series[-1][0] / 2
            second_half = [(m, mb) for m, mb in series if m >= middle] or series
            result[pid] = {"first_mb": series[0][1], "after_warmup_mb": after[0][1], "last_mb": series[-1][1],
                           "peak_mb": max(mb for _, mb in series), "slope_mb_per_min": _slope(after),
                           "second_half_slope_mb_per_min": _slope(second_half),
                           "samples": len(series), "alive_at_end": self._alive(pid)}
        return result


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares MB per minute (0 with fewer than three samples)."""
    if len(points) < 3:
        return 0.0
    return float(np.polyfit([m for m, _ in points], [mb for _, mb in points], 1)[0])


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q)) if values else float("nan")


def print_minute(minute: int, window, errors, rejected, memory: Memory) -> dict:
    requests_n = sum(map(len, window.values()))
    errors_n, rejected_n = sum(errors.values()), sum(rejected.values())
    print(f"\n[{minute:>2} min] {requests_n:,} requests, {errors_n} errors (5xx / connection), "
          f"{rejected_n} 4xx; {memory.current()}", flush=True)
    row = {"minute": minute, "requests": requests_n, "errors": errors_n, "rejected_4xx": rejected_n, "ops": {}}
    for op in sorted(window):
        values = window[op]
        row["ops"][op] = {"n": len(values), "errors": errors[op], "4xx": rejected[op],
                          "p50_ms": percentile(values, 50), "p99_ms": percentile(values, 99)}
        print(f"    {op:<28}{len(values):>6}  err {errors[op]:>3}  4xx {rejected[op]:>3}  "
              f"p50 {percentile(values, 50):>8.1f} ms  p99 {percentile(values, 99):>8.1f} ms", flush=True)
    row["workers_mb"] = {str(pid): series[-1][1] for pid, series in memory.workers.items() if series}
    row.update({f"{name}_mb": mb for name, mb in memory.others.items()})
    return row


def soak(args) -> int:
    from graph import server

    settings = soak_settings(args.neo4j_port)
    print(f"浸泡测试 / soak: {args.minutes:g} min, {args.clients} clients (think {args.think:g} s), through nginx on "
          f"127.0.0.1:{args.port}", flush=True)
    instance = prepare_graph(settings)
    deployment = None
    try:
        actors = make_actors(settings, args.enterprises)
        deployment = start_deployment(settings, args.port, args.upstream_port, args.workers, args.threads)
        neo4j_pid = int(instance.pid_file.read_text().strip()) if instance.pid_file.exists() else None
        memory, tally, stop = Memory(deployment, neo4j_pid), Tally(), threading.Event()
        memory.sample()
        threads = [threading.Thread(target=client_loop, args=(Client(deployment.url, actors, tally, seed, args.think), stop),
                                    daemon=True) for seed in range(args.clients)]
        threads.append(threading.Thread(target=scheduler, args=(deployment.url, actors, tally, stop), daemon=True))
        for thread in threads:
            thread.start()
        minutes, started = [], time.monotonic()
        end = started + args.minutes * 60
        next_memory, next_print = started + MEMORY_EVERY_S, started + 60
        while (now := time.monotonic()) < end:
            time.sleep(max(0.0, min(next_memory, next_print, end) - now))
            now = time.monotonic()
            if now >= next_memory:
                memory.sample()
                next_memory += MEMORY_EVERY_S
            if now >= next_print or now >= end:
                minutes.append(print_minute(len(minutes) + 1, *tally.take_window(), memory))
                next_print += 60
        stop.set()
        for thread in threads:
            thread.join(timeout=REQUEST_TIMEOUT_S + 5)
        memory.finish()
        gunicorn_alive = deployment.gunicorn.poll() is None
        jobs = job_outcomes(deployment.url, actors)
    finally:
        if deployment is not None:
            deployment.stop()
        server.stop(instance)
    return report(args, tally, memory, minutes, time.monotonic() - started, gunicorn_alive, jobs)


def job_outcomes(base: str, actors: Actors) -> dict[str, dict[str, int]]:
    """How the match runs and uploads started during the soak ended (kind → status → count)."""
    outcomes: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    headers = {"Authorization": f"Bearer {actors.bureau}"}
    for kind, job_id in actors.jobs:
        path = f"/api/v1/{'match-runs' if kind == 'match' else 'uploads'}/{job_id}"
        try:
            status = requests.get(base + path, headers=headers, timeout=REQUEST_TIMEOUT_S).json().get("status")
        except (requests.RequestException, ValueError) as error:
            status = type(error).__name__
        outcomes[kind][status or "?"] += 1
    return {kind: dict(statuses) for kind, statuses in outcomes.items()}


def report(args, tally: Tally, memory: Memory, minutes: list, seconds: float, gunicorn_alive: bool,
           jobs: dict[str, dict[str, int]]) -> int:
    total = sum(map(len, tally.total.values()))
    errors, rejected = sum(tally.total_errors.values()), sum(tally.total_rejected.values())
    print(f"\n== 汇总 / summary: {seconds / 60:.1f} min, {total:,} requests ({total / seconds:,.1f}/s), "
          f"{errors} errors (5xx / connection), {rejected} 4xx", flush=True)
    print(f"{'operation':<28}{'requests':>9}{'errors':>8}{'4xx':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for op in sorted(tally.total):
        values = tally.total[op]
        print(f"{op:<28}{len(values):>9,}{tally.total_errors[op]:>8}{tally.total_rejected[op]:>6}"
              f"{percentile(values, 50):>10.1f}{percentile(values, 99):>10.1f}{percentile(values, 100):>10.1f}")
    slopes = memory.slopes()
    flat = True
    print(f"\ngunicorn 工作进程内存 / worker RSS (slopes after the first {WARMUP_MINUTES} min and over the second half; "
          f"flat: second half ≤ {FLAT_MB_PER_MINUTE:g} MB/min):")
    for pid, figures in sorted(slopes.items()):
        grows = figures["second_half_slope_mb_per_min"] > FLAT_MB_PER_MINUTE
        flat &= not grows
        print(f"  worker {pid}: start {figures['first_mb']:,.1f} MB, at {WARMUP_MINUTES} min "
              f"{figures['after_warmup_mb']:,.1f} MB, end {figures['last_mb']:,.1f} MB, peak {figures['peak_mb']:,.1f} MB; "
              f"slope {figures['slope_mb_per_min']:+.2f} MB/min after warm-up, "
              f"{figures['second_half_slope_mb_per_min']:+.2f} MB/min second half{'  ← 增长 / GROWING' if grows else ''}"
              f"{'' if figures['alive_at_end'] else '  (exited / 已退出)'}")
    restarted = len(slopes) > args.workers
    if restarted:
        print(f"  注意 / note: {len(slopes)} worker pids for {args.workers} workers: a worker was restarted")
    failed_jobs = sum(n for statuses in jobs.values() for status, n in statuses.items() if status == "failed")
    print("\n后台任务 / background jobs at the end: " + "; ".join(
        f"{kind}: " + ", ".join(f"{status} {n}" for status, n in sorted(statuses.items()))
        for kind, statuses in sorted(jobs.items())) + " (queued / running ones were still in progress)")
    if tally.samples:
        print("\n首个非 2xx 样本 / first non-2xx answer per operation and status:")
        for key, text in sorted(tally.samples.items()):
            print(f"  {key}: {text}")
    ok = errors == 0 and flat and not restarted and gunicorn_alive and failed_jobs == 0
    print(f"\n结论 / verdict: {'通过 / PASS' if ok else '未通过 / FAIL'} — {errors} errors, {failed_jobs} failed jobs, "
          f"worker memory {'flat' if flat else 'growing'}{', a worker restarted' if restarted else ''}")
    RESULT_FILE.parent.mkdir(parents=True, exist_ok=True)
    RESULT_FILE.write_text(json.dumps({
        "finished_at": datetime.now(timezone.utc).isoformat(), "minutes": args.minutes, "clients": args.clients,
        "workers": args.workers, "threads": args.threads, "cpus": os.cpu_count(), "requests": total,
        "errors": errors, "rejected_4xx": rejected, "per_minute": minutes,
        "operations": {op: {"n": len(v), "errors": tally.total_errors[op], "4xx": tally.total_rejected[op],
                            "p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99)} for op, v in tally.total.items()},
        "worker_memory": {str(pid): figures for pid, figures in slopes.items()}, "samples": tally.samples,
        "jobs": jobs, "think_s": args.think,
        "passed": ok}, ensure_ascii=False, indent=1, default=float))
    print(f"结果 / results: {RESULT_FILE}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="how long the load runs (default 10)")
    parser.add_argument("--clients", type=int, default=6, help="simulated users, one keep-alive connection each")
    parser.add_argument("--think", type=float, default=0.1,
                        help="mean pause of a client between two requests, seconds (default 0.1; 0 = flat out)")
    parser.add_argument("--enterprises", type=int, default=12, help="enterprises with their own token")
    parser.add_argument("--port", type=int, default=8120, help="nginx's public port on 127.0.0.1 (default 8120)")
    parser.add_argument("--upstream-port", type=int, default=8121, help="gunicorn's private port (default 8121)")
    parser.add_argument("--neo4j-port", type=int, default=7693, help="the soak's own Neo4j (default 7693)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as make run)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4, as make run)")
    args = parser.parse_args()
    return soak(args)


if __name__ == "__main__":
    sys.exit(main())
