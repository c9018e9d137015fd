"""Eligibility rules per mechanism: hard constraints, configurable, applied to candidate pairs.

A recommendation that breaks one of these is a defect, so every stage (candidates,
learned model, assignment, evaluation) filters with `eligible` and nothing overrides it.
"""
from dataclasses import asdict, dataclass

import numpy as np

MECHANISMS = ("01", "02", "03", "04", "05")  # 就业务工, 订单收购, 土地流转, 入股分红, 电商销售
MECHANISM_NAMES = {"01": "就业务工", "02": "订单收购", "03": "土地流转", "04": "入股分红", "05": "电商销售"}
WORKSHOP_TYPE = "07"  # 扶贫车间 / 就业帮扶车间
SKILLED = "02"


@dataclass(frozen=True)
class EligibilityRules:
    """Distances in km, land in 亩. Defaults follow DOMAIN.md; bureaus may tighten or relax them."""

    employment_max_km: float = 30.0  # daily commute to a site
    workshop_max_km: float = 15.0  # 弱劳动力 only work in a workshop close to home
    contract_max_km: float = 50.0  # the buyer collects from the village
    land_max_km: float = 10.0  # land must lie near the enterprise's base
    ecommerce_max_km: float = 150.0  # a working link to the household
    min_land_mu: float = 0.5  # less than this is not worth a lease
    land_mu_per_household: float = 3.0  # turns an enterprise's 亩 demand into a number of households
    equity_same_county: bool = True  # industry funds are managed by the county

    def max_km(self, mechanism: str) -> float:
        """The search radius of a mechanism (equity: any distance inside the county)."""
        return {"01": self.employment_max_km, "02": self.contract_max_km, "03": self.land_max_km,
                "04": 1e9, "05": self.ecommerce_max_km}[mechanism]

    def as_dict(self) -> dict:
        """Plain values, for storing with a match run."""
        return asdict(self)


def eligible(rules: EligibilityRules, mechanism: str, households, enterprises, h: np.ndarray, e: np.ndarray,
             distance_km: np.ndarray) -> np.ndarray:
    """Boolean mask over pairs (h[i], e[i]) that may partner by `mechanism`."""
    offered = enterprises.capacity[mechanism][e] > 0
    labour = households.ordinary[h] + households.skilled[h]
    land = households.land_mu[h]
    if mechanism == "01":
        needs_skill = enterprises.skill_required[e] == SKILLED
        able = np.where(needs_skill, households.skilled[h] > 0, labour > 0) & (distance_km <= rules.employment_max_km)
        workshop = ((enterprises.enterprise_type[e] == WORKSHOP_TYPE) & (households.weak[h] > 0)
                    & (distance_km <= rules.workshop_max_km))
        return offered & (able | workshop)
    if mechanism == "02":
        produces = (households.industry_mask[h] & enterprises.bought_mask[e]) != 0
        return offered & produces & (labour + households.weak[h] > 0) & (land > 0) & (distance_km <= rules.contract_max_km)
    if mechanism == "03":
        return offered & (land >= rules.min_land_mu) & (distance_km <= rules.land_max_km)
    if mechanism == "04":
        same_county = households.county_code[h] == enterprises.county_code[e]
        return offered & (same_county if rules.equity_same_county else True)
    if mechanism == "05":
        sells = (households.industry_mask[h] & (enterprises.industry_mask[e] | enterprises.bought_mask[e])) != 0
        return offered & sells & (distance_km <= rules.ecommerce_max_km)
    raise ValueError(f"unknown mechanism {mechanism!r}")
