"""Households: search with filters (paginated), detail, XLSX export."""

from app.api import api, dump, tag
from app.api.schemas import (HouseholdDetailOut, HouseholdExportQuery, HouseholdOut, HouseholdPath, HouseholdQuery,
                             HouseholdPartnershipOut, HouseholdRecommendationOut, PageOut)
from app.auth import current_principal, not_found, requires, scoped_county
from app.export import xlsx_response
from app.extensions import neo4j_ext
from app.privacy import FULL, audit_if_personal, household_view, present_household, present_member
from graph import views

TAGS = tag("贫困户 households", "按村、致贫原因、劳动力、属性、是否覆盖查找；详情含成员、联结与推荐")


class HouseholdPage(PageOut[HouseholdOut]):
    """A page of households."""


def search(query: HouseholdQuery) -> tuple[list[dict], int]:
    county = scoped_county(query.county)
    for code in (query.township, query.village):
        if code is not None and county is not None and not code.startswith(county[:6]):
            return [], 0
    filters = {"county_code": county, "township_code": query.township, "village_code": query.village,
               "main_cause": query.cause, "attribute": query.attribute, "monitoring_category": query.monitoring}
    return views.search_households(neo4j_ext.driver, filters, query.labour, query.covered, query.sort, query.skip,
                                   query.page_size, neo4j_ext.database)


@api.get("/households", tags=TAGS, responses={200: HouseholdPage})
@requires("bureau", "analyst", "admin")
def list_households(query: HouseholdQuery):
    """查找贫困户（分页）/ search households (paginated); analysts get pseudonymised rows."""
    principal = current_principal()
    records, total = search(query)
    view = household_view(principal)
    items = [present_household(record, view) for record in records]
    audit_if_personal(principal, "households.search", items)
    return dump(HouseholdPage(items=[HouseholdOut(**item) for item in items], page=query.page,
                              page_size=query.page_size, total=total))


HOUSEHOLD_COLUMNS = [
    ("household_id", "户编号"), ("head_name", "户主姓名"), ("phone", "联系电话"), ("township_name", "乡镇"),
    ("village_name", "行政村"), ("attribute", "贫困户属性"), ("main_cause", "主要致贫原因"),
    ("household_size", "家庭人口数"), ("income_per_capita", "人均纯收入（元）"), ("labour_ordinary", "普通劳动力"),
    ("labour_skilled", "技能劳动力"), ("labour_weak", "弱劳动力"), ("arable_mu", "耕地（亩）"),
    ("products", "主要产业（产品）"), ("covered", "已有履约联结"),
]


@api.get("/households/export.xlsx", tags=TAGS, responses={200: None})
@requires("bureau", "admin")
def export_households(query: HouseholdExportQuery):
    """导出查找结果为 XLSX（最多 20000 行）/ export the search result as XLSX."""
    return export(query, "households.export")


def export(query: HouseholdExportQuery, action: str):
    """The search result, unmasked (bureau, admin), as an XLSX download; the read is audited as `action`."""
    records, _ = search(query)
    items = [present_household(record, FULL) for record in records]
    audit_if_personal(current_principal(), action, items)
    return xlsx_response("贫困户", HOUSEHOLD_COLUMNS, items, "households.xlsx")


def visible_household(household_id: str) -> dict:
    """A household's detail if the caller may see it (404 otherwise)."""
    principal = current_principal()
    record = views.household_detail(neo4j_ext.driver, household_id, neo4j_ext.database)
    if record is None or (principal.role == "bureau" and record["county_code"] != principal.county_code):
        raise not_found("户")
    return record


@api.get("/households/<household_id>", tags=TAGS, responses={200: HouseholdDetailOut})
@requires("bureau", "admin")
def get_household(path: HouseholdPath):
    """户详情：成员、利益联结、当前推荐 / a household with members, partnerships and current recommendations."""
    principal = current_principal()
    record = visible_household(path.household_id)
    view = household_view(principal)
    shown = present_household(record, view)
    audit_if_personal(principal, "households.detail", [shown])
    detail = HouseholdDetailOut(
        **shown,
        member_list=[present_member(member, view) for member in record["member_list"]],
        partnership_list=[HouseholdPartnershipOut(**p) for p in record["partnership_list"]],
        recommendation_list=[HouseholdRecommendationOut(**r) for r in record["recommendation_list"]],
    )
    return dump(detail)
