"""Follow-up items (跟进事项) and early warnings (预警): the county's queue, closing an item, the warnings with
the households behind them, their Excel export."""
from app.api import api, dump, page_of, tag
from app.api.schemas import (CountyPath, FollowUpCloseIn, FollowUpOut, FollowUpPage, FollowUpPath, FollowUpQuery,
                             JobOut, WarnedHouseholdPage, WarningPath, WarningQuery, WarningsOut)
from app.auth import current_principal, request_facts, requires
from app.downloads import download
from app.extensions import neo4j_ext
from services import followups, warnings

FOLLOW_UP_TAGS = tag("跟进事项 follow-ups", "使一户需要重新帮扶的事件（联结结束、企业减少名额、新纳入监测、收入低于监测线等）："
                     "每个事件一项，按需要程度定期限；下次匹配优先安排这些户")
WARNING_TAGS = tag("预警 warnings", "监测对象无联结、联结将到期、满一年无增收、仅有入股分红超过两年、企业推荐多被拒绝或联结常提前终止")


@api.get("/counties/<code>/followups", tags=FOLLOW_UP_TAGS, responses={200: FollowUpPage})
@requires("bureau", "analyst", "admin")
def list_followups(path: CountyPath, query: FollowUpQuery):
    """本县的跟进事项（最早到期在前）及统计 / the county's follow-up items, soonest due first, with counts.

    事项在事件发生时生成（每个事件一项），下次匹配运行优先安排这些户并标为“已列入匹配方案”，
    该户有联结进入履约中时自动关闭，工作人员也可填写理由关闭。"""
    ctx, principal = neo4j_ext.context, current_principal()
    items, total = followups.queue(ctx, principal, path.code, query.status, query.reason, query.township, query.skip,
                                   query.page_size, facts=request_facts(), q=query.q)
    return dump(FollowUpPage(items=items, total=total, page=query.page, page_size=query.page_size,
                             summary=followups.summary(ctx, principal, path.code)))


@api.post("/followups/<followup_id>/close", tags=FOLLOW_UP_TAGS, responses={200: FollowUpOut})
@requires("bureau", "admin")
def close_followup(path: FollowUpPath, body: FollowUpCloseIn):
    """填写理由关闭一项跟进事项 / close an item with a reason (who and when are recorded)."""
    ctx, principal = neo4j_ext.context, current_principal()
    return dump(FollowUpOut(**followups.close(ctx, principal, path.followup_id, body.reason,
                                              facts=request_facts())))


@api.post("/counties/<code>/followups/rematch", tags=FOLLOW_UP_TAGS, responses={202: JobOut})
@requires("bureau", "admin")
def rematch_followups(path: CountyPath):
    """按跟进事项重新匹配本县（增量运行，跟进户优先）/ an incremental run of the county, follow-up households first."""
    return dump(JobOut(**followups.rematch(neo4j_ext.context, current_principal(), path.code))), 202


@api.get("/counties/<code>/warnings", tags=WARNING_TAGS, responses={200: WarningsOut})
@requires("bureau", "analyst", "admin")
def county_warnings(path: CountyPath):
    """本县的预警：各项户数（全县与各乡镇）与被预警的企业 / the county's warnings by township, flagged enterprises."""
    return dump(WarningsOut(**warnings.overview(neo4j_ext.context, current_principal(), path.code)))


@api.get("/counties/<code>/warnings/<warning>/households", tags=WARNING_TAGS, responses={200: WarnedHouseholdPage})
@requires("bureau", "analyst", "admin")
def warned_households(path: WarningPath, query: WarningQuery):
    """有该项预警的户（可限乡镇）/ the households with the warning (optionally in one township)."""
    result = warnings.households(neo4j_ext.context, current_principal(), path.code, path.warning, query.township,
                                 query.skip, query.page_size, facts=request_facts())
    return page_of(WarnedHouseholdPage, result, query)


@api.get("/counties/<code>/warnings/<warning>/export.xlsx", tags=WARNING_TAGS, responses={200: None})
@requires("bureau", "admin")
def export_warned_households(path: WarningPath, query: WarningQuery):
    """导出有该项预警的户为 XLSX（最多 20,000 户）/ export the warning's households as XLSX."""
    return download(warnings.export(neo4j_ext.context, current_principal(), path.code, path.warning, query.township,
                                    facts=request_facts()))
