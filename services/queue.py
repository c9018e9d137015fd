"""The working day's queues: for a bureau, the pairings enterprises accepted that await its confirmation
(confirm many at once, or send one back with a reason); for the navigation, what waits for each user.

Confirming goes through services/recommendations.py (capacity, scope and the ledger's rules are the same
as one confirmation); a pairing loaded from a file with no recommendation behind it is confirmed as a
ledger change (status → 履约中)."""
from dataclasses import dataclass

from core.codes import Mechanism, PartnershipStatus, RecommendationStatus
from core.followup import FollowUpStatus
from core.notices import county_audience
from graph import views
from services import ledger, notifications, recommendations
from services.context import Context
from services.errors import Invalid, NotFound, ServiceError
from services.principal import STAFF, Principal, Role, require_role
from services.privacy import RequestFacts, audit_if_personal, household_view, present_household

MAX_BATCH = 100


def awaiting(ctx: Context, principal: Principal, county: str, skip: int, limit: int, *, facts: RequestFacts,
             action: str = "queue.awaiting") -> tuple[list[dict], int]:
    """A page of the county's households with pairings awaiting confirmation, and how many households wait."""
    require_role(principal, *STAFF)
    if principal.role == Role.BUREAU and county != principal.county_code:
        raise NotFound.of("县")
    records, total = views.awaiting_pairings(ctx.driver, county, skip, limit, ctx.database)
    key = ctx.settings.pseudonym_secret()
    items = []
    for record in records:
        household = present_household(record, household_view(principal), key)
        pairings = [{**pairing, "mechanism_label": Mechanism.label_of(pairing["mechanism"], "")}
                    for pairing in record["pairings"]]
        items.append({"household": household, "pairings": pairings})
    audit_if_personal(ctx, principal, action, [item["household"] for item in items], facts)
    return items, total


@dataclass(frozen=True)
class BatchResult:
    confirmed: list[str]
    failed: list[dict]  # {"id": …, "message": …}


def _visible_awaiting(ctx: Context, principal: Principal, partnership_id: str) -> dict:
    record = ledger.visible_partnership(ctx, principal, partnership_id)
    if record.get("status") != PartnershipStatus.AWAITING_CONFIRMATION:
        raise Invalid("该联结已不在待确认状态 / no longer awaiting confirmation", "not_awaiting")
    return record


def confirm(ctx: Context, principal: Principal, partnership_ids: list[str], *, facts: RequestFacts) -> BatchResult:
    """Confirm up to MAX_BATCH awaiting pairings (批量确认); each is judged on its own, one refusal does not stop
    the others (capacity, scope, a pairing already handled)."""
    require_role(principal, *STAFF)
    ids = list(dict.fromkeys(partnership_ids))
    if not ids:
        raise Invalid("请选择要确认的联结 / choose the pairings to confirm", "nothing_chosen")
    if len(ids) > MAX_BATCH:
        raise Invalid(f"一次最多确认 {MAX_BATCH} 条 / at most {MAX_BATCH} at a time", "too_many")
    confirmed, failed = [], []
    for partnership_id in ids:
        try:
            record = _visible_awaiting(ctx, principal, partnership_id)
            if record.get("rec_id"):
                recommendations.confirm(ctx, principal, record["rec_id"])
            else:
                ledger.update(ctx, principal, partnership_id, {"status": PartnershipStatus.IN_FORCE.value},
                              facts=facts, action="queue.confirm")
            confirmed.append(partnership_id)
        except ServiceError as error:
            failed.append({"id": partnership_id, "message": error.message, "code": error.code})
    return BatchResult(confirmed, failed)


def reject(ctx: Context, principal: Principal, partnership_id: str, reason: str, *, facts: RequestFacts) -> None:
    """Send an awaiting pairing back with a reason: its recommendation is declined (the enterprise is told why),
    or, for a pairing from a file, the ledger row is terminated with the reason as its note."""
    require_role(principal, *STAFF)
    record = _visible_awaiting(ctx, principal, partnership_id)
    if record.get("rec_id"):
        recommendations.decline(ctx, principal, record["rec_id"], reason)
        return
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("请填写退回原因 / a reason is required", "reason_required")
    ledger.update(ctx, principal, partnership_id, {"status": PartnershipStatus.TERMINATED.value, "note": reason},
                  facts=facts, action="queue.reject")


def nav_counts(ctx: Context, principal: Principal) -> dict:
    """What waits for the user, for the navigation: a bureau's pairings awaiting confirmation, unresolved follow-ups
    and unread notifications (one query); an enterprise's recommendations to act on and unread notifications."""
    counts = {}
    if principal.role == Role.BUREAU and principal.county_code:
        counts = views.bureau_waiting(ctx.driver, principal.county_code,
                                      FollowUpStatus.codes(*FollowUpStatus.unresolved()),
                                      county_audience(principal.county_code), ctx.database)
    elif principal.role == Role.ENTERPRISE and principal.credit_code:
        _, counts["to_act"] = views.search_recommendations(
            ctx.driver, {"credit_code": principal.credit_code, "status": RecommendationStatus.PROPOSED.value}, 0, 0,
            ctx.database)
        counts["notifications"] = notifications.unread(ctx, principal)
    return counts
