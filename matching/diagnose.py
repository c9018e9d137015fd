"""Why a household cannot be taken: the constraint that binds, per mechanism and overall.

For every household without an eligible pair (with the capacity left), each mechanism is
checked in the order its rules apply — does the household have what the mechanism needs
(labour, land, a traded product), does any enterprise offer it within range, does that
enterprise have capacity left — and the first failing check is that mechanism's reason.
The household's binding constraint is the most fixable one across mechanisms: capacity
(add places), then distance (an enterprise further away exists), then what the household lacks.
"""
import numpy as np
import pandas as pd
from sklearn.neighbors import BallTree

from matching.candidates import EARTH_RADIUS_KM, candidate_pairs
from matching.features import Enterprises, Households
from core.codes import Mechanism
from matching.rules import MECHANISMS, EligibilityRules

REASONS = {
    "capacity": "容量已满 / no capacity left",
    "distance": "范围内无提供该方式的企业 / no enterprise within range",
    "no_labour": "无劳动力 / no labour",
    "no_land": "无可流转土地 / no land to lease",
    "no_market": "产品无收购或销售渠道 / no buyer or seller of its products",
    "no_offer": "本县无企业提供 / not offered in the county",
}
FIXABILITY = ["capacity", "distance", "no_market", "no_offer", "no_land", "no_labour"]


def _nearest_km(households: Households, enterprises: Enterprises, offering: np.ndarray) -> np.ndarray:
    """Distance from each household to the nearest of the offering enterprises (inf when none)."""
    if not offering.any():
        return np.full(len(households), np.inf)
    index = np.flatnonzero(offering)
    tree = BallTree(np.radians(np.column_stack([enterprises.lat[index], enterprises.lon[index]])), metric="haversine")
    distance, _ = tree.query(np.radians(np.column_stack([households.lat, households.lon])), k=1)
    return distance[:, 0] * EARTH_RADIUS_KM


def mechanism_reasons(households: Households, enterprises: Enterprises, rules: EligibilityRules) -> pd.DataFrame:
    """For each household and mechanism, the first failing check, or None when a pair is possible."""
    full = enterprises.with_full_capacity()
    with_capacity = candidate_pairs(households, enterprises, rules)
    without_capacity = candidate_pairs(households, full, rules)
    labour = households.ordinary + households.skilled + households.weak
    reasons = {}
    for m, mechanism in enumerate(MECHANISMS):
        possible = np.zeros(len(households), bool)
        possible[with_capacity.household[with_capacity.mechanism == m]] = True
        if_capacity = np.zeros(len(households), bool)
        if_capacity[without_capacity.household[without_capacity.mechanism == m]] = True
        offering = full.capacity[mechanism] > 0
        nearest = _nearest_km(households, full, offering)
        reason = np.full(len(households), "distance", dtype=object)
        if mechanism == Mechanism.EMPLOYMENT:
            reason[labour == 0] = "no_labour"
        elif mechanism == Mechanism.CONTRACT_PURCHASE:
            trades = (households.industry_mask[:, None] & full.bought_mask[None, offering]).any(axis=1) \
                if offering.any() else np.zeros(len(households), bool)
            reason[~trades] = "no_market"
            reason[households.land_mu <= 0] = "no_land"
            reason[labour == 0] = "no_labour"
        elif mechanism == Mechanism.LAND_LEASE:
            reason[households.land_mu < rules.min_land_mu] = "no_land"
        elif mechanism == Mechanism.EQUITY:
            counties = set(full.county_code[offering])
            reason[~np.isin(households.county_code, list(counties))] = "no_offer"
        elif mechanism == Mechanism.ECOMMERCE:
            sold = full.industry_mask | full.bought_mask
            trades = (households.industry_mask[:, None] & sold[None, offering]).any(axis=1) \
                if offering.any() else np.zeros(len(households), bool)
            reason[~trades] = "no_market"
        reason[(reason == "distance") & ~np.isfinite(nearest)] = "no_offer"
        reason[if_capacity & ~possible] = "capacity"
        reason[possible] = None
        reasons[mechanism] = reason
    frame = pd.DataFrame({m.label: reasons[m] for m in MECHANISMS})
    frame.insert(0, "household_id", households.ids)
    return frame


def binding_constraints(households: Households, enterprises: Enterprises, rules: EligibilityRules) -> pd.DataFrame:
    """The households no enterprise can take, with each mechanism's reason and the binding constraint."""
    frame = mechanism_reasons(households, enterprises, rules)
    columns = [m.label for m in MECHANISMS]
    stuck = frame[frame[columns].isna().sum(axis=1) == 0].copy()
    rank = {reason: position for position, reason in enumerate(FIXABILITY)}
    stuck["binding"] = [min(row, key=rank.__getitem__) for row in stuck[columns].itertuples(index=False)]
    stuck["binding_zh"] = stuck["binding"].map(REASONS)
    return stuck.reset_index(drop=True)
