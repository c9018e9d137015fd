"""Match runs: start one for a county (queued, run in the background), follow its progress, read its metrics."""
from flask import url_for

from app.api import api, dump, page_of, tag
from app.api.schemas import MatchRunIn, MatchRunOut, MatchRunQuery, PageOut, RunPath
from app.auth import current_principal, requires
from app.extensions import neo4j_ext
from services import runs

TAGS = tag("匹配运行 match runs", "为一个县启动匹配（后台运行）、查看进度与指标")


class MatchRunPage(PageOut[MatchRunOut]):
    """A page of match runs."""


@api.post("/match-runs", tags=TAGS, responses={202: MatchRunOut})
@requires("bureau", "admin")
def start_match_run(body: MatchRunIn):
    """为一个县启动匹配：立即返回（202），在后台运行 / start a run for a county; it runs in the background."""
    job = runs.start(neo4j_ext.context, current_principal(), body.county_code, body.top_k, body.household_limit,
                     body.force)
    return dump(MatchRunOut(**job)), 202, {"Location": url_for("api_v1.get_match_run", run_id=job["job_id"])}


@api.get("/match-runs", tags=TAGS, responses={200: MatchRunPage})
@requires("bureau", "analyst", "admin")
def list_match_runs(query: MatchRunQuery):
    """匹配运行列表（最新在前）/ match runs, newest first."""
    return page_of(MatchRunPage, runs.list_runs(neo4j_ext.context, current_principal(), query.county, query.skip,
                                                query.page_size), query)


@api.get("/match-runs/<run_id>", tags=TAGS, responses={200: MatchRunOut})
@requires("bureau", "analyst", "admin")
def get_match_run(path: RunPath):
    """一次匹配运行：状态、进度、指标与耗时 / one run: status, progress, metrics, timings."""
    return dump(MatchRunOut(**runs.get(neo4j_ext.context, current_principal(), path.run_id)))
