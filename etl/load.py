"""Load: validated, transformed rows → Neo4j in keyed UNWIND batches; then cleanup.

    result = load_files(["households.csv", "members.xlsx"], driver, settings, full=True)

Constraints are applied first; files load in reference order (villages, households,
members, enterprises, projects, partnerships), so that the townships and villages that
households name exist before enterprises are placed in them. Rows whose references are missing are
rejected and reported like any other bad row, so counts always reconcile:
rows read = rows loaded + rows rejected.

A load may be limited to some counties (`allowed_counties`, e.g. a bureau's own county): rows of
any other county — or that would change a record already belonging to another county — are rejected
like any other bad row, and `full` deactivation touches only the allowed counties.
"""
import hashlib
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import neo4j
import pandas as pd
from tqdm import tqdm

from core.settings import Settings
from core import geography
from etl import formats, values
from etl.readers import RawTable, ReadError, read_file
from etl.report import write_report
from etl.transform import SPECS, NodeSpec, base_regions, industry_rows, transform
from etl.validate import ERROR, WARNING, Problem, validate
from graph import loading
from graph.loading import RelationshipSpec
from graph.schema import apply_schema

OUTSIDE_SCOPE = "不属于本账号管辖的县 / outside the county you may load"
HOUSEHOLD_OUTSIDE_SCOPE = "所属户不属于本账号管辖的县 / household is outside the county you may load"
OWNED_ELSEWHERE = "该记录已属于其他县，不能修改 / record already belongs to a county you may not load"

# The column that decides the county of a row: a region code, or the household the row belongs to.
SCOPE_COLUMN = {"villages": "village_code", "households": "village_code", "enterprises": "region_code",
                "projects": "region_code", "members": "household_id", "partnerships": "household_id"}
# The file column holding each kind's key (members are keyed by the hash of their ID number).
KEY_COLUMN = {"villages": "village_code", "households": "household_id", "members": "id_number",
              "enterprises": "credit_code", "projects": "project_id", "partnerships": "partnership_id"}

# 16 bytes, as pandas requires; change the version digits when transforms change so every row is rewritten once.
ROW_HASH_KEY = "lianjie-etl-0001"


@dataclass
class FileResult:
    """What happened to one table of one file."""

    file: str
    sheet: str | None
    kind: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    warnings: int = 0
    deactivated: int = 0
    seconds: float = 0.0
    error: str | None = None  # the whole file could not be read


@dataclass
class LoadResult:
    """A whole load: per-file results, every problem, and where the report was written."""

    files: list[FileResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    report_path: Path | None = None

    @property
    def rows_rejected(self) -> int:
        return sum(result.rows_rejected for result in self.files)

    @property
    def failed_files(self) -> int:
        return sum(1 for result in self.files if result.error)


class Loader:
    """Loads tables into one Neo4j database with one settings object."""

    def __init__(self, driver: neo4j.Driver, settings: Settings, progress: bool = True,
                 allowed_counties: Iterable[str] | None = None):
        self.driver = driver
        self.settings = settings
        self.database = settings.neo4j_database
        self.batch_size = settings.etl_batch_size
        self.progress = progress
        self.allowed_counties = county_scope(allowed_counties)  # None: every county

    # --- writing ---------------------------------------------------------------------------

    def write_nodes(self, label: str, key: pd.Series, props: pd.DataFrame, rels: dict[str, pd.Series],
                    specs: tuple[RelationshipSpec, ...], description: str) -> None:
        """Upsert node rows in batches, each batch one transaction; unchanged rows are not sent.

        Keys not yet in the graph are created by a plain CREATE query; existing keys whose row
        changed are merged and their relationships replaced.
        """
        hashes = pd.Series(_row_hashes(props, rels), index=key.index)
        stored = loading.stored_row_hashes(self.driver, label, key.tolist(), self.database)
        exists = key.isin(stored.keys()).to_numpy()
        changed = (key.map(stored) != hashes).to_numpy()
        work = [(loading.create_query(label, specs), ~exists), (loading.upsert_query(label, specs), exists & changed)]
        total = int(sum(mask.sum() for _, mask in work))
        bar = tqdm(total=total, desc=description, unit="行", disable=not self.progress or total == 0, leave=False)
        # One batch is written while the next is prepared, so Python and Neo4j each keep a core busy.
        with bar, ThreadPoolExecutor(max_workers=1) as writer:
            pending = None
            for query, mask in work:
                part_key, part_props, part_hashes = key[mask], props[mask], hashes[mask].tolist()
                part_rels = {rel_type: targets[mask] for rel_type, targets in rels.items()}
                for start in range(0, len(part_key), self.batch_size):
                    stop = min(start + self.batch_size, len(part_key))
                    rows = _records(part_key.iloc[start:stop], part_props.iloc[start:stop],
                                    {t: s.iloc[start:stop] for t, s in part_rels.items()}, part_hashes[start:stop])
                    if pending is not None:
                        bar.update(pending.result())
                    pending = writer.submit(self._write_batch, query, rows)
            if pending is not None:
                bar.update(pending.result())

    def _write_batch(self, query: str, rows: list[dict]) -> int:
        """Write one batch; returns its size for the progress bar."""
        loading.upsert_batch(self.driver, query, rows, self.database)
        return len(rows)

    def load_reference_data(self) -> None:
        """Schema first, then the divisions down to county (cpca) and the industry vocabulary."""
        apply_schema(self.driver, self.database)
        regions = base_regions()
        for level in ("province", "prefecture", "county"):
            part = regions[regions["level"] == level]
            self.write_nodes("Region", part["code"], part[["name", "level", "lon", "lat", "position_source"]],
                             {"PART_OF": part["parent_codes"]}, (RelationshipSpec("PART_OF", "Region"),), "行政区划")
        industries = industry_rows()
        self.write_nodes("Industry", industries["code"], industries[["name", "aliases", "land_based"]], {}, (), "产业")

    # --- one table ---------------------------------------------------------------------------

    def load_table(self, table: RawTable, file_label: str, full: bool) -> tuple[FileResult, list[Problem]]:
        """Validate, transform, check references, upsert and clean up one table."""
        started = time.monotonic()
        kind = table.kind
        result = FileResult(file_label, table.sheet, kind.name, rows_read=len(table.frame))
        rejected, problems = validate(table, file_label)
        good = table.frame.drop(index=rejected)
        rows = transform(kind, good, self.settings.id_hash_secret())
        rows, scope_problems = self.check_scope(kind, rows, table, file_label)
        problems += scope_problems
        problems += _unknown_product_warnings(rows, kind, table, file_label)
        rows, reference_problems = self.check_references(kind, rows, table, file_label)
        problems += reference_problems
        spec = SPECS[kind.name]
        self.prepare_regions(kind.name, rows)
        rels = {rel.type: rows[column] for rel, column in spec.relationships}
        # A column the file does not have leaves the stored property alone; an empty cell clears it.
        written = [name for name in spec.properties if name in table.frame.columns or rows[name].notna().any()]
        self.write_nodes(spec.label, rows[spec.key], rows[written].copy(), rels,
                         tuple(rel for rel, _ in spec.relationships), f"{Path(file_label).name}（{kind.title}）")
        if full and kind.name == "households":
            result.deactivated = self.deactivate_missing_households(table)
        result.rows_rejected = result.rows_read - len(rows)
        result.rows_loaded = len(rows)
        result.warnings = sum(1 for problem in problems if problem.severity == WARNING)
        result.seconds = time.monotonic() - started
        return result, problems

    def check_scope(self, kind: formats.FileKind, rows: pd.DataFrame, table: RawTable,
                    file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
        """Reject rows outside the allowed counties, and rows that would change a record of another county.

        A row's county is that of its region code (villages, households, enterprises, projects) or of
        its household in the graph (members, partnerships; an unknown household is left to
        check_references, which rejects it).
        """
        if self.allowed_counties is None or rows.empty:
            return rows, []
        allowed = self.allowed_counties
        problems: list[Problem] = []
        column = SCOPE_COLUMN[kind.name]
        if column == "household_id":
            households = loading.stored_counties(self.driver, "Household", sorted(set(rows[column].dropna())), self.database)
            counties = rows[column].map(lambda household: households.get(household), na_action="ignore")
            outside = counties.map(lambda found: isinstance(found, set) and not (found and found <= allowed)).astype(bool)
            reason = HOUSEHOLD_OUTSIDE_SCOPE
        else:
            outside = ~rows["county_code"].isin(sorted(allowed))
            reason = OUTSIDE_SCOPE
        for row_number in rows.index[outside.to_numpy()]:
            problems.append(Problem(file_label, table.sheet, int(row_number), _header(table, column),
                                    _shown(table, column, row_number, rows.at[row_number, column]), ERROR, reason))
        rows = rows[~outside.to_numpy()]
        # A key already in the graph must belong to an allowed county too: no moving another county's records.
        spec = SPECS[kind.name]
        stored = loading.stored_counties(self.driver, spec.label, sorted(set(rows[spec.key].dropna())), self.database)
        owned_elsewhere = rows[spec.key].map(
            lambda key: key in stored and not (stored[key] and stored[key] <= allowed)).astype(bool).to_numpy()
        key_column = KEY_COLUMN[kind.name]
        for row_number in rows.index[owned_elsewhere]:
            problems.append(Problem(file_label, table.sheet, int(row_number), _header(table, key_column),
                                    _shown(table, key_column, row_number, rows.at[row_number, spec.key]), ERROR,
                                    OWNED_ELSEWHERE))
        problems.sort(key=lambda problem: problem.row)
        return rows[~owned_elsewhere], problems

    def prepare_regions(self, kind_name: str, rows: pd.DataFrame) -> None:
        """Create the townships and villages that rows point at but that no file has loaded yet."""
        if kind_name not in ("households", "villages") or rows.empty:
            return
        townships = rows.drop_duplicates("township_code")
        region_rows = [
            {"code": row.township_code, "parent_code": row.township_code[:6] + "000000",
             "props": {"name": _text_or(row.township_name, row.township_code), "level": "township",
                       "county_code": row.township_code[:6] + "000000"}}
            for row in townships.itertuples()
        ]
        if kind_name == "households":
            villages = rows.drop_duplicates("village_code")
            positions = base_regions().set_index("code")[["lon", "lat"]]
            for row in villages.itertuples():
                county = row.village_code[:6] + "000000"
                lon, lat = positions.loc[county] if county in positions.index else (None, None)
                region_rows.append({
                    "code": row.village_code, "parent_code": row.township_code,
                    "props": {"name": _text_or(row.village_name, row.village_code), "level": "village",
                              "township_code": row.township_code, "county_code": county,
                              "lon": _plain(lon), "lat": _plain(lat), "position_source": "county"},
                })
        self.write_missing_regions(region_rows)

    def write_missing_regions(self, region_rows: list[dict]) -> None:
        """Create regions that do not exist yet (existing ones are left untouched)."""
        for start in range(0, len(region_rows), self.batch_size):
            loading.create_missing_regions(self.driver, region_rows[start:start + self.batch_size], self.database)

    def check_references(self, kind: formats.FileKind, rows: pd.DataFrame, table: RawTable,
                         file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
        """Reject rows pointing at households / enterprises that do not exist; drop optional links with a warning."""
        problems: list[Problem] = []
        required = {"members": [("household_id", "Household", "户编号在户信息中不存在 / household not found")],
                    "partnerships": [("household_id", "Household", "户编号在户信息中不存在 / household not found"),
                                     ("credit_code", "Enterprise", "企业（统一社会信用代码）不存在 / enterprise not found")]}
        optional = {"partnerships": [("project_id", "Project", "project_ids", "项目编号不存在，未关联项目 / project not found, link skipped")],
                    "projects": [("implementer_credit_code", "Enterprise", "implementer_codes",
                                  "实施主体不在企业名录中，未关联 / implementer not found, link skipped")],
                    "enterprises": []}
        bad_rows: set[int] = set()
        for column, label, reason in required.get(kind.name, []):
            missing = self._missing(rows[column], label)
            for row_number, value in rows.loc[missing, column].items():
                problems.append(Problem(file_label, table.sheet, int(row_number), table.headers.get(column, column),
                                        str(value), ERROR, reason))
                bad_rows.add(int(row_number))
        for column, label, rel_column, reason in optional.get(kind.name, []):
            missing = self._missing(rows[column], label)
            for row_number, value in rows.loc[missing, column].items():
                problems.append(Problem(file_label, table.sheet, int(row_number), table.headers.get(column, column),
                                        str(value), WARNING, reason))
            rows.loc[missing, rel_column] = pd.Series([[] for _ in range(int(missing.sum()))], index=rows.index[missing], dtype=object)
        if kind.name == "enterprises":
            rows = self._locate_enterprises(rows, table, file_label, problems)
        return rows.drop(index=sorted(bad_rows)), problems

    def _missing(self, keys: pd.Series, label: str) -> pd.Series:
        """True where a (present) key names no node of label."""
        present = keys.dropna()
        found = loading.existing_keys(self.driver, label, sorted(set(present)), self.database)
        return keys.notna() & ~keys.isin(found)

    def _locate_enterprises(self, rows: pd.DataFrame, table: RawTable, file_label: str,
                            problems: list[Problem]) -> pd.DataFrame:
        """Link each enterprise to the most precise known region (village, township or county)."""
        candidates = pd.DataFrame({"exact": rows["region_code"], "township": rows["region_code"].str[:9] + "000",
                                   "county": rows["county_code"]})
        known = loading.existing_keys(self.driver, "Region", sorted(set(candidates.stack())), self.database)
        chosen = candidates["exact"].where(candidates["exact"].isin(known),
                                           candidates["township"].where(candidates["township"].isin(known), candidates["county"]))
        for row_number in rows.index[chosen != rows["region_code"]]:
            problems.append(Problem(file_label, table.sheet, int(row_number), table.headers.get("region_code", "行政区划代码"),
                                    rows.at[row_number, "region_code"], WARNING,
                                    "乡镇/村代码尚未加载，已关联到上级区划 / region not loaded yet, linked to its parent"))
        rows["region_codes"] = chosen.map(lambda code: [code])
        return rows

    def deactivate_missing_households(self, table: RawTable) -> int:
        """Full extract: households of the file's counties that the file no longer lists become inactive.

        With a scope, only the file's counties that are allowed are considered.
        """
        listed = set(table.frame["household_id"].dropna())
        counties = sorted({code[:6] + "000000" for code in table.frame["village_code"].dropna() if len(code) >= 6})
        if self.allowed_counties is not None:
            counties = [county for county in counties if county in self.allowed_counties]
        missing = sorted(loading.active_household_ids(self.driver, counties, self.database) - listed)
        loading.deactivate_households(self.driver, missing, datetime.now(timezone.utc).date().isoformat(), self.database)
        return len(missing)


def county_scope(codes: Iterable[str] | None) -> frozenset[str] | None:
    """Allowed county codes as 12 digits (6-digit codes are padded); None stays None (no restriction).

    Raises ValueError for anything that is not the code of a known county (a scope never widens silently).
    """
    if codes is None:
        return None
    if isinstance(codes, str):
        codes = [codes]
    scope = set()
    for code in codes:
        text = str(code).strip()
        padded = geography.pad_code(text) if re.fullmatch(r"\d{6}|\d{12}", text) else ""
        if not padded or geography.level_of(padded) != "county" or geography.division(padded) is None:
            raise ValueError(f"不是有效的县级行政区划代码 / not a known county code: {code!r}")
        scope.add(padded)
    return frozenset(scope)


def _header(table: RawTable, column: str) -> str:
    """A column's header as written in the file (the official header when the file lacks it)."""
    return table.headers.get(column) or table.kind.column(column).header


def _shown(table: RawTable, column: str, row_number, fallback) -> str:
    """The file's value of a cell for the report, masked when personal (fallback: the transformed value)."""
    raw = table.frame.at[row_number, column] if column in table.frame.columns else None
    value = fallback if raw is None or pd.isna(raw) else raw
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if table.kind.column(column).personal:
        return values.mask_id_number(pd.Series([str(value)])).iloc[0] if column == "id_number" else "***"
    return str(value)


def _text_or(value, fallback: str) -> str:
    return value if isinstance(value, str) and value else fallback


def _plain(value):
    """numpy / pandas scalars as plain Python values (None for missing) for the driver."""
    if value is None or (not isinstance(value, (list, str)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def _row_hashes(props: pd.DataFrame, rels: dict[str, pd.Series]) -> list[str]:
    """A content hash per row (properties and relationship targets), to skip unchanged rows."""
    material = props.astype("string").fillna("\x00")
    for rel_type, targets in rels.items():
        material[f"rel_{rel_type}"] = targets.map(lambda keys: "\x1f".join(keys))
    hashed = pd.util.hash_pandas_object(material, index=False, hash_key=ROW_HASH_KEY)
    return [f"{value:016x}" for value in hashed.to_numpy()]


def _column_values(series: pd.Series) -> list:
    """A column as plain Python values, None where missing (None removes the property)."""
    values = series.tolist()
    missing = series.isna().to_numpy() if series.dtype != object else series.map(
        lambda value: not isinstance(value, list) and pd.isna(value)).to_numpy(dtype=bool)
    if missing.any():
        values = [None if gone else value for value, gone in zip(values, missing)]
    return [value.item() if hasattr(value, "item") else value for value in values] if series.dtype == object else values


def _records(key: pd.Series, props: pd.DataFrame, rels: dict[str, pd.Series], hashes: list[str]) -> list[dict]:
    """Driver-ready rows built column by column (much faster than per-cell conversion)."""
    names = list(props.columns)
    columns = [_column_values(props[name]) for name in names]
    rel_types = list(rels)
    rel_columns = [rels[rel_type].tolist() for rel_type in rel_types]
    return [
        {"key": node_key, "props": dict(zip(names, prop_values)), "row_hash": row_hash,
         "rels": dict(zip(rel_types, rel_values))}
        for node_key, prop_values, row_hash, rel_values in zip(
            key.tolist(), zip(*columns) if columns else [()] * len(key), hashes,
            zip(*rel_columns) if rel_columns else [()] * len(key))
    ]


def _unknown_product_warnings(rows: pd.DataFrame, kind, table: RawTable, file_label: str) -> list[Problem]:
    """A warning for each product or industry name that is not in the vocabulary (kept as text)."""
    if "unknown_products" not in rows.columns:
        return []
    header = table.headers.get("products") or table.headers.get("industry") or table.headers.get("products_bought") or "产业"
    return [
        Problem(file_label, table.sheet, int(row_number), header, "、".join(names), WARNING,
                "产品/产业不在产业词表中（已保留原文）/ not in the industry vocabulary, kept as text")
        for row_number, names in rows["unknown_products"].items() if names
    ]


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def load_files(paths: list[str | Path], driver: neo4j.Driver, settings: Settings, *, full: bool = False,
               report_path: Path | None = None, progress: bool = True, loader: Loader | None = None,
               allowed_counties: Iterable[str] | None = None) -> LoadResult:
    """Load bureau files into Neo4j; returns per-file counts, every problem and the report path.

    allowed_counties (county codes) limits what the load may write; None means every county.
    """
    if loader is None:
        loader = Loader(driver, settings, progress, allowed_counties=allowed_counties)
    elif allowed_counties is not None:
        loader.allowed_counties = county_scope(allowed_counties)
    result = LoadResult()
    tables: list[tuple[RawTable, str, str]] = []
    for path in map(Path, paths):
        try:
            digest = _file_digest(path)
            tables += [(table, str(path), digest) for table in read_file(path)]
        except ReadError as error:
            result.files.append(FileResult(str(path), None, "unknown", error=str(error)))
            result.problems.append(Problem(str(path), None, 0, "", "", ERROR, str(error)))
    tables.sort(key=lambda item: formats.LOAD_ORDER.index(item[0].kind.name))
    loader.load_reference_data()
    for table, label, digest in tables:
        load_id = f"{digest}-{table.kind.name}-{table.sheet or ''}"
        started_at = datetime.now(timezone.utc).isoformat()
        loading.record_load_run(driver, load_id, {"file": Path(label).name, "kind": table.kind.name, "status": "started",
                                                  "started_at": started_at}, settings.neo4j_database)
        try:
            file_result, problems = loader.load_table(table, label, full)
        except ReadError as error:
            file_result = FileResult(label, table.sheet, table.kind.name, rows_read=len(table.frame),
                                     rows_rejected=len(table.frame), error=str(error))
            problems = [Problem(label, table.sheet, 0, "", "", ERROR, str(error))]
        result.files.append(file_result)
        result.problems += problems
        loading.record_load_run(driver, load_id, {
            "status": "failed" if file_result.error else "completed",
            "finished_at": datetime.now(timezone.utc).isoformat(), "rows_read": file_result.rows_read,
            "rows_loaded": file_result.rows_loaded, "rows_rejected": file_result.rows_rejected,
            "warnings": file_result.warnings, "deactivated": file_result.deactivated}, settings.neo4j_database)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    result.report_path = write_report(result.problems, report_path or Path(settings.var_dir) / "reports" / f"load-{stamp}.csv")
    return result
