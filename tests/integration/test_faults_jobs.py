"""A match-run child process killed (SIGKILL) while it writes recommendations.

The sample county (about 1,500 households, 7,500 recommendations: two write batches) is matched once
and a few of its recommendations are accepted into the ledger. Then a forced re-run is queued as a job
and its child is stopped exactly between its two batches: the test holds the run's recommendation number
5000 (the first of the second batch) in an open transaction of its own, so the first batch is committed
and the second waits for that key, uncommitted — and the child is killed there. Whether its web worker survives (the kernel's OOM killer
took the child) or died with it (the machine restarted: another worker takes the job over when its
heartbeat is stale), the job must finish once, with exactly the recommendations of a clean run, the
ledger untouched and one current run for the county.
"""
import os
import signal
import time

import pytest

from core.codes import RecommendationStatus
from devtools.synth import PRESETS, generate
from etl.load import load_files
from graph import jobs as queue
from graph import ledger
from graph import matching as matching_queries
from graph.maintenance import clear_graph
from jobs.runner import JobRunner
from matching.run import MatchParams, MatchRunner
from services.jobs import new_job
from tests.support.faults import blocked_transactions, is_alive, key_reserved, wait_until

COUNTY = PRESETS["sample"]["counties"][0]
PARAMS = {"top_k": 5, "household_limit": 1}
FAST = {"job_stale_seconds": 4, "job_poll_seconds": 0.3}


def _essence(recommendations: list[dict]) -> list[tuple]:
    return sorted((r["household_id"], r["credit_code"], r["mechanism"], r["rank"], r["assigned"])
                  for r in recommendations)


def _ledger(driver) -> list[tuple]:
    """Every partnership with its properties and both links (the 帮扶台账 as stored)."""
    records, _, _ = driver.execute_query(
        """
        MATCH (p:Partnership)
        OPTIONAL MATCH (p)-[:OF_HOUSEHOLD]->(h:Household)
        OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise)
        RETURN properties(p) AS p, collect(DISTINCT h.household_id) AS h, collect(DISTINCT e.credit_code) AS e
        """)
    return sorted(repr((sorted(r["p"].items()), r["h"], r["e"])) for r in records)


def _current_runs(driver) -> dict[str, int]:
    """run_id → number of current recommendations, for the county."""
    records, _, _ = driver.execute_query(
        f"MATCH (l:RecommendationList) WHERE l.county_code = $county AND {matching_queries.is_current('l')} "
        "RETURN l.run_id AS run, sum(size(l.ranks)) AS n",
        county=COUNTY)
    return {record["run"]: record["n"] for record in records}


def _shortlists(driver, run_id: str) -> int:
    records, _, _ = driver.execute_query("MATCH (s:EnterpriseShortlist) WHERE s.county_code = $county "
                                         "AND s.run_id = $run_id RETURN count(s) AS n", county=COUNTY, run_id=run_id)
    return records[0]["n"]


@pytest.fixture(scope="module")
def county(neo4j_driver, test_settings, tmp_path_factory):
    """The sample county matched once, three recommendations in the ledger; a clean forced re-run's result."""
    clear_graph(neo4j_driver, test_settings.neo4j_database)
    paths = generate(tmp_path_factory.mktemp("sample"), progress=False, **PRESETS["sample"])
    assert not load_files(list(paths.values()), neo4j_driver, test_settings, progress=False).failed_files
    runner = MatchRunner(neo4j_driver, test_settings, progress=None)
    first = matching_queries.run_recommendations(neo4j_driver, runner.run([COUNTY], MatchParams(**PARAMS))["run_id"])
    assigned = [r for r in first if r["assigned"]]
    for rec, confirm in ((assigned[0], True), (assigned[len(assigned) // 2], True), (assigned[-1], False)):
        ledger.accept_recommendation(neo4j_driver, rec["rec_id"], confirm, "fault-test", "2026-01-01T00:00:00+00:00",
                                     "2026-01-01")
    clean = runner.run([COUNTY], MatchParams(**PARAMS), force=True)
    clean_recommendations = matching_queries.run_recommendations(neo4j_driver, clean["run_id"])
    return {"clean": _essence(clean_recommendations), "recommendations": len(clean_recommendations),
            "first_enterprise": min(r["credit_code"] for r in clean_recommendations)}


def _kill_the_child_while_it_writes(driver, settings, county: dict, worker_survives: bool) -> str:
    """Queue a forced run, kill its child between its write batches (the households' lists written, the
    enterprises' shortlists not); returns the job id once it has ended."""
    job = new_job("match", COUNTY, "fault-test", {"counties": [COUNTY], **PARAMS, "force": True})
    queue.enqueue_job(driver, job)
    fast = settings.model_copy(update=FAST)
    first_worker, other_worker = JobRunner(fast, lambda: driver), JobRunner(fast, lambda: driver)
    try:
        # A shortlist's id is "<run id>-<county>-<credit code>", a job's run id its job id, and shortlists are
        # written after the lists, in credit-code order: the first shortlist batch starts here.
        with key_reserved(driver, "EnterpriseShortlist", "shortlist_id",
                          f"{job['job_id']}-{COUNTY}-{county['first_enterprise']}"):
            first_worker.start()
            child = wait_until(lambda: first_worker.child, 60, 0.1, "the first worker to start a child")
            wait_until(lambda: blocked_transactions(driver, "CREATE (:EnterpriseShortlist "), 180, 0.2,
                       "the child's first shortlist batch to wait")
            assert matching_queries.run_recommendation_count(driver, job["job_id"]) == county["recommendations"]
            assert _shortlists(driver, job["job_id"]) == 0, "killed with the lists written, the shortlists open"
            assert job["job_id"] not in _current_runs(driver), "a half-written run is never current"
            if not worker_survives:
                first_worker.stop()  # its web worker died with it: nobody reaps the child or looks at the job
            os.kill(child.pid, signal.SIGKILL)
            wait_until(lambda: not is_alive(child.pid) or child.poll() is not None, 10, 0.05, "the child to die")
            other_worker.start()
            wait_until(lambda: not blocked_transactions(driver, "CREATE (:EnterpriseShortlist "), 30, 0.2,
                       "Neo4j to drop the dead child's transaction")
        wait_until(lambda: queue.get_job(driver, job["job_id"])["status"] in ("completed", "failed"), 300, 0.5,
                   "the job to end")
        return job["job_id"]
    finally:
        for runner in (first_worker, other_worker):
            runner.stop()
            if runner.child is not None:
                deadline = time.monotonic() + 120
                while runner.child.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.2)
                if runner.child.poll() is None:
                    runner.child.kill()
                runner.child.wait(timeout=30)


@pytest.mark.parametrize("worker_survives", [True, False], ids=["child-killed", "child-and-worker-killed"])
def test_a_match_child_killed_mid_write_is_retried_to_one_clean_run(neo4j_driver, test_settings, county,
                                                                    worker_survives):
    ledger_before = _ledger(neo4j_driver)
    job_id = _kill_the_child_while_it_writes(neo4j_driver, test_settings, county, worker_survives)

    job = queue.get_job(neo4j_driver, job_id)
    assert job["status"] == "completed", job.get("error")
    assert job["attempts"] == 2, "taken over once"
    assert job["run"]["status"] == "completed"
    recommendations = matching_queries.run_recommendations(neo4j_driver, job_id)
    assert len({r["rec_id"] for r in recommendations}) == len(recommendations)
    keys = [(r["household_id"], r["credit_code"], r["mechanism"]) for r in recommendations]
    assert len(set(keys)) == len(keys), "each (run, household, enterprise, mechanism) once"
    assert _essence(recommendations) == county["clean"], "the same recommendations as a clean run"
    assert all(r["status"] == RecommendationStatus.PROPOSED for r in recommendations)
    assert _current_runs(neo4j_driver) == {job_id: len(recommendations)}, "one current run for the county: this one"
    assert _ledger(neo4j_driver) == ledger_before, "no ledger row lost or changed"
