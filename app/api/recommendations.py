"""Recommendations: read one, accept (→ the ledger), decline with a reason (→ feedback for the model)."""
from datetime import date, datetime, timezone

from app.api import api, dump, tag
from app.api.enterprises import present_recommendation
from app.api.schemas import DecisionOut, DeclineIn, RecommendationOut, RecommendationPath
from app.auth import AuthError, current_principal, not_found, requires
from app.extensions import neo4j_ext
from app.privacy import audit_if_personal
from graph import ledger, views

TAGS = tag("推荐 recommendations", "接受（写入帮扶台账）或拒绝（原因作为模型反馈）")


def visible_recommendation(rec_id: str) -> dict:
    """The recommendation if the caller may see it (404 otherwise)."""
    principal = current_principal()
    record = views.recommendation(neo4j_ext.driver, rec_id, neo4j_ext.database)
    if record is None:
        raise not_found("推荐")
    if principal.role == "enterprise" and record["credit_code"] != principal.credit_code:
        raise not_found("推荐")
    if principal.role == "bureau" and record["county_code"] != principal.county_code:
        raise not_found("推荐")
    return record


def _conflict(error: ledger.LedgerConflict) -> AuthError:
    status = 404 if error.code == "not_found" else 409
    return AuthError(status, error.code, str(error))


@api.get("/recommendations/<rec_id>", tags=TAGS, responses={200: RecommendationOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_recommendation(path: RecommendationPath):
    """一条推荐（户信息按角色脱敏）/ one recommendation."""
    item = present_recommendation(visible_recommendation(path.rec_id))
    audit_if_personal(current_principal(), "recommendations.detail", [item["household"]])
    return dump(RecommendationOut(**item))


def accept(rec_id: str) -> DecisionOut:
    """Accept (enterprise: 04 待确认) or confirm (bureau, admin: 01 履约中) a visible recommendation."""
    principal = current_principal()
    visible_recommendation(rec_id)
    now = datetime.now(timezone.utc)
    try:
        result = ledger.accept_recommendation(neo4j_ext.driver, rec_id, principal.role != "enterprise",
                                              principal.actor, now.isoformat(), date.today().isoformat(),
                                              neo4j_ext.database)
    except ledger.LedgerConflict as error:
        raise _conflict(error) from None
    status = "confirmed" if result["status"] == "01" else "accepted"
    return DecisionOut(rec_id=rec_id, status=status, partnership_id=result["partnership_id"],
                       partnership_status=result["status"])


def decline(rec_id: str, reason: str) -> DecisionOut:
    """Decline a visible recommendation, keeping the reason."""
    principal = current_principal()
    visible_recommendation(rec_id)
    try:
        ledger.decline_recommendation(neo4j_ext.driver, rec_id, reason.strip(), principal.actor, principal.role,
                                      datetime.now(timezone.utc).isoformat(), neo4j_ext.database)
    except ledger.LedgerConflict as error:
        raise _conflict(error) from None
    return DecisionOut(rec_id=rec_id, status="declined")


@api.post("/recommendations/<rec_id>/accept", tags=TAGS, responses={200: DecisionOut})
@requires("bureau", "enterprise", "admin")
def accept_recommendation(path: RecommendationPath):
    """接受推荐：企业接受 → 台账中“待确认”；商务局确认 → “履约中” / accept (enterprise) or confirm (bureau)."""
    return dump(accept(path.rec_id))


@api.post("/recommendations/<rec_id>/decline", tags=TAGS, responses={200: DecisionOut})
@requires("bureau", "enterprise", "admin")
def decline_recommendation(path: RecommendationPath, body: DeclineIn):
    """拒绝推荐并说明原因（保存为模型反馈）/ decline with a reason (kept as feedback for the model)."""
    return dump(decline(path.rec_id, body.reason))
