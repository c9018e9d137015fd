"""Match runs: start one for a county (queued, run in the background), follow its progress, read its metrics."""
import json

from flask import url_for

from app.api import api, dump, tag
from app.api.schemas import MatchRunIn, MatchRunOut, MatchRunQuery, PageOut, RunPath
from app.auth import AuthError, current_principal, not_found, requires, scoped_county
from app.extensions import neo4j_ext
from app.jobs import new_job
from graph import jobs as queue
from graph import matching as matching_queries

TAGS = tag("匹配运行 match runs", "为一个县启动匹配（后台运行）、查看进度与指标")


class MatchRunPage(PageOut[MatchRunOut]):
    """A page of match runs."""


def _json(value) -> dict | None:
    return json.loads(value) if isinstance(value, str) and value else None


def present_job(job: dict) -> dict:
    """A job with its match run's state merged in (progress and status come from the run once it exists)."""
    run = job.get("run") or {}
    shown = {key: job.get(key) for key in ("job_id", "kind", "status", "progress", "message", "county_code",
                                           "requested_by", "created_at", "started_at", "finished_at", "error")}
    shown["result"] = _json(job.get("result"))
    if job["kind"] == "match":
        shown.update(run_id=job["job_id"], params=_json(job.get("params")), metrics=_json(run.get("metrics")),
                     timings=_json(run.get("timings")), counties=run.get("counties"),
                     unchanged_counties=run.get("unchanged_counties"))
        if shown["status"] == "running" and run.get("progress") is not None:
            shown["progress"] = run["progress"]
            shown["message"] = run.get("message") or shown["message"]
    return shown


def visible_job(job_id: str, kind: str) -> dict:
    principal = current_principal()
    job = queue.get_job(neo4j_ext.driver, job_id, neo4j_ext.database)
    if job is None or job["kind"] != kind or (
            principal.role == "bureau" and job.get("county_code") != principal.county_code):
        raise not_found("任务")
    return job


def start_run(county_code: str, top_k: int = 5, household_limit: int = 1, force: bool = False) -> dict:
    """Queue a match run for a county the caller may run; returns the stored job."""
    principal = current_principal()
    county = scoped_county(county_code)
    known = {row["code"] for row in matching_queries.counties_with_households(neo4j_ext.driver, neo4j_ext.database)}
    if county not in known:
        raise AuthError(404, "county_without_households", "该县没有可匹配的贫困户 / no households in this county")
    job = new_job("match", county, principal.actor, {"counties": [county], "top_k": top_k,
                                                      "household_limit": household_limit, "force": force})
    queue.enqueue_job(neo4j_ext.driver, job, neo4j_ext.database)
    return queue.get_job(neo4j_ext.driver, job["job_id"], neo4j_ext.database)


@api.post("/match-runs", tags=TAGS, responses={202: MatchRunOut})
@requires("bureau", "admin")
def start_match_run(body: MatchRunIn):
    """为一个县启动匹配：立即返回（202），在后台运行 / start a run for a county; it runs in the background."""
    stored = start_run(body.county_code, body.top_k, body.household_limit, body.force)
    response = dump(MatchRunOut(**present_job(stored)))
    return response, 202, {"Location": url_for("api_v1.get_match_run", run_id=stored["job_id"])}


@api.get("/match-runs", tags=TAGS, responses={200: MatchRunPage})
@requires("bureau", "analyst", "admin")
def list_match_runs(query: MatchRunQuery):
    """匹配运行列表（最新在前）/ match runs, newest first."""
    county = scoped_county(query.county)
    jobs, total = queue.list_jobs(neo4j_ext.driver, "match", [county] if county else None, query.skip,
                                  query.page_size, neo4j_ext.database)
    return dump(MatchRunPage(items=[MatchRunOut(**present_job(job)) for job in jobs], page=query.page,
                             page_size=query.page_size, total=total))


@api.get("/match-runs/<run_id>", tags=TAGS, responses={200: MatchRunOut})
@requires("bureau", "analyst", "admin")
def get_match_run(path: RunPath):
    """一次匹配运行：状态、进度、指标与耗时 / one run: status, progress, metrics, timings."""
    return dump(MatchRunOut(**present_job(visible_job(path.run_id, "match"))))
