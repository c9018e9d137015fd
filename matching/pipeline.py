"""From inputs to a plan: candidates → scores → assignment → ranked recommendations with reasons."""
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matching.assign import assign
from matching.candidates import candidate_pairs
from matching.features import Enterprises, Households
from matching.reasons import reasons
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


def make_plan(households: Households, enterprises: Enterprises, rules: EligibilityRules, scorer: BlendedScorer,
              *, top_k: int = 5, household_limit: int = 1, existing_partnerships: np.ndarray | None = None,
              per_mechanism: int = 8) -> Plan:
    """Recommend up to top_k enterprise–mechanism pairs per household and choose one plan within capacity."""
    timings = {}
    started = time.perf_counter()
    pairs = candidate_pairs(households, enterprises, rules, per_mechanism=per_mechanism)
    timings["candidates_s"] = time.perf_counter() - started

    started = time.perf_counter()
    features = pair_features(pairs, households, enterprises, rules)
    scores = scorer.predict(features, pairs.mechanism)
    timings["scoring_s"] = time.perf_counter() - started
    timings["pairs_per_s"] = len(pairs) / max(timings["scoring_s"], 1e-9)

    started = time.perf_counter()
    existing = np.zeros(len(households), np.int64) if existing_partnerships is None else existing_partnerships
    plan = assign(pairs, scores, households.need_tier, enterprises.capacity,
                  household_limit=np.maximum(household_limit - existing, 0), already_covered=existing > 0)
    timings["assignment_s"] = time.perf_counter() - started

    started = time.perf_counter()
    ranks = ranks_within_household(pairs.household, scores)
    keep = np.flatnonzero((ranks <= top_k) | plan.chosen)  # an assigned pair is always shown
    chosen_pairs = pairs.take(keep)
    contributions = scorer.rule.contributions(features[keep], chosen_pairs.mechanism)
    texts = reasons(chosen_pairs, contributions, households, enterprises)
    recommendations = pd.DataFrame({
        "household_id": households.ids[chosen_pairs.household],
        "county_code": households.county_code[chosen_pairs.household],
        "credit_code": enterprises.ids[chosen_pairs.enterprise],
        "mechanism": np.array(MECHANISMS)[chosen_pairs.mechanism],
        "rank": ranks[keep],
        "score": np.round(scores[keep], 4),
        "rule_score": np.round(contributions.sum(axis=1), 4),
        "distance_km": np.round(chosen_pairs.distance_km, 2),
        "assigned": plan.chosen[keep],
        "reasons": texts,
    }).sort_values(["household_id", "rank"], kind="stable").reset_index(drop=True)
    timings["recommendations_s"] = time.perf_counter() - started
    metrics = dict(plan.metrics)
    metrics["already_covered"] = int((existing > 0).sum())
    covered = np.zeros(len(households), bool)
    covered[pairs.household[plan.chosen]] = True
    metrics["coverage_with_existing"] = float((covered | (existing > 0)).mean()) if len(households) else 0.0
    return Plan(recommendations, metrics, timings)


