"""Eligibility rules per mechanism: hard constraints, configurable, applied to candidate pairs.

A recommendation that breaks one of these is a defect, so every stage (candidates,
learned model, assignment, evaluation) filters with `eligible` and nothing overrides it.
"""
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from core.codes import EnterpriseType, LabourSkill, Mechanism
from core.mechanisms import MECHANISMS  # noqa: F401  (re-exported: matching indexes mechanisms by position)


@dataclass(frozen=True)
class EligibilityRules:
    """Distances in km, land in 亩. Defaults follow DOMAIN.md; bureaus may tighten or relax them."""

    employment_max_km: float = 30.0  # daily commute to a site
    workshop_max_km: float = 15.0  # 弱劳动力 only work in a workshop close to home
    contract_max_km: float = 50.0  # the buyer collects from the village
    land_max_km: float = 10.0  # land must lie near the enterprise's base
    ecommerce_max_km: float = 150.0  # a working link to the household
    min_land_mu: float = 0.5  # less than this is not worth a lease
    equity_same_county: bool = True  # industry funds are managed by the county

    def max_km(self, mechanism: str) -> float:
        """The search radius of a mechanism (equity: any distance inside the county)."""
        return {Mechanism.EMPLOYMENT: self.employment_max_km, Mechanism.CONTRACT_PURCHASE: self.contract_max_km,
                Mechanism.LAND_LEASE: self.land_max_km, Mechanism.EQUITY: 1e9,
                Mechanism.ECOMMERCE: self.ecommerce_max_km}[mechanism]

    def search_radius_km(self) -> float:
        """The largest radius of the mechanisms searched by distance (equity stays inside the county)."""
        return max(self.max_km(m) for m in MECHANISMS if m != Mechanism.EQUITY)

    def as_dict(self) -> dict:
        """Plain values, for storing with a match run."""
        return asdict(self)

    def with_values(self, values: Mapping[str, float]) -> "EligibilityRules":
        """These rules with the given fields replaced (a county's stored values, graph CountyRules). A stored
        name that is no longer a field is left out: it can no longer change what a run does."""
        known = {field.name for field in fields(self)}
        return replace(self, **{name: value for name, value in values.items() if name in known})


def widest_radius_km(rules: Iterable[EligibilityRules]) -> float:
    """The largest search radius of several counties' rules (the enterprises a run of them may reach)."""
    return max((each.search_radius_km() for each in rules), default=EligibilityRules().search_radius_km())


def eligible(rules: EligibilityRules, mechanism: str, households, enterprises, h: np.ndarray, e: np.ndarray,
             distance_km: np.ndarray) -> np.ndarray:
    """Boolean mask over pairs (h[i], e[i]) that may partner by `mechanism`."""
    offered = enterprises.capacity[mechanism][e] > 0
    labour = households.ordinary[h] + households.skilled[h]
    land = households.land_mu[h]
    if mechanism == Mechanism.EMPLOYMENT:
        able, workshop = employment_routes(rules, households, enterprises, h, e, distance_km)
        return offered & (able | workshop)
    if mechanism == Mechanism.CONTRACT_PURCHASE:
        produces = (households.industry_mask[h] & enterprises.bought_mask[e]) != 0
        return offered & produces & (labour + households.weak[h] > 0) & (land > 0) & (distance_km <= rules.contract_max_km)
    if mechanism == Mechanism.LAND_LEASE:
        return offered & (land >= rules.min_land_mu) & (distance_km <= rules.land_max_km)
    if mechanism == Mechanism.EQUITY:
        same_county = households.county_code[h] == enterprises.county_code[e]
        return offered & (same_county if rules.equity_same_county else True)
    if mechanism == Mechanism.ECOMMERCE:
        sells = (households.industry_mask[h] & (enterprises.industry_mask[e] | enterprises.bought_mask[e])) != 0
        return offered & sells & (distance_km <= rules.ecommerce_max_km)
    raise ValueError(f"unknown mechanism {mechanism!r}")


def employment_routes(rules: EligibilityRules, households, enterprises, h: np.ndarray, e: np.ndarray,
                      distance_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two ways a pair may partner by employment (boolean masks): `able`, a labourer of the skill the job
    needs within commuting range; `workshop`, a 弱劳动力 at a 扶贫车间 close to home. Reasons say which one holds."""
    labour = households.ordinary[h] + households.skilled[h]
    needs_skill = enterprises.skill_required[e] == LabourSkill.SKILLED
    able = np.where(needs_skill, households.skilled[h] > 0, labour > 0) & (distance_km <= rules.employment_max_km)
    workshop = ((enterprises.enterprise_type[e] == EnterpriseType.WORKSHOP) & (households.weak[h] > 0)
                & (distance_km <= rules.workshop_max_km))
    return able, workshop
