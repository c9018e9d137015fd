"""Pairs a run never recommends: a household and an enterprise already partnered (in force or awaiting the
bureau's confirmation), and a declined pair while neither side's inputs changed since the decline.

Whether a side changed is told by digests of its matching inputs: the household's fields the run reads and the
enterprise's offer (capacity, mechanisms, skills, products, place). The decline stores both (services/
recommendations.py); a run compares them with the digests of the inputs it read.
"""
import hashlib
import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from matching.candidates import Pairs
from matching.features import Enterprises, Households

# What a household's recommendations depend on (graph.matching.HOUSEHOLD_COLUMNS less its partnerships).
HOUSEHOLD_INPUTS = ("household_id", "county_code", "village_code", "lon", "lat", "attribute", "main_cause",
                    "other_causes", "monitoring_category", "income_per_capita", "relocated", "arable_mu", "forest_mu",
                    "orchard_mu", "industry_codes", "in_cooperative", "ordinary", "skilled", "weak", "members")
# What an enterprise offers (graph.matching.county_enterprises, less what its partnerships make of it).
ENTERPRISE_OFFER = ("credit_code", "county_code", "lon", "lat", "enterprise_type", "mechanisms", "jobs_offered",
                    "contract_households", "land_wanted_mu", "equity_households", "ecommerce_households",
                    "skill_required", "industry_codes", "bought_codes")


def _canonical(value):
    """The same value however it was read (driver record, list column or data frame cell)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return sorted(str(item) for item in value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return None if np.isnan(float(value)) else round(float(value), 6)
    return str(value)


def _digest(values: Sequence) -> str:
    text = json.dumps([_canonical(value) for value in values], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def household_digest(record: Mapping) -> str:
    """The digest of one household's matching inputs (a record with HOUSEHOLD_INPUTS)."""
    return _digest([record.get(name) for name in HOUSEHOLD_INPUTS])


def enterprise_digest(record: Mapping) -> str:
    """The digest of one enterprise's offer (a record with ENTERPRISE_OFFER)."""
    return _digest([record.get(name) for name in ENTERPRISE_OFFER])


def household_digests(columns: Mapping[str, list], positions: np.ndarray) -> list[str]:
    """The digests of the households at `positions` of a county's columns (graph.matching.county_household_columns)."""
    return [_digest([columns[name][position] for name in HOUSEHOLD_INPUTS]) for position in positions]


def blocked_keys(households: Households, enterprises: Enterprises, open_partners: Sequence,
                 declines: Sequence[Mapping] = (), household_columns: Mapping[str, list] | None = None) -> np.ndarray:
    """household × len(enterprises) + enterprise of every pair to leave out: each household's open partners
    (a list of credit codes per household) and the declined pairs whose both sides are unchanged (declines:
    household_id, credit_code, household_inputs, enterprise_inputs; `household_columns` are the columns the
    households were built from, for their digests)."""
    enterprise_index = pd.Series(np.arange(len(enterprises)), index=enterprises.ids)
    household_of, enterprise_of = [], []
    for position, codes in enumerate(open_partners):
        for code in codes or ():
            found = enterprise_index.get(code)
            if found is not None:
                household_of.append(position)
                enterprise_of.append(int(found))
    if declines:
        household_index = pd.Series(np.arange(len(households)), index=households.ids)
        declined = pd.DataFrame(list(declines))
        declined = declined[declined["household_id"].isin(household_index.index)
                            & declined["credit_code"].isin(enterprise_index.index)]
        if len(declined):
            h = household_index[declined["household_id"]].to_numpy()
            e = enterprise_index[declined["credit_code"]].to_numpy()
            unique_h = np.unique(h)
            now_household = dict(zip(unique_h, household_digests(household_columns, unique_h))) \
                if household_columns is not None else {}
            unique_e = np.unique(e)
            offer = enterprises.frame.iloc[unique_e]
            now_enterprise = dict(zip(unique_e, (enterprise_digest(row) for row in offer.to_dict("records"))))
            same = np.array([now_household.get(hh) == was_h and now_enterprise.get(ee) == was_e
                             for hh, ee, was_h, was_e in zip(h, e, declined["household_inputs"],
                                                             declined["enterprise_inputs"])], dtype=bool)
            household_of.extend(h[same].tolist())
            enterprise_of.extend(e[same].tolist())
    return np.unique(np.asarray(household_of, np.int64) * len(enterprises) + np.asarray(enterprise_of, np.int64))


def leave_out(pairs: Pairs, keys: np.ndarray, n_enterprises: int) -> Pairs:
    """The pairs whose (household, enterprise) is not among `keys` (blocked_keys)."""
    if len(keys) == 0:
        return pairs
    return pairs.take(~np.isin(pairs.household.astype(np.int64) * n_enterprises + pairs.enterprise, keys))
