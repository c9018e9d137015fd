"""The LP oracle: the assignment's objective solved independently, as a linear programme (scipy/HiGHS).

Test and benchmark tooling (tests/, bench/match_province.py): production packages never import it.
"""
import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from matching.assign import COVER_BONUS, SCORE_SCALE, slot_capacity, slot_ids
from matching.candidates import Pairs


def lp_objective(pairs: Pairs, scores: np.ndarray, need_tier: np.ndarray, capacity: dict[str, np.ndarray],
                 household_limit: int = 1) -> int:
    """The same objective as a linear programme solved by HiGHS: an independent check of `assign`.

    Variables: x (one per pair) and y (each household's first, bonus-carrying unit). Flow LPs have
    integral optima, so the LP optimum equals the best plan's value. A household takes at most one mechanism of
    an enterprise (one row per household and enterprise).
    """
    slot_keys, slot_of_pair = slot_ids(pairs)
    caps = slot_capacity(slot_keys, capacity)
    n_pairs, n_households = len(pairs), len(need_tier)
    pair_costs = -np.rint(scores * SCORE_SCALE)
    first_costs = -(COVER_BONUS * (1 + need_tier.astype(np.int64))).astype(float)
    pair_columns = np.arange(n_pairs)
    _, pair_group = np.unique(pairs.household.astype(np.int64) * (int(pairs.enterprise.max(initial=0)) + 1)
                              + pairs.enterprise, return_inverse=True)
    n_groups = int(pair_group.max(initial=-1)) + 1
    group_row = 2 * n_households + len(caps)
    rows = np.concatenate([pairs.household, n_households + pairs.household, 2 * n_households + slot_of_pair,
                           n_households + np.arange(n_households), group_row + pair_group])
    columns = np.concatenate([pair_columns, pair_columns, pair_columns, n_pairs + np.arange(n_households), pair_columns])
    values = np.concatenate([np.ones(n_pairs), -np.ones(n_pairs), np.ones(n_pairs), np.ones(n_households),
                             np.ones(n_pairs)])
    matrix = csr_matrix((values, (rows, columns)), shape=(group_row + n_groups, n_pairs + n_households))
    bounds_right = np.concatenate([np.full(n_households, household_limit), np.zeros(n_households), caps,
                                   np.ones(n_groups)])
    result = linprog(np.concatenate([pair_costs, first_costs]), A_ub=matrix, b_ub=bounds_right, bounds=(0, 1),
                     method="highs")
    if result.status != 0:
        raise RuntimeError(f"LP failed: {result.message}")
    return -int(round(result.fun))
