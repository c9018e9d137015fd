"""Measured outcomes of the partnerships (帮扶成效), from tables: no Flask, no Cypher.

    report = county_report(partnerships, households, today=date(2026, 12, 1))

`partnerships` holds the ledger (graph/outcomes.py PARTNERSHIP_COLUMNS), `households` the income histories and
what the comparison stratifies on (HOUSEHOLD_COLUMNS). Per mechanism, enterprise type, township and start year:
partnerships formed; their duration; the 年增收 the ledger records; and the measured income change of partnered
households against comparable households without a partnership — METHOD says how, in Chinese, and goes out with
every report. Groups resting on fewer than SMALL_N are shown but flagged (`small`).
"""
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from core.codes import EnterpriseType, Mechanism, PartnershipStatus

SMALL_N = 5
BOOTSTRAP = 1000
# Formed = in force, completed or terminated (awaiting confirmation is not formed yet).
FORMED = PartnershipStatus.codes(PartnershipStatus.IN_FORCE, PartnershipStatus.COMPLETED, PartnershipStatus.TERMINATED)
ENDED = PartnershipStatus.codes(PartnershipStatus.COMPLETED, PartnershipStatus.TERMINATED)
IN_FORCE = PartnershipStatus.IN_FORCE.value
AWAITING = PartnershipStatus.AWAITING_CONFIRMATION.value
# A partnership that may have raised a household's income between its observations.
EFFECTIVE = PartnershipStatus.codes(PartnershipStatus.IN_FORCE, PartnershipStatus.COMPLETED)
UNKNOWN = "未填"


@dataclass(frozen=True)
class Dimension:
    key: str
    title: str


DIMENSIONS = (Dimension("mechanism", "联结方式"), Dimension("enterprise_type", "企业类型"),
              Dimension("township", "乡镇"), Dimension("start_year", "开始年份"))

METHOD = (
    f"联结数：台账中状态为履约中、已完成或已终止的联结（待确认的不计），按联结方式、企业类型、户所在乡镇与开始年份分组。"
    f"时长：已结束（已完成、已终止）的联结从开始日期到结束日期的天数，取中位数；履约中的联结尚未结束，另给出其占比"
    f"与从开始到今天的天数中位数。年增收：台账记录的每条联结每户每年增收（元），给出均值、中位数与条数。"
    f"收入变化：每户的人均纯收入在每次加载时按数据日期记录（与上次不同才记），取有两次及以上观测的户，"
    f"以首末两次观测之差除以间隔年数，得每人每年的收入变化（元）。联结户：在首末观测之间开始、状态为履约中或已完成的"
    f"联结的户（分组时为该组的联结）；对照户：从无任何联结的户。按县、需要程度（need_tier）与劳动力人数（0、1、2 人及以上）"
    f"分层，层内以联结户与对照户收入变化的均值之差估计，再按联结户在各层的户数加权平均（精确分层）；"
    f"没有对照户的层不计入，并注明其层数与户数。95% 区间由层内分别有放回重抽样 {BOOTSTRAP} 次（bootstrap）的 2.5% 与 "
    f"97.5% 分位数给出。不足 {SMALL_N} 户（条）的组照常列出，但标为样本过少。"
    f"局限：这是观察数据的比较，不是随机试验；需要程度按当前数据计算（含收入），收入两次相同的户只有一次观测而不计入。"
)


def labour_category(labourers) -> pd.Series:
    """0, 1 or 2+ labourers (an unknown count as 0, as the stored read state counts no member)."""
    count = pd.to_numeric(pd.Series(labourers), errors="coerce").fillna(0)
    return pd.Series(np.where(count >= 2, "2+", np.where(count >= 1, "1", "0")), index=count.index)


def _days(later: pd.Series, earlier: pd.Series) -> pd.Series:
    return (later - earlier).dt.days.astype("Float64")


def prepare_partnerships(partnerships: pd.DataFrame, today: date) -> pd.DataFrame:
    """The ledger with dates parsed, each dimension's key and label, and durations (days)."""
    frame = partnerships.copy()
    for column in ("mechanism", "enterprise_type", "township_code", "township_name", "start_date", "end_date",
                   "status", "income_gain", "household_id"):
        if column not in frame:
            frame[column] = None
    start = pd.to_datetime(frame["start_date"], errors="coerce")
    end = pd.to_datetime(frame["end_date"], errors="coerce")
    frame["start"], frame["end"] = start, end
    frame["formed"] = frame["status"].isin(FORMED)
    frame["ended"] = frame["status"].isin(ENDED)
    frame["in_force"] = frame["status"] == IN_FORCE
    frame["duration_days"] = _days(end, start).where(frame["ended"])
    frame["elapsed_days"] = _days(pd.Series(pd.Timestamp(today), index=frame.index), start).where(frame["in_force"])
    frame["income_gain"] = pd.to_numeric(frame["income_gain"], errors="coerce")
    frame["mechanism_key"] = frame["mechanism"].fillna(UNKNOWN).astype(str)
    frame["mechanism_label"] = frame["mechanism"].map(lambda code: Mechanism.label_of(code, code or UNKNOWN)
                                                      if isinstance(code, str) else UNKNOWN)
    frame["enterprise_type_key"] = frame["enterprise_type"].fillna(UNKNOWN).astype(str)
    frame["enterprise_type_label"] = frame["enterprise_type"].map(
        lambda code: EnterpriseType.label_of(code, code) if isinstance(code, str) else UNKNOWN)
    frame["township_key"] = frame["township_code"].fillna(UNKNOWN).astype(str)
    frame["township_label"] = frame["township_name"].where(frame["township_name"].notna(), frame["township_key"])
    year = start.dt.year
    frame["start_year_key"] = year.map(lambda value: UNKNOWN if pd.isna(value) else str(int(value)))
    frame["start_year_label"] = year.map(lambda value: UNKNOWN if pd.isna(value) else f"{int(value)} 年")
    return frame


def income_changes(households: pd.DataFrame) -> pd.DataFrame:
    """Households with two or more income observations: first and last date, and the change per person per year
    between them (元); with their stratum (county, need tier, labour category)."""
    rows = []
    for household_id, county, tier, labourers, dates, values in zip(
            households["household_id"], households.get("county_code", pd.Series([None] * len(households))),
            households["need_tier"], households["labourers"], households["income_dates"],
            households["income_values"]):
        if not isinstance(dates, (list, tuple, np.ndarray)) or len(dates) < 2:
            continue
        order = np.argsort(np.asarray(dates, dtype=object))
        first, last = pd.Timestamp(dates[order[0]]), pd.Timestamp(dates[order[-1]])
        years = (last - first).days / 365.25
        if years <= 0:
            continue
        change = (float(values[order[-1]]) - float(values[order[0]])) / years
        rows.append((household_id, county, tier, labourers, first, last, change))
    frame = pd.DataFrame(rows, columns=["household_id", "county_code", "need_tier", "labourers", "first", "last",
                                        "change"])
    frame["stratum"] = (frame["county_code"].astype(str) + "|" + frame["need_tier"].astype(str) + "|"
                        + labour_category(frame["labourers"]).to_numpy())
    return frame


def stratified_effect(changes: pd.Series, treated: pd.Series, strata: pd.Series, *, bootstrap: int = BOOTSTRAP,
                      seed: int = 0) -> dict:
    """The difference of mean changes, treated minus control, within each stratum, averaged with the treated
    households' stratum weights; a 95 % interval from resampling treated and controls within each stratum.
    Rows neither treated nor control are passed with treated = None (left out). Strata without controls are
    left out and counted."""
    table = pd.DataFrame({"change": changes.to_numpy(dtype=float), "treated": treated.to_numpy(dtype=object),
                          "stratum": strata.to_numpy()})
    table = table[table["treated"].notna()]
    table["treated"] = table["treated"].astype(bool)
    treated_rows, control_rows = table[table["treated"]], table[~table["treated"]]
    result = {"partnered_n": int(len(treated_rows)), "comparable_n": 0, "estimate": None, "low": None, "high": None,
              "partnered_mean_change": None, "comparable_mean_change": None, "strata_used": 0,
              "strata_without_comparables": 0, "partnered_left_out": 0}
    controls_by_stratum = {key: group["change"].to_numpy() for key, group in control_rows.groupby("stratum")}
    rng = np.random.default_rng(seed)
    pieces, weights, draws = [], [], []
    used_controls = 0
    for key, group in treated_rows.groupby("stratum"):
        treated_values = group["change"].to_numpy()
        controls = controls_by_stratum.get(key)
        if controls is None or len(controls) == 0:
            result["strata_without_comparables"] += 1
            result["partnered_left_out"] += len(treated_values)
            continue
        used_controls += len(controls)
        pieces.append((treated_values.mean(), controls.mean()))
        weights.append(len(treated_values))
        if bootstrap:
            resampled_treated = treated_values[rng.integers(0, len(treated_values), (bootstrap, len(treated_values)))]
            resampled_controls = controls[rng.integers(0, len(controls), (bootstrap, len(controls)))]
            draws.append(resampled_treated.mean(axis=1) - resampled_controls.mean(axis=1))
    result["comparable_n"] = used_controls
    result["strata_used"] = len(weights)
    if weights:
        weight = np.asarray(weights, dtype=float) / sum(weights)
        means = np.asarray(pieces)
        result["partnered_mean_change"] = float(weight @ means[:, 0])
        result["comparable_mean_change"] = float(weight @ means[:, 1])
        result["estimate"] = float(weight @ (means[:, 0] - means[:, 1]))
        if bootstrap:
            estimates = weight @ np.vstack(draws)
            result["low"], result["high"] = (float(value) for value in np.percentile(estimates, [2.5, 97.5]))
    used_partnered = result["partnered_n"] - result["partnered_left_out"]
    result["small"] = bool(used_partnered < SMALL_N or used_controls < SMALL_N)
    return result


def _median(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.median()) if len(values) else None


def _mean(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.mean()) if len(values) else None


def group_figures(rows: pd.DataFrame) -> dict:
    """Formed partnerships, duration and ledger gain of one group (rows: formed partnerships)."""
    formed = int(len(rows))
    ended, in_force = int(rows["ended"].sum()), int(rows["in_force"].sum())
    gains = rows["income_gain"].dropna()
    return {"formed": formed, "in_force": in_force, "ended": ended,
            "in_force_share": in_force / formed if formed else None,
            "duration_median_days": _median(rows["duration_days"].astype(float)),
            "duration_n": int(rows["duration_days"].notna().sum()),
            "elapsed_median_days": _median(rows["elapsed_days"].astype(float)),
            "gain_mean": _mean(gains), "gain_median": _median(gains), "gain_n": int(len(gains)),
            "small": formed < SMALL_N}


def _treatment(changes: pd.DataFrame, partnerships: pd.DataFrame, selected: pd.Series | None) -> pd.Series:
    """Per household with a change: True when a selected effective partnership started between its first and last
    observation; False when it has no partnership at all; None otherwise (neither partnered nor comparable)."""
    any_partnership = set(partnerships["household_id"])
    effective = partnerships[partnerships["status"].isin(EFFECTIVE) & partnerships["start"].notna()]
    if selected is not None:
        effective = effective[selected.loc[effective.index]]
    window = effective[["household_id", "start"]].merge(changes[["household_id", "first", "last"]], on="household_id")
    inside = window[(window["start"] > window["first"]) & (window["start"] <= window["last"])]
    partnered = set(inside["household_id"])
    return changes["household_id"].map(
        lambda household: True if household in partnered else (None if household in any_partnership else False))


def _comparison(changes: pd.DataFrame, partnerships: pd.DataFrame, selected: pd.Series | None, bootstrap: int,
                seed: int) -> dict:
    if changes.empty:
        return stratified_effect(pd.Series(dtype=float), pd.Series(dtype=object), pd.Series(dtype=object),
                                 bootstrap=bootstrap, seed=seed)
    return stratified_effect(changes["change"], _treatment(changes, partnerships, selected), changes["stratum"],
                             bootstrap=bootstrap, seed=seed)


def county_report(partnerships: pd.DataFrame, households: pd.DataFrame, today: date, *,
                  bootstrap: int = BOOTSTRAP, seed: int = 0) -> dict:
    """The outcomes of one county (or of any set of households): totals, a table per dimension with its
    comparison per row, the overall comparison, the income observations it rests on and the method."""
    ledger = prepare_partnerships(pd.DataFrame(partnerships, columns=None), today)
    homes = pd.DataFrame(households)
    for column in ("household_id", "county_code", "need_tier", "labourers", "income_dates", "income_values"):
        if column not in homes:
            homes[column] = pd.Series([None] * len(homes), dtype=object)
    changes = income_changes(homes)
    formed = ledger[ledger["formed"]]
    dimensions = []
    for dimension in DIMENSIONS:
        rows = []
        key, label = f"{dimension.key}_key", f"{dimension.key}_label"
        for value, group in formed.groupby(key, sort=True):
            selected = ledger[key] == value
            rows.append({"key": value, "label": str(group[label].iloc[0]), **group_figures(group),
                         "comparison": _comparison(changes, ledger, selected, bootstrap, seed)})
        if dimension.key == "township":
            rows.sort(key=lambda row: (row["label"], row["key"]))
        dimensions.append({"key": dimension.key, "title": dimension.title, "rows": rows})
    history = {"households": int(len(homes)),
               "with_history": int(sum(isinstance(dates, (list, tuple, np.ndarray)) and len(dates) > 0
                                       for dates in homes["income_dates"])),
               "with_two_observations": int(len(changes)),
               "first_dates": sorted({day.date().isoformat() for day in changes["first"]}),
               "last_dates": sorted({day.date().isoformat() for day in changes["last"]})}
    if len(history["first_dates"]) > 10:  # a date per load: many only with many loads
        history["first_dates"] = [history["first_dates"][0], history["first_dates"][-1]]
    if len(history["last_dates"]) > 10:
        history["last_dates"] = [history["last_dates"][0], history["last_dates"][-1]]
    return {"as_of": today.isoformat(), "small_n": SMALL_N, "bootstrap": bootstrap, "method": METHOD,
            "totals": group_figures(formed), "awaiting": int((ledger["status"] == AWAITING).sum()),
            "comparison": _comparison(changes, ledger, None, bootstrap, seed),
            "dimensions": dimensions, "income_history": history}
