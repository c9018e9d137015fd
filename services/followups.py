"""The follow-up queue (跟进事项): the county's items, soonest due first; closing one with a reason; a run that
plans the county's follow-up households first.

Who: bureau staff (their county) and administrators see households in full and act; analysts read the queue
with pseudonyms; enterprises never see it. Reading names is audited like every other unmasked read.
"""
from core.clock import today_iso
from core.followup import ClosedBy, FollowUpReason, FollowUpStatus
from graph import followups as queries
from graph import views
from services import runs
from services import search as searching
from services.context import Context
from services.errors import Conflict, Invalid, NotFound
from services.jobs import requester
from services.principal import STAFF, Principal, Role, require_role
from services.privacy import RequestFacts, audit_if_personal, household_view, present_household
from services.regions import check_scope
from services.text import plain_text

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
STATUS_CHOICES = {"unresolved": FollowUpStatus.unresolved(), **{status.value: (status,) for status in FollowUpStatus}}
MAX_CLOSE_REASON = 500


def _statuses(choice: str) -> list[str]:
    if choice not in STATUS_CHOICES:
        raise Invalid("状态无效 / invalid status", "invalid_status")
    return FollowUpStatus.codes(*STATUS_CHOICES[choice])


def present_item(principal: Principal, item: dict, key: str) -> dict:
    """An item with its labels and its household as the caller may see it."""
    shown = {name: value for name, value in item.items() if name != "household"}
    shown.update(reason_label=FollowUpReason.label_of(item.get("reason"), item.get("reason")),
                 status_label=FollowUpStatus.label_of(item.get("status"), item.get("status")),
                 closed_by_label=ClosedBy.label_of(item.get("closed_by"), None) if item.get("closed_by") else None,
                 overdue=bool(item.get("status") != FollowUpStatus.CLOSED and item.get("due_date")
                              and item["due_date"] < today_iso()))
    household = present_household(item["household"], household_view(principal), key) if item.get("household") else {}
    shown["household"] = household
    if household.get("household_id"):
        shown["household_id"] = household["household_id"]
    else:  # a pseudonymous view names the household by its pseudonym only: the item's id holds the 户编号
        for name in ("household_id", "followup_id", "subject"):
            shown.pop(name, None)
    return shown


def queue(ctx: Context, principal: Principal, county: str, status: str = "unresolved", reason: str | None = None,
          township: str | None = None, skip: int = 0, limit: int = 20, *, facts: RequestFacts,
          action: str = "followups.queue", q: str | None = None) -> tuple[list[dict], int]:
    """A page of the county's items (soonest due first) and their total; q: those of the households found by
    户主姓名, 户编号 prefix or ID suffix (services/search.py; not for analysts)."""
    require_role(principal, *READERS)
    check_scope(principal, county)
    if reason is not None and reason not in FollowUpReason.codes():
        raise Invalid("跟进原因无效 / invalid reason", "invalid_reason")
    match = searching.household_match(ctx, principal, q, county)
    records, total = views.search_followups(ctx.driver, county, _statuses(status), reason, township, skip, limit,
                                            ctx.database, match=match)
    key = ctx.settings.pseudonym_secret()
    items = [present_item(principal, record, key) for record in records]
    audit_if_personal(ctx, principal, action, [item["household"] for item in items], facts)
    return items, total


def summary(ctx: Context, principal: Principal, county: str) -> dict:
    """Counts of the county's unresolved items: by reason, status and township, and how many are past due."""
    require_role(principal, *READERS)
    check_scope(principal, county)
    rows = views.followup_summary(ctx.driver, county, FollowUpStatus.codes(*FollowUpStatus.unresolved()),
                                  ctx.database)
    by_reason = {reason.value: 0 for reason in FollowUpReason}
    by_status = {status.value: 0 for status in FollowUpStatus.unresolved()}
    by_township: dict[str, int] = {}
    for row in rows:
        by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + row["items"]
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["items"]
        by_township[row["township_code"]] = by_township.get(row["township_code"], 0) + row["items"]
    return {"county_code": county, "unresolved": sum(row["items"] for row in rows),
            "overdue": sum(row["items"] for row in rows if row["overdue"]),
            "by_reason": [{"reason": code, "label": FollowUpReason.label_of(code, code), "items": count}
                          for code, count in by_reason.items()],
            "by_status": [{"status": code, "label": FollowUpStatus.label_of(code, code), "items": count}
                          for code, count in by_status.items()],
            "by_township": [{"township_code": code, "items": count} for code, count in sorted(by_township.items())]}


def close(ctx: Context, principal: Principal, followup_id: str, reason: str, *, facts: RequestFacts,
          action: str = "followups.close") -> dict:
    """Close an unresolved item of the caller's county with a reason (bureau, admin); the item as now."""
    require_role(principal, *STAFF)
    reason = plain_text((reason or "").strip(), "关闭理由")
    if not reason:
        raise Invalid("请填写关闭理由 / a reason is required", "reason_required")
    if len(reason) > MAX_CLOSE_REASON:
        raise Invalid(f"关闭理由不超过 {MAX_CLOSE_REASON} 字 / reason too long", "reason_too_long")
    item = views.followup(ctx.driver, followup_id, ctx.database)
    if item is None or not principal.in_county(item["county_code"]):
        raise NotFound.of("跟进事项")
    if queries.close_by_staff(ctx.driver, followup_id, reason, requester(principal), principal.actor,
                              ctx.database) is None:
        raise Conflict("该事项已关闭 / the item is already closed", "already_closed")
    shown = present_item(principal, views.followup(ctx.driver, followup_id, ctx.database),
                         ctx.settings.pseudonym_secret())
    audit_if_personal(ctx, principal, action, [shown["household"]], facts)
    return shown


def rematch(ctx: Context, principal: Principal, county: str) -> dict:
    """Start an incremental run of the county (its follow-up households are planned first)."""
    return runs.start(ctx, principal, county)
