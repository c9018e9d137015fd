"""Match quality and outcome figures with 95 % intervals, on the analyst export's tables
(services/analyst_data.read_county): pandas only — no Cypher, no driver. Notebooks 03 and 04 call these.

- `bootstrap_mean` / `paired_difference`: percentile bootstrap intervals (seeded), and whether a difference's
  interval holds 0 (`within_noise`), so a notebook never presents noise as a finding; `rate_interval`: a share
  with its Wilson interval.
- `time_split_evaluation`: the latest share of partnerships (by start date) held out; for each household among
  them every enterprise of the export is ranked as of the cut by methods the tables allow (nearest, most
  partnered before the cut in the household's township, most partnered overall, random); recall@k, precision@k and
  NDCG@k per household, with intervals from resampling households.
- `recommendation_funnel`: recommended → accepted by the enterprise → confirmed → still in force.
- `termination_rates`, `gain_by_mechanism`, `income_by_partnered`, `uncovered_monitoring`, `project_funds`:
  the figures of notebook 04, labels instead of codes.
- `outcome_inputs`: the export as the rows `matching/outcomes.county_report` reads (its stratified comparison).
"""
from collections.abc import Callable

import numpy as np
import pandas as pd

from core.codes import CoverageState, Mechanism, MonitoringCategory, PartnershipStatus, RecommendationStatus

BOOTSTRAP = 1000
SMALL_N = 5
IN_FORCE = PartnershipStatus.IN_FORCE.value
TERMINATED = PartnershipStatus.TERMINATED.value
ENDED = PartnershipStatus.codes(PartnershipStatus.COMPLETED, PartnershipStatus.TERMINATED)
FORMED = PartnershipStatus.codes(PartnershipStatus.IN_FORCE, PartnershipStatus.COMPLETED, PartnershipStatus.TERMINATED)
OPEN = PartnershipStatus.codes(*PartnershipStatus.open())


def mechanism_label(code) -> str:
    return Mechanism.label_of(code, "未填") if isinstance(code, str) and code else "未填"


def bootstrap_mean(values, *, bootstrap: int = BOOTSTRAP, seed: int = 0) -> dict:
    """Mean of the values with a 95 % percentile-bootstrap interval (None when there are none)."""
    values = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce").dropna(), dtype=float)
    if len(values) == 0:
        return {"n": 0, "mean": None, "low": None, "high": None}
    draws = np.random.default_rng(seed).choice(values, (bootstrap, len(values))).mean(axis=1)
    low, high = np.percentile(draws, [2.5, 97.5])
    return {"n": int(len(values)), "mean": float(values.mean()), "low": float(low), "high": float(high)}


def paired_difference(first, second, *, bootstrap: int = BOOTSTRAP, seed: int = 0) -> dict:
    """Mean of first − second over the same units, resampling units, with its 95 % interval and `within_noise`
    (the interval holds 0: no difference can be claimed)."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    result = bootstrap_mean(first - second, bootstrap=bootstrap, seed=seed)
    result["within_noise"] = result["mean"] is None or (result["low"] <= 0 <= result["high"])
    return result


def rate_interval(successes: int, total: int, *, z: float = 1.96) -> dict:
    """A share with its 95 % Wilson score interval (sound at 0 and 1, unlike a bootstrap of few draws)."""
    if total <= 0:
        return {"n": 0, "rate": None, "low": None, "high": None, "small": True}
    rate = successes / total
    denominator = 1 + z * z / total
    centre = (rate + z * z / (2 * total)) / denominator
    half = z * np.sqrt(rate * (1 - rate) / total + z * z / (4 * total * total)) / denominator
    return {"n": int(total), "rate": rate, "low": float(max(0.0, centre - half)), "high": float(min(1.0, centre + half)),
            "small": total < SMALL_N}


def describe_difference(name: str, difference: dict, unit: str = "") -> str:
    """One line: the difference with its interval, or that it is within the interval's noise."""
    if difference["mean"] is None:
        return f"{name}：无可比较的数据"
    figures = f"{difference['mean']:+.3f}{unit}（95% 区间 {difference['low']:+.3f} ~ {difference['high']:+.3f}）"
    if difference["within_noise"]:
        return f"{name}：{figures}，区间包含 0，差异在抽样误差之内，不能据此判断孰优孰劣"
    return f"{name}：{figures}，区间不含 0"


# ---------------------------------------------------------------- time-split evaluation (notebook 03)

def _by_start(partnerships: pd.DataFrame) -> pd.DataFrame:
    frame = partnerships.assign(start=pd.to_datetime(partnerships["start_date"], errors="coerce"))
    frame = frame[frame["status"].isin(FORMED + [PartnershipStatus.AWAITING_CONFIRMATION.value])]
    return frame.dropna(subset=["start", "household_ref", "credit_code"]).sort_values(
        ["start", "partnership_ref"], kind="stable").reset_index(drop=True)


def time_split(partnerships: pd.DataFrame, test_share: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    """(before, held out, cut date): the latest `test_share` of dated partnerships held out; partnerships on the
    cut's own start date all go to the held-out side, so nothing of the cut day is known before it."""
    dated = _by_start(partnerships)
    if dated.empty:
        return dated, dated, None
    cut = dated["start"].iloc[min(len(dated) - 1, int(round(len(dated) * (1 - test_share))))]
    return dated[dated["start"] < cut], dated[dated["start"] >= cut], cut


def _scores(method: str, test_households: pd.DataFrame, enterprises: pd.DataFrame, before: pd.DataFrame,
            rng: np.random.Generator) -> np.ndarray:
    """Scores (households × enterprises) of a method: higher is better."""
    n_h, n_e = len(test_households), len(enterprises)
    codes = enterprises["credit_code"].to_numpy()
    if method == "nearest":
        from matching.whatif import haversine_km
        return -haversine_km(test_households["lat"].to_numpy(dtype=float)[:, None],
                             test_households["lon"].to_numpy(dtype=float)[:, None],
                             enterprises["lat"].to_numpy(dtype=float)[None, :],
                             enterprises["lon"].to_numpy(dtype=float)[None, :])
    if method == "popular":
        counts = before.groupby("credit_code").size().reindex(codes).fillna(0).to_numpy(dtype=float)
        return np.broadcast_to(counts + rng.random(n_e) * 1e-6, (n_h, n_e)).copy()
    if method == "popular_township":
        local = before.groupby(["township_code", "credit_code"]).size()
        table = local.unstack(fill_value=0).reindex(columns=codes, fill_value=0)
        counts = table.reindex(test_households["township_code"].to_numpy()).fillna(0).to_numpy(dtype=float)
        overall = before.groupby("credit_code").size().reindex(codes).fillna(0).to_numpy(dtype=float)
        return counts + overall[None, :] * 1e-3 + rng.random((n_h, n_e)) * 1e-6
    if method == "random":
        return rng.random((n_h, n_e))
    raise ValueError(f"unknown method {method}")


METHODS = {"nearest": "最近的企业", "popular_township": "本乡镇此前联结最多的企业",
           "popular": "全县此前联结最多的企业", "random": "随机"}


def per_household_metrics(scores: np.ndarray, relevant: np.ndarray, k: int = 5) -> pd.DataFrame:
    """recall@k, precision@k and NDCG@k per household (row) from its scores and relevant enterprises (bool)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(relevant, order, axis=1)
    totals = relevant.sum(axis=1)
    discounts = 1 / np.log2(np.arange(2, k + 2))
    ideal = np.array([discounts[:min(t, k)].sum() for t in totals])
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({f"recall@{k}": np.where(totals > 0, hits.sum(axis=1) / totals, np.nan),
                             f"precision@{k}": hits.sum(axis=1) / k,
                             f"ndcg@{k}": np.where(ideal > 0, (hits * discounts).sum(axis=1) / ideal, np.nan)})


def time_split_evaluation(partnerships: pd.DataFrame, households: pd.DataFrame, positions: pd.DataFrame,
                          enterprises: pd.DataFrame, *, test_share: float = 0.2, k: int = 5,
                          bootstrap: int = BOOTSTRAP, seed: int = 0) -> dict:
    """Rank every enterprise for each held-out household as of the cut (see the module); per method the mean of
    each metric with its 95 % interval (resampling households), the per-household figures (`per_household`) and
    the split's sizes."""
    before, held_out, cut = time_split(partnerships, test_share)
    before = before.merge(households[["household_ref", "township_code"]], on="household_ref", how="left")
    firms = enterprises[["credit_code", "lon", "lat"]].copy()
    firms[["lon", "lat"]] = firms[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    firms = firms.dropna().reset_index(drop=True)
    tested = (held_out[held_out["credit_code"].isin(set(firms["credit_code"]))][["household_ref"]].drop_duplicates()
              .merge(households[["household_ref", "township_code"]], on="household_ref")
              .merge(positions[["household_ref", "lon", "lat"]], on="household_ref").reset_index(drop=True))
    result = {"cut": None if cut is None else cut.date().isoformat(), "before": int(len(before)),
              "held_out": int(len(held_out)), "households": int(len(tested)), "enterprises": int(len(firms)),
              "k": k, "methods": {}, "per_household": {}}
    if tested.empty or firms.empty:
        return result
    index = {code: i for i, code in enumerate(firms["credit_code"])}
    relevant = np.zeros((len(tested), len(firms)), bool)
    row = {ref: i for i, ref in enumerate(tested["household_ref"])}
    for ref, code in zip(held_out["household_ref"], held_out["credit_code"]):
        if ref in row and code in index:
            relevant[row[ref], index[code]] = True
    rng = np.random.default_rng(seed)
    for method in METHODS:
        figures = per_household_metrics(_scores(method, tested, firms, before, rng), relevant, k)
        result["per_household"][method] = figures
        result["methods"][method] = {metric: bootstrap_mean(figures[metric], bootstrap=bootstrap, seed=seed)
                                     for metric in figures.columns}
    return result


def evaluation_table(evaluation: dict) -> pd.DataFrame:
    """One row per method: each metric's mean and 95 % interval, labelled in Chinese."""
    rows = []
    for method, figures in evaluation["methods"].items():
        row = {"方法": METHODS[method]}
        for metric, value in figures.items():
            row[metric] = value["mean"]
            row[f"{metric} 95% 区间"] = (f"{value['low']:.3f} ~ {value['high']:.3f}" if value["mean"] is not None
                                        else "—")
        rows.append(row)
    return pd.DataFrame(rows)


def compare_methods(evaluation: dict, first: str, second: str, metric: str) -> dict:
    """Paired difference first − second of a metric over the same held-out households."""
    a = evaluation["per_household"][first][metric].to_numpy()
    b = evaluation["per_household"][second][metric].to_numpy()
    keep = ~(np.isnan(a) | np.isnan(b))
    return paired_difference(a[keep], b[keep])


def recommendation_funnel(recommendations: pd.DataFrame, partnerships: pd.DataFrame) -> pd.DataFrame:
    """Stages of the current run's recommendations: listed (households), accepted by an enterprise, confirmed,
    and in force now (a 履约中 ledger row of that household and enterprise); each with its share of the first."""
    current = recommendations
    if "current" in current:
        from matching.whatif import _truthy
        current = current[_truthy(current["current"])]
    listed = current["household_ref"].nunique()
    accepted = current[current["status"].isin(RecommendationStatus.codes(RecommendationStatus.ACCEPTED,
                                                                         RecommendationStatus.CONFIRMED))]
    confirmed = current[current["status"] == RecommendationStatus.CONFIRMED.value]
    in_force = confirmed.merge(partnerships[partnerships["status"] == IN_FORCE][["household_ref", "credit_code"]],
                               on=["household_ref", "credit_code"])
    stages = [("有推荐的户", listed), ("企业已接受", accepted["household_ref"].nunique()),
              ("已确认", confirmed["household_ref"].nunique()), ("履约中", in_force["household_ref"].nunique())]
    return pd.DataFrame([{"阶段": name, "户数": count, "占有推荐的户": count / listed if listed else None}
                         for name, count in stages])


# ---------------------------------------------------------------- outcomes and risk (notebook 04)

def uncovered_monitoring(households: pd.DataFrame, regions: pd.DataFrame | None = None, *,
                         min_households: int = SMALL_N) -> dict:
    """Monitoring households (监测对象: a monitoring category) without a partnership in force or awaiting
    (`coverage_state` not confirmed / awaiting): the county's share against all households', per category
    (label) and per village (villages with at least `min_households` monitoring households, named from regions)."""
    covered = households["coverage_state"].isin(CoverageState.codes(CoverageState.CONFIRMED, CoverageState.AWAITING))
    monitored = households["monitoring_category"].notna() & (households["monitoring_category"].astype(str) != "")
    frame = households.assign(uncovered=~covered, monitored=monitored)
    watched = frame[frame["monitored"]]
    category = watched.groupby("monitoring_category")["uncovered"].agg(["size", "sum"]).reset_index()
    category["类别"] = category["monitoring_category"].map(lambda code: MonitoringCategory.label_of(code, "未填"))
    category = category.rename(columns={"size": "监测户", "sum": "无联结"})
    category["无联结占比"] = category["无联结"] / category["监测户"]
    village = watched.groupby("village_code")["uncovered"].agg(["size", "sum"]).reset_index()
    village = village.rename(columns={"size": "监测户", "sum": "无联结"})
    village = village[village["监测户"] >= min_households]
    if regions is not None and len(village):
        names = regions.set_index("code")["name"]
        village["村"] = village["village_code"].map(names).fillna(village["village_code"])
    village["无联结占比"] = village["无联结"] / village["监测户"]
    return {"monitored": int(len(watched)), "monitored_uncovered": int(watched["uncovered"].sum()),
            "monitored_rate": rate_interval(int(watched["uncovered"].sum()), len(watched)),
            "all_rate": rate_interval(int(frame["uncovered"].sum()), len(frame)),
            "by_category": category[["类别", "监测户", "无联结", "无联结占比"]],
            "by_village": village.sort_values(["无联结占比", "监测户"], ascending=False).reset_index(drop=True)}


def termination_rates(partnerships: pd.DataFrame, by: str, *, min_size: int = 10,
                      label: Callable[[str], str] | None = None) -> pd.DataFrame:
    """Of the partnerships that formed (履约中, 已完成, 已终止), the share terminated, per `by` (mechanism,
    credit_code …) with its 95 % interval; groups under `min_size` partnerships are left out."""
    formed = partnerships[partnerships["status"].isin(FORMED)]
    rows = []
    for key, group in formed.groupby(by):
        if len(group) < min_size:
            continue
        rate = rate_interval(int((group["status"] == TERMINATED).sum()), len(group))
        rows.append({by: key, "label": label(key) if label else key, "formed": len(group),
                     "terminated": int((group["status"] == TERMINATED).sum()), "rate": rate["rate"],
                     "low": rate["low"], "high": rate["high"]})
    frame = pd.DataFrame(rows, columns=[by, "label", "formed", "terminated", "rate", "low", "high"])
    return frame.sort_values("rate", ascending=False).reset_index(drop=True)


def gain_by_mechanism(partnerships: pd.DataFrame) -> pd.DataFrame:
    """The ledger's 年增收 (元 per household and year) of formed partnerships per mechanism label: mean with its
    95 % interval, n."""
    formed = partnerships[partnerships["status"].isin(FORMED)]
    rows = []
    for code, group in formed.groupby("mechanism"):
        figures = bootstrap_mean(group["income_gain"])
        rows.append({"联结方式": mechanism_label(code), **figures, "small": figures["n"] < SMALL_N})
    return pd.DataFrame(rows, columns=["联结方式", "n", "mean", "low", "high", "small"])


def income_by_partnered(households: pd.DataFrame, partnerships: pd.DataFrame) -> pd.DataFrame:
    """人均纯收入 of households with a partnership in force, of those with one by mechanism (label) and of those
    without any partnership: mean with its 95 % interval (a household with several mechanisms counts in each)."""
    income = households[["household_ref", "income_per_capita"]].copy()
    in_force = partnerships[partnerships["status"] == IN_FORCE]
    partnered = set(in_force["household_ref"])
    anyone = set(partnerships["household_ref"])
    rows = [{"组": "无任何联结", **bootstrap_mean(income.loc[~income["household_ref"].isin(anyone), "income_per_capita"])},
            {"组": "有履约中的联结", **bootstrap_mean(income.loc[income["household_ref"].isin(partnered),
                                                                 "income_per_capita"])}]
    for code, group in in_force.groupby("mechanism"):
        members = set(group["household_ref"])
        rows.append({"组": f"履约中：{mechanism_label(code)}",
                     **bootstrap_mean(income.loc[income["household_ref"].isin(members), "income_per_capita"])})
    return pd.DataFrame(rows, columns=["组", "n", "mean", "low", "high"])


def project_funds(projects: pd.DataFrame, partnerships: pd.DataFrame) -> pd.DataFrame:
    """Per project: funds, target households, households linked (distinct households of partnerships under it
    that formed or await confirmation), funds per linked household, and linked / target. Sorted by the gap
    (target − linked), largest first."""
    linked = (partnerships[partnerships["status"].isin(FORMED + [PartnershipStatus.AWAITING_CONFIRMATION.value])]
              .dropna(subset=["project_id"]).groupby("project_id")["household_ref"].nunique().rename("linked"))
    frame = projects.copy()
    frame["funds"] = pd.to_numeric(frame["funds"], errors="coerce")
    frame["target_households"] = pd.to_numeric(frame["target_households"], errors="coerce")
    frame["linked"] = frame["project_id"].map(linked).fillna(0).astype(int)
    frame["funds_per_linked"] = np.where(frame["linked"] > 0, frame["funds"] / frame["linked"].replace(0, np.nan),
                                         np.nan)
    frame["linked_of_target"] = np.where(frame["target_households"] > 0,
                                         frame["linked"] / frame["target_households"].replace(0, np.nan), np.nan)
    frame["gap"] = frame["target_households"].fillna(0) - frame["linked"]
    return frame.sort_values(["gap", "funds"], ascending=False).reset_index(drop=True)


def outcome_inputs(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(partnerships, households) as matching/outcomes.county_report reads them, from the export: household_id is
    the pseudonym, townships named from regions, the income history gathered into lists."""
    households, regions = tables["households"], tables["regions"]
    names = regions.set_index("code")["name"] if "name" in regions else pd.Series(dtype=object)
    types = tables["enterprises"].set_index("credit_code")["enterprise_type"]
    ledger = tables["partnerships"].merge(households[["household_ref", "township_code"]], on="household_ref",
                                          how="left")
    partnerships = pd.DataFrame({
        "household_id": ledger["household_ref"], "mechanism": ledger["mechanism"],
        "enterprise_type": ledger["credit_code"].map(types), "township_code": ledger["township_code"],
        "township_name": ledger["township_code"].map(names), "start_date": ledger["start_date"],
        "end_date": ledger["end_date"], "status": ledger["status"], "income_gain": ledger["income_gain"]})
    history = tables["income_history"].sort_values("as_of")
    dates = history.groupby("household_ref")["as_of"].agg(lambda values: [str(v)[:10] for v in values])
    values = history.groupby("household_ref")["income_per_capita"].agg(list)
    labour = [column for column in ("labour_ordinary", "labour_skilled", "labour_weak") if column in households]
    if "labourers" in households:
        labourers = pd.to_numeric(households["labourers"], errors="coerce").astype(float)
    else:
        labourers = households[labour].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1) if labour else 0
    rows = pd.DataFrame({
        "household_id": households["household_ref"],
        "county_code": households.get("county_code", pd.Series([None] * len(households))),
        "need_tier": households["need_tier"], "labourers": labourers,
        "income_dates": households["household_ref"].map(dates), "income_values": households["household_ref"].map(values)})
    return partnerships, rows
