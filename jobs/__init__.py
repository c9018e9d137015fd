"""Background jobs — match runs and uploads — never run inside a request.

A request only writes a queued Job node (services.jobs.new_job). Every web worker process runs
one JobRunner thread (jobs/runner.py) that claims queued jobs from the graph (atomically) and
executes each in a child process (`python -m jobs.child run JOB_ID WORKER`, jobs/child.py), so
heavy work neither holds the GIL of a request-serving process nor dies with it. The child writes
a heartbeat; a job whose heartbeat stops (its machine or process died) is claimed again by
another worker, so a restart loses nothing. What each kind of job does is in jobs/handlers.py.

Top layer: may import services, etl, matching, graph, core; never `app` (the app calls init_jobs).
"""
from core.settings import Settings
from jobs.runner import JobRunner


def init_jobs(app, settings: Settings) -> JobRunner:
    """Give the app a JobRunner (`app.extensions["jobs"]`), started by the first request of each process.

    Never in the gunicorn master (no request reaches it), so every forked worker starts its own."""
    runner = JobRunner(settings, lambda: app.extensions["neo4j"].get())
    app.extensions["jobs"] = runner
    if settings.job_workers_enabled:
        app.before_request(runner.start)
    return runner
