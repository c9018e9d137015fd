"""Eligibility limits calibrated from a county's own ledger: at which distances and land sizes its partnerships
actually formed, as suggested limits per mechanism (pure functions; graph/match_rules.py reads the evidence).

A distance limit is suggested as the distance within which 95 % of the county's partnerships of that mechanism
formed, rounded up to a readable step (1 km up to 10 km, 5 km beyond) and held between a floor and a ceiling;
the minimum land of a lease as the land that 95 % of the leasing households had at least (the 5th percentile),
rounded down to 0.1 亩. Fewer than MIN_PARTNERSHIPS partnerships of a mechanism give no suggestion: the
current limit stays and the reason says so.

What counts as evidence: a partnership that formed (履约中, 已完成, 已终止 — not one still 待确认), that the
ledger recorded itself rather than one made by accepting a recommendation (those were bounded by the rules in
force, so counting them would only ever pull the limits inwards), and, for a distance, whose household's
village and enterprise both have their own position (one placed at its county's centre has no real distance).
"""
import math
from dataclasses import asdict, dataclass

import numpy as np

from core.codes import EnterpriseType, Mechanism, PartnershipStatus
from matching.candidates import haversine_km
from matching.rules import EligibilityRules

QUANTILE = 0.95  # the share of the county's partnerships a suggested limit keeps eligible
# Below this many partnerships of a mechanism the 95th percentile is the largest or second-largest distance
# seen: one unusual partnership would set the county's limit.
MIN_PARTNERSHIPS = 30
FORMED = frozenset(PartnershipStatus.codes(PartnershipStatus.IN_FORCE, PartnershipStatus.COMPLETED,
                                           PartnershipStatus.TERMINATED))
FROM_RECOMMENDATION = "recommendation"  # Partnership.source of a ledger row made by accepting a recommendation
APPROXIMATE_POSITION = "county"  # position_source of a village or enterprise placed at its county's centre


@dataclass(frozen=True)
class Limit:
    """A limit of EligibilityRules that a county may calibrate or set, and the range it may take."""

    field: str
    mechanism: str  # the Mechanism code whose partnerships are its evidence
    title: str  # as the page names it (联结方式)
    unit: str  # 公里 or 亩
    floor: float
    ceiling: float

    @property
    def is_distance(self) -> bool:
        return self.unit == "公里"


# Floors and ceilings: a suggestion never leaves them, nor may a value a bureau sets (the API's bounds too).
LIMITS: tuple[Limit, ...] = (
    # Floor: a township's villages lie within about 5 km of its seat; less would cut workers off from jobs in
    # their own township. Ceiling: a daily commute — the registry counts work beyond the county as migrant
    # work (务工地 03 县外省内), and a county here is at most about 60 km across.
    Limit("employment_max_km", Mechanism.EMPLOYMENT.value, "就业务工", "公里", 5.0, 60.0),
    # 弱劳动力 do piece-work in a workshop near home (家门口就业): from the village or the next one (3 km) to
    # half an hour on a rural road (30 km).
    Limit("workshop_max_km", Mechanism.EMPLOYMENT.value, "扶贫车间（弱劳动力）", "公里", 3.0, 30.0),
    # The buyer collects from the village: at least the neighbouring townships (10 km), at most across a
    # prefecture (湘西 is about 150 km across); beyond, collecting costs more than the protection price leaves.
    Limit("contract_max_km", Mechanism.CONTRACT_PURCHASE.value, "订单收购", "公里", 10.0, 150.0),
    # Leased land lies around the household's village and must be farmed from the enterprise's base: at least
    # a neighbouring village (2 km), at most 30 km — farther it is another base, not this enterprise's.
    Limit("land_max_km", Mechanism.LAND_LEASE.value, "土地流转", "公里", 2.0, 30.0),
    # The link is logistics and a working relation: at least the county's own reach (20 km), at most 300 km
    # (the prefectures of a province around the county); the ceiling also bounds the search radius, and so
    # the enterprises every county task of a run reads.
    Limit("ecommerce_max_km", Mechanism.ECOMMERCE.value, "电商销售", "公里", 20.0, 300.0),
    # Less than 0.1 亩 is a garden plot; registry households hold about 2–5 亩, so a minimum above 5 亩 would
    # leave most of them out of leasing.
    Limit("min_land_mu", Mechanism.LAND_LEASE.value, "土地流转最小面积", "亩", 0.1, 5.0),
)
LIMITS_BY_FIELD = {limit.field: limit for limit in LIMITS}
FIELDS = tuple(LIMITS_BY_FIELD)


@dataclass(frozen=True)
class Suggestion:
    """One limit of a county: its default, its current value, the suggestion (None: none) and why."""

    field: str
    mechanism: str
    title: str
    unit: str
    floor: float
    ceiling: float
    default: float
    current: float
    suggested: float | None
    evidence: int  # partnerships the suggestion rests on
    excluded: int  # of the mechanism but not counted (awaiting confirmation, from a recommendation, no position)
    observed: float | None  # the percentile itself, before rounding and bounds
    reason: str

    def as_dict(self) -> dict:
        return asdict(self)


def readable_km(km: float) -> float:
    """km rounded up to a readable step: whole km up to 10 km, then multiples of 5 km."""
    step = 1.0 if km <= 10.0 else 5.0
    return math.ceil(km / step - 1e-9) * step


def readable_mu(mu: float) -> float:
    """亩 rounded down to 0.1 亩 (a minimum rounds down, so no household it kept is lost)."""
    return math.floor(mu * 10 + 1e-9) / 10


def within(value: float, limit: Limit) -> float:
    """value held between the limit's floor and ceiling."""
    return min(max(value, limit.floor), limit.ceiling)


def _kept(count: int, share: float) -> int:
    """How many of `count` values `share` of them is, at least one (ceil, without float noise)."""
    return max(math.ceil(share * count - 1e-9), 1)


def share_within(values: np.ndarray, share: float) -> float:
    """The smallest value that at least `share` of the values are at most (the upper percentile)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    return float(ordered[_kept(len(ordered), share) - 1])


def share_at_least(values: np.ndarray, share: float) -> float:
    """The largest value that at least `share` of the values are at least (the lower percentile)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    return float(ordered[len(ordered) - _kept(len(ordered), share)])


def fit_distance_km(distances_km: np.ndarray, limit: Limit, quantile: float = QUANTILE) -> tuple[float, float]:
    """(suggested limit, observed percentile): the distance within which `quantile` of the partnerships formed,
    rounded up to a readable step and held within the limit's bounds."""
    observed = share_within(distances_km, quantile)
    return within(readable_km(observed), limit), observed


def fit_min_land_mu(land_mu: np.ndarray, limit: Limit, quantile: float = QUANTILE) -> tuple[float, float]:
    """(suggested minimum, observed percentile): the land that `quantile` of the leasing households had at least
    (the 5th percentile), rounded down to 0.1 亩 and held within the limit's bounds."""
    observed = share_at_least(land_mu, quantile)
    return within(readable_mu(observed), limit), observed


def _column(records: list[dict], name: str, dtype=object) -> np.ndarray:
    return np.array([record.get(name) for record in records], dtype=dtype)


def _numbers(records: list[dict], name: str) -> np.ndarray:
    return np.array([np.nan if record.get(name) is None else float(record[name]) for record in records], dtype=float)


@dataclass
class Evidence:
    """The county's ledger partnerships as columns (graph.match_rules.partnership_evidence records)."""

    mechanism: np.ndarray
    counted: np.ndarray  # formed, and recorded by the ledger itself (not by accepting a recommendation)
    distance_km: np.ndarray  # NaN where either position is missing or only the county's centre
    land_mu: np.ndarray
    able_labour: np.ndarray
    weak_labour: np.ndarray
    workshop: np.ndarray

    @classmethod
    def from_records(cls, records: list[dict]) -> "Evidence":
        status, source = _column(records, "status"), _column(records, "source")
        counted = np.isin(status, list(FORMED)) & (source != FROM_RECOMMENDATION)
        distance = haversine_km(_numbers(records, "household_lat"), _numbers(records, "household_lon"),
                                _numbers(records, "enterprise_lat"), _numbers(records, "enterprise_lon"))
        approximate = ((_column(records, "household_position") == APPROXIMATE_POSITION)
                       | (_column(records, "enterprise_position") == APPROXIMATE_POSITION))
        return cls(
            mechanism=_column(records, "mechanism"), counted=counted,
            distance_km=np.where(approximate, np.nan, np.asarray(distance, dtype=float)),
            land_mu=np.nan_to_num(_numbers(records, "land_mu"), nan=0.0),
            able_labour=np.nan_to_num(_numbers(records, "able_labour"), nan=0.0),
            weak_labour=np.nan_to_num(_numbers(records, "weak_labour"), nan=0.0),
            workshop=_column(records, "enterprise_type") == EnterpriseType.WORKSHOP.value)

    def of(self, limit: Limit) -> tuple[np.ndarray, int]:
        """The values a limit is fitted to (distances or land) and the partnerships of its kind left out."""
        kind = self.mechanism == limit.mechanism
        if limit.field == "employment_max_km":  # the commuting rule: households with an able member
            kind &= self.able_labour > 0
        elif limit.field == "workshop_max_km":  # the workshop rule: only weak labour, at a 扶贫车间
            kind &= self.workshop & (self.able_labour == 0) & (self.weak_labour > 0)
        values = self.distance_km if limit.is_distance else self.land_mu
        used = kind & self.counted & ~np.isnan(values)
        return values[used], int(kind.sum() - used.sum())


def fit_county_rules(records: list[dict], current: EligibilityRules, defaults: EligibilityRules | None = None,
                     min_partnerships: int = MIN_PARTNERSHIPS, quantile: float = QUANTILE) -> list[Suggestion]:
    """A suggestion for every limit of LIMITS from the county's ledger evidence (graph.match_rules records)."""
    defaults = defaults or EligibilityRules()
    evidence = Evidence.from_records(records)
    suggestions = []
    for limit in LIMITS:
        values, excluded = evidence.of(limit)
        now = getattr(current, limit.field)
        suggested = observed = None
        if len(values) < min_partnerships:
            reason = (f"仅 {len(values)} 条联结（少于 {min_partnerships} 条），样本太少，不作建议，保持当前值 / "
                      f"only {len(values)} partnerships (fewer than {min_partnerships}): no suggestion, "
                      "the current value stays")
        elif limit.is_distance:
            suggested, observed = fit_distance_km(values, limit, quantile)
            reason = (f"{len(values)} 条联结中 {quantile:.0%} 的户—企业距离在 {observed:.1f} 公里以内，"
                      f"向上取整为 {suggested:g} 公里{_bounded(observed, suggested, limit, readable_km)} / "
                      f"{quantile:.0%} of {len(values)} partnerships formed within {observed:.1f} km")
        else:
            suggested, observed = fit_min_land_mu(values, limit, quantile)
            reason = (f"{len(values)} 条土地流转中 {quantile:.0%} 的户有 {observed:.2f} 亩以上土地，"
                      f"向下取整为 {suggested:g} 亩{_bounded(observed, suggested, limit, readable_mu)} / "
                      f"{quantile:.0%} of {len(values)} leasing households had at least {observed:.2f} 亩")
        suggestions.append(Suggestion(limit.field, limit.mechanism, limit.title, limit.unit, limit.floor, limit.ceiling,
                                      getattr(defaults, limit.field), now, suggested, len(values), excluded,
                                      observed, reason))
    return suggestions


def _bounded(observed: float, suggested: float, limit: Limit, readable) -> str:
    """What the bounds changed, said in the reason ('' when nothing)."""
    rounded = readable(observed)
    if rounded < suggested:
        return f"，不低于下限 {limit.floor:g} {limit.unit}"
    if rounded > suggested:
        return f"，不超过上限 {limit.ceiling:g} {limit.unit}"
    return ""


def out_of_bounds(values: dict[str, float]) -> list[str]:
    """The names among values that are no calibratable limit or lie outside its floor and ceiling."""
    return [name for name, value in values.items()
            if name not in LIMITS_BY_FIELD or not isinstance(value, (int, float)) or isinstance(value, bool)
            or not math.isfinite(value)
            or not LIMITS_BY_FIELD[name].floor <= value <= LIMITS_BY_FIELD[name].ceiling]
