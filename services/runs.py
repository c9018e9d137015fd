"""Match runs: start one for a county (queued, run in the background), follow its progress, read its metrics."""
import json

from graph import jobs as queue
from graph import matching as matching_queries
from services import jobs
from services.context import Context
from services.errors import NotFound
from services.principal import STAFF, Principal, Role, require_role, scoped_county

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
JOB_FIELDS = ("job_id", "kind", "status", "progress", "message", "county_code", "requested_by", "created_at",
              "started_at", "finished_at", "error")


def _json(value) -> dict | None:
    return json.loads(value) if isinstance(value, str) and value else None


def present_job(job: dict) -> dict:
    """A job with its match run's state merged in (progress and status come from the run once it exists)."""
    run = job.get("run") or {}
    shown = {field: job.get(field) for field in JOB_FIELDS}
    shown["result"] = _json(job.get("result"))
    if job["kind"] == jobs.MATCH:
        shown.update(run_id=job["job_id"], params=_json(job.get("params")), metrics=_json(run.get("metrics")),
                     timings=_json(run.get("timings")), counties=run.get("counties"),
                     unchanged_counties=run.get("unchanged_counties"))
        if shown["status"] == jobs.RUNNING and run.get("progress") is not None:
            shown["progress"] = run["progress"]
            shown["message"] = run.get("message") or shown["message"]
    return shown


def visible_job(ctx: Context, principal: Principal, job_id: str, kind: str) -> dict:
    """The stored job of this kind if the caller may see it (NotFound otherwise)."""
    job = queue.get_job(ctx.driver, job_id, ctx.database)
    if job is None or job["kind"] != kind or not principal.in_county(job.get("county_code")):
        raise NotFound.of("任务")
    return job


def jobs_page(ctx: Context, principal: Principal, kind: str, county: str | None, skip: int,
              limit: int) -> tuple[list[dict], int]:
    """A page of jobs of a kind (newest first), limited to the county the caller may list, presented."""
    county = scoped_county(principal, county)
    found, total = queue.list_jobs(ctx.driver, kind, [county] if county else None, skip, limit, ctx.database)
    return [present_job(job) for job in found], total


def start(ctx: Context, principal: Principal, county_code: str, top_k: int = 5, household_limit: int = 1,
          force: bool = False) -> dict:
    """Queue a match run for a county the caller may run; returns the job as presented."""
    require_role(principal, *STAFF)
    county = scoped_county(principal, county_code)
    known = {row["code"] for row in matching_queries.counties_with_households(ctx.driver, ctx.database)}
    if county not in known:
        raise NotFound("该县没有可匹配的贫困户 / no households in this county", "county_without_households")
    job = jobs.new_job(jobs.MATCH, county, principal.actor, {"counties": [county], "top_k": top_k,
                                                             "household_limit": household_limit, "force": force})
    queue.enqueue_job(ctx.driver, job, ctx.database)
    return present_job(queue.get_job(ctx.driver, job["job_id"], ctx.database))


def list_runs(ctx: Context, principal: Principal, county: str | None, skip: int,
              limit: int) -> tuple[list[dict], int]:
    """Match runs, newest first (a bureau's county only)."""
    require_role(principal, *READERS)
    return jobs_page(ctx, principal, jobs.MATCH, county, skip, limit)


def get(ctx: Context, principal: Principal, run_id: str) -> dict:
    """One run: status, progress, metrics, timings."""
    require_role(principal, *READERS)
    return present_job(visible_job(ctx, principal, run_id, jobs.MATCH))


def job_status(ctx: Context, principal: Principal, job_id: str) -> dict:
    """Any job's state (match run or upload), for progress bars (bureau, admin)."""
    require_role(principal, *STAFF)
    return present_job(visible_job(ctx, principal, job_id, jobs.kind_of(job_id)))
