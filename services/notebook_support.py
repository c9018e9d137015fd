"""What every analyst notebook does first, in one place (notebooks/*.ipynb call `open_county`).

The notebooks read the pseudonymised analyst export (`services/analyst_data.py`: Parquet files per county and
date, households under "A…" references, no names, phones or hashes), never the live graph. This module:

- finds the export and reads one county and date of it (`open_county`: the first county exported and its
  latest date when none is given — the notebooks' `parameters` cell passes papermill's values);
- sets the display up: a Chinese font for matplotlib, pandas options;
- turns codes into labels (`core/codes.py`, region codes into region names) so no table or plot shows "01";
- gives the small statistics the findings use (shares, Wilson intervals) and `finding()`, which shows a
  computed one-line conclusion under a plot.

Settings come from `core.settings.Settings`, which reads the project root's `.env` (not the working
directory's), so a notebook behaves the same under `make notebook` (kernel in notebooks/), from a copy
elsewhere and under papermill. matplotlib and IPython are imported only inside functions: they are analyst
tools (requirements-dev.txt), not runtime dependencies of the services.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from core import codes
from core.coverage import ORDER as COVERAGE_ORDER
from core.settings import PROJECT_ROOT, Settings

__all__ = ["Analysis", "open_county", "configure_display", "label_codes", "wilson", "percent", "finding",
           "COVERAGE_COLOURS", "COVERAGE_LABELS", "TABLE_NAMES"]

# Code lists by column name, in every table of the export.
CODE_COLUMNS: dict[str, type[codes.Code]] = {
    "attribute": codes.HouseholdAttribute,
    "main_cause": codes.PovertyCause,
    "monitoring_category": codes.MonitoringCategory,
    "poverty_status": codes.PovertyStatus,
    "household_type": codes.HouseholdType,
    "mechanism": codes.Mechanism,
    "enterprise_type": codes.EnterpriseType,
    "coverage_state": codes.CoverageState,
}
# `status` means a different list in each table.
STATUS_CODES: dict[str, type[codes.Code]] = {
    "partnerships": codes.PartnershipStatus,
    "recommendations": codes.RecommendationStatus,
    "projects": codes.ProjectStatus,
}
# Columns holding a region code, shown as the region's name.
REGION_COLUMNS = ("county_code", "township_code", "village_code", "region_code", "parent_code")

TABLE_NAMES = {
    "regions": "行政区划", "households": "户", "income_history": "收入记录", "enterprises": "企业",
    "partnerships": "利益联结", "recommendations": "推荐", "runs": "匹配方案", "projects": "项目",
    "followups": "跟进事项", "unplaced": "无可行联结的户",
}
COVERAGE_LABELS = {state.value: state.label for state in COVERAGE_ORDER}
COVERAGE_COLOURS = {codes.CoverageState.CONFIRMED.value: "#2e7d32", codes.CoverageState.AWAITING.value: "#f9a825",
                    codes.CoverageState.PLANNED.value: "#64b5f6", codes.CoverageState.UNCOVERED.value: "#c62828"}
MISSING = "（未填）"
FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Serif CJK SC", "WenQuanYi Zen Hei", "SimHei",
         "Microsoft YaHei", "PingFang SC")


def configure_display() -> str | None:
    """A Chinese font for matplotlib (the first installed of FONTS; None when none is), minus signs that font
    has, and pandas options for tables that fit a notebook. Returns the font's name."""
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    chosen = next((name for name in FONTS if name in installed), None)
    if chosen:
        plt.rcParams["font.sans-serif"] = [chosen, *matplotlib.rcParams["font.sans-serif"]]
        plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["figure.dpi"] = 96
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.max_rows", 60)
    pd.set_option("display.width", 160)
    pd.set_option("display.float_format", lambda value: f"{value:,.3f}".rstrip("0").rstrip("."))
    return chosen


def label_codes(values: pd.Series, code_list: type[codes.Code]) -> pd.Series:
    """Codes → their labels; an empty cell → MISSING; a value outside the list is kept as it is."""
    labels = code_list.labels()
    return values.map(lambda value: MISSING if value is None or (isinstance(value, float) and math.isnan(value))
                      or value == "" else labels.get(str(value), str(value)))


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95 % by default); (nan, nan) when total is 0."""
    if not total:
        return math.nan, math.nan
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def percent(part: float, whole: float, digits: int = 0) -> str:
    """"59%" (or "—" when whole is 0)."""
    return f"{100 * part / whole:.{digits}f}%" if whole else "—"


def finding(text: str) -> None:
    """Show a computed conclusion under a plot or table (Markdown in Jupyter, a plain line elsewhere)."""
    try:
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - outside IPython
        print(f"发现：{text}")
        return
    display(Markdown(f"**发现：** {text}"))


def default_root(settings: Settings | None = None) -> Path:
    """Where `flask analyst export` writes by default: var/analyst under the settings' var folder."""
    return Path((settings or Settings()).var_dir) / "analyst"


@dataclass
class Analysis:
    """One county at one date of the analyst export, with the helpers the notebooks use."""

    county: str
    as_of: str
    root: Path
    tables: dict[str, pd.DataFrame]
    counties: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        frame = self.tables.get(name)
        return frame.copy() if frame is not None else pd.DataFrame()

    @property
    def region_names(self) -> dict[str, str]:
        regions = self.tables.get("regions")
        if regions is None or regions.empty:
            return {}
        return dict(zip(regions["code"].astype(str), regions["name"].fillna(regions["code"]).astype(str)))

    def region_name(self, code) -> str:
        """A region's name (its code only when the export has no name for it)."""
        if code is None or (isinstance(code, float) and math.isnan(code)):
            return MISSING
        return self.region_names.get(str(code), str(code))

    @property
    def county_name(self) -> str:
        manifest = next((frame.attrs.get("manifest") for frame in self.tables.values() if frame.attrs.get("manifest")),
                        None) or {}
        return manifest.get("county_name") or self.region_name(self.county)

    def village_label(self, code) -> str:
        """"村名（乡镇名）": village names repeat across townships."""
        regions = self.tables.get("regions")
        parent = None
        if regions is not None and not regions.empty:
            row = regions.loc[regions["code"].astype(str) == str(code)]
            if len(row):
                parent = row.iloc[0].get("parent_code")
        name = self.region_name(code)
        return f"{name}（{self.region_name(parent)}）" if parent is not None and str(parent) in self.region_names \
            else name

    def labelled(self, name: str) -> pd.DataFrame:
        """Table `name` with every code column as labels and region codes as region names."""
        return self.label(self[name], table=name)

    def label(self, frame: pd.DataFrame, table: str | None = None) -> pd.DataFrame:
        out = frame.copy()
        for column, code_list in CODE_COLUMNS.items():
            if column in out:
                out[column] = label_codes(out[column], code_list)
        if table in STATUS_CODES and "status" in out:
            out["status"] = label_codes(out["status"], STATUS_CODES[table])
        for column in REGION_COLUMNS:
            if column in out:
                out[column] = out[column].map(self.region_name)
        return out

    def caption(self) -> str:
        return f"{self.county_name}（数据日期 {self.as_of}）"


def _available(root: Path) -> dict[str, list[str]]:
    """county → its export dates (oldest first), read from the export's own listing."""
    from services import analyst_data

    listed = analyst_data.available(root=root)
    if isinstance(listed, dict):
        return {str(county): sorted(str(d) for d in dates) for county, dates in listed.items()}
    found: dict[str, list[str]] = {}
    for item in listed:  # [(county, date), …]
        county, when = (item["county"], item["as_of"]) if isinstance(item, dict) else item
        found.setdefault(str(county), []).append(str(when))
    return {county: sorted(dates) for county, dates in found.items()}


def flag(values: pd.Series) -> pd.Series:
    """A flag column (nullable boolean) as plain bools, a missing value as False."""
    return values.astype("boolean").fillna(False).astype(bool)


def _settled(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Plain bools for the flags the notebooks filter on; a household's coverage state from its flags where the
    export has none stored (core/coverage.py: the first that holds)."""
    from core.coverage import state_of

    frame = frame.copy()
    for column in ("current", "assigned", "covered", "pending", "planned", "monitored", "active", "in_county"):
        if column in frame:
            frame[column] = flag(frame[column])
    if name == "households" and len(frame) and {"covered", "pending", "planned"} <= set(frame.columns):
        derived = [state_of(c, p, q).value for c, p, q in zip(frame["covered"], frame["pending"], frame["planned"])]
        stored = frame["coverage_state"] if "coverage_state" in frame else pd.Series([None] * len(frame), index=frame.index)
        frame["coverage_state"] = stored.where(stored.notna() & (stored != ""), derived)
    if name == "households" and "monitored" not in frame and "monitoring_category" in frame:
        frame["monitored"] = frame["monitoring_category"].notna() & (frame["monitoring_category"] != "")
    return frame


def open_county(county: str | None = None, as_of: str | date | None = None, root: str | Path | None = None,
                display: bool = True) -> Analysis:
    """Read one county of the analyst export: `county` None → the first county exported, `as_of` None → its
    latest date, `root` None → var/analyst (from the settings, i.e. the project root's .env). Sets the display
    up and prints what was read (county name, date, rows per table)."""
    from services import analyst_data

    root = Path(root) if root else default_root()
    exported = _available(root)
    if not exported:
        raise FileNotFoundError(f"{root} 中没有分析数据：先运行 flask --app wsgi analyst export --county … "
                                f"/ no analyst export under {root}")
    county = str(county) if county else sorted(exported)[0]
    if county not in exported:
        raise LookupError(f"{county} 没有导出的分析数据（已导出：{', '.join(sorted(exported))}）")
    when = str(as_of) if as_of else exported[county][-1]
    tables = analyst_data.read_county(county, as_of=when, root=root)
    tables = {name: _settled(name, frame) for name, frame in tables.items()}
    analysis = Analysis(county=county, as_of=when, root=root, tables=tables, counties=sorted(exported))
    if display:
        configure_display()
        rows = "，".join(f"{TABLE_NAMES.get(name, name)} {len(frame):,}" for name, frame in analysis.tables.items())
        print(f"{analysis.caption()}：{rows}")
    return analysis


def project_root() -> Path:
    """The project this module was imported from (not the working directory)."""
    return PROJECT_ROOT


def binding_label(reason) -> str:
    """A binding constraint (matching/diagnose.py's reason code, or a label already) in Chinese."""
    from matching.diagnose import REASONS

    if reason is None or (isinstance(reason, float) and math.isnan(reason)) or reason == "":
        return MISSING
    text = REASONS.get(str(reason), str(reason))
    return text.split(" / ")[0]


def run_coverage(runs: pd.DataFrame) -> pd.DataFrame:
    """Each run's four coverage counts when it became current (the export's `<state>_at_switch` columns), indexed
    by that moment (oldest first), columns the four CoverageState values; runs without the counts are left out."""
    states = list(COVERAGE_LABELS)
    if runs is None or runs.empty:
        return pd.DataFrame(columns=states)
    frame = runs.copy()
    for state in states:
        column = f"{state}_at_switch"
        frame[state] = pd.to_numeric(frame[column], errors="coerce") if column in frame else math.nan
    moment = frame["switched_at"] if "switched_at" in frame else frame["created_at"]  # when it became current
    when = pd.to_datetime(moment, errors="coerce", utc=True).dt.tz_localize(None)
    out = frame.assign(日期=when).dropna(subset=["日期"]).dropna(subset=states, how="all")
    out = out.set_index("日期").sort_index()[states].fillna(0).astype(int)
    return out[out.sum(axis=1) > 0]


def in_force_share(partnerships: pd.DataFrame, households: int, dates) -> pd.Series:
    """Share of the county's households with a partnership in force (by the ledger's start and end dates) at
    each date; a partnership awaiting confirmation is not in force."""
    if partnerships is None or partnerships.empty or not households:
        return pd.Series(dtype=float)
    ledger = partnerships[partnerships["status"] != codes.PartnershipStatus.AWAITING_CONFIRMATION.value]
    start = pd.to_datetime(ledger["start_date"], errors="coerce")
    end = pd.to_datetime(ledger["end_date"], errors="coerce")
    shares = {}
    for moment in pd.to_datetime(list(dates)):
        held = (start <= moment) & (end.isna() | (end >= moment))
        shares[moment] = ledger.loc[held, "household_ref"].nunique() / households
    return pd.Series(shares, name="有履约中联结的户占比")


def km_between(lon1, lat1, lon2, lat2):
    """Great-circle distance in km (numpy arrays or numbers)."""
    import numpy as np

    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))
