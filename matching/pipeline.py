"""From inputs to a plan: candidates → scores → assignment → ranked recommendations with reasons."""
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matching.assign import assign
from matching.candidates import Pairs, candidate_pairs
from matching.features import Enterprises, Households
from matching.reasons import county_match_levels, reason_texts
from matching.rules import MECHANISMS, EligibilityRules
from matching.scoring import BlendedScorer, pair_features


@dataclass
class Plan:
    """Recommendations (one row per recommended pair) and the run's figures."""

    recommendations: pd.DataFrame
    metrics: dict
    timings: dict = field(default_factory=dict)


def ranks_within_household(household: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each pair's rank among its household's pairs (1 = best score), vectorised."""
    order = np.lexsort((-scores, household))
    sorted_households = household[order]
    group_start = np.r_[0, np.flatnonzero(np.diff(sorted_households)) + 1] if len(order) else np.zeros(0, int)
    group_sizes = np.diff(np.r_[group_start, len(order)])
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - np.repeat(group_start, group_sizes) + 1
    return ranks


@dataclass
class Scored:
    """Candidate pairs of a set of households with their scores (the part of a plan before the assignment)."""

    households: Households
    enterprises: Enterprises
    pairs: Pairs
    scores: np.ndarray
    timings: dict = field(default_factory=dict)


def score_candidates(households: Households, enterprises: Enterprises, rules: EligibilityRules, scorer: BlendedScorer,
                     per_mechanism: int = 8) -> Scored:
    """Every eligible pair among the nearest enterprises, scored."""
    timings = {}
    started = time.perf_counter()
    pairs = candidate_pairs(households, enterprises, rules, per_mechanism=per_mechanism)
    timings["candidates_s"] = time.perf_counter() - started
    started = time.perf_counter()
    scores = scorer.predict(pair_features(pairs, households, enterprises, rules), pairs.mechanism)
    timings["scoring_s"] = time.perf_counter() - started
    timings["pairs_per_s"] = len(pairs) / max(timings["scoring_s"], 1e-9)
    return Scored(households, enterprises, pairs, scores, timings)


def recommendation_rows(scored: Scored, chosen: np.ndarray, rules: EligibilityRules, scorer: BlendedScorer,
                        top_k: int) -> pd.DataFrame:
    """The recommendations to store: each household's top_k pairs and every assigned pair, ranked, with reasons
    (one text per pair, a reason per line)."""
    households, enterprises = scored.households, scored.enterprises
    ranks = ranks_within_household(scored.pairs.household, scored.scores)
    keep = np.flatnonzero((ranks <= top_k) | chosen)  # an assigned pair is always shown
    kept = scored.pairs.take(keep)
    # Features only of the kept pairs: row-wise, so the same as the scored ones (matching.scoring).
    contributions = scorer.rule.contributions(pair_features(kept, households, enterprises, rules), kept.mechanism)
    return pd.DataFrame({
        "household_id": households.ids[kept.household],
        "county_code": households.county_code[kept.household],
        "credit_code": enterprises.ids[kept.enterprise],
        "mechanism": np.array(MECHANISMS)[kept.mechanism],
        "rank": ranks[keep],
        # Rounded as float64: a float32 (a province's compact scores) would come out as 3.430000066757202.
        "score": np.round(scored.scores[keep].astype(np.float64), 4),
        "rule_score": np.round(contributions.sum(axis=1).astype(np.float64), 4),
        "distance_km": np.round(kept.distance_km.astype(np.float64), 2),
        "assigned": chosen[keep],
        "reasons": reason_texts(kept, contributions, households, enterprises, rules),  # a reason per line
        # The score in words (高 / 中 / 低) against the county's scored pairs.
        "level": county_match_levels(households.county_code, scored.pairs.household, scored.scores, keep),
        "other_mechanisms": np.full(len(keep), "", dtype=object),  # codes of the enterprise's other mechanisms
    }).sort_values(["household_id", "rank"], kind="stable").reset_index(drop=True)


def coverage_metrics(scored: Scored, chosen: np.ndarray, existing: np.ndarray) -> dict:
    """Households already covered by a partnership, and coverage counting them."""
    covered = np.zeros(len(scored.households), bool)
    covered[scored.pairs.household[chosen]] = True
    return {"already_covered": int((existing > 0).sum()),
            "coverage_with_existing": float((covered | (existing > 0)).mean()) if len(scored.households) else 0.0}


def make_plan(households: Households, enterprises: Enterprises, rules: EligibilityRules, scorer: BlendedScorer,
              *, top_k: int = 5, household_limit: int = 1, existing_partnerships: np.ndarray | None = None,
              per_mechanism: int = 8) -> Plan:
    """Recommend up to top_k enterprise–mechanism pairs per household and choose one plan within capacity."""
    scored = score_candidates(households, enterprises, rules, scorer, per_mechanism)
    timings = dict(scored.timings)
    started = time.perf_counter()
    existing = np.zeros(len(households), np.int64) if existing_partnerships is None else existing_partnerships
    plan = assign(scored.pairs, scored.scores, households.need_tier, enterprises.capacity,
                  household_limit=np.maximum(household_limit - existing, 0), already_covered=existing > 0)
    timings["assignment_s"] = time.perf_counter() - started
    started = time.perf_counter()
    recommendations = recommendation_rows(scored, plan.chosen, rules, scorer, top_k)
    timings["recommendations_s"] = time.perf_counter() - started
    return Plan(recommendations, {**plan.metrics, **coverage_metrics(scored, plan.chosen, existing)}, timings)
