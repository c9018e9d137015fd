"""Matching benchmark at province scale, on the graph bench/etl_load.py leaves behind.

    .venv/bin/python bench/etl_load.py          # first: 1,000,000 households into var/neo4j/bench
    .venv/bin/python bench/match_province.py [--sample-counties 3]

Prints candidate pairs scored per second, per-stage seconds (read from Neo4j, candidates,
scoring, assignment, writing back), the end-to-end time and the peak memory; then, on sampled
counties, the gap between the assignment's objective and the optimum of an independent solver
(the same model as a linear programme, scipy/HiGHS).
"""
import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.settings import PROJECT_ROOT, Settings  # noqa: E402
from graph import matching as queries  # noqa: E402
from graph import server  # noqa: E402
from devtools.oracle import lp_objective  # noqa: E402
from graph.db import create_driver  # noqa: E402
from matching.assign import assign  # noqa: E402
from matching.candidates import candidate_pairs  # noqa: E402
from matching.features import Enterprises, Households  # noqa: E402
from matching.run import MatchParams, MatchRunner, neighbour_counties  # noqa: E402
from matching.scoring import BlendedScorer, pair_features  # noqa: E402


def optimality_gap(driver, county: str, params: MatchParams) -> dict:
    """Our assignment's objective against the LP optimum for one county."""
    radius = params.rules.search_radius_km()
    households = Households.from_records(queries.county_households(driver, [county]))
    enterprises = Enterprises.from_records(queries.county_enterprises(driver, neighbour_counties([county], radius)), params.rules)
    pairs = candidate_pairs(households, enterprises, params.rules, per_mechanism=params.per_mechanism)
    scores = BlendedScorer().predict(pair_features(pairs, households, enterprises, params.rules), pairs.mechanism)
    started = time.perf_counter()
    ours = assign(pairs, scores, households.need_tier, enterprises.capacity, params.household_limit).objective
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    optimum = lp_objective(pairs, scores, households.need_tier, enterprises.capacity, params.household_limit)
    lp_s = time.perf_counter() - started
    return {"county": county, "households": len(households), "pairs": len(pairs), "ours": ours, "optimum": optimum,
            "gap": (optimum - ours) / abs(optimum) if optimum else 0.0, "ortools_s": round(ours_s, 2), "highs_s": round(lp_s, 2)}


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-counties", type=int, default=3)
    parser.add_argument("--heap", default="4g")
    parser.add_argument("--pagecache", default="4g")
    parser.add_argument("--top-k", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(local_neo4j_port=7690, local_neo4j_home=PROJECT_ROOT / "var" / "neo4j" / "bench",
                        local_neo4j_heap=args.heap, local_neo4j_pagecache=args.pagecache, id_hash_key="bench",
                        var_dir=PROJECT_ROOT / "var" / "bench" / "var")
    instance = server.LocalInstance.from_settings(settings)
    server.start(instance)
    try:
        with create_driver(settings) as driver:
            params = MatchParams(top_k=args.top_k)
            started = time.perf_counter()
            run = MatchRunner(driver, settings).run(None, params, force=True)
            end_to_end = time.perf_counter() - started
            metrics, timings = json.loads(run["metrics"]), json.loads(run["timings"])
            print(f"\n省级匹配 / province run {run['run_id']}: {metrics['households']:,} households, "
                  f"{metrics['candidate_pairs']:,} candidate pairs")
            print(f"  scoring: {timings['pairs_per_s']:,.0f} pairs/s")
            for stage in ("read_s", "candidates_s", "scoring_s", "assignment_s", "recommendations_s", "write_s"):
                print(f"  {stage:<20}{timings.get(stage, 0):>10.1f} s")
            print(f"  end to end: {end_to_end:.1f} s; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
            print(f"  coverage {metrics['coverage']:.3f} (with existing partnerships {metrics['coverage_with_existing']:.3f}), "
                  f"utilisation {metrics['utilisation']:.3f}, blocking pairs {metrics['blocking_pairs']:,}")
            counties = json.loads(json.dumps(run["counties"]))
            rng = np.random.default_rng(0)
            for county in rng.choice(counties, min(args.sample_counties, len(counties)), replace=False):
                figures = optimality_gap(driver, str(county), params)
                print(f"  optimality gap {figures['county']}: {figures['gap']:.2e} "
                      f"({figures['households']:,} households, {figures['pairs']:,} pairs; OR-Tools {figures['ortools_s']} s, "
                      f"HiGHS {figures['highs_s']} s)", flush=True)
    finally:
        server.stop(instance)
    return 0


if __name__ == "__main__":
    sys.exit(main())
