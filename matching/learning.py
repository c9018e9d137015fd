"""What the recommender learns from a county's history, and how it is fitted without looking ahead.

The learned model predicts which eligible pairs become partnerships next. It is fitted the way it is used:
features from the partnerships up to a moment in time, labels from the ones formed after it, and pairs that
were already partners excluded (a run never recommends them). The history is cut by start date into windows:
the model learns on one window, the blend weight with the rule score is chosen on the next (later) one, and
the final model learns on both. Too little history, and the rules alone rank (the fit says why).
"""
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matching.candidates import Pairs, candidate_pairs
from matching.features import Enterprises, Households
from matching.metrics import ranking_figures
from matching.rules import MECHANISMS, EligibilityRules
from matching.scoring import (FEATURES, BlendedScorer, LearnedScorer, RuleScorer, blend, blend_reference,
                              learning_features)
from matching.sides import SideModel

MIN_PARTNERSHIPS = 200  # below this a county's history says too little to learn from
MIN_WINDOW_POSITIVES = 30  # partnerships found among the candidates of each window
ALPHAS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)  # rule-score weights tried on the validation window
BETAS = (0.0, 0.25, 0.5, 1.0)  # benefit exponents tried (matching/sides.py)
# The benefit counts as much as it can while the ranking still finds the partnerships that formed: the largest
# exponent whose validation recall is within this share of the best.
BENEFIT_TOLERANCE = 0.05
WINDOW_CUTS = (0.6, 0.8)  # learn on (0.6, 0.8], validate on (0.8, 1]
MAX_TRAINING_HOUSEHOLDS = 60_000  # a province's history is sampled to this many households per window


def pair_keys(pairs: Pairs, n_enterprises: int) -> np.ndarray:
    """One int64 per (household, enterprise, mechanism) pair."""
    return (pairs.household.astype(np.int64) * n_enterprises + pairs.enterprise) * len(MECHANISMS) + pairs.mechanism


def partnership_keys(partnerships: pd.DataFrame, households: Households, enterprises: Enterprises,
                     with_mechanism: bool = True) -> np.ndarray:
    """The keys (as pair_keys; without the mechanism: household × enterprises + enterprise) of the partnerships
    between these households and enterprises."""
    h_index = pd.Series(np.arange(len(households)), index=households.ids)
    e_index = pd.Series(np.arange(len(enterprises)), index=enterprises.ids)
    known = partnerships[partnerships["household_id"].isin(h_index.index) & partnerships["credit_code"].isin(e_index.index)]
    base = h_index[known["household_id"]].to_numpy().astype(np.int64) * len(enterprises) \
        + e_index[known["credit_code"]].to_numpy()
    if not with_mechanism:
        return base
    mechanism = known["mechanism"].map({code: position for position, code in enumerate(MECHANISMS)})
    valid = mechanism.notna().to_numpy()
    return base[valid] * len(MECHANISMS) + mechanism.to_numpy()[valid].astype(np.int64)


def earlier_partners(pairs: Pairs, households: Households, enterprises: Enterprises,
                     partnerships: pd.DataFrame) -> np.ndarray:
    """True where the pair's household and enterprise are partners in `partnerships` (by any mechanism)."""
    earlier = partnership_keys(partnerships, households, enterprises, with_mechanism=False)
    return np.isin(pairs.household.astype(np.int64) * len(enterprises) + pairs.enterprise, earlier)


def by_start_date(partnerships: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Partnerships oldest first (undated ones first, in a seeded random order: they are the oldest records)."""
    rng = np.random.default_rng(seed)
    order = partnerships.assign(_tie=rng.random(len(partnerships)))
    return order.sort_values(["start_date", "_tie"], na_position="first", kind="stable").drop(columns="_tie")


@dataclass
class Window:
    """Candidate pairs as they stood at a moment, their features, and which became partnerships after it."""

    pairs: Pairs
    features: np.ndarray
    labels: np.ndarray
    households: int
    state: Enterprises | None = None  # the enterprises as of the window's moment


def history_window(households: Households, enterprises: Enterprises, rules: EligibilityRules, before: pd.DataFrame,
                   after: pd.DataFrame, per_mechanism: int = 8, leave_out_partners: bool = True) -> Window:
    """The eligible pairs as of `before`, labelled 1 where `after` formed them; pairs of an enterprise and a
    household already partnered in `before` are left out (as a run leaves out the pairs in force)."""
    state = enterprises.as_of(before, households)
    pairs = candidate_pairs(households, state, rules, per_mechanism=per_mechanism)
    if leave_out_partners:
        pairs = pairs.take(~earlier_partners(pairs, households, state, before))
    labels = np.isin(pair_keys(pairs, len(state)), partnership_keys(after, households, state)).astype(np.int8)
    return Window(pairs, learning_features(pairs, households, state, rules), labels, len(households), state)


def sampled_households(households: Households, limit: int, seed: int) -> Households:
    """At most `limit` households (a seeded sample), for fitting on a province's history."""
    if len(households) <= limit:
        return households
    chosen = np.sort(np.random.default_rng(seed).choice(len(households), limit, replace=False))
    return Households(households.frame.iloc[chosen].reset_index(drop=True))


@dataclass
class Fit:
    """The outcome of fitting on a history: the model (None: rules alone), its blend weight and the evidence."""

    learned: LearnedScorer | None
    alpha: float
    reference: float  # the learned probability that counts as an even chance (see scoring.BlendedScorer)
    report: dict = field(default_factory=dict)
    sides: SideModel | None = None

    def scorer(self) -> BlendedScorer:
        """The scorer this fit makes."""
        return BlendedScorer(learned=self.learned, alpha=self.alpha, reference=self.reference, sides=self.sides)

    @property
    def uses_model(self) -> bool:
        return self.learned is not None and self.alpha < 1.0


def _rules_only(reason: str, **figures) -> Fit:
    return Fit(None, 1.0, 0.0, {"uses_model": False, "reason": reason, **figures})


def validation_figures(window: Window, scores: np.ndarray) -> dict:
    """recall@5, recall@10 and NDCG@5 of the scores on a window."""
    return ranking_figures(window.pairs, scores, window.labels, window.households)

def decided_before(decisions: pd.DataFrame | None, moment) -> pd.DataFrame | None:
    """The decisions taken before a moment (a start date; None: all of them)."""
    if decisions is None or not len(decisions) or moment is None or pd.isna(moment):
        return decisions
    return decisions[decisions["decided_at"].astype(str) < str(moment)]


def fit_sides(households: Households, partnerships: pd.DataFrame, decisions: pd.DataFrame | None,
              beta: float = 0.0) -> SideModel:
    """The side model (matching/sides.py) of a history."""
    sides = SideModel.fit(partnerships, decisions, pd.Series(households.land_mu, index=households.ids))
    sides.beta = beta
    return sides


def fit_history(households: Households, enterprises: Enterprises, partnerships: pd.DataFrame,
                rules: EligibilityRules, *, decisions: pd.DataFrame | None = None, seed: int = 0,
                per_mechanism: int = 8, max_households: int = MAX_TRAINING_HOUSEHOLDS,
                progress=lambda message: None) -> Fit:
    """Fit the learned scorer, choose its blend weight and the benefit's exponent on the history (see the module),
    and fit both sides' rates (matching/sides.py) on the whole history and `decisions`."""
    dated = by_start_date(partnerships, seed)
    if len(dated) < MIN_PARTNERSHIPS:
        return _rules_only(f"历史联结 {len(dated)} 条，少于 {MIN_PARTNERSHIPS} 条，仅用规则评分 / too little history",
                           partnerships=len(dated))
    sample = sampled_households(households, max_households, seed)
    cuts = [int(round(len(dated) * share)) for share in WINDOW_CUTS]
    progress("构建训练窗口 / building the training windows")
    learn = history_window(sample, enterprises, rules, dated.iloc[:cuts[0]], dated.iloc[cuts[0]:cuts[1]], per_mechanism)
    check = history_window(sample, enterprises, rules, dated.iloc[:cuts[1]], dated.iloc[cuts[1]:], per_mechanism)
    positives = (int(learn.labels.sum()), int(check.labels.sum()))
    if min(positives) < MIN_WINDOW_POSITIVES:
        return _rules_only(f"训练窗口中可用的联结过少（{positives[0]} / {positives[1]}），仅用规则评分 / too few",
                           partnerships=len(dated), window_positives=list(positives))
    progress(f"训练 / fitting on {len(learn.labels):,} pairs ({positives[0]:,} formed)")
    learned = LearnedScorer(random_state=seed).fit(learn.features, learn.labels, learn.pairs.mechanism)
    reference = 1.0  # ranks within a household do not depend on it
    rule = RuleScorer().fit()
    rule_scores = rule.predict(check.features[:, :len(FEATURES)], check.pairs.mechanism)
    probabilities = learned.predict(check.features, check.pairs.mechanism)
    tried = {}
    for alpha in ALPHAS:
        figures = validation_figures(check, blend(rule_scores, probabilities, alpha, reference))
        tried[alpha] = figures
    best = max(ALPHAS, key=lambda alpha: (tried[alpha]["recall@5"] + tried[alpha]["recall@10"], alpha))
    progress(f"融合权重 / blend weight {best}: {tried[best]}")
    # The benefit's exponent, with the rates as they stood before the validation window.
    moment = dated.iloc[cuts[1]]["start_date"] if cuts[1] < len(dated) else None
    sides = fit_sides(sample, dated.iloc[:cuts[1]], decided_before(decisions, moment))
    factors = sides.factors(check.pairs, sample, check.state)
    by_beta = {}
    for beta in BETAS:
        sides.beta = beta
        by_beta[beta] = validation_figures(check, blend(rule_scores, probabilities, best, reference, sides.weight(factors)))
    top = max(figures["recall@5"] + figures["recall@10"] for figures in by_beta.values())
    beta = max(b for b in BETAS if by_beta[b]["recall@5"] + by_beta[b]["recall@10"] >= (1 - BENEFIT_TOLERANCE) * top)
    progress(f"增收权重 / benefit exponent {beta}: {by_beta[beta]}")
    both = (np.concatenate([learn.features, check.features]), np.concatenate([learn.labels, check.labels]),
            np.concatenate([learn.pairs.mechanism, check.pairs.mechanism]))
    final = LearnedScorer(random_state=seed).fit(*both)
    reference = blend_reference(rule.predict(both[0][:, :len(FEATURES)], both[2]), final.predict(both[0], both[2]), best)
    report = {"uses_model": best < 1.0, "partnerships": len(dated), "households_sampled": len(sample),
              "window_pairs": [len(learn.labels), len(check.labels)], "window_positives": list(positives),
              "alpha": best, "validation": {str(alpha): figures for alpha, figures in tried.items()},
              "beta": beta, "validation_beta": {str(b): figures for b, figures in by_beta.items()},
              "decisions": 0 if decisions is None else len(decisions),
              "reason": (f"按时间验证选定融合权重 {best}（规则评分占比）/ blend weight chosen on the latest window"
                         if best < 1.0 else "验证窗口上规则评分最好，仅用规则评分 / rules ranked best on validation")}
    return Fit(final, best, reference, report, fit_sides(households, dated, decisions, beta))
