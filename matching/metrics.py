"""Ranking figures of scored candidate pairs against the partnerships that formed (recall@k, NDCG@k, …)."""
import numpy as np

from matching.candidates import Pairs


def ranks_within_household(household: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Each pair's rank among its household's pairs (1 = best score), vectorised."""
    order = np.lexsort((-scores, household))
    sorted_households = household[order]
    group_start = np.r_[0, np.flatnonzero(np.diff(sorted_households)) + 1] if len(order) else np.zeros(0, int)
    group_sizes = np.diff(np.r_[group_start, len(order)])
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - np.repeat(group_start, group_sizes) + 1
    return ranks


def ranking_metrics(pairs: Pairs, scores: np.ndarray, relevant: np.ndarray, k: int, n_households: int) -> dict:
    """recall@k, precision@k, NDCG@k over households with a relevant pair; coverage (any pair in a top k) over all."""
    ranks = ranks_within_household(pairs.household, scores)
    in_top = ranks <= k
    hit = in_top & (relevant == 1)
    test_households = np.unique(pairs.household[relevant == 1])
    hits = np.bincount(pairs.household[hit], minlength=n_households)[test_households]
    totals = np.bincount(pairs.household[relevant == 1], minlength=n_households)[test_households]
    gains = np.zeros(n_households)
    np.add.at(gains, pairs.household[hit], 1 / np.log2(ranks[hit] + 1))
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


def ranking_figures(pairs: Pairs, scores: np.ndarray, relevant: np.ndarray, n_households: int) -> dict:
    """ranking_metrics at 5, with recall, precision and NDCG at 10 added."""
    figures = ranking_metrics(pairs, scores, relevant, 5, n_households)
    at_ten = ranking_metrics(pairs, scores, relevant, 10, n_households)
    return {**figures, **{key: value for key, value in at_ten.items() if key.endswith("@10")}}
