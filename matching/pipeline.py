"""From inputs to a plan: candidates → scores → assignment → ranked recommendations with reasons."""
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matching.assign import assign
from matching.candidates import Pairs, candidate_pairs
from matching.exclusions import blocked_keys, leave_out
from matching.features import Enterprises, Households
from matching.metrics import ranks_within_household  # noqa: F401  (part of this module's interface)
from matching.reasons import county_match_levels, reason_texts
from matching.rules import MECHANISMS, EligibilityRules
from matching.scoring import BlendedScorer, pair_features
from matching.sides import expectation_texts


@dataclass
class Plan:
    """Recommendations (one row per recommended pair) and the run's figures."""

    recommendations: pd.DataFrame
    metrics: dict
    timings: dict = field(default_factory=dict)


@dataclass
class Scored:
    """Candidate pairs of a set of households with their scores (the part of a plan before the assignment)."""

    households: Households
    enterprises: Enterprises
    pairs: Pairs
    scores: np.ndarray
    timings: dict = field(default_factory=dict)


def score_candidates(households: Households, enterprises: Enterprises, rules: EligibilityRules, scorer: BlendedScorer,
                     per_mechanism: int = 8, blocked: np.ndarray | None = None) -> Scored:
    """Every eligible pair among the nearest enterprises, scored; the pairs of a household and an enterprise in
    `blocked` (matching.exclusions.blocked_keys; default: each household's open partners) left out."""
    timings = {}
    started = time.perf_counter()
    pairs = candidate_pairs(households, enterprises, rules, per_mechanism=per_mechanism)
    if blocked is None:
        blocked = blocked_keys(households, enterprises, households.open_partners)
    pairs = leave_out(pairs, blocked, len(enterprises))
    timings["candidates_s"] = time.perf_counter() - started
    started = time.perf_counter()
    scores = scorer.predict_pairs(pairs, households, enterprises, rules)
    timings["scoring_s"] = time.perf_counter() - started
    timings["pairs_per_s"] = len(pairs) / max(timings["scoring_s"], 1e-9)
    return Scored(households, enterprises, pairs, scores, timings)


def one_per_enterprise(pairs: Pairs, scores: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One pair per (household, enterprise): the assigned one, else the best scored (positions into pairs), and
    the other mechanisms of the same household and enterprise as codes joined by ',' (best first; '' for none)."""
    key = pairs.household.astype(np.int64) * (int(pairs.enterprise.max(initial=0)) + 1) + pairs.enterprise
    order = np.lexsort((-scores, ~chosen, key))
    first = np.r_[True, np.diff(key[order]) != 0] if len(order) else np.zeros(0, bool)
    shown = order[first]
    others = np.full(len(shown), "", dtype=object)
    if (~first).any():
        group = np.cumsum(first) - 1
        codes = pd.Series(np.array(MECHANISMS, dtype=object)[pairs.mechanism[order[~first]]])
        joined = codes.groupby(group[~first]).agg(",".join)
        others[joined.index.to_numpy()] = joined.to_numpy()
    return shown, others


def recommendation_rows(scored: Scored, chosen: np.ndarray, rules: EligibilityRules, scorer: BlendedScorer,
                        top_k: int) -> pd.DataFrame:
    """The recommendations to store: each household's top_k enterprises and every assigned pair, ranked, with
    reasons (one text per pair, a reason per line). An enterprise appears once per household, by its assigned or
    best mechanism; its other mechanisms are listed with it."""
    households, enterprises = scored.households, scored.enterprises
    shown, others = one_per_enterprise(scored.pairs, scored.scores, chosen)
    ranks = ranks_within_household(scored.pairs.household[shown], scored.scores[shown])
    kept_of_shown = np.flatnonzero((ranks <= top_k) | chosen[shown])  # an assigned pair is always shown
    keep = shown[kept_of_shown]
    kept = scored.pairs.take(keep)
    # Features only of the kept pairs: row-wise, so the same as the scored ones (matching.scoring).
    contributions = scorer.rule.contributions(pair_features(kept, households, enterprises, rules), kept.mechanism)
    reasons = reason_texts(kept, contributions, households, enterprises, rules)
    if scorer.sides is not None:  # the ranking weighs what the ledger expects: say what it expects
        expected = expectation_texts(scorer.sides, kept, households, enterprises)
        reasons = np.where(expected == "", reasons,
                           np.where(reasons == "", expected, reasons + "\n" + expected)).astype(object)
    return pd.DataFrame({
        "household_id": households.ids[kept.household],
        "county_code": households.county_code[kept.household],
        "credit_code": enterprises.ids[kept.enterprise],
        "mechanism": np.array(MECHANISMS)[kept.mechanism],
        "rank": ranks[kept_of_shown],
        # Rounded as float64: a float32 (a province's compact scores) would come out as 3.430000066757202.
        "score": np.round(scored.scores[keep].astype(np.float64), 4),
        "rule_score": np.round(contributions.sum(axis=1).astype(np.float64), 4),
        "distance_km": np.round(kept.distance_km.astype(np.float64), 2),
        "assigned": chosen[keep],
        "reasons": reasons,  # a reason per line
        # The score in words (高 / 中 / 低) against the county's scored pairs.
        "level": county_match_levels(households.county_code, scored.pairs.household, scored.scores, keep),
        "other_mechanisms": others[kept_of_shown],  # codes of the enterprise's other mechanisms
    }).sort_values(["household_id", "rank"], kind="stable").reset_index(drop=True)


def coverage_metrics(scored: Scored, chosen: np.ndarray, existing: np.ndarray) -> dict:
    """Households already covered by a partnership, and coverage counting them."""
    covered = np.zeros(len(scored.households), bool)
    covered[scored.pairs.household[chosen]] = True
    return {"already_covered": int((existing > 0).sum()),
            "coverage_with_existing": float((covered | (existing > 0)).mean()) if len(scored.households) else 0.0}


def make_plan(households: Households, enterprises: Enterprises, rules: EligibilityRules, scorer: BlendedScorer,
              *, top_k: int = 5, household_limit: int = 1, existing_partnerships: np.ndarray | None = None,
              per_mechanism: int = 8, blocked: np.ndarray | None = None) -> Plan:
    """Recommend up to top_k enterprises (each by its best mechanism) per household and choose one plan within
    capacity; pairs in `blocked` (default: open partners) are never recommended."""
    scored = score_candidates(households, enterprises, rules, scorer, per_mechanism, blocked)
    timings = dict(scored.timings)
    started = time.perf_counter()
    existing = np.zeros(len(households), np.int64) if existing_partnerships is None else existing_partnerships
    plan = assign(scored.pairs, scored.scores, households.planning_tier, enterprises.capacity,
                  household_limit=households.limits(household_limit, existing),
                  already_covered=(existing > 0) & ~households.follow_up)
    timings["assignment_s"] = time.perf_counter() - started
    started = time.perf_counter()
    recommendations = recommendation_rows(scored, plan.chosen, rules, scorer, top_k)
    timings["recommendations_s"] = time.perf_counter() - started
    return Plan(recommendations, {**plan.metrics, **coverage_metrics(scored, plan.chosen, existing)}, timings)
