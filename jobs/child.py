"""The child process that runs one claimed job: `python -m jobs.child run JOB_ID WORKER`.

It writes a heartbeat while the handler works and records the result (completed) or the
error (failed) on the Job node; no Flask is loaded here. Every write names the worker that claimed
the job: once another worker has taken the job over (this child's heartbeat looked dead), this child
neither beats nor records anything, and a match run it was writing refuses its further writes
(graph.matching.RunSuperseded), so the new owner's run is the only one.
"""
import json
import logging
import sys
import threading

import neo4j

from core.settings import Settings
from graph import jobs as queue
from graph.db import create_driver
from graph.matching import RunSuperseded
from jobs.handlers import HANDLERS
from services.jobs import COMPLETED, FAILED, RUNNING, utc_now

# Exit status of a child that lost Neo4j under its job (a restart, a backup): the job is not at fault,
# so its worker queues it again (jobs/runner.py), as for a child killed by a signal. 75 = EX_TEMPFAIL.
EXIT_INTERRUPTED = 75
DATABASE_GONE = (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired,
                 neo4j.exceptions.DatabaseUnavailable)


def _heartbeat(driver: neo4j.Driver, settings: Settings, job_id: str, worker: str, stop: threading.Event) -> None:
    interval = max(settings.job_stale_seconds / 4, 1.0)
    while not stop.wait(interval):
        try:
            if not queue.update_job(driver, job_id, {"heartbeat_at": utc_now()}, settings.neo4j_database,
                                    worker=worker):
                logging.warning("job %s was taken over by another worker; this child stops beating", job_id)
                return
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
        beat = threading.Thread(target=_heartbeat, args=(driver, settings, job_id, worker, stop), daemon=True)
        beat.start()
        try:
            result = HANDLERS[job["kind"]](driver, settings, job, json.loads(job.get("params") or "{}"))
        except RunSuperseded:
            logging.warning("job %s was taken over by another worker; this child stops", job_id)
            return 0
        except DATABASE_GONE:
            logging.exception("job %s interrupted: Neo4j is unavailable", job_id)
            return EXIT_INTERRUPTED
        except Exception as error:  # recorded on the job for the user; the traceback goes to the job's log
            logging.exception("job %s failed", job_id)
            queue.update_job(driver, job_id, {"status": FAILED, "finished_at": utc_now(),
                                              "error": f"{type(error).__name__}: {error}"[:2000]},
                             settings.neo4j_database, worker=worker)
            return 0
        finally:
            stop.set()
        if not queue.update_job(driver, job_id, {"status": COMPLETED, "progress": 1.0, "finished_at": utc_now(),
                                                 "result": json.dumps(result, ensure_ascii=False, default=str),
                                                 "message": "完成 / done"}, settings.neo4j_database, worker=worker):
            logging.warning("job %s was taken over by another worker; its result is theirs to record", job_id)
    return 0


def main(argv: list[str]) -> int:
    """`run JOB_ID WORKER`; anything else is a usage error (exit 2)."""
    if len(argv) != 3 or argv[0] != "run":
        print("usage: python -m jobs.child run JOB_ID WORKER", file=sys.stderr)
        return 2
    return execute(argv[1], argv[2])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
