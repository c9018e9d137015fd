"""The child process that runs one claimed job: `python -m jobs.child run JOB_ID WORKER`.

It writes a heartbeat while the handler works and records the result (completed) or the
error (failed) on the Job node; no Flask is loaded here.
"""
import json
import logging
import sys
import threading

import neo4j

from core.settings import Settings
from graph import jobs as queue
from graph.db import create_driver
from jobs.handlers import HANDLERS
from services.jobs import COMPLETED, FAILED, RUNNING, utc_now


def _heartbeat(driver: neo4j.Driver, settings: Settings, job_id: str, stop: threading.Event) -> None:
    interval = max(settings.job_stale_seconds / 4, 1.0)
    while not stop.wait(interval):
        try:
            queue.update_job(driver, job_id, {"heartbeat_at": utc_now()}, settings.neo4j_database)
        except neo4j.exceptions.DriverError:
            pass  # the next beat retries; a long outage lets another worker take the job over


def execute(job_id: str, worker: str) -> int:
    """Run one claimed job to completion, writing its state as it goes."""
    settings = Settings()
    with create_driver(settings) as driver:
        job = queue.get_job(driver, job_id, settings.neo4j_database)
        if job is None or job["status"] != RUNNING or job.get("worker") != worker:
            return 0  # taken over by someone else meanwhile
        stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(driver, settings, job_id, stop), daemon=True)
        beat.start()
        try:
            result = HANDLERS[job["kind"]](driver, settings, job, json.loads(job.get("params") or "{}"))
        except Exception as error:  # recorded on the job for the user; the traceback goes to the job's log
            logging.exception("job %s failed", job_id)
            queue.update_job(driver, job_id, {"status": FAILED, "finished_at": utc_now(),
                                              "error": f"{type(error).__name__}: {error}"[:2000]},
                             settings.neo4j_database)
            return 0
        finally:
            stop.set()
        queue.update_job(driver, job_id, {"status": COMPLETED, "progress": 1.0, "finished_at": utc_now(),
                                          "result": json.dumps(result, ensure_ascii=False, default=str),
                                          "message": "完成 / done"}, settings.neo4j_database)
    return 0


def main(argv: list[str]) -> int:
    """`run JOB_ID WORKER`; anything else is a usage error (exit 2)."""
    if len(argv) != 3 or argv[0] != "run":
        print("usage: python -m jobs.child run JOB_ID WORKER", file=sys.stderr)
        return 2
    return execute(argv[1], argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
