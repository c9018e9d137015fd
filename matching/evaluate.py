"""Offline evaluation: hold out the latest partnerships, rank the candidates as of the cut, compare methods.

Command line: `flask --app wsgi match evaluate [--county CODE ...] [--test-share 0.2] [--seed 0]` (cli/).

The default run's ranking (the model fitted on the history before the cut, matching/learning.py, blended with
the rules at the weight it chose) against the rules alone, the nearest eligible enterprise and a random one,
all leaving out pairs already partnered as a run does; and today's former default (the rules, recommending
earlier partners too). Per method: recall@5, recall@10, NDCG@5, the share of top-5 slots on pairs already
partnered (must be 0) and of rule-breaking recommendations (must be 0); overall and per county.
"""
import json

import numpy as np
import pandas as pd

from matching.candidates import filter_eligible
from matching.features import Enterprises, Households
from matching.learning import (by_start_date, decided_before, earlier_partners, fit_history, history_window,
                               sampled_households)
from matching.metrics import ranking_figures, ranks_within_household
from matching.rules import EligibilityRules
from matching.scoring import FEATURES, BlendedScorer

DEFAULT = "default run (model + rules)"
RULES = "rules only"
FORMER = "former default (rules, partners not left out)"
NEAREST = "baseline: nearest eligible"
RANDOM = "baseline: random eligible"
EVALUATION_HOUSEHOLDS = 150_000  # a province's evaluation runs on a sample of this many households
COLUMNS = ("households_evaluated", "recall@5", "recall@10", "ndcg@5", "slots_on_partners", "rule_breaking_share")


def split_partnerships(partnerships: pd.DataFrame, test_share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest `test_share` of partnerships (by start date; undated ones count as the oldest) are held out."""
    dated = by_start_date(partnerships, seed)
    cut = int(round(len(dated) * (1 - test_share)))
    return dated.iloc[:cut], dated.iloc[cut:]


def _figures(window, scores: np.ndarray, partnered: np.ndarray, leave_out: bool, households: Households,
             rules: EligibilityRules, subset: np.ndarray | None = None) -> dict:
    """The figures of one method on the window (on the households in `subset` when given)."""
    pairs, labels = window.pairs, window.labels
    keep = ~partnered if leave_out else np.ones(len(pairs), bool)
    if subset is not None:
        keep &= subset[pairs.household]
    chosen = np.flatnonzero(keep)
    figures = ranking_figures(pairs.take(chosen), scores[chosen], labels[chosen], window.households)
    top = chosen[ranks_within_household(pairs.household[chosen], scores[chosen]) <= 5]
    figures["slots_on_partners"] = float(partnered[top].mean()) if len(top) else 0.0
    figures["rule_breaking_share"] = 1 - len(filter_eligible(pairs.take(top), households, window.state, rules)) / max(len(top), 1)
    return figures


def evaluate(households: Households, enterprises: Enterprises, partnerships: pd.DataFrame, rules: EligibilityRules,
             *, decisions: pd.DataFrame | None = None, test_share: float = 0.2, seed: int = 0, per_mechanism: int = 8,
             by_county: bool = True, max_households: int = EVALUATION_HOUSEHOLDS) -> dict:
    """Evaluation figures per method (see the module), with `_split` (sizes) and `_fit` (what the default learned:
    everything before the cut, decisions included). More than `max_households` households are sampled (seeded),
    so that a province is evaluated in bounded memory."""
    households = sampled_households(households, max_households, seed)
    partnerships = partnerships[partnerships["household_id"].isin(set(households.ids))]
    train_set, test_set = split_partnerships(partnerships, test_share, seed)
    moment = test_set.iloc[0]["start_date"] if len(test_set) else None
    fit = fit_history(households, enterprises, train_set, rules, decisions=decided_before(decisions, moment), seed=seed,
                      per_mechanism=per_mechanism)
    window = history_window(households, enterprises, rules, train_set, test_set, per_mechanism, leave_out_partners=False)
    partnered = earlier_partners(window.pairs, households, window.state, train_set)
    default = fit.scorer()
    default_features = window.features if default.uses_model else window.features[:, :len(FEATURES)]
    rule_scores = BlendedScorer().predict(window.features[:, :len(FEATURES)], window.pairs.mechanism)
    methods = {
        DEFAULT: (default.predict_pairs(window.pairs, households, window.state, rules, default_features), True),
        RULES: (rule_scores, True),
        FORMER: (rule_scores, False),
        NEAREST: (-window.pairs.distance_km, True),
        RANDOM: (np.random.default_rng(seed).random(len(window.pairs)), True),
    }
    results = {name: _figures(window, scores, partnered, leave_out, households, rules)
               for name, (scores, leave_out) in methods.items()}
    if by_county:
        results["_by_county"] = {
            str(county): {name: _figures(window, scores, partnered, leave_out, households, rules,
                                         households.county_code == county)
                          for name, (scores, leave_out) in methods.items()}
            for county in np.unique(households.county_code)}
    results["_split"] = {"train_partnerships": int(len(train_set)), "test_partnerships": int(len(test_set)),
                         "test_found_among_candidates": int(window.labels.sum()), "candidate_pairs": int(len(window.pairs))}
    results["_fit"] = {key: value for key, value in fit.report.items() if key != "validation"}
    return results


def relative_gain(results: dict, metric: str, method: str = DEFAULT, baseline: str = RULES) -> float:
    """How much better `method` is than `baseline` on `metric`, relative (0.1 = 10 % better)."""
    base = results[baseline][metric]
    return results[method][metric] / base - 1 if base else 0.0


def format_results(results: dict) -> str:
    """A printable table of the evaluation (overall, then per county when there are several)."""
    def table(figures_by_method: dict) -> list[str]:
        lines = [f"{'method':<48}" + "".join(f"{c:>22}" for c in COLUMNS)]
        for name, figures in figures_by_method.items():
            if not name.startswith("_"):
                lines.append(f"{name:<48}" + "".join(
                    f"{figures[c]:>22.4f}" if isinstance(figures[c], float) else f"{figures[c]:>22}" for c in COLUMNS))
        return lines

    lines = table(results)
    lines.append(f"default vs rules only: recall@5 {relative_gain(results, 'recall@5'):+.1%}, "
                 f"recall@10 {relative_gain(results, 'recall@10'):+.1%}, ndcg@5 {relative_gain(results, 'ndcg@5'):+.1%}")
    counties = results.get("_by_county", {})
    if len(counties) > 1:
        for county, figures in counties.items():
            lines += [f"county {county}", *table(figures)]
    lines.append(json.dumps(results["_split"], ensure_ascii=False))
    lines.append(json.dumps(results["_fit"], ensure_ascii=False))
    return "\n".join(lines)


def load_inputs(driver, settings, counties: list[str], rules: EligibilityRules):
    """Households of the counties, enterprises in range, the counties' partnerships and decisions, from the graph."""
    from graph import matching as queries
    from matching.run import neighbour_counties

    radius = rules.search_radius_km()
    households = Households.from_records(queries.county_households(driver, counties, settings.neo4j_database))
    enterprises = Enterprises.from_records(
        queries.county_enterprises(driver, neighbour_counties(counties, radius), settings.neo4j_database), rules)
    partnerships = pd.DataFrame(queries.partnerships(driver, counties, settings.neo4j_database),
                                columns=list(queries.PARTNERSHIP_COLUMNS))
    decisions = pd.DataFrame(queries.decisions(driver, counties, settings.neo4j_database),
                             columns=list(queries.DECISION_COLUMNS))
    return households, enterprises, partnerships, decisions


def evaluate_graph(driver, settings, counties: list[str] | None = None, *, test_share: float = 0.2,
                   seed: int = 0) -> dict:
    """`evaluate` on the graph's counties (default: every county with households).

    The result also holds `_inputs`: how many households, enterprises and partnerships were read."""
    from graph import matching as queries

    rules = EligibilityRules()
    counties = counties or [row["code"] for row in queries.counties_with_households(driver, settings.neo4j_database)]
    households, enterprises, partnerships, decisions = load_inputs(driver, settings, counties, rules)
    results = evaluate(households, enterprises, partnerships, rules, decisions=decisions, test_share=test_share,
                       seed=seed)
    results["_inputs"] = {"households": len(households), "enterprises": len(enterprises),
                          "partnerships": int(len(partnerships))}
    return results
