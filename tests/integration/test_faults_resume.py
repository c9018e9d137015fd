"""What makes a match run safe to run again after its process died (the SIGKILL tests are in
test_faults_jobs.py): a run written in full is only switched to current by its next attempt, a
finished run is not run again, an attempt that lost its run (or its job) to another can no longer
write it, and a worker queues again a job whose child was interrupted (not one whose child failed)."""
import subprocess
import sys

import pytest

from graph import jobs as queue
from jobs.child import EXIT_INTERRUPTED
from jobs.runner import JobRunner
from graph import matching as queries
from matching.run import MatchParams, MatchRunner
from services.jobs import new_job
from tests.support.faults import load_small_county

COUNTY = "433123000000"
PARAMS = MatchParams(household_limit=2)


class Killed(BaseException):
    """Stands for the process dying: nothing in the runner catches it."""


def _current_runs(driver) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        f"MATCH (l:RecommendationList) WHERE l.county_code = $county AND {queries.is_current('l')} "
        "RETURN l.run_id AS run, sum(size(l.ranks)) AS n",
        county=COUNTY)
    return {record["run"]: record["n"] for record in records}


def test_a_run_written_in_full_but_not_yet_current_is_only_switched_by_its_next_attempt(
        graph_db, test_settings, tmp_path, monkeypatch):
    load_small_county(graph_db, test_settings, tmp_path)
    runner = MatchRunner(graph_db, test_settings, progress=None)
    first = runner.run([COUNTY], PARAMS)

    def die(*args, **kwargs):
        raise Killed()

    monkeypatch.setattr(queries, "make_run_current", die)
    with pytest.raises(Killed):
        runner.run([COUNTY], PARAMS, run_id="run-interrupted", force=True, writer="attempt-1")
    monkeypatch.undo()
    interrupted = queries.match_run(graph_db, "run-interrupted")
    written = queries.run_recommendation_count(graph_db, "run-interrupted")
    assert interrupted["status"] == "running" and interrupted["written_total"] == written > 0
    assert _current_runs(graph_db) == {first["run_id"]: queries.run_recommendation_count(graph_db, first["run_id"])}

    writes = []
    monkeypatch.setattr(queries, "write_recommendations", lambda *args, **kwargs: writes.append(args))
    finished = runner.run([COUNTY], PARAMS, run_id="run-interrupted", force=True, writer="attempt-2")
    assert finished["status"] == "completed" and writes == [], "nothing written twice"
    assert _current_runs(graph_db) == {"run-interrupted": written}
    assert runner.run([COUNTY], PARAMS, run_id="run-interrupted", force=True, writer="attempt-3") == finished, \
        "a finished run is returned as it is"
    assert "lock" not in queries.match_run(graph_db, "run-interrupted")


def test_an_attempt_that_lost_its_run_to_another_can_no_longer_write_it(graph_db, test_settings, tmp_path):
    load_small_county(graph_db, test_settings, tmp_path)
    source = MatchRunner(graph_db, test_settings, progress=None).run([COUNTY], PARAMS)
    rows = [{key: value for key, value in rec.items() if key not in ("run_id", "current", "status")}
            for rec in queries.run_recommendations(graph_db, source["run_id"])]
    for row in rows:
        row["rec_id"] = row["rec_id"].replace(source["run_id"], "run-taken")
    queries.begin_match_run(graph_db, "run-taken", "attempt-1", "2026-01-01T00:00:00+00:00", {"status": "running"})
    queries.begin_match_run(graph_db, "run-taken", "attempt-2", "2026-01-01T00:01:00+00:00", {"status": "running"})

    with pytest.raises(queries.RunSuperseded):
        queries.write_recommendations(graph_db, "run-taken", rows, writer="attempt-1")
    with pytest.raises(queries.RunSuperseded):
        queries.save_match_run(graph_db, "run-taken", {"status": "failed"}, writer="attempt-1")
    with pytest.raises(queries.RunSuperseded):
        queries.make_run_current(graph_db, "run-taken", [COUNTY], writer="attempt-1")
    assert queries.run_recommendation_count(graph_db, "run-taken") == 0
    assert queries.match_run(graph_db, "run-taken")["status"] == "running"

    queries.write_recommendations(graph_db, "run-taken", rows, writer="attempt-2")
    queries.make_run_current(graph_db, "run-taken", [COUNTY], writer="attempt-2")
    assert _current_runs(graph_db) == {"run-taken": len(rows)}
    run = queries.match_run(graph_db, "run-taken")
    assert run["created_at"] == "2026-01-01T00:00:00+00:00" and "lock" not in run


def test_a_batch_the_old_attempt_committed_after_a_takeover_never_becomes_current(graph_db, test_settings, tmp_path):
    load_small_county(graph_db, test_settings, tmp_path)
    source = MatchRunner(graph_db, test_settings, progress=None).run([COUNTY], PARAMS)
    rows = [{key: value for key, value in rec.items() if key not in ("run_id", "current", "status")}
            for rec in queries.run_recommendations(graph_db, source["run_id"])]
    late_households = sorted({row["household_id"] for row in rows})[:2]
    late = [row for row in rows if row["household_id"] in late_households]
    rows = [row for row in rows if row["household_id"] not in late_households]
    queries.begin_match_run(graph_db, "run-late", "attempt-1", "2026-01-01T00:00:00+00:00", {"status": "running"})
    # attempt-1 checked it still owned the run, then attempt-2 took over and rewrote the county; attempt-1's
    # batch (households attempt-2 did not write) commits afterwards.
    queries.begin_match_run(graph_db, "run-late", "attempt-2", "2026-01-01T00:01:00+00:00", {"status": "running"})
    queries.write_recommendations(graph_db, "run-late", rows, writer="attempt-2")
    late_lists, _ = queries.stored_shape("run-late", late)  # the late batch of lists: its writer check is past
    graph_db.execute_query("UNWIND $rows AS row CREATE (l:RecommendationList) SET l = row, l.attempt = 'attempt-1'",
                           rows=late_lists)
    assert queries.run_recommendation_count(graph_db, "run-late") == len(rows) + len(late)

    queries.make_run_current(graph_db, "run-late", [COUNTY], writer="attempt-2", attempt="attempt-2",
                             expected=len(rows))
    assert _current_runs(graph_db) == {"run-late": len(rows)}
    assert queries.run_recommendation_count(graph_db, "run-late") == len(rows), "the late batch is deleted"


def test_a_child_whose_job_was_taken_over_neither_beats_nor_records_for_it(graph_db):
    job = new_job("match", COUNTY, "test", {"counties": [COUNTY]})
    queue.enqueue_job(graph_db, job)
    queue.claim_next_job(graph_db, "worker-1", "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00")
    taken = queue.claim_next_job(graph_db, "worker-2", "2026-01-01T00:10:00+00:00", "2026-01-01T00:05:00+00:00")
    assert taken["worker"] == "worker-2", "the stale job was taken over"

    assert not queue.update_job(graph_db, job["job_id"], {"heartbeat_at": "2026-01-01T00:11:00+00:00"},
                                worker="worker-1")
    assert not queue.update_job(graph_db, job["job_id"], {"status": "completed"}, worker="worker-1")
    assert queue.get_job(graph_db, job["job_id"])["status"] == "running"
    assert queue.update_job(graph_db, job["job_id"], {"status": "completed"}, worker="worker-2")
    assert queue.get_job(graph_db, job["job_id"])["status"] == "completed"


@pytest.mark.parametrize("ending, queued_again", [("killed", True), ("neo4j-gone", True), ("error", False)])
def test_a_job_whose_child_was_interrupted_is_queued_again_one_whose_child_failed_is_not(
        graph_db, test_settings, tmp_path, ending, queued_again):
    job = new_job("match", COUNTY, "test", {"counties": [COUNTY]})
    queue.enqueue_job(graph_db, job)
    runner = JobRunner(test_settings, lambda: graph_db)
    queue.claim_next_job(graph_db, runner.worker, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00+00:00")
    if ending == "killed":  # the OOM killer, say
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        child.kill()
    else:
        status = EXIT_INTERRUPTED if ending == "neo4j-gone" else 1
        child = subprocess.Popen([sys.executable, "-c", f"raise SystemExit({status})"])
    child.wait(timeout=30)
    runner.child, runner.child_job, runner.child_log = child, job["job_id"], tmp_path / "child.log"
    runner.step()  # reaps the child (and claims nothing else: the job is the only one, and now not stale)

    after = queue.get_job(graph_db, job["job_id"])
    if queued_again:
        assert after["status"] == "running" and after["attempts"] == 2, "claimed again at once, by this worker"
        assert runner.child is not None
        runner.child.kill()
        runner.child.wait(timeout=30)
    else:
        assert after["status"] == "failed" and "exited with 1" in after["error"]
