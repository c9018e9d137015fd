"""Match runs: start one for a county (queued, run in the background), follow its progress, read its metrics.

A job is shown without anything of the server: no storage path (an upload's report is downloaded through
its URL), no path in an error or a message, and its requester by name and role, never by token id.
"""
import json
import re

from graph import jobs as queue
from graph import matching as matching_queries
from services import jobs
from services.context import Context
from services.errors import NotFound
from services.principal import ROLE_NAMES, ROLES, STAFF, Principal, Role, require_role, scoped_county

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
JOB_FIELDS = ("job_id", "kind", "status", "progress", "message", "county_code", "requested_by", "created_at",
              "started_at", "finished_at", "error")


# Result entries that are server paths (kept in the graph for the server's own use, never shown).
SERVER_ONLY_RESULT = frozenset({"report", "path"})
# An absolute file path (two or more segments), not preceded by a word character, ':' or '/' (so not a URL,
# a date 2024/3/1, a ratio 12/100 or 匹配/评分).
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(?:[^\s/'\"<>:;,，；（）()]+/)+([^\s/'\"<>:;,，；（）()]*)")
# How jobs named their requester before: `role:token_id`.
ACTOR = re.compile(rf"^({'|'.join(ROLES)}):\S+$")


def _json(value) -> dict | None:
    return json.loads(value) if isinstance(value, str) and value else None


def without_server_paths(value):
    """value (text, or lists and dicts of it) with every absolute path cut to its file name."""
    if isinstance(value, str):
        return ABSOLUTE_PATH.sub(lambda found: found.group(1), value)
    if isinstance(value, list):
        return [without_server_paths(item) for item in value]
    if isinstance(value, dict):
        return {key: without_server_paths(item) for key, item in value.items()}
    return value


def _requester(requested_by: str | None) -> str | None:
    """The requester as shown: a name and role; of a job stored with a token id, the role alone."""
    legacy = ACTOR.match(requested_by or "")
    return ROLE_NAMES.get(legacy.group(1), legacy.group(1)) if legacy else requested_by


def present_job(job: dict) -> dict:
    """A job with its match run's state merged in (progress and status come from the run once it exists)."""
    run = job.get("run") or {}
    shown = {field: without_server_paths(job.get(field)) for field in JOB_FIELDS}
    shown["requested_by"] = _requester(job.get("requested_by"))
    result = _json(job.get("result"))
    shown["result"] = without_server_paths({key: value for key, value in result.items()
                                            if key not in SERVER_ONLY_RESULT}) if isinstance(result, dict) else result
    if job["kind"] == jobs.MATCH:
        shown.update(run_id=job["job_id"], params=_json(job.get("params")), metrics=_json(run.get("metrics")),
                     timings=_json(run.get("timings")), counties=run.get("counties"),
                     unchanged_counties=run.get("unchanged_counties"), rules_versions=_json(run.get("rules_versions")),
                     model_version=run.get("model_version"), alpha=run.get("alpha"), model_note=run.get("model_note"))
        if shown["status"] == jobs.RUNNING and run.get("progress") is not None:
            shown["progress"] = run["progress"]
            shown["message"] = without_server_paths(run.get("message")) or shown["message"]
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
    job = jobs.new_job(jobs.MATCH, county, jobs.requester(principal), {
        "counties": [county], "top_k": top_k, "household_limit": household_limit, "force": force},
        actor=principal.actor)
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
