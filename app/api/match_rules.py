"""Per-county match rules: the eligibility limits a county matches under, the limits its own ledger suggests,
and applying them (a new version; the county's next match run uses it)."""
from app.api import api, dump, tag
from app.api.schemas import CountyPath, MatchRulesIn, MatchRulesOut
from app.auth import current_principal, request_facts, requires
from app.extensions import neo4j_ext
from services import match_rules

TAGS = tag("匹配规则 match rules", "各县的资格规则（距离上限、最小流转面积）：当前值、按本县台账的建议、应用")


@api.get("/counties/<code>/match-rules", tags=TAGS, responses={200: MatchRulesOut})
@requires("bureau", "analyst", "admin")
def get_match_rules(path: CountyPath):
    """本县的资格规则：当前值、默认值、按台账的建议及其依据 / the county's limits and its ledger's suggestions.

    每条规则给出默认值、当前值、建议值（联结不足时没有，并说明原因）与所依据的联结数；另列历次版本。"""
    return dump(MatchRulesOut(**match_rules.county_rules(neo4j_ext.context, current_principal(), path.code)))


@api.post("/counties/<code>/match-rules", tags=TAGS, responses={200: MatchRulesOut})
@requires("bureau", "admin")
def apply_match_rules(path: CountyPath, body: MatchRulesIn):
    """应用建议或设定取值，成为本县规则的新版本 / apply suggestions or set values as the next version.

    apply 为 all 或所选规则；values 在允许范围内直接设定（同一规则以 values 为准）。本县下次匹配按新版本计算；
    与当前规则相同则不建立新版本（applied 为空）。没有可应用的建议时答 409。"""
    values = body.values.model_dump(exclude_none=True) if body.values is not None else None
    return dump(MatchRulesOut(**match_rules.apply_rules(neo4j_ext.context, current_principal(), path.code, body.apply,
                                                        values, facts=request_facts())))
