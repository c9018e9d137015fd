"""The province run's bookkeeping (matching/province.py) without Neo4j: per-county progress, figures that add up,
capacity held outside the run taken off a county's problem, the in-process executor."""
import numpy as np

from matching.candidates import Pairs
from matching.cluster import InProcessExecutor
from matching.partition import CountyProblem, enterprise_keys
from matching.province import CountyProgress, _less_held, combine_metrics, placement
from matching.rules import MECHANISMS


def test_progress_reports_each_stage_per_county_and_throttles():
    reports = []
    progress = CountyProgress(["A", "B"], lambda fraction, message, detail: reports.append((fraction, message, detail)))
    progress.advance("A", "prepared")
    progress.advance("B", "prepared")  # within 0.5 s of the first: not reported
    assert len(reports) == 1
    progress.advance("B", "written", force=True)
    fraction, message, detail = reports[-1]
    assert detail["prepared"] == 2 and detail["planned"] == 1 and detail["written"] == 1 and detail["total"] == 2
    assert detail["counties"] == {"A": "prepared", "B": "written"}
    assert "已写入 1" in message and 0 < reports[0][0] < fraction < 1


def test_figures_of_counties_add_up_to_the_run():
    counts = [{"households": 10, "covered": 4, "coverable": 8, "covered_coverable": 4, "assignments": 5,
               "total_score": 2.5, "candidate_pairs": 40, "already_covered": 3, "covered_with_existing": 7,
               "tiers": {"2": [2, 2], "1": [3, 1], "0": [5, 1]}},
              {"households": 30, "covered": 6, "coverable": 20, "covered_coverable": 6, "assignments": 6,
               "total_score": 1.5, "candidate_pairs": 60, "already_covered": 10, "covered_with_existing": 16,
               "tiers": {"2": [0, 0], "1": [10, 2], "0": [20, 4]}}]
    metrics = combine_metrics(counts, 22)
    assert metrics["households"] == 40 and metrics["covered"] == 10 and metrics["coverage"] == 0.25
    assert metrics["coverage_of_coverable"] == 10 / 28 and metrics["utilisation"] == 11 / 22
    assert metrics["coverage_by_need_tier"] == {"2": 1.0, "1": 3 / 13, "0": 5 / 25}
    assert metrics["coverage_with_existing"] == 23 / 40 and metrics["candidate_pairs"] == 100


def test_places_held_by_counties_outside_the_run_are_taken_off():
    codes = ["E1", "E2"]
    keys = enterprise_keys(codes)
    capacity = {name: np.array([3, 3]) for name in MECHANISMS}
    problem = CountyProblem("C", Pairs(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int8),
                                       np.zeros(0, np.float32)), np.zeros(0), np.zeros(1, np.int64),
                            np.ones(1, np.int64), np.zeros(1, bool), keys, capacity)
    held_slots = np.array(sorted([keys[1] * len(MECHANISMS) + 0, keys[0] * len(MECHANISMS) + 2]), dtype=np.int64)
    held_counts = np.array([5 if slot == keys[1] * len(MECHANISMS) else 1 for slot in held_slots], dtype=np.int64)
    less = _less_held(problem, held_slots, held_counts)
    assert less.capacity[MECHANISMS[0]].tolist() == [3, 0], "never below zero"
    assert less.capacity[MECHANISMS[2]].tolist() == [2, 3]
    assert less.capacity[MECHANISMS[1]].tolist() == [3, 3]
    assert problem.capacity[MECHANISMS[0]].tolist() == [3, 3], "the prepared problem itself is left as it was"


def test_the_in_process_executor_runs_tasks_with_their_results_as_arguments():
    executor = InProcessExecutor()
    first = executor.submit(lambda x: x + 1, 1, key="a")
    second = executor.submit(lambda x, y: x * y, first, 10, key="b")
    assert executor.gather([first, second]) == [2, 20]
    assert [future.key for future in executor.as_completed([first, second])] == ["a", "b"]


def test_counties_solved_together_are_prepared_on_one_worker_and_workers_share_the_households():
    # Two prefectures (4331, 4312) and an earlier run's group that crosses them.
    counties = ["433101000000", "433102000000", "433103000000", "431201000000", "431202000000", "431203000000"]
    sizes = {"433101000000": 50, "433102000000": 40, "433103000000": 10, "431201000000": 45, "431202000000": 30,
             "431203000000": 25}
    where = placement(counties, [("433103000000", "431203000000")], sizes, 2)
    assert set(where) == set(counties)
    assert where["433103000000"] == where["431203000000"], "an earlier group stays together"
    assert where["433101000000"] == where["433102000000"] and where["431201000000"] == where["431202000000"], \
        "the rest of a prefecture stays together"
    load = [sum(size for county, size in sizes.items() if where[county] == worker) for worker in (0, 1)]
    assert sorted(load) == [90, 110], "the largest units first, each to the least loaded worker"
    assert set(placement(counties, [], sizes, 4).values()) == {0, 1}, "two prefectures: two workers of four"
    assert set(placement(counties, [], {}, 1).values()) == {0}


def test_dask_counts_the_memory_a_prepared_county_holds():
    from dask.sizeof import sizeof

    from matching.province import CountyWork

    pairs = Pairs(np.zeros(1000, np.int32), np.zeros(1000, np.int32), np.zeros(1000, np.int8), np.zeros(1000, np.float32))
    problem = CountyProblem("A", pairs, np.zeros(1000, np.float32), np.zeros(10, np.int64), np.ones(10, np.int64),
                            np.zeros(10, bool), enterprise_keys(np.array(["E1"])), {m: np.ones(1, np.int64) for m in MECHANISMS})
    work = CountyWork("A", "fingerprint", 10, problem=problem, existing=np.zeros(10, np.int64))
    arrays = 1000 * (4 + 4 + 1 + 4 + 4)
    assert arrays <= sizeof(work) < arrays + 5000, "the arrays, each once"
