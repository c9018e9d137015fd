"""A province run as county tasks (matching/province.py) on a real Dask LocalCluster of two worker processes:
the same plan as the in-process path, the global optimum, and a worker killed mid-run does not lose the run."""
import json
import os
import signal

import psutil
import pytest

from core.mechanisms import places
from devtools import synth
from etl.load import load_files
from graph import matching as queries
from matching.cluster import InProcessExecutor
from matching.partition import solve_group
from matching.province import RunSpec, neighbour_counties, prepare_county
from matching.run import MatchParams, MatchRunner

COUNTIES = ["433122000000", "433123000000", "433124000000", "433125000000"]
# Few enterprises for many households: border enterprises are contested by neighbouring counties.
PARAMS = MatchParams(top_k=3)


@pytest.fixture(scope="module")
def province(neo4j_driver, test_settings, tmp_path_factory):
    """Four neighbouring counties with scarce enterprise capacity, loaded once for the module's tests."""
    from graph.maintenance import clear_graph

    clear_graph(neo4j_driver, test_settings.neo4j_database)
    paths = synth.generate(tmp_path_factory.mktemp("province"), households=1600, enterprises=24, projects=4,
                           counties=COUNTIES, seed=11, progress=False)
    result = load_files(list(paths.values()), neo4j_driver, test_settings, progress=False)
    assert sum(f.rows_rejected for f in result.files) == 0
    return neo4j_driver


def _essence(driver, run: dict) -> list[tuple]:
    return [(r["household_id"], r["credit_code"], r["mechanism"], r["rank"], r["score"], r["assigned"],
             tuple(r["reasons"])) for r in queries.run_recommendations(driver, run["run_id"])]


def _cluster_settings(settings, **overrides):
    return settings.model_copy(update={"match_cluster": "local", "match_workers": 2, **overrides})


def _contested(works) -> bool:
    """True when the counties planned alone, each with every place's whole capacity, over-use a shared place."""
    plans = [solve_group([work.problem]) for work in works]
    used: dict[int, int] = {}
    capacity: dict[int, int] = {}
    for plan in plans:
        for slot, count, whole in zip(plan.summary.slots, plan.summary.used, plan.summary.capacity):
            used[int(slot)] = used.get(int(slot), 0) + int(count)
            capacity[int(slot)] = int(whole)
    return any(used[slot] > capacity[slot] for slot in used)


@pytest.mark.parametrize("max_group", [100_000, 450])
def test_the_cluster_plans_as_the_process_does_and_reaches_the_global_optimum(province, test_settings, max_group):
    """100,000: the four counties are one prefecture group, solved together (the optimum); 450: about one
    county per group, so the contested places are coordinated across groups (merged, shared out, cut)."""
    # Both start cold (a warm start follows the run before it; see the warm-start test below).
    settings = test_settings.model_copy(update={"match_max_group_households": max_group, "match_warm_start": False})
    in_process = MatchRunner(province, settings.model_copy(update={"match_cluster": "inprocess"}),
                             progress=None).run(COUNTIES, PARAMS, force=True)
    messages = []
    on_cluster = MatchRunner(province, _cluster_settings(settings), progress=messages.append).run(
        COUNTIES, PARAMS, force=True)
    assert on_cluster["status"] == "completed"
    assert _essence(province, on_cluster) == _essence(province, in_process)
    assert len(_essence(province, on_cluster)) > 1600
    metrics = json.loads(on_cluster["metrics"])
    assert metrics == json.loads(in_process["metrics"])
    # Against one solve of the whole province: the border places are contested (planned alone, the counties
    # over-use them), and the coordinated plan reaches the optimum, or comes close when groups are held small.
    # The parameters as the runs settled them (the current model, trained by the first run).
    settled = MatchRunner(province, settings, progress=None).choose_model(PARAMS)
    assert settled.model_version == on_cluster["model_version"] and settled.alpha == on_cluster["alpha"]
    spec = RunSpec("whole", "test", test_settings, settled, force=True,
                   enterprise_counties=tuple(neighbour_counties(COUNTIES, PARAMS.rules.search_radius_km())))
    works = [prepare_county(spec, county, None) for county in COUNTIES]
    assert _contested(works)
    whole = solve_group([work.problem for work in works])
    whole_covered = int(sum(len(set(work.problem.pairs.household[chosen])) for work, chosen in zip(works, whole.chosen)))
    if max_group >= 1600:
        assert metrics["groups"] == 1 and metrics["objective"] == whole.summary.objective
        assert metrics["covered"] == whole_covered
    else:
        assert metrics["coordination_rounds"] > 1 and metrics["groups"] > 1 and metrics["slots_shared_out"] > 0
        assert whole.summary.objective * 0.995 <= metrics["objective"] <= whole.summary.objective
        assert metrics["covered"] >= whole_covered * 0.99
    # Progress per county reached the run and its messages.
    progress = json.loads(queries.match_run(province, on_cluster["run_id"])["county_progress"])
    assert progress["written"] == progress["total"] == len(COUNTIES)
    assert set(progress["counties"]) == set(COUNTIES)
    assert any("已写入" in message for message in messages)
    current = {r["county_code"] for r in queries.run_recommendations(province, on_cluster["run_id"]) if r["current"]}
    assert current == set(COUNTIES)


def test_a_run_warm_started_from_the_latest_runs_groups_and_shares_solves_less_for_the_same_plan_quality(
        province, test_settings):
    settings = test_settings.model_copy(update={"match_max_group_households": 450, "match_cluster": "inprocess"})
    cold = MatchRunner(province, settings.model_copy(update={"match_warm_start": False}), progress=None).run(
        COUNTIES, PARAMS, force=True)
    warm = MatchRunner(province, settings, progress=None).run(COUNTIES, PARAMS, force=True)
    cold_metrics, warm_metrics = json.loads(cold["metrics"]), json.loads(warm["metrics"])
    assert cold_metrics["slots_shared_out"] > 0, "the groups share contested places: there is something to reuse"
    assert warm_metrics["group_solves"] < cold_metrics["group_solves"]
    assert warm_metrics["objective"] >= 0.995 * cold_metrics["objective"]
    assert warm_metrics["covered"] >= 0.99 * cold_metrics["covered"]
    # Within every place: what the counties' assigned recommendations use never exceeds an enterprise's places.
    records, _, _ = province.execute_query(
        "MATCH (s:EnterpriseShortlist {run_id: $run_id}) UNWIND range(0, size(s.ranks) - 1) AS j "
        "WITH s, j WHERE s.assigned[j] RETURN s.credit_code AS code, s.mechanisms[j] AS mechanism, count(*) AS n",
        run_id=warm["run_id"])
    enterprises = {e["credit_code"]: e for e in queries.county_enterprises(province, COUNTIES)}
    for record in records:
        assert record["n"] <= places(enterprises[record["code"]], record["mechanism"]), record


def _worker_processes() -> list[psutil.Process]:
    """The LocalCluster's worker processes (multiprocessing children of this test process); children that
    ended (zombies of earlier tests) or went away meanwhile are not workers."""
    workers = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                workers.append(child)
        except psutil.Error:
            continue
    return workers


def test_a_worker_killed_mid_run_does_not_lose_the_run(province, test_settings):
    reference = MatchRunner(province, test_settings.model_copy(update={"match_cluster": "inprocess"}),
                            progress=None).run(COUNTIES, PARAMS, force=True)
    killed = []

    def kill_a_worker_once_counties_are_prepared(message: str) -> None:
        if not killed and "已读取并评分" in message:
            workers = _worker_processes()
            assert len(workers) == 2
            os.kill(workers[0].pid, signal.SIGKILL)  # with prepared counties in its memory
            killed.append(workers[0].pid)

    run = MatchRunner(province, _cluster_settings(test_settings), progress=kill_a_worker_once_counties_are_prepared
                      ).run(COUNTIES, PARAMS, force=True)
    assert killed, "a worker was killed during the run"
    assert run["status"] == "completed"
    assert _essence(province, run) == _essence(province, reference)


def test_an_unchanged_province_is_not_recomputed_and_one_changed_county_is(province, test_settings):
    runner = MatchRunner(province, _cluster_settings(test_settings), progress=None)
    runner.run(COUNTIES, PARAMS, force=True)
    again = runner.run(COUNTIES, PARAMS)
    assert again["counties"] == [] and sorted(again["unchanged_counties"]) == COUNTIES
    province.execute_query("MATCH (h:Household {county_code: $county}) WITH h LIMIT 1 SET h.income_per_capita = 1",
                           county=COUNTIES[0])
    third = runner.run(COUNTIES, PARAMS)
    assert third["counties"] == [COUNTIES[0]]
    # The other counties' current plans keep their capacity: no slot is over-used across the province.
    current = [r for county in COUNTIES for r in queries.run_recommendations(province, third["run_id"])
               if r["county_code"] == county]
    assert current


def test_the_columnar_household_read_gives_what_the_record_read_gives(province):
    for county in COUNTIES:
        records = queries.county_households(province, [county])
        columns = queries.county_household_columns(province, county)
        assert len(columns["household_id"]) == len(records) > 0
        assert [dict(zip(columns, values)) for values in zip(*columns.values())] == records


def test_local_workers_use_glibc_thresholds_that_spare_page_faults_and_one_thread_libraries(test_settings):
    """Dask's 64 KiB MALLOC_TRIM_THRESHOLD_ froze glibc's mmap threshold at 128 KiB, and page faults cost the
    workers a quarter of their CPU (matching/cluster.py); the one-thread settings of the numerical libraries stay."""
    import os

    from matching.cluster import open_executor

    def environment(_):
        return (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("MALLOC_MMAP_THRESHOLD_"),
                os.environ.get("OMP_NUM_THREADS"))

    settings = test_settings.model_copy(update={"match_workers": 1, "match_cluster": "local"})
    with open_executor(settings, tasks=2) as executor:
        assert executor.worker_addresses(), "a local cluster"
        found = executor.submit(environment, 0, key="environment").result()
    assert found == (str(8 * 2**20), str(8 * 2**20), "1")
