"""Match runs: start one for a county (queued, run in the background), follow its progress, read its metrics."""
from flask import url_for

from app.api import api, dump, page_of, tag
from app.api.schemas import (CapacityListOut, HouseholdOut, MatchRunIn, MatchRunOut, MatchRunQuery, PageOut, RunChangesQuery,
                             RunCountyQuery, RunPath, RunSummaryOut, RunUnplacedQuery, UnplacedPageOut)
from app.auth import current_principal, request_facts, requires
from app.extensions import neo4j_ext
from services import run_page, runs

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


class ChangedHouseholdPage(PageOut[HouseholdOut]):
    """A page of households a run newly planned or no longer planned."""


@api.get("/match-runs/<run_id>/summary", tags=TAGS, responses={200: RunSummaryOut})
@requires("bureau", "analyst", "admin")
def match_run_summary(path: RunPath, query: RunCountyQuery):
    """一次匹配运行概要：参数与模型，该县及各乡镇的覆盖情况（履约中、待确认、已规划、未覆盖，四项相加等于户数），与上一次方案相比新规划与不再规划的户数 / a run's parameters, model and coverage by township."""
    found = run_page.summary(neo4j_ext.context, current_principal(), path.run_id, query.county)
    return dump(RunSummaryOut(run=MatchRunOut(**found["run"]),
                              parameters=[{"label": label, "value": value} for label, value in found["parameters"]],
                              county=found["county"]))


@api.get("/match-runs/<run_id>/unplaced", tags=TAGS, responses={200: UnplacedPageOut})
@requires("bureau", "analyst", "admin")
def match_run_unplaced(path: RunPath, query: RunUnplacedQuery):
    """无可行联结的户：在现有企业与本县规则下任何联结方式都不可行的户，及各户卡住的约束（容量、距离、销路、无供给、土地、劳动力）/ households with no feasible pairing and the binding constraint of each."""
    found = run_page.unplaced(neo4j_ext.context, current_principal(), path.run_id, query.skip, query.page_size,
                              query.county, query.binding, facts=request_facts(), action="match_runs.unplaced")
    return dump(UnplacedPageOut(page=query.page, page_size=query.page_size, **found))


@api.get("/match-runs/<run_id>/changes", tags=TAGS, responses={200: ChangedHouseholdPage})
@requires("bureau", "analyst", "admin")
def match_run_changes(path: RunPath, query: RunChangesQuery):
    """与上一次方案相比：本次新规划的户（kind=newly_planned）或不再规划的户（kind=no_longer_planned）/ the households newly planned, or no longer planned, against the run before."""
    return page_of(ChangedHouseholdPage, run_page.changes(
        neo4j_ext.context, current_principal(), path.run_id, query.kind, query.skip, query.page_size, query.county,
        facts=request_facts(), action="match_runs.changes"), query)


@api.get("/match-runs/<run_id>/capacity", tags=TAGS, responses={200: CapacityListOut})
@requires("bureau", "analyst", "admin")
def match_run_capacity(path: RunPath, query: RunCountyQuery):
    """各企业名额使用：每种联结方式的名额、履约中、待确认、本次安排、已用与使用率 / capacity use per enterprise and mechanism."""
    return dump(CapacityListOut(items=run_page.capacity(neo4j_ext.context, current_principal(), path.run_id,
                                                        query.county)))
