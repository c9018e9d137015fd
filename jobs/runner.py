"""The poller of a web worker: claims queued jobs and runs each in a child process (jobs/child.py)."""
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

from core.clock import today_iso
from core.settings import PROJECT_ROOT, Settings
from graph import jobs as queue
from jobs.child import EXIT_INTERRUPTED
from services.context import Context
from services.jobs import FAILED, QUEUED, RUNNING, utc_now
from services.sweep import queue_today

log = logging.getLogger("lianjie.jobs")


class JobRunner:
    """One per process: a daemon thread that claims queued jobs and runs each in a child process."""

    def __init__(self, settings: Settings, driver_getter):
        self.settings = settings
        self.driver_getter = driver_getter
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        self.child: subprocess.Popen | None = None
        self.child_job: str | None = None
        self.child_log: Path | None = None
        self._sweep_day: str | None = None

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
        """Reap a finished child, or claim and start the next job (queueing the day's sweep first)."""
        if self.child is not None:
            if self.child.poll() is None:
                return
            self._reap()
        self._queue_sweep()
        stale_before = (datetime.now(timezone.utc) - timedelta(seconds=self.settings.job_stale_seconds)).isoformat()
        job = queue.claim_next_job(self.driver_getter(), self.worker, utc_now(), stale_before,
                                   database=self.settings.neo4j_database)
        if job is None or job["status"] != RUNNING:
            return
        log.info("job %s claimed by %s", job["job_id"], self.worker)
        self._start_child(job["job_id"])

    def _queue_sweep(self) -> None:
        """Queue today's sweep job once a day per process (services/sweep.py; one job whoever queues it)."""
        if not self.settings.daily_sweep or self._sweep_day == today_iso():
            return
        queue_today(Context(self.driver_getter(), self.settings))
        self._sweep_day = today_iso()

    def _start_child(self, job_id: str) -> None:
        """Run the claimed job in `python -m jobs.child`, its output in var/jobs/JOB_ID.log."""
        self.child_job = job_id
        log_path = Path(self.settings.var_dir) / "jobs" / f"{job_id}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as child_log:
            self.child = subprocess.Popen([sys.executable, "-m", "jobs.child", "run", job_id, self.worker],
                                          env=self.settings.environment(), cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                                          stdout=child_log, stderr=subprocess.STDOUT, start_new_session=True)
        self.child_log = log_path

    def _reap(self) -> None:
        """Forget the finished child; a crash it could not record itself is recorded on the job.

        A child killed by a signal (the OOM killer, an operator, a machine shutting down) or one that lost
        Neo4j under it (EXIT_INTERRUPTED) did nothing wrong: its job is queued again and run once more — by
        this or any worker — up to the attempts graph.jobs allows (a match run finishes once whatever the
        attempt: matching.run). A child that exited with an error of its own fails the job."""
        code = self.child.returncode
        stderr = self.child_log.read_text("utf-8", "replace")[-2000:] if self.child_log.exists() else ""
        job_id, self.child, self.child_job = self.child_job, None, None
        if code == 0:
            return
        job = queue.get_job(self.driver_getter(), job_id, self.settings.neo4j_database)
        if not (job and job["status"] == RUNNING and job.get("worker") == self.worker):
            return  # finished, or taken over by another worker meanwhile
        if code < 0 or code == EXIT_INTERRUPTED:
            cause = f"信号 {-code} / signal {-code}" if code < 0 else "Neo4j 不可用 / Neo4j unavailable"
            log.warning("job %s: child interrupted (%s); queued again", job_id, cause)
            queue.update_job(self.driver_getter(), job_id, {
                "status": QUEUED, "message": f"任务中断（{cause}），已重新排队 / interrupted, queued again"},
                self.settings.neo4j_database, worker=self.worker)
            return
        queue.update_job(self.driver_getter(), job_id, {
            "status": FAILED, "finished_at": utc_now(),
            "error": f"任务进程异常退出 / job process exited with {code}: {stderr}"}, self.settings.neo4j_database,
            worker=self.worker)
