"""Matching inputs as column arrays: households and enterprises read from the graph (or built in memory)."""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import need
from core.codes import HouseholdAttribute
from core.followup import FOLLOW_UP_PRIORITY
from core.industries import INDUSTRIES
from core.mechanisms import CAPACITY
from matching.rules import MECHANISMS, EligibilityRules

INDUSTRY_BIT = {industry.code: bit for bit, industry in enumerate(INDUSTRIES)}


def industry_mask(code_lists) -> np.ndarray:
    """Each list of industry codes as a bit mask (int64), for vectorised overlap tests."""
    masks = np.zeros(len(code_lists), dtype=np.int64)
    for position, codes in enumerate(code_lists):
        for code in codes if isinstance(codes, (list, tuple, set, np.ndarray)) else ():
            bit = INDUSTRY_BIT.get(code)
            if bit is not None:
                masks[position] |= 1 << bit
    return masks


def industry_names(mask: int) -> list[str]:
    """The industry names in a mask."""
    return [industry.name for bit, industry in enumerate(INDUSTRIES) if mask >> bit & 1]


@dataclass
class Households:
    """Households of the counties being matched, one array per attribute."""

    frame: pd.DataFrame

    def __post_init__(self):
        f = self.frame
        self.ids = f["household_id"].to_numpy(dtype=object)
        self.county_code = f["county_code"].to_numpy(dtype=object)
        self.village_code = f["village_code"].to_numpy(dtype=object)
        self.lon = f["lon"].to_numpy(dtype=float)
        self.lat = f["lat"].to_numpy(dtype=float)
        self.ordinary = f["ordinary"].to_numpy(dtype=np.int64)
        self.skilled = f["skilled"].to_numpy(dtype=np.int64)
        self.weak = f["weak"].to_numpy(dtype=np.int64)
        self.arable_mu = f["arable_mu"].fillna(0).to_numpy(dtype=float)
        self.forest_mu = f["forest_mu"].fillna(0).to_numpy(dtype=float)
        self.orchard_mu = f["orchard_mu"].fillna(0).to_numpy(dtype=float)
        self.land_mu = self.arable_mu + self.forest_mu + self.orchard_mu
        self.industry_mask = industry_mask(f["industry_codes"])
        causes = f["main_cause"].fillna("").to_numpy(dtype=object)
        # Which need causes (core.need) a household has: the score uses whether any, reasons name them.
        self.need_cause_bits = need.need_cause_bits(causes, f["other_causes"].tolist())
        self.need_cause = self.need_cause_bits != 0
        self.main_cause = causes
        self.attribute = f["attribute"].fillna(HouseholdAttribute.ORDINARY.value).to_numpy(dtype=object)
        self.monitoring = f["monitoring_category"].fillna("").to_numpy(dtype=object)
        # An unknown income is not low (core.need); for scoring it is the county's median.
        self.known_income = f["income_per_capita"].fillna(np.inf).to_numpy(dtype=float)
        self.income = f["income_per_capita"].fillna(f["income_per_capita"].median() if f["income_per_capita"].notna().any() else 4000).to_numpy(dtype=float)
        self.in_cooperative = f["in_cooperative"].fillna(False).to_numpy(dtype=bool)
        self.need_tier = self._need_tier()
        # Households with unresolved follow-up items (graph/followups.py) are planned first, even when covered.
        follow_ups = f["follow_ups"].fillna(0).to_numpy(dtype=np.int64) if "follow_ups" in f else np.zeros(len(f), np.int64)
        self.follow_up = follow_ups > 0
        self.planning_tier = self.need_tier + FOLLOW_UP_PRIORITY * self.follow_up

    def limits(self, household_limit: int, existing: np.ndarray) -> np.ndarray:
        """Pairings a run may still give each household: the limit less its open partnerships, and at least one
        for a household with a follow-up item (its partnership ended, expired or is beyond its enterprise's
        places: the run plans its replacement)."""
        room = np.maximum(household_limit - np.asarray(existing, dtype=np.int64), 0)
        return np.where(self.follow_up, np.maximum(room, 1), room)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def open_partners(self) -> list:
        """Per household, the credit codes of the enterprises it is partnered with now (none when not read)."""
        if "open_partner_codes" in self.frame:
            return list(self.frame["open_partner_codes"])
        return [()] * len(self.ids)

    def _need_tier(self) -> np.ndarray:
        """2 = greatest need (covered first), 1 = high, 0 = other: the rule of core.need."""
        return need.need_tiers(self.attribute, self.monitoring, self.need_cause,
                               self.ordinary + self.skilled + self.weak, self.known_income)

    COLUMNS = ["household_id", "county_code", "village_code", "lon", "lat", "attribute", "main_cause", "other_causes",
               "monitoring_category", "income_per_capita", "relocated", "arable_mu", "forest_mu", "orchard_mu",
               "industry_codes", "in_cooperative", "ordinary", "skilled", "weak", "members"]

    OPTIONAL = ("open_partner_codes", "follow_ups")

    @classmethod
    def from_records(cls, records: list[dict]) -> "Households":
        """From graph.matching.county_households records."""
        extra = [name for name in cls.OPTIONAL if records and name in records[0]]
        return cls(pd.DataFrame.from_records(records, columns=cls.COLUMNS + extra))

    @classmethod
    def from_columns(cls, columns: dict[str, list]) -> "Households":
        """From graph.matching.county_household_columns."""
        return cls(pd.DataFrame({name: columns[name] for name in cls.COLUMNS + [n for n in cls.OPTIONAL if n in columns]}))


@dataclass
class Enterprises:
    """Enterprises that can take households, with remaining capacity per mechanism."""

    frame: pd.DataFrame
    rules: EligibilityRules

    def __post_init__(self):
        f = self.frame
        self.ids = f["credit_code"].to_numpy(dtype=object)
        self.names = f["name"].to_numpy(dtype=object)
        self.county_code = f["county_code"].to_numpy(dtype=object)
        self.lon = f["lon"].to_numpy(dtype=float)
        self.lat = f["lat"].to_numpy(dtype=float)
        self.enterprise_type = f["enterprise_type"].fillna("").to_numpy(dtype=object)
        self.skill_required = f["skill_required"].fillna("").to_numpy(dtype=object)
        self.industry_mask = industry_mask(f["industry_codes"])
        self.bought_mask = industry_mask(f["bought_codes"])
        offered = f["mechanisms"].map(lambda items: set(items or ()))
        # Places (households) per mechanism, from the amount in the mechanism's own unit (人, 户, 亩).
        raw = {mechanism: rule.places_array(f[rule.field].to_numpy(dtype=float)) for mechanism, rule in CAPACITY.items()}
        used = np.array([list(u) if u is not None else [0] * 5 for u in f["used"]], dtype=np.int64).reshape(len(f), 5) \
            if "used" in f else np.zeros((len(f), 5), dtype=np.int64)
        self.capacity = {}
        self.total_capacity = {}
        for position, mechanism in enumerate(MECHANISMS):
            listed = offered.map(lambda items, m=mechanism: m in items).to_numpy(dtype=bool)
            total = np.where(listed, raw[mechanism], 0).astype(np.int64)
            self.total_capacity[mechanism] = total
            self.capacity[mechanism] = np.maximum(total - used[:, position], 0)
        self.partner_villages = [set(v or ()) for v in f.get("partner_villages", pd.Series([[]] * len(f)))]
        self.partner_count = used.sum(axis=1).astype(float)
        # Partnerships of every status per mechanism (the track record a learned model reads); open ones when
        # the records hold no history.
        self.history = np.array([list(u) if u is not None else [0] * 5 for u in f["history"]], dtype=np.int64).reshape(
            len(f), 5) if "history" in f else used.copy()
        self._record_scale = None
        empty = pd.Series([[]] * len(f), index=f.index)
        self.project_counties = [set(c) if isinstance(c, (list, tuple, set)) else set()
                                 for c in f.get("project_counties", empty)]
        self.project_mask = industry_mask(list(f.get("project_industries", empty)))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def record_scale(self) -> float:
        """The largest log track record (partnerships kept) of the table: the scale of the track-record feature.
        A part taken from a table keeps the table's scale, so its pairs score as they did in the whole."""
        if self._record_scale is not None:
            return self._record_scale
        return float(np.log1p(self.partner_count).max()) if len(self.partner_count) else 0.0

    def take(self, positions: np.ndarray) -> "Enterprises":
        """The enterprises at the given positions (their arrays, not parsed again), with the table's scale."""
        part = object.__new__(Enterprises)
        for name, value in vars(self).items():
            if name == "frame":
                value = value.iloc[positions].reset_index(drop=True)
            elif isinstance(value, np.ndarray):
                value = value[positions]
            elif isinstance(value, dict):
                value = {key: column[positions] for key, column in value.items()}
            elif isinstance(value, list):
                value = [value[position] for position in positions]
            setattr(part, name, value)
        part._record_scale = self.record_scale
        return part

    def with_full_capacity(self) -> "Enterprises":
        """A copy whose capacity ignores current partnerships (for training on past ones)."""
        frame = self.frame.copy()
        frame["used"] = [[0] * len(MECHANISMS)] * len(frame)
        full = Enterprises(frame, self.rules)
        full.partner_count = self.partner_count.copy()
        full.partner_villages = list(self.partner_villages)
        full.history = self.history.copy()
        return full

    def as_of(self, history: pd.DataFrame, households: Households) -> "Enterprises":
        """The enterprises as they stood when `history` (partnerships: household_id, credit_code, mechanism) was all
        there was: whole capacity (the pairs that formed later are candidates), and the track record, partner
        villages and history counts of those partnerships only, so that nothing later leaks into the features."""
        state = self.with_full_capacity()
        village = pd.Series(households.village_code, index=households.ids)
        known = history[history["credit_code"].isin(set(self.ids))]
        in_households = known[known["household_id"].isin(village.index)]
        villages = in_households.assign(village=village.reindex(in_households["household_id"]).to_numpy()) \
            .groupby("credit_code")["village"].agg(set)
        state.partner_villages = [villages.get(code, set()) for code in self.ids]
        position = pd.Series(np.arange(len(self.ids)), index=self.ids)
        mechanism = known["mechanism"].map({code: m for m, code in enumerate(MECHANISMS)})
        valid = mechanism.notna().to_numpy()
        counts = np.zeros((len(self.ids), len(MECHANISMS)), dtype=np.int64)
        np.add.at(counts, (position.reindex(known["credit_code"]).to_numpy()[valid].astype(np.int64),
                           mechanism.to_numpy()[valid].astype(np.int64)), 1)
        state.history = counts
        state.partner_count = counts.sum(axis=1).astype(float)
        state._record_scale = None
        return state

    @classmethod
    def from_records(cls, records: list[dict], rules: EligibilityRules) -> "Enterprises":
        """From graph.matching.county_enterprises records."""
        columns = ["credit_code", "name", "county_code", "lon", "lat", "enterprise_type", "mechanisms", "jobs_offered",
                   "contract_households", "land_wanted_mu", "equity_households", "ecommerce_households",
                   "skill_required", "industry_codes", "bought_codes", "partner_villages", "used", "project_counties",
                   "project_industries"]
        if records and "history" in records[0]:
            columns.append("history")
        return cls(pd.DataFrame.from_records(records, columns=columns), rules)
