"""Province match benchmark: a whole run as county tasks on a Dask LocalCluster, on the 1,000,000-household graph.

    .venv/bin/python bench/api_load.py --households 1000000 --prepare-only   # once: the graph (var/neo4j/apibench)
    .venv/bin/python bench/match_province.py [--workers 2,1] [--top-k 5] [--global-check]

For each worker count: the end-to-end time of a forced run of every county (reading from and writing to
Neo4j), its stages, recommendations written per second, the coordination (rounds, group solves, largest
group) and the peak RSS of every process: this client (which also hosts the Dask scheduler) and each
worker (sampled, and the kernel's high-water mark of finished children). Then the speed-up of the largest
worker count over 1. With --global-check, one process prepares every county and solves the whole province
as one min-cost flow (OR-Tools): the gap between that optimum and the run's objective, and equal coverage.
"""
import argparse
import json
import resource
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_load import BenchGraph  # noqa: E402
from graph import bench_queries, server  # noqa: E402
from graph.db import create_driver  # noqa: E402
from graph.schema import apply_schema  # noqa: E402
from matching.run import MatchParams, MatchRunner  # noqa: E402

MB = 1024 * 1024


class PeakMemory:
    """Peak RSS of this process and of every descendant (Dask workers), sampled every 0.2 s."""

    def __init__(self):
        self.peaks: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            for process in [me, *me.children(recursive=True)]:
                try:
                    rss = process.memory_info().rss / MB
                    command = " ".join(process.cmdline())
                    name = "client+scheduler" if process.pid == me.pid else (
                        "worker" if "spawn_main" in command else
                        "Neo4j (the database)" if "LocalNeo4j" in command else process.name())
                except psutil.Error:
                    continue
                previous = self.peaks.get(process.pid, (name, 0.0))[1]
                self.peaks[process.pid] = (name, max(previous, rss))
            self._stop.wait(0.2)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def province_run(driver, settings, workers: int, top_k: int) -> dict:
    """One forced run of every county with `workers` worker processes; its figures."""
    settings = settings.model_copy(update={"match_workers": workers, "match_cluster": "local"})
    with PeakMemory() as memory:
        started = time.perf_counter()
        run = MatchRunner(driver, settings, progress=lambda message: print(
            f"    {time.perf_counter() - started:7.1f} s  {message}", flush=True)).run(
            None, MatchParams(top_k=top_k), force=True)
        end_to_end = time.perf_counter() - started
    return {"workers": workers, "run": run, "end_to_end_s": end_to_end, "metrics": json.loads(run["metrics"]),
            "timings": json.loads(run["timings"]), "peaks": memory.peaks}


def print_run(figures: dict) -> None:
    metrics, timings = figures["metrics"], figures["timings"]
    print(f"\n== {figures['workers']} worker(s): run {figures['run']['run_id']} ==")
    print(f"  {metrics['households']:,} households in {len(metrics['recomputed_counties'])} counties, "
          f"{metrics['candidate_pairs']:,} candidate pairs, {figures['run']['written_total']:,} recommendations")
    print(f"  end to end {figures['end_to_end_s']:.1f} s")
    for stage in ("prepare_s", "coordinate_s", "write_s", "switch_s"):
        print(f"    {stage:<16}{timings.get(stage, 0):>8.1f} s")
    print("    county task seconds, summed over workers: " + ", ".join(
        f"{key} {value:.1f}" for key, value in timings.get("county_task_s", {}).items()))
    print(f"  written {figures['run']['written_total'] / max(timings['write_s'], 1e-9):,.0f} recommendations/s "
          f"(write stage, incl. building rows and reasons)")
    print(f"  coordination: {metrics['coordination_rounds']} rounds, {metrics['group_solves']} group solves, "
          f"largest group {metrics['largest_group']} counties; objective {metrics['objective']:,}")
    print(f"  coverage {metrics['coverage']:.4f} ({metrics['covered']:,} households), with existing partnerships "
          f"{metrics['coverage_with_existing']:.4f}; utilisation {metrics['utilisation']:.3f}")
    for pid, (name, peak) in sorted(figures["peaks"].items(), key=lambda item: item[1][0]):
        print(f"  peak RSS {name:<18} pid {pid:<8}{peak:>8,.0f} MB")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  kernel high-water mark: this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB,"
          f" largest finished child {children:,.0f} MB")


def global_check(driver, settings, run: dict, top_k: int) -> None:
    """Solve the whole province as one min-cost flow in this process; compare with the run's objective."""
    from matching.partition import solve_group
    from matching.province import RunSpec, neighbour_counties, prepare_county

    counties = run["counties"]
    started = time.perf_counter()
    params = MatchParams(top_k=top_k)
    spec = RunSpec("global-check", "bench", settings, params, force=True,
                   enterprise_counties=tuple(neighbour_counties(counties, params.rules.search_radius_km())))
    works = [prepare_county(spec, county, None) for county in counties]
    prepared = time.perf_counter() - started
    started = time.perf_counter()
    whole = solve_group([work.problem for work in works])
    solved = time.perf_counter() - started
    covered = sum(len(set(work.problem.pairs.household[chosen].tolist())) for work, chosen in zip(works, whole.chosen))
    metrics = json.loads(run["metrics"])
    gap = (whole.summary.objective - metrics["objective"]) / abs(whole.summary.objective)
    print(f"\n== global solve (one OR-Tools min-cost flow over {sum(len(w.problem.pairs) for w in works):,} pairs) ==")
    print(f"  prepared in {prepared:.1f} s, solved in {solved:.1f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    print(f"  objective: global {whole.summary.objective:,}, partitioned {metrics['objective']:,}, gap {gap:.2e}")
    print(f"  coverage: global {covered:,}, partitioned {metrics['covered']:,} households")


def incremental(driver, settings, top_k: int) -> None:
    """One household of one county changes: that county alone re-planned (its neighbours' current plans keep
    their places), then a province-wide run that finds nothing else changed."""
    county = bench_queries.counties_with_households(driver)[0]["code"]
    driver.execute_query("MATCH (h:Household {county_code: $county, active: true}) WITH h LIMIT 1 "
                         "SET h.arable_mu = coalesce(h.arable_mu, 0) + 0.5", county=county)
    params = MatchParams(top_k=top_k)
    started = time.perf_counter()
    run = MatchRunner(driver, settings, progress=None).run([county], params)
    one = time.perf_counter() - started
    print(f"\n== incremental ==\n  one changed county {county} re-planned alone: {one:.1f} s "
          f"({run['written_total']:,} recommendations; counties recomputed {run['counties']})")
    started = time.perf_counter()
    run = MatchRunner(driver, settings.model_copy(update={"match_workers": 2}), progress=None).run(None, params)
    print(f"  province-wide run after it: {time.perf_counter() - started:.1f} s, "
          f"{len(run['counties'])} counties recomputed, {len(run['unchanged_counties'])} unchanged")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000, help="which benchmark graph (bench/api_load.py)")
    parser.add_argument("--workers", default="2,1", help="worker counts to run, in order")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--global-check", action="store_true")
    parser.add_argument("--prune", action="store_true", help="first delete earlier runs' non-current recommendations")
    parser.add_argument("--incremental", action="store_true", help="then one changed county, and a run that finds it")
    args = parser.parse_args()
    graph = BenchGraph.for_households(args.households, None, None)
    settings = graph.settings()
    server.start(graph.instance())
    with create_driver(settings) as driver:
        started = time.perf_counter()
        apply_schema(driver)  # indexes changed since the graph was prepared
        print(f"schema applied in {time.perf_counter() - started:.1f} s", flush=True)
        if args.prune:
            print(f"pruned {bench_queries.prune_old_recommendations(driver):,} old recommendations", flush=True)
        results = []
        for workers in [int(value) for value in args.workers.split(",") if value]:
            results.append(province_run(driver, settings, workers, args.top_k))
            print_run(results[-1])
        by_workers = {result["workers"]: result["end_to_end_s"] for result in results}
        if 1 in by_workers and len(by_workers) > 1:
            most = max(by_workers)
            print(f"\nspeed-up of {most} workers over 1: {by_workers[1] / by_workers[most]:.2f}×")
        if args.global_check:
            global_check(driver, settings, results[0]["run"], args.top_k)
        if args.incremental:
            incremental(driver, settings, args.top_k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
