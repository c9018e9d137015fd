"""The partnership ledger (帮扶台账): list, update income gain and status, XLSX export."""
from datetime import datetime, timezone

from app.api import api, dump, tag
from app.api.schemas import (PageOut, PartnershipExportQuery, PartnershipOut, PartnershipPath, PartnershipQuery,
                             PartnershipUpdateIn)
from app.auth import AuthError, current_principal, not_found, requires, scoped_county
from app.export import xlsx_response
from app.extensions import neo4j_ext
from app.privacy import audit_if_personal, pseudonym
from graph import ledger, views

TAGS = tag("帮扶台账 partnerships", "利益联结台账：查询、更新增收与状态、导出")


class PartnershipPage(PageOut[PartnershipOut]):
    """A page of the ledger."""


def present_partnership(record: dict) -> dict:
    """A ledger row as the caller may see it."""
    principal = current_principal()
    shown = {key: record.get(key) for key in PartnershipOut.model_fields if key not in
             ("household_ref", "head_name", "head_name_masked", "phone", "household_id")}
    shown["household_ref"] = pseudonym(record["household_id"])
    if principal.role in ("bureau", "admin") or (principal.role == "enterprise" and record.get("status") == "01"):
        shown.update(household_id=record["household_id"], head_name=record.get("head_name"),
                     phone=record.get("phone"))
    elif principal.role == "enterprise":
        shown["head_name_masked"] = record.get("head_name_masked")
    return shown


def search(query: PartnershipQuery) -> tuple[list[dict], int]:
    principal = current_principal()
    filters = {"village_code": query.village, "household_id": query.household_id, "credit_code": query.credit_code,
               "mechanism": query.mechanism, "status": query.status}
    if principal.role == "enterprise":
        if query.credit_code not in (None, principal.credit_code):
            raise AuthError(403, "forbidden_scope", "企业账号只能查看本企业的联结 / only your own partnerships")
        filters.update(credit_code=principal.credit_code, county_code=query.county)
    else:
        filters["county_code"] = scoped_county(query.county)
    return views.search_partnerships(neo4j_ext.driver, filters, query.skip, query.page_size, neo4j_ext.database)


@api.get("/partnerships", tags=TAGS, responses={200: PartnershipPage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_partnerships(query: PartnershipQuery):
    """帮扶台账（分页，最新在前）/ the ledger, newest first."""
    principal = current_principal()
    records, total = search(query)
    items = [present_partnership(record) for record in records]
    audit_if_personal(principal, "partnerships.search", items)
    return dump(PartnershipPage(items=[PartnershipOut(**item) for item in items], page=query.page,
                                page_size=query.page_size, total=total))


LEDGER_COLUMNS = [
    ("partnership_id", "联结编号"), ("household_id", "户编号"), ("head_name", "户主姓名"), ("village_name", "行政村"),
    ("credit_code", "统一社会信用代码"), ("enterprise_name", "企业名称"), ("project_id", "项目编号"),
    ("mechanism", "联结方式"), ("start_date", "开始日期"), ("end_date", "结束日期"), ("income_gain", "年增收（元）"),
    ("status", "状态"), ("note", "帮扶措施"),
]


@api.get("/partnerships/export.xlsx", tags=TAGS, responses={200: None})
@requires("bureau", "admin")
def export_partnerships(query: PartnershipExportQuery):
    """导出帮扶台账为 XLSX / export the ledger as XLSX."""
    return export(query, "partnerships.export")


def export(query: PartnershipExportQuery, action: str):
    """The filtered ledger as an XLSX download; the read is audited as `action`."""
    records, _ = search(query)
    items = [present_partnership(record) for record in records]
    audit_if_personal(current_principal(), action, items)
    return xlsx_response("帮扶台账", LEDGER_COLUMNS, items, "partnerships.xlsx")


def visible_partnership(partnership_id: str) -> dict:
    principal = current_principal()
    record = views.partnership(neo4j_ext.driver, partnership_id, neo4j_ext.database)
    if record is None or (principal.role == "bureau" and record["county_code"] != principal.county_code) or (
            principal.role == "enterprise" and record["credit_code"] != principal.credit_code):
        raise not_found("联结")
    return record


@api.get("/partnerships/<partnership_id>", tags=TAGS, responses={200: PartnershipOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_partnership(path: PartnershipPath):
    """台账中的一条联结 / one ledger row."""
    item = present_partnership(visible_partnership(path.partnership_id))
    audit_if_personal(current_principal(), "partnerships.detail", [item])
    return dump(PartnershipOut(**item))


@api.patch("/partnerships/<partnership_id>", tags=TAGS, responses={200: PartnershipOut})
@requires("bureau", "admin")
def update_partnership(path: PartnershipPath, body: PartnershipUpdateIn):
    """更新年增收、状态、措施或结束日期 / update income gain, status, note or end date."""
    item = update(path.partnership_id, body.model_dump(exclude_unset=True, exclude_none=True))
    return dump(PartnershipOut(**item))


def update(partnership_id: str, changes: dict) -> dict:
    """Change ledger fields of a visible partnership; returns the row as the caller sees it."""
    principal = current_principal()
    visible_partnership(partnership_id)
    if not changes:
        raise AuthError(422, "nothing_to_update", "没有要更新的字段 / nothing to update")
    ledger.update_partnership(neo4j_ext.driver, partnership_id, changes, principal.actor,
                              datetime.now(timezone.utc).isoformat(), neo4j_ext.database)
    item = present_partnership(visible_partnership(partnership_id))
    audit_if_personal(principal, "partnerships.update", [item])
    return item
