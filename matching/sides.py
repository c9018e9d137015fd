"""Both sides decide: how likely an enterprise is to take a household, how likely a partnership is to last, and
what it brings the household — learned from the decisions on recommendations and from the ledger.

A run ranks by expected realised benefit: the likelihood that the pair forms (the blended score) × that the
enterprise accepts × that the partnership lasts × its benefit, the benefit weighted by an exponent `beta`
chosen on the history (matching/learning.py). Every rate is smoothed towards the rate of its mechanism (a
Beta prior), so an enterprise with few decisions or partnerships is judged mostly by its peers; with no
decisions at all acceptance is 1 for everyone, and with no incomes recorded the benefit is left out.
"""
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from core.codes import Mechanism, PartnershipStatus, RecommendationStatus
from matching.candidates import Pairs
from matching.features import Enterprises, Households
from matching.rules import MECHANISMS

ACCEPT_PRIOR_STRENGTH = 5.0  # decisions an enterprise needs before its own rate counts as much as its peers'
KEEP_PRIOR_STRENGTH = 10.0  # partnerships likewise, for lasting
HOUSEHOLD_KEEP_STRENGTH = 3.0
ENTERPRISE_ROLE = "enterprise"
# Words in a decline reason and what they are about (the reasons are free text).
DECLINE_TOPICS = {
    "distance": ("远", "距离", "路程", "交通", "通勤"),
    "labour": ("劳动力", "技能", "年龄", "身体", "体力", "不会", "能力"),
    "capacity": ("名额", "已满", "满员", "容量", "暂不需要", "不需要", "用工已满"),
    "household": ("不愿", "意愿", "不同意", "外出", "户主"),
    "produce": ("品种", "产品", "质量", "产量", "规格"),
}
TOPIC_LABELS = {"distance": "距离", "labour": "劳动力", "capacity": "名额", "household": "农户意愿", "produce": "产品"}
ACCEPTED = {RecommendationStatus.ACCEPTED.value, RecommendationStatus.CONFIRMED.value}
DECLINED = RecommendationStatus.DECLINED.value


def decline_topic(reason: str | None) -> str | None:
    """What a decline reason is about (DECLINE_TOPICS), or None."""
    text = reason if isinstance(reason, str) else ""  # a missing reason may arrive as NaN
    for topic, words in DECLINE_TOPICS.items():
        if any(word in text for word in words):
            return topic
    return None


def _smoothed(successes: pd.Series, totals: pd.Series, prior: pd.Series | float, strength: float) -> pd.Series:
    return (successes + strength * prior) / (totals + strength)


def _by_mechanism(rates: dict, mechanisms: np.ndarray, default: float) -> np.ndarray:
    """Each pair's rate of its mechanism (default where there is none)."""
    return pd.Series(rates, dtype=float).reindex(mechanisms).fillna(default).to_numpy(dtype=float)


def _pair_table(rates: dict) -> pd.Series:
    """Rates keyed by (credit code, mechanism) as a Series on a MultiIndex, for vectorised lookups."""
    return pd.Series(list(rates.values()), index=pd.MultiIndex.from_tuples(list(rates.keys())), dtype=float)


def _by_pair(table: pd.Series, codes: np.ndarray, mechanisms: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Each pair's rate of its (enterprise, mechanism), else `fallback` (vectorised: a province scores millions)."""
    if table.empty:
        return fallback
    found = table.reindex(pd.MultiIndex.from_arrays([codes, mechanisms])).to_numpy(dtype=float)
    return np.where(np.isnan(found), fallback, found)


@dataclass
class SideModel:
    """Rates keyed by credit code and mechanism code (so a model fitted on one table serves any other)."""

    accept_prior: dict = field(default_factory=dict)  # mechanism → rate
    accept: dict = field(default_factory=dict)  # (credit code, mechanism) → rate
    distance_limit: dict = field(default_factory=dict)  # credit code → km from which it declined for distance
    accept_beyond: dict = field(default_factory=dict)  # credit code → its acceptance from that distance on
    keep_prior: dict = field(default_factory=dict)  # mechanism → share of partnerships not terminated
    keep: dict = field(default_factory=dict)  # (credit code, mechanism) → rate
    household_keep: dict = field(default_factory=dict)  # household id → rate (relative to the overall rate)
    overall_keep: float = 1.0
    gain: dict = field(default_factory=dict)  # mechanism → typical 年增收 per household (元)
    gain_per_mu: float = 0.0  # land lease: 元 per 亩
    beta: float = 0.0
    decisions: int = 0
    partnerships: int = 0

    @classmethod
    def fit(cls, partnerships: pd.DataFrame, decisions: pd.DataFrame | None = None,
            land_of: pd.Series | None = None) -> "SideModel":
        """Rates from the ledger (`partnerships`: credit_code, household_id, mechanism, status, income_gain) and the
        decisions (`decisions`: credit_code, mechanism, status, role, reason, distance_km); `land_of`: household
        id → 亩 (for the land lease's income per 亩)."""
        model = cls()
        model._fit_keep(partnerships)
        model._fit_gain(partnerships, land_of)
        if decisions is not None and len(decisions):
            model._fit_accept(decisions)
        return model

    def _fit_keep(self, partnerships: pd.DataFrame) -> None:
        if partnerships is None or not len(partnerships):
            return
        frame = partnerships.assign(kept=(partnerships["status"] != PartnershipStatus.TERMINATED.value).astype(float))
        self.partnerships = len(frame)
        self.overall_keep = float(frame["kept"].mean())
        by_mechanism = frame.groupby("mechanism")["kept"].agg(["sum", "count"])
        prior = _smoothed(by_mechanism["sum"], by_mechanism["count"], self.overall_keep, KEEP_PRIOR_STRENGTH)
        self.keep_prior = prior.to_dict()
        by_pair = frame.groupby(["credit_code", "mechanism"])["kept"].agg(["sum", "count"])
        mechanism_prior = by_pair.index.get_level_values("mechanism").map(self.keep_prior).to_numpy(dtype=float)
        self.keep = _smoothed(by_pair["sum"], by_pair["count"], mechanism_prior, KEEP_PRIOR_STRENGTH).to_dict()
        by_household = frame.groupby("household_id")["kept"].agg(["sum", "count"])
        household = _smoothed(by_household["sum"], by_household["count"], self.overall_keep, HOUSEHOLD_KEEP_STRENGTH)
        # Only the households whose record differs from the average (the rest are 1 relative to it).
        relative = household / max(self.overall_keep, 1e-9)
        self.household_keep = relative[(relative - 1).abs() > 1e-6].to_dict()

    def _fit_gain(self, partnerships: pd.DataFrame, land_of: pd.Series | None) -> None:
        if partnerships is None or "income_gain" not in partnerships:
            return
        gains = partnerships[pd.to_numeric(partnerships["income_gain"], errors="coerce") > 0]
        gains = gains.assign(income_gain=pd.to_numeric(gains["income_gain"]))
        self.gain = gains.groupby("mechanism")["income_gain"].median().to_dict()
        land = Mechanism.LAND_LEASE.value
        if land_of is not None:
            leases = gains[gains["mechanism"] == land]
            mu = land_of.reindex(leases["household_id"]).to_numpy(dtype=float)
            per_mu = leases["income_gain"].to_numpy(dtype=float) / np.where(mu > 0, mu, np.nan)
            if np.isfinite(per_mu).any():
                self.gain_per_mu = float(np.nanmedian(per_mu))

    def _fit_accept(self, decisions: pd.DataFrame) -> None:
        frame = decisions.assign(
            accepted=decisions["status"].isin(ACCEPTED).astype(float),
            refused=((decisions["status"] == DECLINED) & (decisions["role"] == ENTERPRISE_ROLE)).astype(float))
        frame = frame[(frame["accepted"] + frame["refused"]) > 0]  # a household-side decline says nothing of the enterprise
        self.decisions = len(frame)
        if not len(frame):
            return
        overall = float(frame["accepted"].mean())
        by_mechanism = frame.groupby("mechanism")["accepted"].agg(["sum", "count"])
        self.accept_prior = _smoothed(by_mechanism["sum"], by_mechanism["count"], overall, ACCEPT_PRIOR_STRENGTH).to_dict()
        by_pair = frame.groupby(["credit_code", "mechanism"])["accepted"].agg(["sum", "count"])
        prior = by_pair.index.get_level_values("mechanism").map(self.accept_prior).to_numpy(dtype=float)
        self.accept = _smoothed(by_pair["sum"], by_pair["count"], prior, ACCEPT_PRIOR_STRENGTH).to_dict()
        # An enterprise that declined households for their distance takes fewer from that distance on.
        topics = frame["reason"].map(decline_topic) if "reason" in frame else pd.Series(None, index=frame.index)
        distance = pd.to_numeric(frame.get("distance_km"), errors="coerce")
        far_declines = frame[(topics == "distance") & (frame["refused"] == 1) & distance.notna()]
        for code, declined in far_declines.groupby("credit_code"):
            limit = float(pd.to_numeric(declined["distance_km"]).min())
            beyond = frame[(frame["credit_code"] == code) & (distance >= limit)]
            self.distance_limit[code] = limit
            self.accept_beyond[code] = float(_smoothed(beyond["accepted"].sum(), len(beyond), overall,
                                                       ACCEPT_PRIOR_STRENGTH))

    # Built once per model (a run looks rates up for every county it scores and writes).
    @cached_property
    def _accept_table(self) -> pd.Series:
        return _pair_table(self.accept) if self.accept else pd.Series(dtype=float)

    @cached_property
    def _keep_table(self) -> pd.Series:
        return _pair_table(self.keep) if self.keep else pd.Series(dtype=float)

    def factors(self, pairs: Pairs, households: Households, enterprises: Enterprises) -> dict[str, np.ndarray]:
        """Per pair: acceptance, lasting and expected 年增收 (元; NaN where the ledger records no income)."""
        codes = pd.Series(enterprises.ids, dtype=object)[pairs.enterprise].to_numpy()
        mechanisms = np.array(MECHANISMS, dtype=object)[pairs.mechanism]
        accept = _by_pair(self._accept_table, codes, mechanisms, _by_mechanism(self.accept_prior, mechanisms, 1.0)) \
            if self.accept_prior else np.ones(len(pairs))
        if self.distance_limit:
            limit = pd.Series(self.distance_limit).reindex(codes).to_numpy(dtype=float)
            beyond = np.isfinite(limit) & (pairs.distance_km >= limit)
            accept_beyond = pd.Series(self.accept_beyond).reindex(codes).to_numpy(dtype=float)
            accept = np.where(beyond, np.minimum(accept, accept_beyond), accept)
        keep = _by_pair(self._keep_table, codes, mechanisms, _by_mechanism(self.keep_prior, mechanisms, self.overall_keep)) \
            if self.keep_prior else np.ones(len(pairs))
        if self.household_keep:
            ids = pd.Series(households.ids, dtype=object)[pairs.household].to_numpy()
            keep = keep * pd.Series(self.household_keep).reindex(ids).fillna(1.0).to_numpy(dtype=float)
        gain = _by_mechanism(self.gain, mechanisms, np.nan).copy() if self.gain else np.full(len(pairs), np.nan)
        if self.gain_per_mu > 0:
            land = pairs.mechanism == MECHANISMS.index(Mechanism.LAND_LEASE)
            gain[land] = self.gain_per_mu * households.land_mu[pairs.household[land]]
        return {"accept": np.clip(accept, 0, 1), "keep": np.clip(keep, 0, 1), "gain": gain}

    def benefit(self, gain: np.ndarray) -> np.ndarray:
        """The benefit weight in (0, 1]: (gain / the largest typical gain) ** beta; 1 without incomes."""
        if self.beta <= 0 or not self.gain:
            return np.ones(len(gain))
        top = max(max(self.gain.values()), 1e-9)
        relative = np.clip(np.nan_to_num(gain, nan=np.nanmedian(list(self.gain.values()))) / top, 1e-3, 1.0)
        return relative ** self.beta

    def weight(self, factors: dict[str, np.ndarray]) -> np.ndarray:
        """What turns the likelihood that a pair forms into its expected realised benefit: acceptance × lasting ×
        benefit weight."""
        return factors["accept"] * factors["keep"] * self.benefit(factors["gain"])


def expectation_texts(sides: SideModel, pairs: Pairs, households: Households, enterprises: Enterprises) -> np.ndarray:
    """Per pair, what the ranking expects of it, as a reason: the figures the ledger and the decisions give
    (an empty text where they give none)."""
    factors = sides.factors(pairs, households, enterprises)
    parts = []
    if sides.decisions:
        parts.append(pd.Series(factors["accept"]).map(lambda rate: f"企业接受此类推荐约 {rate:.0%}"))
    if sides.partnerships:
        parts.append(pd.Series(factors["keep"]).map(lambda rate: f"此类联结持续（未终止）约 {rate:.0%}"))
    if sides.gain:
        parts.append(pd.Series(factors["gain"]).map(
            lambda gain: f"同类联结户均年增收约 {gain:,.0f} 元" if np.isfinite(gain) and gain > 0 else ""))
    if not parts:
        return np.full(len(pairs), "", dtype=object)
    joined = pd.concat(parts, axis=1).apply(lambda row: "，".join(text for text in row if text), axis=1)
    return np.where(joined.str.len() > 0, "据台账估计：" + joined, "").astype(object)
