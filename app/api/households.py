"""Households: search with filters (paginated), detail, XLSX export."""
from app.api import api, dump, page_of, tag
from app.api.schemas import (HouseholdDetailOut, HouseholdExportQuery, HouseholdOut, HouseholdPath, HouseholdQuery,
                             PageOut)
from app.auth import current_principal, request_facts, requires
from app.downloads import download
from app.extensions import neo4j_ext
from services import households
from services.households import HouseholdFilter

TAGS = tag("贫困户 households", "按村、致贫原因、劳动力、属性、是否覆盖查找；详情含成员、联结与推荐")


class HouseholdPage(PageOut[HouseholdOut]):
    """A page of households."""


@api.get("/households", tags=TAGS, responses={200: HouseholdPage})
@requires("bureau", "analyst", "admin")
def list_households(query: HouseholdQuery):
    """查找贫困户（分页，可用 next_cursor 接续）/ search households (paginated, keyset cursor); analysts get pseudonymised rows."""
    found = households.search_page(neo4j_ext.context, current_principal(),
                                   HouseholdFilter.from_mapping(query.model_dump()), query.skip, query.page_size,
                                   facts=request_facts(), cursor=query.cursor)
    return page_of(HouseholdPage, (found.items, found.total), query, found.next_cursor)


@api.get("/households/export.xlsx", tags=TAGS, responses={200: None})
@requires("bureau", "admin")
def export_households(query: HouseholdExportQuery):
    """导出查找结果为 XLSX（最多 20000 行）/ export the search result as XLSX."""
    return download(households.export(neo4j_ext.context, current_principal(),
                                      HouseholdFilter.from_mapping(query.model_dump()), query.skip, query.page_size,
                                      facts=request_facts()))


@api.get("/households/<household_id>", tags=TAGS, responses={200: HouseholdDetailOut})
@requires("bureau", "admin")
def get_household(path: HouseholdPath):
    """户详情：成员、利益联结、当前推荐 / a household with members, partnerships and current recommendations."""
    return dump(HouseholdDetailOut(**households.get(neo4j_ext.context, current_principal(), path.household_id,
                                                    facts=request_facts())))
