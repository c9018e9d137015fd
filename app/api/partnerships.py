"""The partnership ledger (帮扶台账): list, update income gain and status, XLSX export."""
from app.api import api, dump, page_of, tag
from app.api.schemas import (Page, PageOut, PartnershipChangeOut, PartnershipExportQuery, PartnershipOut,
                             PartnershipPath, PartnershipQuery, PartnershipUpdateIn)
from app.auth import current_principal, request_facts, requires
from app.downloads import download
from app.extensions import neo4j_ext
from services import ledger
from services.ledger import PartnershipFilter

TAGS = tag("帮扶台账 partnerships", "利益联结台账：查询、更新增收与状态、导出")


class PartnershipPage(PageOut[PartnershipOut]):
    """A page of the ledger."""


class PartnershipChangePage(PageOut[PartnershipChangeOut]):
    """A page of a partnership's change history."""


@api.get("/partnerships", tags=TAGS, responses={200: PartnershipPage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_partnerships(query: PartnershipQuery):
    """帮扶台账（分页，最新在前）/ the ledger, newest first."""
    result = ledger.search(neo4j_ext.context, current_principal(), PartnershipFilter.from_mapping(query.model_dump()),
                           query.skip, query.page_size, facts=request_facts())
    return page_of(PartnershipPage, result, query)


@api.get("/partnerships/export.xlsx", tags=TAGS, responses={200: None})
@requires("bureau", "admin")
def export_partnerships(query: PartnershipExportQuery):
    """导出帮扶台账为 XLSX / export the ledger as XLSX."""
    return download(ledger.export(neo4j_ext.context, current_principal(),
                                  PartnershipFilter.from_mapping(query.model_dump()), query.skip, query.page_size,
                                  facts=request_facts()))


@api.get("/partnerships/<partnership_id>", tags=TAGS, responses={200: PartnershipOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_partnership(path: PartnershipPath):
    """台账中的一条联结 / one ledger row."""
    return dump(PartnershipOut(**ledger.get(neo4j_ext.context, current_principal(), path.partnership_id,
                                            facts=request_facts())))


@api.patch("/partnerships/<partnership_id>", tags=TAGS, responses={200: PartnershipOut})
@requires("bureau", "admin")
def update_partnership(path: PartnershipPath, body: PartnershipUpdateIn):
    """更新年增收、状态、措施或结束日期 / update income gain, status, note or end date."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return dump(PartnershipOut(**ledger.update(neo4j_ext.context, current_principal(), path.partnership_id, changes,
                                               facts=request_facts())))


@api.get("/partnerships/<partnership_id>/changes", tags=TAGS, responses={200: PartnershipChangePage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_partnership_changes(path: PartnershipPath, query: Page):
    """联结的变更记录（谁、何时、哪个字段、原值 → 新值；分页，最新在前；企业只能查看本企业的联结）/ a partnership's
    change history, newest first."""
    return page_of(PartnershipChangePage, ledger.changes(neo4j_ext.context, current_principal(), path.partnership_id,
                                                         query.skip, query.page_size), query)
