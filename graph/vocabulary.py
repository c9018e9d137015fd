"""Code-list values as Cypher parameters: queries name `$in_force`, never the literal '01'.

The values come from the enums of core.codes (and core.mechanisms), so a code changes in one
place. `with_vocabulary(query, params)` adds exactly the vocabulary parameters a query names.
"""
import re
from collections.abc import Mapping

from core.codes import (ABLE_SKILLS, HEAD_RELATIONS, LABOUR_SKILLS, CoverageState, Health, HouseholdAttribute, LabourSkill,
                        Mechanism, MonitoringCategory, PartnershipStatus, PovertyCause, RecommendationStatus)
from core import need
from core.mechanisms import MECHANISMS

# The household finder's filters whose counts regions keep (graph/readstate.py: breakdown figures), in
# the order of the regions' breakdown lists: each code of these household properties, then the labour
# categories (the finder's `labour` filter).
BREAKDOWN_CODE_PROPERTIES = (("main_cause", PovertyCause), ("attribute", HouseholdAttribute),
                             ("monitoring_category", MonitoringCategory))
LABOUR_CATEGORIES = ("none", "weak", "ordinary", "skilled", "any")
BREAKDOWN_KEYS: tuple[tuple[str, str], ...] = (
    *((name, code.value) for name, codes in BREAKDOWN_CODE_PROPERTIES for code in codes),
    *(("labour", category) for category in LABOUR_CATEGORIES),
)

VOCABULARY: Mapping[str, str | int | list[str]] = {
    # partnership statuses (联结状态)
    "in_force": PartnershipStatus.IN_FORCE.value,
    "awaiting": PartnershipStatus.AWAITING_CONFIRMATION.value,
    "terminated": PartnershipStatus.TERMINATED.value,
    "open_statuses": PartnershipStatus.codes(*PartnershipStatus.open()),
    # labour skills (劳动技能)
    "ordinary_skill": LabourSkill.ORDINARY.value,
    "skilled_skill": LabourSkill.SKILLED.value,
    "weak_skill": LabourSkill.WEAK.value,
    "able_skills": LabourSkill.codes(*ABLE_SKILLS),
    "labour_skills": LabourSkill.codes(*LABOUR_SKILLS),
    # mechanisms in code order (the positions of per-mechanism arrays in matching)
    "mechanism_codes": [mechanism.value for mechanism in MECHANISMS],
    # recommendation statuses
    "proposed": RecommendationStatus.PROPOSED.value,
    "accepted": RecommendationStatus.ACCEPTED.value,
    "confirmed": RecommendationStatus.CONFIRMED.value,
    "declined": RecommendationStatus.DECLINED.value,
    # recommendations that still hold a place of their enterprise (not yet confirmed, not declined)
    "holding_statuses": RecommendationStatus.codes(RecommendationStatus.PROPOSED, RecommendationStatus.ACCEPTED),
    # a household's coverage state (core/coverage.py), the first that holds
    "state_confirmed": CoverageState.CONFIRMED.value,
    "state_awaiting": CoverageState.AWAITING.value,
    "state_planned": CoverageState.PLANNED.value,
    "state_uncovered": CoverageState.UNCOVERED.value,
    # the need-tier rule (core.need)
    "need_causes": list(need.NEED_CAUSE_CODES),
    "protected_attributes": list(need.PROTECTED_CODES),
    "urgent_monitoring": list(need.URGENT_CODES),
    "extreme_poverty": need.EXTREME_POVERTY,
    "low_income_line": need.LOW_INCOME_LINE,
    # [property, code] of the code-list entries of the breakdown figures, in list order
    "breakdown_codes": [[name, code] for name, code in BREAKDOWN_KEYS if name != "labour"],
    "breakdown_size": len(BREAKDOWN_KEYS),
    # the sort key of a household without the sorted value (income, size): after every real value
    "last_in_order": 1.0e15,
    # the cross-file consistency checks (graph/consistency.py)
    "disability_cause": PovertyCause.DISABILITY.value,
    "lack_of_labour_cause": PovertyCause.LACK_OF_LABOUR.value,
    "disabled_health": Health.DISABLED.value,
    "head_relations": list(HEAD_RELATIONS),
    "employment_mechanism": Mechanism.EMPLOYMENT.value,
}

_PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def vocabulary_for(*queries: str) -> dict:
    """The vocabulary parameters the queries name (copies: a caller may not change the shared lists)."""
    named = {name for query in queries for name in _PARAMETER.findall(query)}
    return {name: (list(value) if isinstance(value, list) else value)
            for name, value in VOCABULARY.items() if name in named}


def with_vocabulary(query: str, params: Mapping | None = None) -> dict:
    """params plus the vocabulary values the query names; a param may not reuse a vocabulary name."""
    params = dict(params or {})
    clash = set(params) & set(VOCABULARY)
    if clash:
        raise ValueError(f"parameter names reserved for the vocabulary: {sorted(clash)}")
    return {**vocabulary_for(query), **params}
