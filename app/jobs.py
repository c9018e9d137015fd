"""Background jobs — match runs and uploads — never run inside a request.

A request only writes a queued Job node. Every web worker process runs one JobRunner
thread that claims queued jobs from the graph (atomically) and executes each in a child
process (`python -m app.jobs run JOB_ID`), so heavy work neither holds the GIL of a
request-serving process nor dies with it. The child writes a heartbeat; a job whose
heartbeat stops (its machine or process died) is claimed again by another worker, so a
restart loses nothing.
"""
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import neo4j

from core.settings import PROJECT_ROOT, Settings
from graph import jobs as queue

log = logging.getLogger("lianjie.jobs")


def utc_now() -> str:
    """The current UTC time as ISO 8601 (sorts correctly as text)."""
    return datetime.now(timezone.utc).isoformat()


def new_job(kind: str, county_code: str | None, requested_by: str, params: dict) -> dict:
    """The properties of a new queued job."""
    return {"job_id": f"{kind}-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}", "kind": kind,
            "county_code": county_code, "requested_by": requested_by, "created_at": utc_now(),
            "params": json.dumps(params, ensure_ascii=False)}


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that recreates these settings in a child process."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            env.pop(name.upper(), None)
        else:
            env[name.upper()] = str(value)
    return env


class JobRunner:
    """One per process: a daemon thread that claims queued jobs and runs each in a child process."""

    def __init__(self, settings: Settings, driver_getter):
        self.settings = settings
        self.driver_getter = driver_getter
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.child: subprocess.Popen | None = None
        self.child_job: str | None = None

    def start(self) -> None:
        """Start the polling thread once per process (a forked child starts its own)."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="lianjie-jobs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop polling (a running child finishes on its own; its heartbeat keeps the job)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except (neo4j.exceptions.DriverError, OSError) as error:
                log.warning("job poll failed: %s", error)
            except Exception:  # a bad job must not kill the runner
                log.exception("job runner error")
            self._stop.wait(self.settings.job_poll_seconds)

    def step(self) -> None:
        """Reap a finished child, or claim and start the next job."""
        if self.child is not None:
            if self.child.poll() is None:
                return
            self._reap()
        stale_before = (datetime.now(timezone.utc) - timedelta(seconds=self.settings.job_stale_seconds)).isoformat()
        job = queue.claim_next_job(self.driver_getter(), self.worker, utc_now(), stale_before,
                                   database=self.settings.neo4j_database)
        if job is None or job["status"] != "running":
            return
        log.info("job %s claimed by %s", job["job_id"], self.worker)
        self.child_job = job["job_id"]
        log_path = Path(self.settings.var_dir) / "jobs" / f"{job['job_id']}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as child_log:
            self.child = subprocess.Popen([sys.executable, "-m", "app.jobs", "run", job["job_id"], self.worker],
                                          env=settings_env(self.settings), cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                                          stdout=child_log, stderr=subprocess.STDOUT, start_new_session=True)
        self.child_log = log_path

    def _reap(self) -> None:
        code = self.child.returncode
        stderr = self.child_log.read_text("utf-8", "replace")[-2000:] if self.child_log.exists() else ""
        job_id, self.child, self.child_job = self.child_job, None, None
        if code == 0:
            return
        job = queue.get_job(self.driver_getter(), job_id, self.settings.neo4j_database)
        if job and job["status"] == "running" and job.get("worker") == self.worker:
            queue.update_job(self.driver_getter(), job_id, {
                "status": "failed", "finished_at": utc_now(),
                "error": f"任务进程异常退出 / job process exited with {code}: {stderr}"}, self.settings.neo4j_database)


# --- the child process ----------------------------------------------------------------------------

def _heartbeat(driver: neo4j.Driver, settings: Settings, job_id: str, stop: threading.Event) -> None:
    interval = max(settings.job_stale_seconds / 4, 1.0)
    while not stop.wait(interval):
        try:
            queue.update_job(driver, job_id, {"heartbeat_at": utc_now()}, settings.neo4j_database)
        except neo4j.exceptions.DriverError:
            pass  # the next beat retries; a long outage lets another worker take the job over


def run_match_job(driver: neo4j.Driver, settings: Settings, job: dict, params: dict) -> dict:
    """Plan the job's county; the MatchRun gets the job's id."""
    from matching.run import MatchParams, MatchRunner

    def progress(message: str) -> None:
        queue.update_job(driver, job["job_id"], {"message": message[:500]}, settings.neo4j_database)

    match_params = MatchParams(top_k=params.get("top_k", 5), household_limit=params.get("household_limit", 1))
    run = MatchRunner(driver, settings, progress=progress).run(params["counties"], match_params, run_id=job["job_id"],
                                                              force=params.get("force", False))
    metrics = json.loads(run.get("metrics") or "{}")
    return {"run_id": job["job_id"], "metrics": {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}}


def run_upload_job(driver: neo4j.Driver, settings: Settings, job: dict, params: dict) -> dict:
    """Load the uploaded file through the ETL, limited to the uploader's county; keep the report."""
    from etl.load import load_files

    path = Path(params["path"])
    report = path.parent / "report.csv"
    counties = set(params["counties"]) if params.get("counties") else None
    result = load_files([path], driver, settings, full=params.get("full", False), report_path=report, progress=False,
                        allowed_counties=counties)
    if report.exists():  # the user knows the file by the name it had on their computer, not our storage path
        report.write_text(report.read_text("utf-8-sig").replace(str(path), params.get("filename") or path.name),
                          "utf-8-sig")
    files = [{"file": params.get("filename"), "sheet": f.sheet, "kind": f.kind, "rows_read": f.rows_read,
              "rows_loaded": f.rows_loaded, "rows_rejected": f.rows_rejected, "warnings": f.warnings,
              "deactivated": f.deactivated, "error": f.error} for f in result.files]
    errors = sum(1 for problem in result.problems if problem.severity == "错误")
    return {"files": files, "errors": errors, "warnings": len(result.problems) - errors,
            "rows_rejected": result.rows_rejected, "report": str(result.report_path or report)}


HANDLERS = {"match": run_match_job, "upload": run_upload_job}


def execute(job_id: str, worker: str) -> int:
    """Run one claimed job to completion, writing its state as it goes (the child process's work)."""
    from graph.db import create_driver

    settings = Settings()
    with create_driver(settings) as driver:
        job = queue.get_job(driver, job_id, settings.neo4j_database)
        if job is None or job["status"] != "running" or job.get("worker") != worker:
            return 0  # taken over by someone else meanwhile
        stop = threading.Event()
        beat = threading.Thread(target=_heartbeat, args=(driver, settings, job_id, stop), daemon=True)
        beat.start()
        try:
            result = HANDLERS[job["kind"]](driver, settings, job, json.loads(job.get("params") or "{}"))
        except Exception as error:  # recorded on the job for the user; the traceback goes to stderr
            logging.exception("job %s failed", job_id)
            queue.update_job(driver, job_id, {"status": "failed", "finished_at": utc_now(),
                                              "error": f"{type(error).__name__}: {error}"[:2000]},
                             settings.neo4j_database)
            return 0
        finally:
            stop.set()
        queue.update_job(driver, job_id, {"status": "completed", "progress": 1.0, "finished_at": utc_now(),
                                          "result": json.dumps(result, ensure_ascii=False, default=str),
                                          "message": "完成 / done"}, settings.neo4j_database)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "run":
        print("usage: python -m app.jobs run JOB_ID WORKER", file=sys.stderr)
        sys.exit(2)
    sys.exit(execute(sys.argv[2], sys.argv[3]))


def init_jobs(app, settings: Settings) -> None:
    """Give the app a JobRunner, started by the first request of each process (never in the gunicorn master)."""

    runner = JobRunner(settings, lambda: app.extensions["neo4j"].get())
    app.extensions["jobs"] = runner
    if not settings.job_workers_enabled:
        return

    @app.before_request
    def _start_job_runner():
        runner.start()
