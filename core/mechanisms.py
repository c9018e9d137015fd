"""How much of each mechanism an enterprise can give, in households: one definition for the ETL,
the plan, the ledger and the pages.

An enterprise states its capacity per mechanism in that mechanism's own unit — jobs (人) for
employment, households (户) for contract purchase, equity and e-commerce, land (亩) for a
lease. A place is one household; a land lease takes `LAND_MU_PER_HOUSEHOLD` 亩 from each
household, so an enterprise that wants 30 亩 has 10 places.
"""
import math
from dataclasses import dataclass

import numpy as np

from core.codes import Mechanism

# 亩 one household leases to an enterprise (registry households hold ~2–5 亩 of 耕地).
LAND_MU_PER_HOUSEHOLD = 3.0


@dataclass(frozen=True)
class Capacity:
    """An enterprise's capacity for one mechanism: the property that holds it, its unit, and per household."""

    field: str  # the Enterprise property (and ETL column) holding the amount
    unit: str  # 人 / 户 / 亩, as written in the enterprise's file
    unit_per_household: float = 1.0

    def places(self, amount) -> int:
        """Households an amount gives room for (missing, negative or not a number → 0)."""
        try:
            value = float(amount)
        except (TypeError, ValueError):
            return 0
        if math.isnan(value) or value <= 0:
            return 0
        return int(math.floor(value / self.unit_per_household + 1e-9))

    def places_array(self, amounts: np.ndarray) -> np.ndarray:
        """`places` of every amount (NaN → 0), vectorised."""
        values = np.nan_to_num(np.asarray(amounts, dtype=float), nan=0.0)
        return np.floor(np.maximum(values, 0.0) / self.unit_per_household + 1e-9).astype(np.int64)


CAPACITY: dict[Mechanism, Capacity] = {
    Mechanism.EMPLOYMENT: Capacity("jobs_offered", "人"),
    Mechanism.CONTRACT_PURCHASE: Capacity("contract_households", "户"),
    Mechanism.LAND_LEASE: Capacity("land_wanted_mu", "亩", LAND_MU_PER_HOUSEHOLD),
    Mechanism.EQUITY: Capacity("equity_households", "户"),
    Mechanism.ECOMMERCE: Capacity("ecommerce_households", "户"),
}

# Mechanisms in code order: matching indexes arrays by this position.
MECHANISMS: tuple[Mechanism, ...] = tuple(Mechanism)


def position(mechanism: str) -> int:
    """A mechanism's index in MECHANISMS (the column of per-mechanism arrays)."""
    return MECHANISMS.index(Mechanism(mechanism))


def capacity_of(mechanism: str) -> Capacity:
    """The capacity rule of a mechanism code."""
    return CAPACITY[Mechanism(mechanism)]


def places(enterprise: dict, mechanism: str) -> int:
    """Households an enterprise record (its properties) can take by a mechanism."""
    rule = capacity_of(mechanism)
    return rule.places(enterprise.get(rule.field))
