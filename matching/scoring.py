"""Explainable scores for candidate pairs, in scikit-learn's estimator style.

`pair_features` turns pairs into a feature matrix (vectorised, no per-pair loop);
`RuleScorer` is a weighted sum per mechanism whose terms are the explanation;
`LearnedScorer` is a classifier trained on past partnerships; `BlendedScorer` mixes them.
Scorers only rank pairs the rules already allow; none of them can add a pair.
"""
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score

from matching.candidates import Pairs
from matching.features import Enterprises, Households
from core.codes import EnterpriseType, Mechanism
from core.mechanisms import position
from matching.rules import MECHANISMS, EligibilityRules
from matching.sides import SideModel

EMPLOYMENT, CONTRACT, LAND, EQUITY = (position(m) for m in (Mechanism.EMPLOYMENT, Mechanism.CONTRACT_PURCHASE,
                                                           Mechanism.LAND_LEASE, Mechanism.EQUITY))

FEATURES = ("proximity", "industry_fit", "labour_fit", "land_fit", "need", "equity_fit", "village_link", "cooperative",
            "track_record", "project_link")
# What a learned model weighs besides the rule features (matching/learning.py fits it).
LEARNED_FEATURES = FEATURES + (
    "distance_km", "distance_share", "distance_rank", "candidates_of_mechanism", "enterprise_history",
    "enterprise_history_share", "enterprise_fill", "enterprise_places", "labour", "weak", "land_mu", "need_tier")


# Weight of each feature (columns, in FEATURES order) for each mechanism (rows, in MECHANISMS order).
DEFAULT_WEIGHTS = np.array([
    # prox  industry labour land need equity village coop record project
    [3.0, 0.5, 3.0, 0.0, 1.0, 0.0, 1.0, 0.3, 1.0, 0.5],  # 01 就业务工
    [2.0, 3.0, 1.0, 2.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0],  # 02 订单收购
    [3.0, 0.5, 0.0, 3.0, 1.0, 0.0, 1.0, 0.3, 1.0, 1.0],  # 03 土地流转
    [0.5, 0.5, 0.0, 0.0, 2.0, 3.0, 1.0, 0.3, 1.0, 1.0],  # 04 入股分红
    [1.0, 3.0, 0.5, 0.5, 1.0, 0.0, 1.0, 0.5, 1.0, 0.5],  # 05 电商销售
])


def pair_features(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> np.ndarray:
    """The feature matrix (pairs × FEATURES), every value in [0, 1]."""
    h, e, m, d = pairs.household, pairs.enterprise, pairs.mechanism, pairs.distance_km
    scale = np.array([rules.max_km(mech) / 2 if mech != Mechanism.EQUITY else 50.0 for mech in MECHANISMS])[m]
    labour = households.ordinary[h] + households.skilled[h]
    land = households.land_mu[h]
    trade = enterprises.industry_mask[e] | enterprises.bought_mask[e]
    no_labour = (labour + households.weak[h]) == 0
    village_link = _village_link(households, enterprises, h, e)
    x = np.zeros((len(h), len(FEATURES)))
    x[:, 0] = np.exp(-d / scale)
    x[:, 1] = (households.industry_mask[h] & trade) != 0
    x[:, 2] = np.where(m == EMPLOYMENT, np.where(labour > 0, np.minimum(labour, 2) / 2, 0.5),
                       np.where(m == CONTRACT, np.minimum(labour + households.weak[h], 2) / 2, 0.0))
    x[:, 3] = np.where(m == LAND, np.minimum(land / 5.0, 1.0), np.where(m == CONTRACT, np.minimum(land / 3.0, 1.0), 0.0))
    x[:, 4] = households.need_tier[h] / 2.0
    x[:, 5] = np.where(m == EQUITY, (no_labour | (land < rules.min_land_mu) | households.need_cause[h]).astype(float), 0.0)
    x[:, 6] = village_link
    x[:, 7] = households.in_cooperative[h] & (enterprises.enterprise_type[e] == EnterpriseType.COOPERATIVE)
    # Track record: partnerships the enterprise already keeps, relative to the busiest one of its table.
    record_scale = enterprises.record_scale
    x[:, 8] = np.log1p(enterprises.partner_count[e]) / record_scale if record_scale > 0 else 0.0
    x[:, 9] = _project_link(households, enterprises, h, e)
    return x


def _project_link(households: Households, enterprises: Enterprises, h: np.ndarray, e: np.ndarray) -> np.ndarray:
    """True where the enterprise implements an industry project in the household's county, in its industry."""
    counties, county_of_household = np.unique(households.county_code.astype(str), return_inverse=True)
    index = {code: position for position, code in enumerate(counties)}
    keys = np.array([j * len(counties) + index[c] for j, linked in enumerate(enterprises.project_counties)
                     for c in linked if c in index], dtype=np.int64)
    in_county = np.isin(e.astype(np.int64) * len(counties) + county_of_household[h], keys)
    return in_county & ((households.industry_mask[h] & enterprises.project_mask[e]) != 0)


def _village_link(households: Households, enterprises: Enterprises, h: np.ndarray, e: np.ndarray) -> np.ndarray:
    """True where the enterprise already has partners in the household's village (vectorised via int keys)."""
    villages, village_of_household = np.unique(households.village_code.astype(str), return_inverse=True)
    index = {code: position for position, code in enumerate(villages)}
    partner_keys = np.array([j * len(villages) + index[v] for j, linked in enumerate(enterprises.partner_villages)
                             for v in linked if v in index], dtype=np.int64)
    return np.isin(e.astype(np.int64) * len(villages) + village_of_household[h], partner_keys)


def _within_household_order(household: np.ndarray, mechanism: np.ndarray, distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pair's distance rank among its household's pairs of the same mechanism (1 = nearest) and their count."""
    order = np.lexsort((distance, mechanism, household))
    group = household[order].astype(np.int64) * len(MECHANISMS) + mechanism[order]
    starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1] if len(order) else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(order)])
    rank, count = np.empty(len(order), np.int64), np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order)) - np.repeat(starts, sizes) + 1
    count[order] = np.repeat(sizes, sizes)
    return rank, count


def learning_features(pairs: Pairs, households: Households, enterprises: Enterprises,
                      rules: EligibilityRules) -> np.ndarray:
    """The rule features (matching.scoring) and what else the history can weigh (pairs × LEARNED_FEATURES)."""
    h, e, m = pairs.household, pairs.enterprise, pairs.mechanism.astype(np.int64)
    d = pairs.distance_km.astype(float)
    limit = np.array([rules.max_km(mechanism) if rules.max_km(mechanism) < 1e8 else 100.0 for mechanism in MECHANISMS])
    rank, count = _within_household_order(h, m, d)
    places = np.column_stack([enterprises.total_capacity[mechanism] for mechanism in MECHANISMS])[e, m]
    history = enterprises.history[e, m]
    history_total = enterprises.history.sum(axis=1)[e]
    extra = np.column_stack([
        d, d / limit[m], np.minimum(rank, 20), np.minimum(count, 20), np.log1p(history),
        history / np.maximum(history_total, 1), history / np.maximum(places, 1), np.log1p(places),
        households.ordinary[h] + households.skilled[h], households.weak[h], np.minimum(households.land_mu[h], 50),
        households.need_tier[h]])
    return np.column_stack([pair_features(pairs, households, enterprises, rules), extra])


def blend(rule_scores: np.ndarray, probabilities: np.ndarray, alpha: float, reference: float,
          factor: np.ndarray | float = 1.0) -> np.ndarray:
    """probability^(1 − alpha) × rule score^alpha × factor, on a [0, 1) scale where `reference` is 0.5.

    A weighted geometric mean: multiplicative like the side factors (acceptance, lasting, benefit) it is
    combined with, and blind to the scale of either part; the squashing keeps order, so only the assignment
    across households sees `reference`."""
    raw = np.exp((1 - alpha) * np.log(np.maximum(probabilities, 1e-9)) + alpha * np.log(np.maximum(rule_scores, 1e-9)))
    raw = raw * factor
    return raw / (raw + max(reference, 1e-12))


def blend_reference(rule_scores: np.ndarray, probabilities: np.ndarray, alpha: float) -> float:
    """The median unsquashed blend of some pairs: the value `blend` maps to 0.5."""
    return float(np.median(np.exp((1 - alpha) * np.log(np.maximum(probabilities, 1e-9))
                                  + alpha * np.log(np.maximum(rule_scores, 1e-9)))))


class RuleScorer(BaseEstimator):
    """Score = Σ weight × feature / Σ weight, per mechanism. `fit` only checks the weights."""

    def __init__(self, weights: np.ndarray | None = None):
        self.weights = weights

    def fit(self, X=None, y=None, mechanisms=None):
        """Validate the weights (nothing is learned)."""
        weights = DEFAULT_WEIGHTS if self.weights is None else np.asarray(self.weights, dtype=float)
        if weights.shape != (len(MECHANISMS), len(FEATURES)) or (weights < 0).any():
            raise ValueError("weights must be non-negative, mechanisms × features")
        self.weights_ = weights / weights.sum(axis=1, keepdims=True)
        return self

    def contributions(self, X: np.ndarray, mechanisms: np.ndarray) -> np.ndarray:
        """Each feature's share of each pair's score (pairs × FEATURES); rows sum to the score."""
        return X * self.weights_[mechanisms]

    def predict(self, X: np.ndarray, mechanisms: np.ndarray) -> np.ndarray:
        """Scores in [0, 1]."""
        return self.contributions(X, mechanisms).sum(axis=1)

    def score(self, X: np.ndarray, y: np.ndarray, mechanisms: np.ndarray) -> float:
        """Average precision of the scores against observed partnerships (y = 1)."""
        return float(average_precision_score(y, self.predict(X, mechanisms)))


def _with_mechanism(X: np.ndarray, mechanisms: np.ndarray) -> np.ndarray:
    """Features plus a one-hot mechanism, so the classifier learns per-mechanism effects."""
    return np.column_stack([X, np.eye(len(MECHANISMS))[mechanisms]])


class LearnedScorer(BaseEstimator):
    """A gradient-boosted classifier of 'became a partnership', on the same features plus the mechanism."""

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.1, random_state: int = 0):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, mechanisms: np.ndarray):
        """Train on candidate pairs labelled 1 where a partnership was formed."""
        self.model_ = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                                     random_state=self.random_state)
        self.model_.fit(_with_mechanism(X, mechanisms), y)
        return self

    def predict(self, X: np.ndarray, mechanisms: np.ndarray) -> np.ndarray:
        """Probability that the pair becomes a partnership."""
        return self.model_.predict_proba(_with_mechanism(X, mechanisms))[:, 1]

    def score(self, X: np.ndarray, y: np.ndarray, mechanisms: np.ndarray) -> float:
        """Average precision against observed partnerships."""
        return float(average_precision_score(y, self.predict(X, mechanisms)))


@dataclass
class BlendedScorer:
    """alpha × rule score + (1 − alpha) × the learned probability (scaled, see `blend`); alpha = 1: rules alone.
    With `sides` (matching/sides.py), the blend is weighted by the enterprise's acceptance, the lasting of the
    partnership and its benefit: the expected realised benefit.

    The learned model reads LEARNED_FEATURES (`learning_features`), so scoring takes the pairs with their
    households and enterprises, not only the rule features."""

    rule: RuleScorer = field(default_factory=lambda: RuleScorer().fit())
    learned: LearnedScorer | None = None
    alpha: float = 1.0
    reference: float = 0.05
    sides: "SideModel | None" = None

    @property
    def uses_model(self) -> bool:
        return self.learned is not None and self.alpha < 1

    def predict(self, X: np.ndarray, mechanisms: np.ndarray) -> np.ndarray:
        """The blend from a feature matrix: FEATURES columns (rules alone) or LEARNED_FEATURES (with the model)."""
        rule_scores = self.rule.predict(X[:, :len(FEATURES)], mechanisms)
        if not self.uses_model:
            return rule_scores
        return blend(rule_scores, self.learned.predict(X, mechanisms), self.alpha, self.reference)

    def features(self, pairs: Pairs, households: Households, enterprises: Enterprises,
                 rules: EligibilityRules) -> np.ndarray:
        """The feature matrix this scorer reads."""
        if self.uses_model:
            return learning_features(pairs, households, enterprises, rules)
        return pair_features(pairs, households, enterprises, rules)

    def predict_pairs(self, pairs: Pairs, households: Households, enterprises: Enterprises,
                      rules: EligibilityRules, features: np.ndarray | None = None) -> np.ndarray:
        """Scores in [0, 1] of the pairs (`features`: this scorer's features of them, when already computed)."""
        features = self.features(pairs, households, enterprises, rules) if features is None else features
        factor = 1.0
        if self.sides is not None:
            factor = self.sides.weight(self.sides.factors(pairs, households, enterprises))
        rule_scores = self.rule.predict(features[:, :len(FEATURES)], pairs.mechanism)
        if not self.uses_model:
            return rule_scores * factor
        return blend(rule_scores, self.learned.predict(features, pairs.mechanism), self.alpha, self.reference, factor)
