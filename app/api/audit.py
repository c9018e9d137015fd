"""The audit log of unmasked personal-data reads (admin only)."""
from app.api import api, page_of, tag
from app.api.schemas import AuditEventOut, Page, PageOut
from app.auth import current_principal, requires
from app.extensions import neo4j_ext
from services import audit

TAGS = tag("审计 audit", "谁在何时读取了哪些户的未脱敏个人信息")


class AuditPage(PageOut[AuditEventOut]):
    """A page of audit events."""


@api.get("/audit", tags=TAGS, responses={200: AuditPage})
@requires("admin")
def list_audit(query: Page):
    """审计日志（最新在前）/ the audit log, newest first."""
    return page_of(AuditPage, audit.list_events(neo4j_ext.context, current_principal(), query.skip, query.page_size),
                   query)
