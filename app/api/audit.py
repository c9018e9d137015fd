"""The audit log of unmasked personal-data reads (admin only)."""
from app.api import api, dump, tag
from app.api.schemas import AuditEventOut, Page, PageOut
from app.auth import requires
from app.extensions import neo4j_ext
from graph import access

TAGS = tag("审计 audit", "谁在何时读取了哪些户的未脱敏个人信息")


class AuditPage(PageOut[AuditEventOut]):
    """A page of audit events."""


@api.get("/audit", tags=TAGS, responses={200: AuditPage})
@requires("admin")
def list_audit(query: Page):
    """审计日志（最新在前）/ the audit log, newest first."""
    records, total = access.audit_events(neo4j_ext.driver, query.skip, query.page_size, neo4j_ext.database)
    return dump(AuditPage(items=[AuditEventOut(**r) for r in records], page=query.page, page_size=query.page_size,
                          total=total))
