"""Candidate pairs (household, enterprise, mechanism) by spatial search, filtered by the rules.

Employment, land lease and equity search the nearest enterprises offering the mechanism;
contract purchase and e-commerce search, per industry, the nearest enterprises that buy
or sell it. Distances are great-circle (scikit-learn BallTree, haversine).
"""
from dataclasses import dataclass

import numpy as np
from sklearn.neighbors import BallTree

from core.codes import Mechanism
from core.industries import INDUSTRIES
from matching.features import Enterprises, Households
from matching.rules import MECHANISMS, EligibilityRules, eligible

EARTH_RADIUS_KM = 6371.0088


@dataclass
class Pairs:
    """Candidate pairs as parallel arrays."""

    household: np.ndarray  # index into Households
    enterprise: np.ndarray  # index into Enterprises
    mechanism: np.ndarray  # index into MECHANISMS
    distance_km: np.ndarray

    def __len__(self) -> int:
        return len(self.household)

    def take(self, selector) -> "Pairs":
        """The pairs at the given positions or mask."""
        return Pairs(self.household[selector], self.enterprise[selector], self.mechanism[selector], self.distance_km[selector])

    @classmethod
    def concat(cls, parts: list["Pairs"]) -> "Pairs":
        """All parts as one."""
        if not parts:
            return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int8), np.empty(0, float))
        return cls(*(np.concatenate([getattr(p, name) for p in parts])
                     for name in ("household", "enterprise", "mechanism", "distance_km")))


def _radians(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return np.radians(np.column_stack([lat, lon]))


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km, vectorised."""
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def _nearest(households: Households, house_idx: np.ndarray, enterprises: Enterprises, ent_idx: np.ndarray,
             k: int, max_km: float, mechanism: int) -> Pairs:
    """Up to k nearest of the given enterprises for each given household, within max_km."""
    if len(house_idx) == 0 or len(ent_idx) == 0:
        return Pairs.concat([])
    tree = BallTree(_radians(enterprises.lat[ent_idx], enterprises.lon[ent_idx]), metric="haversine")
    k = min(k, len(ent_idx))
    distance, neighbour = tree.query(_radians(households.lat[house_idx], households.lon[house_idx]), k=k)
    distance_km = distance.ravel() * EARTH_RADIUS_KM
    keep = distance_km <= max_km
    return Pairs(np.repeat(house_idx, k)[keep], ent_idx[neighbour.ravel()][keep],
                 np.full(int(keep.sum()), mechanism, dtype=np.int8), distance_km[keep])


def candidate_pairs(households: Households, enterprises: Enterprises, rules: EligibilityRules,
                    per_mechanism: int = 8) -> Pairs:
    """Every eligible pair among the nearest enterprises of each mechanism (duplicates removed)."""
    parts = []
    all_households = np.arange(len(households))
    for m, mechanism in enumerate(MECHANISMS):
        offering = np.flatnonzero(enterprises.capacity[mechanism] > 0)
        if mechanism in (Mechanism.CONTRACT_PURCHASE, Mechanism.ECOMMERCE):
            for bit in range(len(INDUSTRIES)):
                houses = np.flatnonzero(households.industry_mask >> bit & 1)
                trade = enterprises.bought_mask if mechanism == Mechanism.CONTRACT_PURCHASE else enterprises.bought_mask | enterprises.industry_mask
                ents = offering[(trade[offering] >> bit & 1) == 1]
                parts.append(_nearest(households, houses, enterprises, ents, per_mechanism, rules.max_km(mechanism), m))
        elif mechanism == Mechanism.EQUITY and rules.equity_same_county:
            for county in np.unique(households.county_code):
                houses = np.flatnonzero(households.county_code == county)
                ents = offering[enterprises.county_code[offering] == county]
                parts.append(_nearest(households, houses, enterprises, ents, per_mechanism, rules.max_km(mechanism), m))
        else:
            parts.append(_nearest(households, all_households, enterprises, offering, per_mechanism,
                                  rules.max_km(mechanism), m))
    pairs = Pairs.concat(parts)
    if len(pairs):
        key = (pairs.household.astype(np.int64) * len(enterprises) + pairs.enterprise) * len(MECHANISMS) + pairs.mechanism
        _, first = np.unique(key, return_index=True)
        pairs = pairs.take(np.sort(first))
    return filter_eligible(pairs, households, enterprises, rules)


def filter_eligible(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Pairs:
    """Only the pairs that satisfy their mechanism's rules."""
    keep = np.zeros(len(pairs), dtype=bool)
    for m, mechanism in enumerate(MECHANISMS):
        chosen = pairs.mechanism == m
        keep[chosen] = eligible(rules, mechanism, households, enterprises, pairs.household[chosen],
                                pairs.enterprise[chosen], pairs.distance_km[chosen])
    return pairs.take(keep)
