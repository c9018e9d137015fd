"""Candidate pairs (household, enterprise, mechanism) by spatial search, filtered by the rules.

Employment, land lease and equity search the nearest enterprises offering the mechanism;
contract purchase and e-commerce search, per industry, the nearest enterprises that buy
or sell it. Distances are great-circle: points on the unit sphere in a k-d tree (scipy cKDTree), whose
straight-line (chord) distance orders neighbours as the great-circle distance does and bounds the search at the
rule's range (measured at 1,000,000 households: 6–9× faster than a haversine BallTree, the same pairs).
"""
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

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


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere (x, y, z)."""
    lat, lon = np.radians(lat), np.radians(lon)
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def _chord(km: float) -> float:
    """The straight-line distance on the unit sphere of a great-circle distance."""
    return 2 * np.sin(min(km, np.pi * EARTH_RADIUS_KM) / (2 * EARTH_RADIUS_KM))


def _great_circle_km(chord: np.ndarray) -> np.ndarray:
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2, 0, 1))


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
    tree = cKDTree(_unit_vectors(enterprises.lat[ent_idx], enterprises.lon[ent_idx]))
    k = min(k, len(ent_idx))
    # Slightly beyond the range: the exact test is on the great-circle distance below.
    chord, neighbour = tree.query(_unit_vectors(households.lat[house_idx], households.lon[house_idx]), k=k,
                                  distance_upper_bound=_chord(max_km) * (1 + 1e-9) + 1e-12)
    chord, neighbour = chord.reshape(-1), neighbour.reshape(-1)
    found = np.isfinite(chord)
    distance_km = _great_circle_km(chord[found])
    keep = distance_km <= max_km
    return Pairs(np.repeat(house_idx, k)[found][keep], ent_idx[neighbour[found]][keep],
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
