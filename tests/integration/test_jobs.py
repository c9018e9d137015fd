"""The job queue in the graph: atomic claims, takeover of a job whose worker died, failures recorded."""
import threading
import time
from datetime import datetime, timedelta, timezone

from graph import jobs as queue
from jobs.runner import JobRunner
from services.jobs import new_job
from tests.integration.api_world import OWN_COUNTY


def _iso(seconds_ago: float = 0) -> str:
    return (datetime.now(timezone.utc) - timedelta(seconds=seconds_ago)).isoformat()


def test_a_queued_job_is_claimed_by_exactly_one_of_many_workers(graph_db):
    job = new_job("match", OWN_COUNTY, "test", {"counties": [OWN_COUNTY]})
    queue.enqueue_job(graph_db, job)
    claims, barrier = [], threading.Barrier(8)

    def claim(worker: str):
        barrier.wait()
        claims.append(queue.claim_next_job(graph_db, worker, _iso(), _iso(60)))

    threads = [threading.Thread(target=claim, args=(f"worker-{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    won = [c for c in claims if c is not None]
    assert len(won) == 1 and won[0]["status"] == "running" and won[0]["attempts"] == 1
    assert queue.get_job(graph_db, job["job_id"])["worker"] == won[0]["worker"]


def test_a_job_whose_worker_died_is_taken_over_and_finished(neo4j_driver, test_settings, world):
    graph_db = neo4j_driver  # the world's graph, kept
    job = new_job("match", OWN_COUNTY, "test", {"counties": [OWN_COUNTY], "top_k": 2})
    queue.enqueue_job(graph_db, job)
    dead = queue.claim_next_job(graph_db, "dead-worker", _iso(300), _iso(360))
    assert dead["job_id"] == job["job_id"]  # claimed five minutes ago, then its process vanished
    assert queue.claim_next_job(graph_db, "too-early", _iso(), _iso(600)) is None, "a fresh heartbeat is respected"

    runner = JobRunner(test_settings.model_copy(update={"job_stale_seconds": 60}), lambda: graph_db)
    runner.step()  # takes the stale job over and starts it in a child process
    assert runner.child is not None
    deadline = time.monotonic() + 180
    while queue.get_job(graph_db, job["job_id"])["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.5)
    runner.child.wait(timeout=60)
    runner.step()
    finished = queue.get_job(graph_db, job["job_id"])
    assert finished["status"] == "completed", finished
    assert finished["attempts"] == 2 and finished["worker"] == runner.worker
    assert finished["run"]["status"] == "completed" and finished["run"]["requested_counties"] == [OWN_COUNTY]


def test_a_failing_job_is_recorded_as_failed_with_its_error(graph_db, test_settings):
    job = new_job("upload", OWN_COUNTY, "test", {"path": "/nonexistent/贫困户.csv", "filename": "贫困户.csv",
                                                 "counties": [OWN_COUNTY]})
    queue.enqueue_job(graph_db, job)
    runner = JobRunner(test_settings, lambda: graph_db)
    runner.step()
    runner.child.wait(timeout=120)
    runner.step()
    failed = queue.get_job(graph_db, job["job_id"])
    assert failed["status"] == "failed" and failed["error"] and failed["finished_at"]


def test_a_job_interrupted_too_often_is_abandoned(graph_db):
    job = new_job("match", OWN_COUNTY, "test", {"counties": [OWN_COUNTY]})
    queue.enqueue_job(graph_db, job)
    for attempt in range(3):
        assert queue.claim_next_job(graph_db, f"w{attempt}", _iso(600), _iso(300))["status"] == "running"
    last = queue.claim_next_job(graph_db, "w3", _iso(), _iso(300))
    assert last["status"] == "failed" and "放弃" in last["error"]
    assert queue.claim_next_job(graph_db, "w4", _iso(), _iso(60)) is None
