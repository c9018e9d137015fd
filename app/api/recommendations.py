"""Recommendations: read one, accept (→ the ledger), decline with a reason (→ feedback for the model)."""
from dataclasses import asdict

from app.api import api, dump, tag
from app.api.schemas import DecisionOut, DeclineIn, RecommendationOut, RecommendationPath
from app.auth import current_principal, request_facts, requires
from app.extensions import neo4j_ext
from services import recommendations

TAGS = tag("推荐 recommendations", "接受（写入帮扶台账）或拒绝（原因作为模型反馈）")


@api.get("/recommendations/<rec_id>", tags=TAGS, responses={200: RecommendationOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_recommendation(path: RecommendationPath):
    """一条推荐（户信息按角色脱敏）/ one recommendation."""
    return dump(RecommendationOut(**recommendations.get(neo4j_ext.context, current_principal(), path.rec_id,
                                                        facts=request_facts())))


@api.post("/recommendations/<rec_id>/accept", tags=TAGS, responses={200: DecisionOut})
@requires("bureau", "enterprise", "admin")
def accept_recommendation(path: RecommendationPath):
    """接受推荐：企业接受 → 台账中“待确认”；商务局确认 → “履约中” / accept (enterprise) or confirm (bureau)."""
    return dump(DecisionOut(**asdict(recommendations.accept(neo4j_ext.context, current_principal(), path.rec_id))))


@api.post("/recommendations/<rec_id>/decline", tags=TAGS, responses={200: DecisionOut})
@requires("bureau", "enterprise", "admin")
def decline_recommendation(path: RecommendationPath, body: DeclineIn):
    """拒绝推荐并说明原因（保存为模型反馈）/ decline with a reason (kept as feedback for the model)."""
    decision = recommendations.decline(neo4j_ext.context, current_principal(), path.rec_id, body.reason)
    return dump(DecisionOut(**asdict(decision)))
