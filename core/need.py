"""The need tier of a household (2 = greatest need, covered first; 1 = high; 0 = other).

One rule for matching (matching/features.py, vectorised) and for the tier stored on each household
(graph/readstate.py, in Cypher with these values as parameters):
- greatest: 特困供养, an urgent monitoring category (脱贫不稳定户, 突发严重困难户), or a need cause
  (因病, 因残, 缺劳动力) in a household without labour or under social protection;
- high: social protection, a need cause, any monitoring category, or income below LOW_INCOME_LINE;
- other: the rest. An unknown income is not taken as low.
"""
import numpy as np

from core.codes import NEED_CAUSES, PROTECTED_ATTRIBUTES, URGENT_MONITORING, HouseholdAttribute

GREATEST, HIGH, OTHER = 2, 1, 0
# 元 per person and year: below it a household is of high need.
LOW_INCOME_LINE = 3000

NEED_CAUSE_CODES = tuple(cause.value for cause in NEED_CAUSES)
PROTECTED_CODES = tuple(attribute.value for attribute in PROTECTED_ATTRIBUTES)
URGENT_CODES = tuple(category.value for category in URGENT_MONITORING)
EXTREME_POVERTY = HouseholdAttribute.EXTREME_POVERTY.value


def need_tier(attribute: str | None, monitoring: str | None, main_cause: str | None,
              other_causes: list[str] | None, labourers: int, income: float | None) -> int:
    """The tier of one household (the scalar form of the rule, for tests and single records)."""
    need_cause = main_cause in NEED_CAUSE_CODES or bool(set(other_causes or ()) & set(NEED_CAUSE_CODES))
    protected = attribute in PROTECTED_CODES
    if attribute == EXTREME_POVERTY or monitoring in URGENT_CODES or (need_cause and (labourers == 0 or protected)):
        return GREATEST
    if protected or need_cause or bool(monitoring) or (income is not None and income < LOW_INCOME_LINE):
        return HIGH
    return OTHER


def has_need_cause(main_causes, other_causes) -> np.ndarray:
    """Per household: whether its main cause or one of its other causes (lists, or None) is a need cause."""
    causes = set(NEED_CAUSE_CODES)
    main = np.fromiter((cause in causes for cause in main_causes), dtype=bool, count=len(main_causes))
    other = np.fromiter((bool(causes.intersection(items)) if isinstance(items, (list, tuple, np.ndarray)) else False
                         for items in other_causes), dtype=bool, count=len(other_causes))
    return main | other


def need_cause_bits(main_causes, other_causes) -> np.ndarray:
    """Per household: the need causes its main or other causes name, as bits (bit i: NEED_CAUSE_CODES[i]);
    non-zero exactly where has_need_cause is true. Reasons name the causes (matching/reasons.py)."""
    bit = {code: 1 << position for position, code in enumerate(NEED_CAUSE_CODES)}
    main = np.fromiter((bit.get(cause, 0) if isinstance(cause, str) else 0 for cause in main_causes),
                       dtype=np.int64, count=len(main_causes))
    other = np.fromiter((sum({bit.get(cause, 0) for cause in items if isinstance(cause, str)})
                         if isinstance(items, (list, tuple, np.ndarray)) and len(items) else 0
                         for items in other_causes), dtype=np.int64, count=len(other_causes))
    return main | other


def need_cause_labels(bits: int) -> list[str]:
    """The labels (因病, 因残, 缺劳动力) of the need causes in `bits` (need_cause_bits)."""
    return [cause.label for position, cause in enumerate(NEED_CAUSES) if bits >> position & 1]


def need_tiers(attribute: np.ndarray, monitoring: np.ndarray, need_cause: np.ndarray, labourers: np.ndarray,
               known_income: np.ndarray) -> np.ndarray:
    """The rule for many households at once (arrays: attribute and monitoring category with "" or None for
    none, need_cause from has_need_cause, labourer counts, income with inf where unknown)."""
    protected = np.isin(attribute, PROTECTED_CODES)
    urgent = np.isin(monitoring, URGENT_CODES)
    greatest = (attribute == EXTREME_POVERTY) | urgent | (need_cause & ((labourers == 0) | protected))
    monitored = np.array([bool(category) for category in monitoring], dtype=bool)
    high = protected | need_cause | monitored | (known_income < LOW_INCOME_LINE)
    return np.where(greatest, GREATEST, np.where(high, HIGH, OTHER)).astype(np.int64)
