"""Offline evaluation: hold out the latest partnerships, rank candidates, compare with baselines.

Command line: `flask --app wsgi match evaluate [--county CODE ...] [--k 5] [--test-share 0.2] [--seed 0]` (cli/).

Prints recall@k, precision@k, NDCG@k, coverage and the share of rule-breaking
recommendations (must be 0) for the blended model, the rule score alone, the nearest
eligible enterprise and a random eligible one.
"""
import json

import numpy as np
import pandas as pd

from matching.candidates import Pairs, candidate_pairs, filter_eligible
from matching.features import Enterprises, Households
from matching.model_store import pair_labels, train
from matching.pipeline import ranks_within_household
from matching.rules import EligibilityRules
from matching.scoring import BlendedScorer, pair_features


def split_partnerships(partnerships: pd.DataFrame, test_share: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The latest `test_share` of partnerships (by start date; undated ones at random) are held out."""
    rng = np.random.default_rng(seed)
    order = partnerships.assign(_tie=rng.random(len(partnerships)))
    order = order.sort_values(["start_date", "_tie"], na_position="first", kind="stable").drop(columns="_tie")
    cut = int(round(len(order) * (1 - test_share)))
    return order.iloc[:cut], order.iloc[cut:]


def _partner_villages(enterprises: Enterprises, households: Households, partnerships: pd.DataFrame) -> list[set]:
    """Villages where each enterprise has (training) partners: graph signal without leakage."""
    village = pd.Series(households.village_code, index=households.ids)
    known = partnerships[partnerships["household_id"].isin(village.index)]
    by_enterprise = known.assign(village=village[known["household_id"]].to_numpy()).groupby("credit_code")["village"].agg(set)
    return [by_enterprise.get(code, set()) for code in enterprises.ids]


def ranking_metrics(pairs: Pairs, scores: np.ndarray, relevant: np.ndarray, exclude: np.ndarray, k: int,
                    n_households: int) -> dict:
    """recall@k, precision@k, NDCG@k over households with a held-out partnership; coverage over all."""
    keep = ~exclude
    pairs, scores, relevant = pairs.take(keep), scores[keep], relevant[keep]
    ranks = ranks_within_household(pairs.household, scores)
    in_top = ranks <= k
    test_households = np.unique(pairs.household[relevant == 1])
    hits = np.bincount(pairs.household[in_top & (relevant == 1)], minlength=n_households)[test_households]
    totals = np.bincount(pairs.household[relevant == 1], minlength=n_households)[test_households]
    gains = np.zeros(n_households)
    np.add.at(gains, pairs.household[in_top & (relevant == 1)], 1 / np.log2(ranks[in_top & (relevant == 1)] + 1))
    ideal = np.array([sum(1 / np.log2(r + 2) for r in range(min(t, k))) for t in totals])
    covered = np.zeros(n_households, bool)
    covered[pairs.household[in_top]] = True
    return {
        "households_evaluated": int(len(test_households)),
        f"recall@{k}": float(np.mean(hits / totals)) if len(totals) else 0.0,
        f"precision@{k}": float(np.mean(hits / k)) if len(totals) else 0.0,
        f"ndcg@{k}": float(np.mean(gains[test_households] / ideal)) if len(totals) else 0.0,
        "coverage": float(covered.mean()) if n_households else 0.0,
    }


def evaluate(households: Households, enterprises: Enterprises, partnerships: pd.DataFrame, rules: EligibilityRules,
             *, k: int = 5, test_share: float = 0.2, seed: int = 0, alpha: float = 0.3, per_mechanism: int = 8) -> dict:
    """Evaluation figures per method (model, rules, nearest, random)."""
    train_set, test_set = split_partnerships(partnerships, test_share, seed)
    full = enterprises.with_full_capacity()
    full.partner_villages = _partner_villages(full, households, train_set)
    full.partner_count = train_set["credit_code"].value_counts().reindex(full.ids).fillna(0).to_numpy(dtype=float)
    pairs = candidate_pairs(households, full, rules, per_mechanism=per_mechanism)
    features = pair_features(pairs, households, full, rules)
    train_labels = pair_labels(pairs, households, full, train_set)
    test_labels = pair_labels(pairs, households, full, test_set)
    learned = train(features, train_labels, pairs.mechanism, seed=seed)
    rng = np.random.default_rng(seed)
    methods = {
        "model (blended)": BlendedScorer(learned=learned, alpha=alpha).predict(features, pairs.mechanism),
        "rules only": BlendedScorer().predict(features, pairs.mechanism),
        "baseline: nearest eligible": -pairs.distance_km,
        "baseline: random eligible": rng.random(len(pairs)),
    }
    results = {}
    for name, scores in methods.items():
        figures = ranking_metrics(pairs, scores, test_labels, exclude=train_labels == 1, k=k, n_households=len(households))
        ranks = ranks_within_household(pairs.household[train_labels == 0], scores[train_labels == 0])
        top = pairs.take(np.flatnonzero(train_labels == 0)[ranks <= k])
        figures["rule_breaking_share"] = 1 - len(filter_eligible(top, households, full, rules)) / max(len(top), 1)
        results[name] = figures
    results["_split"] = {"train_partnerships": int(len(train_set)), "test_partnerships": int(len(test_set)),
                         "test_found_among_candidates": int(test_labels.sum()), "candidate_pairs": int(len(pairs))}
    return results


def format_results(results: dict, k: int) -> str:
    """A printable table of the evaluation."""
    columns = ["households_evaluated", f"recall@{k}", f"precision@{k}", f"ndcg@{k}", "coverage", "rule_breaking_share"]
    lines = [f"{'method':<28}" + "".join(f"{c:>22}" for c in columns)]
    for name, figures in results.items():
        if name.startswith("_"):
            continue
        lines.append(f"{name:<28}" + "".join(f"{figures[c]:>22.4f}" if isinstance(figures[c], float) else f"{figures[c]:>22}"
                                              for c in columns))
    lines.append(json.dumps(results["_split"], ensure_ascii=False))
    return "\n".join(lines)


def load_inputs(driver, settings, counties: list[str], rules: EligibilityRules):
    """Households of the counties, enterprises in range and the counties' partnerships, from the graph."""
    from graph import matching as queries
    from matching.run import neighbour_counties

    radius = rules.search_radius_km()
    households = Households.from_records(queries.county_households(driver, counties, settings.neo4j_database))
    enterprises = Enterprises.from_records(
        queries.county_enterprises(driver, neighbour_counties(counties, radius), settings.neo4j_database), rules)
    partnerships = pd.DataFrame(queries.partnerships(driver, counties, settings.neo4j_database),
                                columns=["partnership_id", "household_id", "credit_code", "mechanism", "start_date",
                                         "status"])
    return households, enterprises, partnerships


def evaluate_graph(driver, settings, counties: list[str] | None = None, *, k: int = 5, test_share: float = 0.2,
                   seed: int = 0) -> dict:
    """`evaluate` on the graph's counties (default: every county with households).

    The result also holds `_inputs`: how many households, enterprises and partnerships were read."""
    from graph import matching as queries

    rules = EligibilityRules()
    counties = counties or [row["code"] for row in queries.counties_with_households(driver, settings.neo4j_database)]
    households, enterprises, partnerships = load_inputs(driver, settings, counties, rules)
    results = evaluate(households, enterprises, partnerships, rules, k=k, test_share=test_share, seed=seed)
    results["_inputs"] = {"households": len(households), "enterprises": len(enterprises),
                          "partnerships": int(len(partnerships))}
    return results
