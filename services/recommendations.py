"""Recommendations: read one, accept or confirm (→ the ledger), decline with a reason (→ feedback for the model).

An enterprise accepting writes a partnership awaiting confirmation (04 待确认); the bureau confirming
makes it in force (01 履约中). Capacity is checked in households (core.mechanisms) by graph.ledger.
"""
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from core.clock import today_iso
from core.codes import PartnershipStatus, RecommendationStatus
from graph import ledger as graph_ledger
from graph import matching as matching_queries
from graph import views
from matching.exclusions import enterprise_digest, household_digests
from services.context import Context
from services.jobs import requester
from services.enterprises import present_recommendation
from services.errors import Conflict, Invalid, NotFound, ServiceError
from services.principal import EVERYONE, STAFF, Principal, Role, require_role
from services.privacy import RequestFacts, audit_if_personal
from services.text import plain_text

DECIDERS = (Role.BUREAU, Role.ENTERPRISE, Role.ADMIN)
MAX_REASON_LENGTH = 500


@dataclass(frozen=True)
class Decision:
    """What became of a recommendation, and of its partnership."""

    rec_id: str
    status: str
    partnership_id: str | None = None
    partnership_status: str | None = None


def visible_recommendation(ctx: Context, principal: Principal, rec_id: str) -> dict:
    """The recommendation if the caller may see it (NotFound otherwise)."""
    record = views.recommendation(ctx.driver, rec_id, ctx.database)
    if record is None or not principal.in_county(record["county_code"]) or (
            principal.role == Role.ENTERPRISE and record["credit_code"] != principal.credit_code):
        raise NotFound.of("推荐")
    return record


def _service_error(error: graph_ledger.LedgerConflict) -> ServiceError:
    """The ledger's refusal as a service error (a vanished recommendation is not found, the rest conflicts)."""
    if error.code == NotFound.default_code:
        return NotFound(str(error), error.code)
    return Conflict(str(error), error.code)


def get(ctx: Context, principal: Principal, rec_id: str, *, facts: RequestFacts,
        action: str = "recommendations.detail") -> dict:
    """One recommendation, its household shown as the caller may see it."""
    require_role(principal, *EVERYONE)
    item = present_recommendation(principal, visible_recommendation(ctx, principal, rec_id),
                                  ctx.settings.pseudonym_secret())
    audit_if_personal(ctx, principal, action, [item["household"]], facts)
    return item


def _accept(ctx: Context, principal: Principal, rec_id: str, confirm: bool) -> Decision:
    visible_recommendation(ctx, principal, rec_id)
    try:
        result = graph_ledger.accept_recommendation(ctx.driver, rec_id, confirm, principal.actor,
                                                    datetime.now(timezone.utc).isoformat(), today_iso(),
                                                    ctx.database, changed_by=requester(principal))
    except graph_ledger.LedgerConflict as error:
        raise _service_error(error) from None
    confirmed = result["status"] == PartnershipStatus.IN_FORCE
    status = RecommendationStatus.CONFIRMED if confirmed else RecommendationStatus.ACCEPTED
    return Decision(rec_id=rec_id, status=status.value, partnership_id=result["partnership_id"],
                    partnership_status=str(result["status"]))


def accept(ctx: Context, principal: Principal, rec_id: str) -> Decision:
    """The caller says yes: an enterprise accepts (04 待确认), the bureau or an admin confirms (01 履约中)."""
    require_role(principal, *DECIDERS)
    return _accept(ctx, principal, rec_id, confirm=principal.role in STAFF)


def confirm(ctx: Context, principal: Principal, rec_id: str) -> Decision:
    """The bureau (or an admin) confirms a pairing: the partnership is in force (01 履约中)."""
    require_role(principal, *STAFF)
    return _accept(ctx, principal, rec_id, confirm=True)


def pair_inputs(ctx: Context, record: dict) -> tuple[str | None, str | None]:
    """Digests of the household's and the enterprise's matching inputs as they are now (matching.exclusions)."""
    columns = matching_queries.county_household_columns(ctx.driver, record["county_code"], ctx.database,
                                                        household_ids=[record["household_id"]])
    offer = matching_queries.enterprise_offer(ctx.driver, record["credit_code"], ctx.database)
    household = household_digests(columns, np.arange(1))[0] if columns["household_id"] else None
    return household, enterprise_digest(offer) if offer else None


def decline(ctx: Context, principal: Principal, rec_id: str, reason: str) -> Decision:
    """Decline a visible recommendation, keeping the reason (an accepted, unconfirmed partnership ends)."""
    require_role(principal, *DECIDERS)
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON_LENGTH:
        raise Invalid("请填写拒绝原因（500 字以内）/ a reason of up to 500 characters is required", "reason_required")
    plain_text(reason, "拒绝原因")
    record = visible_recommendation(ctx, principal, rec_id)
    try:
        graph_ledger.decline_recommendation(ctx.driver, rec_id, reason, principal.actor, principal.role,
                                            datetime.now(timezone.utc).isoformat(), ctx.database,
                                            inputs=pair_inputs(ctx, record), changed_by=requester(principal))
    except graph_ledger.LedgerConflict as error:
        raise _service_error(error) from None
    return Decision(rec_id=rec_id, status=RecommendationStatus.DECLINED.value)
