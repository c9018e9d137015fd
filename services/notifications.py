"""The in-app notification list of the signed-in user (core/notices.py): a bureau account reads its county's,
an enterprise its own. Households are named as the reader may see them (an enterprise: masked)."""
from core.codes import Mechanism
from core.notices import TITLES, NoticeKind, audience_of, notice_text
from graph import notifications as graph_notifications
from services.context import Context
from services.errors import Invalid
from services.principal import Principal, Role, require_role
from services.privacy import pseudonym

READERS = (Role.BUREAU, Role.ENTERPRISE)
MAX_IDS = 100


def _audience(principal: Principal) -> str | None:
    return audience_of(principal.role, principal.county_code, principal.credit_code)


def present(principal: Principal, record: dict, key: str) -> dict:
    """A notification as the reader sees it: title, sentence, when, read, and what it is about."""
    household_id = record.get("household_id")
    ref = pseudonym(key, household_id) if household_id else None
    if principal.role == Role.ENTERPRISE:
        household = f"{record.get('head_name_masked') or '某户'}（{ref}）" if ref else "某户"
    else:
        household = f"{record.get('head_name') or household_id}户" if household_id else "某户"
    kind = record["kind"]
    return {
        "notification_id": record["notification_id"], "kind": kind, "title": TITLES.get(NoticeKind(kind), kind),
        "text": notice_text(kind, household, record.get("enterprise_name") or "企业",
                            Mechanism.label_of(record.get("mechanism"), ""), record.get("reason")),
        "created_at": record["created_at"], "read": bool(record.get("read")), "run_id": record.get("run_id"),
        "household_id": household_id if principal.role != Role.ENTERPRISE else None, "household_ref": ref,
        "rec_id": record.get("rec_id"),
    }


def page(ctx: Context, principal: Principal, skip: int, limit: int) -> tuple[list[dict], dict]:
    """A page of the user's notifications, newest first, and {total, unread}."""
    require_role(principal, *READERS)
    audience = _audience(principal)
    if audience is None:
        return [], {"total": 0, "unread": 0}
    key = ctx.settings.pseudonym_secret()
    items = [present(principal, record, key)
             for record in graph_notifications.page(ctx.driver, audience, skip, limit, ctx.database)]
    return items, graph_notifications.counts(ctx.driver, audience, ctx.database)


def unread(ctx: Context, principal: Principal) -> int:
    audience = _audience(principal)
    if audience is None:
        return 0
    return graph_notifications.counts(ctx.driver, audience, ctx.database)["unread"]


def mark_read(ctx: Context, principal: Principal, notification_ids: list[str] | None) -> int:
    """Mark some (ids) or all of the user's unread notifications read; the number marked."""
    require_role(principal, *READERS)
    if notification_ids is not None and len(notification_ids) > MAX_IDS:
        raise Invalid(f"一次最多标记 {MAX_IDS} 条 / at most {MAX_IDS} at a time", "too_many")
    audience = _audience(principal)
    if audience is None:
        return 0
    return graph_notifications.mark_read(ctx.driver, audience, notification_ids, ctx.database)
