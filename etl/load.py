"""Load: bureau files → Neo4j, one table at a time: get → transform → load → cleanup.

    result = load_files(["households.csv", "members.xlsx"], driver, settings, full=True)

Reference data comes first (constraints, divisions, industries: etl/base_data.py); files load in
reference order (villages, households, members, enterprises, projects, partnerships), so that the
townships and villages households name exist before enterprises are placed in them. Each table is
validated (etl/validate.py), transformed into the rows of the graph label its kind loads
(etl/transform.py; the properties and relationships written are those graph/model.py declares),
checked against the county scope (etl/scope.py) and the records it references (etl/references.py),
written in batches (etl/writer.py) and, for a full households extract, cleaned up
(etl/deactivation.py). Rejected rows are reported like any other bad row, so counts always
reconcile: rows read = rows loaded + rows rejected.
"""
import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import neo4j
import numpy as np
import pandas as pd
from tqdm import tqdm

from core import clock
from core.settings import Settings
from etl import deactivation, formats, references, regions, rules, scope, values
from etl.limits import ReadLimits
from etl.readers import (CHUNK_ROWS, HeaderMappings, RawChunk, RawTable, ReadError, TableSource, normalise_header,
                         open_tables)
from etl.base_data import reference_tables
from etl.report import write_report
from etl.scope import county_scope
from etl.transform import transform
from etl.validate import ERROR, INFO, WARNING, Problem, check_required_columns, duplicate_key_problem, validate
from etl.writer import ROW_HASH_KEY, NodeWriter, key_hashes, source_row_hashes
from graph import consistency, loading
from graph import mappings as graph_mappings
from graph.model import node_type
from graph.schema import apply_schema

__all__ = ["FileResult", "LoadResult", "Loader", "county_scope", "load_files"]


@dataclass
class FileResult:
    """What happened to one table of one file."""

    file: str
    sheet: str | None
    kind: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_unchanged: int = 0  # loaded rows skipped unchecked: a node carries their source hash already
    warnings: int = 0
    deactivated: int = 0
    seconds: float = 0.0
    error: str | None = None  # the whole file could not be read
    skipped: bool = False  # byte-identical to the latest load of its kind under the same conditions: not read
    same_as: str | None = None  # when skipped: the file and time of the load it would repeat (its report has the rows)
    columns: list[dict] = field(default_factory=list)  # every column: header, field (None: not read), why not


@dataclass
class LoadResult:
    """A whole load: per-file results, every problem, and where the report was written."""

    files: list[FileResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    report_path: Path | None = None
    worker_peak_kb: int = 0  # the largest peak RSS of the bulk path's worker processes (none online)
    counties_checked: int = 0  # counties the cross-file rules ran over
    consistency_seconds: float = 0.0  # the time they took

    @property
    def groups(self) -> list[dict]:
        """Every problem in a group: by consistency rule, or by severity and reason (etl/rules.py)."""
        return rules.group_problems(self.problems)

    @property
    def rows_rejected(self) -> int:
        return sum(result.rows_rejected for result in self.files)

    @property
    def failed_files(self) -> int:
        return sum(1 for result in self.files if result.error)

    @property
    def touched_partnerships(self) -> bool:
        """True when a partnerships file was read and loaded rows (the matching model may need training)."""
        return any(result.kind == "partnerships" and not result.skipped and result.rows_loaded > 0
                   for result in self.files)


def written_properties(label: str, rows: pd.DataFrame, file_columns: Iterable[str]) -> list[str]:
    """The declared properties a table writes.

    A column the file does not have leaves the stored property alone; an empty cell clears it.
    """
    file_columns = set(file_columns)
    return [name for name in node_type(label).loaded if name in file_columns or rows[name].notna().any()]


@dataclass
class FileState:
    """What the chunks of one table share: the key hashes of the rows read so far (a key met again is a
    duplicate, however far apart the rows are), for a full households extract the households listed, and the
    counties of its rows (households, members, ledger rows: where the cross-file rules run, and the counties a
    full extract covers)."""

    seen_keys: set[int] = field(default_factory=set)
    listed_households: set[str] = field(default_factory=set)
    counties: set[str] = field(default_factory=set)
    personal_columns: set[int] = field(default_factory=set)  # positions of unread columns holding ID / mobile numbers


@dataclass
class Triage:
    """A chunk sorted before any check: its rows (blank lines too), their source hashes, which to check, how
    many were skipped as unchanged, and the problems found so far (duplicate keys, unchanged rows outside the
    scope)."""

    rows: int
    hashes: pd.Series
    to_check: np.ndarray
    unchanged: int
    problems: list[Problem]


@dataclass
class PreparedChunk:
    """A chunk checked and transformed, ready to write: its figures, its problems and the write to run."""

    rows_read: int
    rows_loaded: int
    rows_unchanged: int
    problems: list[Problem]
    write: Callable[[], None] | None


class Loader:
    """Loads tables into one Neo4j database with one settings object.

    Each step is a method so a caller (e.g. the ETL benchmark) can replace one, such as where rows are written.
    """

    def __init__(self, driver: neo4j.Driver, settings: Settings, progress: bool = True,
                 allowed_counties: Iterable[str] | None = None, chunk_rows: int = CHUNK_ROWS,
                 as_of: date | None = None):
        self.driver = driver
        self.settings = settings
        self.database = settings.neo4j_database
        self.batch_size = settings.etl_batch_size
        self.progress = progress
        self.chunk_rows = chunk_rows
        self.allowed_counties = county_scope(allowed_counties)  # None: every county
        # The data's date (数据日期; default today in China time): rules compare with it (ages, years and dates in
        # the future, ends passed) and households' incomes are observed on it (graph/incomes.py, LoadRun.as_of).
        self.as_of = as_of or clock.today()
        self.counties_touched: set[str] = set()  # counties of the households, members and ledger rows read
        # Key hashes of the earlier tables of this load, per kind: a key met again in a later file is a duplicate
        self.earlier_keys: dict[str, np.ndarray] = {}

    def write_nodes(self, label: str, key: pd.Series, props: pd.DataFrame, rels: dict[str, pd.Series],
                    description: str, hashes: pd.Series | None = None) -> None:
        """Upsert node rows of label (rels: each declared relationship type → lists of target keys; hashes:
        the rows' source hashes, None where a row must be checked again on the next load)."""
        NodeWriter(self.driver, self.database, self.batch_size, progress=False, as_of=self.as_of.isoformat()).write(
            label, key, props, rels, description, hashes)

    def load_reference_data(self) -> None:
        """Schema first, then the divisions down to county (cpca) and the industry vocabulary."""
        apply_schema(self.driver, self.database)
        for label, key, props, rels, description in reference_tables():
            self.write_nodes(label, key, props, rels, description)

    def load_source(self, source: TableSource, file_label: str, full: bool,
                    conditions: str = "") -> tuple[FileResult, list[Problem]]:
        """Load one table chunk by chunk: each chunk is checked and transformed while the one before it is
        written (one write at a time, in file order), so memory stays bounded by the chunk size whatever the
        file's. conditions (load_conditions) go into each row's source hash."""
        started = time.monotonic()
        kind = source.kind
        check_required_columns(kind, source.positions)
        result = FileResult(file_label, source.sheet, kind.name)
        state, problems = FileState(), []
        bar = tqdm(desc=f"{Path(file_label).name}（{kind.title}）", unit="行", disable=not self.progress, leave=False)
        with bar:
            try:
                for chunk in self.chunk_outcomes(source, file_label, full, state, conditions):
                    result.rows_read += chunk.rows_read
                    result.rows_loaded += chunk.rows_loaded
                    result.rows_unchanged += chunk.rows_unchanged
                    problems += chunk.problems
                    bar.update(chunk.rows_read)
            except ReadError as error:
                # Met part way (a row the reader cannot parse): the chunks before it are loaded, and said so.
                result.error = (f"{error}（此前的 {result.rows_loaded} 行已加载 / the {result.rows_loaded} rows "
                                f"before it were loaded）")
                problems.append(Problem(file_label, source.sheet, 0, "", "", ERROR, result.error))
        if full and kind.name == "households" and not result.error:
            result.deactivated = self.deactivate_missing_households(state.listed_households, state.counties)
        self.counties_touched |= state.counties
        self.remember_keys(kind, state)
        result.columns, column_problems = account_for_columns(source, file_label, state.personal_columns)
        problems = column_problems + problems
        result.rows_rejected = result.rows_read - result.rows_loaded
        result.warnings = sum(1 for problem in problems if problem.severity == WARNING)
        result.seconds = time.monotonic() - started
        return result, problems

    def chunk_outcomes(self, source: TableSource, file_label: str, full: bool, state: FileState,
                       conditions: str) -> Iterator[PreparedChunk]:
        """Each chunk prepared, in file order; its write runs in a thread while the next chunk is prepared, and
        every write has finished when the iteration ends (or stops on an error)."""
        with ThreadPoolExecutor(max_workers=1) as writes:
            pending = None
            try:
                for raw in source.raw_chunks(self.chunk_rows):
                    chunk = self.prepare_chunk(raw, file_label, full, state, conditions)
                    if pending is not None:
                        pending.result()
                    pending = writes.submit(chunk.write) if chunk.write else None
                    yield chunk
            finally:
                if pending is not None:
                    pending.result()

    def prepare_chunk(self, chunk: RawChunk, file_label: str, full: bool, state: FileState,
                      conditions: str) -> PreparedChunk:
        """Duplicates, unchanged rows (skipped unchecked), validation, transform, scope, references and
        regions for one chunk; the write itself is returned, to run after the previous chunk's."""
        node = node_type(chunk.source.kind.node)
        triage = self.triage(chunk, file_label, full, state, conditions)
        rows, problems, row_hashes, blank = self.check_rows(chunk, triage, file_label)
        self.prepare_regions(chunk.source.kind.name, rows)
        write = None
        if len(rows):
            def write():
                self.write_rows(node, rows, row_hashes, chunk.source, file_label)
        return PreparedChunk(triage.rows - blank, len(rows) + triage.unchanged, triage.unchanged, problems, write)

    def write_rows(self, node, rows: pd.DataFrame, row_hashes: pd.Series, source: TableSource, file_label: str) -> None:
        """Write checked, transformed rows of a table."""
        rels = {rel.type: rows[rel.field] for rel in node.loaded_relationships}
        written = written_properties(node.label, rows, source.positions)
        self.write_nodes(node.label, rows[node.key], rows[written].copy(), rels,
                         f"{Path(file_label).name}（{source.kind.title}）", row_hashes)

    def triage(self, chunk: RawChunk, file_label: str, full: bool, state: FileState, conditions: str) -> "Triage":
        """Which rows of a chunk to check: not those whose key an earlier row has (rejected), nor those whose
        source hash a node carries (skipped, unless outside the scope: rejected).

        Only the cells every row needs (its key; the scope's column; a full extract's village) are normalised
        for all rows: the rest only for rows to check (check_rows)."""
        source = chunk.source
        kind = source.kind
        node = node_type(kind.node)
        needed = list(kind.key)
        if kind.name in COUNTY_COLUMN:
            needed.append(COUNTY_COLUMN[kind.name])
        if self.allowed_counties is not None:
            needed.append(scope.SCOPE_COLUMN[kind.name])
        cells = chunk.cells(list(dict.fromkeys(needed)))
        find_personal_columns(chunk, state.personal_columns)
        if full and kind.name == "households":
            state.listed_households.update(cells["household_id"].dropna())
        self.note_counties(kind, cells, state)
        keyed = RawTable(source.path, source.sheet, kind, cells, source.headers, source.encoding, source.unknown_columns)
        in_file = self.duplicate_keys(kind, cells, state)
        in_load = self.met_in_earlier_tables(kind, cells) & ~in_file
        duplicate = in_file | in_load
        problems = [self.duplicate_problem(kind, keyed, file_label, row, bool(earlier))
                    for row, earlier in zip(cells.index[duplicate], in_load[duplicate])]
        hashes = pd.Series(source_row_hashes(chunk.raw_lines(), conditions), index=cells.index, dtype=object)
        new = self.new_hashes(node.label, hashes[~duplicate].tolist())
        unchanged = ~hashes.isin(new).to_numpy() & ~duplicate
        outside, scope_problems = scope.unchanged_rows_outside(self.driver, self.database, self.allowed_counties,
                                                               kind, keyed, file_label, unchanged)
        problems += scope_problems
        unchanged &= ~outside
        return Triage(len(cells), hashes, ~(duplicate | outside | unchanged), int(unchanged.sum()), problems)

    def check_rows(self, chunk: RawChunk, triage: "Triage",
                   file_label: str) -> tuple[pd.DataFrame, list[Problem], pd.Series, int]:
        """Validate, transform and check scope and references of the rows triage left to check: the rows to
        write, every problem of the chunk (sorted), their source hashes and how many lines were blank."""
        kind = chunk.source.kind
        problems = list(triage.problems)
        changed = chunk.table(triage.to_check)
        changed, summary_problems = without_summary_rows(changed, file_label)
        problems += summary_problems
        changed, example_problems = without_example_rows(changed, file_label)
        problems += example_problems
        # Blank lines, totals, signatures and a template's example row are no rows.
        blank = int(triage.to_check.sum()) - len(changed.frame)
        rejected, validation_problems = validate(changed, file_label)
        problems += validation_problems
        valid, located_by, location_problems = regions.locate_by_address(
            self.known_regions, kind.name, changed.frame.drop(index=rejected), changed, file_label)
        problems += location_problems
        rows = transform(kind, valid, self.settings.id_hash_secret())
        if "location_source" in rows.columns:
            rows["location_source"] = located_by
        rows, scope_problems = self.check_scope(kind, rows, changed, file_label)
        problems += scope_problems
        problems += references.unknown_product_warnings(rows, changed, file_label)
        rows, reference_problems = self.check_references(kind, rows, changed, file_label)
        problems += reference_problems
        rows, rule_problems = rules.check_rows(kind, rows, changed, file_label, self.as_of)
        problems += rule_problems
        if kind.name == "members":
            problems += self.moved_members(rows, changed, file_label)
        # A row with a warning is checked again on every load: some warnings depend on the graph (a project
        # not loaded yet), and each load's report should name them all. Not for a rule's warning: the rules read
        # the row alone (etl/rules.py), and rewriting every flagged row at each load would cost more than the load.
        warned = [problem.row for problem in problems if problem.rule is None]
        row_hashes = triage.hashes.loc[rows.index].mask(rows.index.isin(warned), None)
        problems.sort(key=lambda problem: (problem.row, problem.column))
        return rows, problems, row_hashes, blank

    @staticmethod
    def duplicate_keys(kind: formats.FileKind, frame: pd.DataFrame, state: FileState) -> np.ndarray:
        """True for a row whose key an earlier row of the file (this chunk or an earlier one) has."""
        present = frame[list(kind.key)].notna().all(axis=1).to_numpy()
        keys = key_hashes(frame, list(kind.key))
        duplicate = np.zeros(len(frame), dtype=bool)
        seen = state.seen_keys
        for position in np.flatnonzero(present):
            key = int(keys[position])
            if key in seen:
                duplicate[position] = True
            else:
                seen.add(key)
        return duplicate

    @staticmethod
    def duplicate_problem(kind: formats.FileKind, table: RawTable, file_label: str, row_number: int,
                          earlier_table: bool) -> Problem:
        """The error of a row whose key an earlier row of the file (or of another table of the load) has: a
        member's under its rule (rules.KEY_RULES), the others' with the reason of where the key was met."""
        rule = rules.RULES.get(rules.KEY_RULES.get(kind.name, ""))
        if rule is not None:
            return duplicate_key_problem(kind, table, file_label, row_number, rule.message, rule.id)
        header = kind.column(kind.key[0]).header
        reason = (f"{header}已在本次加载的另一文件中出现，此行未加载 / key already in another file of this load: "
                  "row not loaded") if earlier_table else None
        return duplicate_key_problem(kind, table, file_label, row_number, reason)

    def met_in_earlier_tables(self, kind: formats.FileKind, frame: pd.DataFrame) -> np.ndarray:
        """True for a row whose key an earlier table of the same kind in this load had: a record appears once
        in a load (online the later row would overwrite the earlier one, and the bulk importer refuses two
        nodes of one key)."""
        earlier = self.earlier_keys.get(kind.name)
        if earlier is None or not len(earlier):
            return np.zeros(len(frame), dtype=bool)
        present = frame[list(kind.key)].notna().all(axis=1).to_numpy()
        return present & np.isin(key_hashes(frame, list(kind.key)), earlier)

    def remember_keys(self, kind: formats.FileKind, state: FileState) -> None:
        """Keep a table's key hashes for the tables of its kind after it, as a sorted array (8 bytes a key)."""
        if state.seen_keys:
            keys = np.fromiter(state.seen_keys, dtype=np.uint64, count=len(state.seen_keys))
            self.earlier_keys[kind.name] = np.union1d(self.earlier_keys.get(kind.name, keys[:0]), keys)

    def note_counties(self, kind: formats.FileKind, cells: pd.DataFrame, state: FileState) -> None:
        """Add the counties of a chunk's households (their village code) or of the households its members and
        ledger rows name (stored already: households load first) to the table's counties."""
        if kind.name == "households":
            state.counties.update(code[:6] + "000000" for code in cells["village_code"].dropna().unique()
                                  if len(code) >= 6)
        elif kind.name in COUNTY_COLUMN:
            state.counties |= self.household_counties(sorted(set(cells["household_id"].dropna())))

    def household_counties(self, household_ids: list[str]) -> set[str]:
        """The counties of the stored households among household_ids."""
        return consistency.household_counties_of(self.driver, household_ids, self.database)

    def moved_members(self, rows: pd.DataFrame, table: RawTable, file_label: str) -> list[Problem]:
        """Warnings for members (checked rows) whose ID number a stored member of another household has: the
        write moves that member to the row's household (the latest file is the registry's current state)."""
        if rows.empty:
            return []
        stored = self.stored_member_households(rows["id_hash"].tolist(), rows["household_id"].tolist())
        if not stored:
            return []
        moved = rows[rows["id_hash"].isin(list(stored))]
        findings = [{"row": row, "stored_household": stored[key], "household_id": household}
                    for row, key, household in zip(moved.index, moved["id_hash"], moved["household_id"])]
        return rules.stored_record_problems("mem.id_number_in_other_household", findings, table, table.kind,
                                            file_label)

    def stored_member_households(self, keys: list[str], households: list[str]) -> dict[str, str]:
        """key → stored household, for the members among keys stored in another household than the one given."""
        return consistency.member_households(self.driver, keys, households, self.database)

    def check_consistency(self, files: list[FileResult], counties: Iterable[str]) -> tuple[list[Problem], int, float]:
        """The cross-file rules over counties (etl/rules.py, graph/consistency.py), after the load's files are
        written: their problems (warnings), the counties checked and the seconds it took."""
        started = time.monotonic()
        counties = sorted(counties if self.allowed_counties is None else set(counties) & self.allowed_counties)
        # Two counties at a time: the server reads one while the driver decodes the other's findings.
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = pool.map(lambda county: consistency.county_findings(self.driver, county, self.as_of.isoformat(),
                                                                        self.database), counties)
            findings = [finding for county_found in found for finding in county_found]
        problems = rules.cross_file_problems(findings, files_of_kinds(files))
        return problems, len(counties), time.monotonic() - started

    def check_scope(self, kind: formats.FileKind, rows: pd.DataFrame, table: RawTable,
                    file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
        """Reject rows outside the allowed counties, and rows that would change a record of another county."""
        return scope.check_scope(self.driver, self.database, self.allowed_counties, kind, rows, table, file_label)

    def check_references(self, kind: formats.FileKind, rows: pd.DataFrame, table: RawTable,
                         file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
        """Reject rows naming missing households / enterprises, drop missing optional links, place enterprises."""
        rows, problems = references.check_references(self.existing_keys, kind, rows, table, file_label)
        if kind.name == "enterprises":
            rows, located = regions.locate_enterprises(self.existing_keys, rows, table, file_label)
            problems += located
        return rows, problems

    def existing_keys(self, label: str, keys: list[str]) -> set[str]:
        """The keys among keys for which a node of label exists (rows refer to them)."""
        return loading.existing_keys(self.driver, label, keys, self.database)

    def known_regions(self, county_codes: list[str]) -> pd.DataFrame:
        """The townships and villages known in these counties (code, name, level): an address is located among
        them by name (etl/address.py)."""
        return pd.DataFrame(loading.region_names(self.driver, county_codes, self.database), columns=regions.COLUMNS)

    def new_hashes(self, label: str, hashes: list[str]) -> set[str]:
        """The source-row hashes among hashes that no node of label carries (the others are loaded, unchanged)."""
        return loading.new_row_hashes(self.driver, label, hashes, self.database)

    def prepare_regions(self, kind_name: str, rows: pd.DataFrame) -> None:
        """Create the townships and villages that rows point at but that no file has loaded yet."""
        region_rows = regions.missing_region_rows(kind_name, rows)
        if region_rows:
            self.write_missing_regions(region_rows)

    def write_missing_regions(self, region_rows: list[dict]) -> None:
        """Create regions that do not exist yet (existing ones are left untouched)."""
        regions.create_missing_regions(self.driver, self.database, self.batch_size, region_rows)

    def deactivate_missing_households(self, listed: set[str], counties: set[str]) -> int:
        """Full extract: households of the file's counties that the file no longer lists become inactive."""
        return deactivation.deactivate_missing_households(self.driver, self.database, listed, counties,
                                                          self.allowed_counties)


# The column placing a row's household in its county: its village, or the household it belongs to.
COUNTY_COLUMN = {"households": "village_code", "members": "household_id", "partnerships": "household_id"}


def files_of_kinds(files: list[FileResult]) -> dict[str, tuple[str, str | None]]:
    """kind → (file, sheet) of the load's tables of that kind (read or skipped as unchanged); several tables of a
    kind are named together by their file names (and sheets)."""
    tables: dict[str, list[FileResult]] = {}
    for result in files:
        if not result.error:
            tables.setdefault(result.kind, []).append(result)
    named = {}
    for kind, results in tables.items():
        if len(results) == 1:
            named[kind] = (results[0].file, results[0].sheet)
        else:
            named[kind] = ("、".join(dict.fromkeys(
                Path(result.file).name + (f"［{result.sheet}］" if result.sheet else "") for result in results)), None)
    return named


COLUMN_IGNORED = "未识别的列，未加载 / column not recognised, not loaded"
COLUMN_ROW_NUMBERS = "序号列，无需加载 / row numbers: nothing to load"
COLUMN_MAPPED = "按本县保存的列对应读取 / read by the county's saved column mapping"
COLUMN_DUPLICATE = "与前面的列同名（已按前一列读取），此列未加载 / names the same field as an earlier column: not loaded"
COLUMN_PERSONAL = ("未识别的列含疑似身份证号码或手机号码：未加载，也不会保存 / unrecognised column holding ID or "
                   "mobile numbers: not loaded or stored")


# A spreadsheet's total and sign-off lines (合计 …; 填表人：…) below the table: no record, said so in the report.
SUMMARY_ROW = r"^(?:合计|总计|小计|累计|填表人|填报人|制表人|审核人|负责人|填表日期|填报日期|单位负责人)"
SUMMARY_ROW_NOTE = "合计或签字行，不是记录，未加载 / a total or sign-off line: no record, not loaded"


def without_summary_rows(table: RawTable, file_label: str) -> tuple[RawTable, list[Problem]]:
    """The table without its total and sign-off lines (a cell starting 合计 / 填表人 …, and no key but that
    text), and an information line for each in the report: they are no records, so neither loaded nor
    rejected."""
    frame = table.frame
    keys = [name for name in table.kind.key if name in frame.columns]
    if frame.empty or not keys:
        return table, []

    def starts_summary(column: pd.Series) -> pd.Series:
        return column.astype(values.ARROW_TEXT).str.contains(SUMMARY_ROW).fillna(False).astype(bool)

    # The key is looked at first (one column, in every chunk); the other cells only of the few rows it leaves.
    key_cells = frame[keys]
    candidates = (key_cells.isna() | key_cells.apply(starts_summary)).all(axis=1)
    if not candidates.any():
        return table, []
    summary = frame[candidates].apply(starts_summary).any(axis=1)
    rows = summary.index[summary]
    if rows.empty:
        return table, []
    problems = [Problem(file_label, table.sheet, int(row), "", "", INFO, SUMMARY_ROW_NOTE) for row in rows]
    return RawTable(table.path, table.sheet, table.kind, frame.drop(index=rows), table.headers, table.encoding,
                    table.unknown_columns), problems


# A template's example row (services/uploads.py writes one): its key (or the file's identifying column) starts 示例.
EXAMPLE_PREFIX = "示例"
EXAMPLE_ROW_NOTE = "示例行（模板自带，以“示例”开头），已跳过，未加载 / the template's example row: skipped"


def example_columns(kind: formats.FileKind) -> list[str]:
    """The columns whose cell marks an example row: the key and the file's identifying (first signature) column."""
    return list(dict.fromkeys([*kind.key, kind.signature[0]]))


def without_example_rows(table: RawTable, file_label: str) -> tuple[RawTable, list[Problem]]:
    """The table without the template's example rows (a key or identifying cell starting 示例), and an information
    line for each in the report: skipped on purpose, neither loaded nor rejected."""
    frame = table.frame
    columns = [name for name in example_columns(table.kind) if name in frame.columns]
    if frame.empty or not columns:
        return table, []
    marked = frame[columns].apply(
        lambda column: column.astype(values.ARROW_TEXT).str.strip().str.startswith(EXAMPLE_PREFIX).fillna(False)
        .astype(bool)).any(axis=1)
    rows = marked.index[marked]
    if rows.empty:
        return table, []
    problems = [Problem(file_label, table.sheet, int(row), "", "", INFO, EXAMPLE_ROW_NOTE) for row in rows]
    return RawTable(table.path, table.sheet, table.kind, frame.drop(index=rows), table.headers, table.encoding,
                    table.unknown_columns), problems


def find_personal_columns(chunk: RawChunk, found: set[int]) -> None:
    """Add to found the unread columns of the chunk in which a cell holds an ID or mobile number."""
    for use in chunk.source.column_uses:
        if use.field is None and use.position not in found:
            cells = pd.Series(chunk.column_cells(use.position), dtype="string")
            if (values.has_id_number(cells) | values.has_mobile(cells)).any():
                found.add(use.position)


def account_for_columns(source: TableSource, file_label: str,
                        personal: set[int]) -> tuple[list[dict], list[Problem]]:
    """Every column of a table: what it was read as (FileResult.columns), and a warning for each not read."""
    columns, problems = [], []
    header_row = source.header_index + 1
    for use in source.column_uses:
        if use.field is not None:
            column = source.kind.column(use.field)
            columns.append({"row": header_row, "header": use.header, "field": use.field,
                            "field_header": column.header, "note": COLUMN_MAPPED if use.mapped else None})
            continue
        if normalise_header(use.header) in formats.ROW_NUMBER_HEADERS and use.position not in personal:
            columns.append({"row": header_row, "header": use.header, "field": None, "field_header": None,
                            "note": COLUMN_ROW_NUMBERS, "warned": False})
            continue
        reason = COLUMN_PERSONAL if use.position in personal else COLUMN_DUPLICATE if use.duplicate else COLUMN_IGNORED
        columns.append({"row": header_row, "header": use.header, "field": None, "field_header": None, "note": reason})
        problems.append(Problem(file_label, source.sheet, header_row, use.header, "", WARNING, reason))
    return columns, problems


def file_digest(path: Path) -> str:
    """The first 16 hex digits of the file's SHA-256 (kept on its LoadRun)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def load_conditions(settings: Settings, source: TableSource) -> str:
    """What besides a row's cells decides what loading it writes, for its source hash: the kind, the file's
    header (which column is which) and (as a hash of a hash) the ID-number hashing key; the ETL version is the
    hash key. Not the load's county scope: an unchanged row is still checked against it
    (scope.unchanged_rows_outside), and writes the same when in it."""
    id_key = hashlib.sha256(settings.id_hash_secret()).hexdigest()[:16]
    # A saved mapping changes what a column is read as: rows read with one are not those read without.
    return "\x1f".join([source.kind.name, id_key, *source.header, *source.mapping_conditions])


def load_fingerprint(settings: Settings, allowed_counties: set[str] | None, full: bool,
                     mappings: HeaderMappings | None = None) -> str:
    """What besides a file's bytes decides what loading it writes: the ETL's version, the counties it may
    write, a full extract or not, (as a hash of a hash) the ID-number hashing key, and the saved column mappings
    it is read with (when there are any)."""
    facts = {"etl": ROW_HASH_KEY, "counties": None if allowed_counties is None else sorted(allowed_counties),
             "full": full, "id_key": hashlib.sha256(settings.id_hash_secret()).hexdigest()}
    if mappings:
        facts["mappings"] = {kind: sorted(headers.items()) for kind, headers in sorted(mappings.items())}
    material = json.dumps(facts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def _skipped_results(label: str, loads: list[dict]) -> list[FileResult]:
    """The results of a file skipped as unchanged: the figures of the loads it would repeat."""
    return [FileResult(label, _sheet_of(load), load.get("kind", "unknown"),
                       rows_read=load.get("rows_read") or 0, rows_loaded=load.get("rows_loaded") or 0,
                       rows_rejected=load.get("rows_rejected") or 0, warnings=load.get("warnings") or 0,
                       skipped=True, same_as=f"{load.get('file')}，{_minute(load.get('finished_at'))}") for load in loads]


def _minute(iso_time: str | None) -> str:
    """An ISO time as its UTC minute, as people read it (2026-11-30 16:23 UTC)."""
    if not iso_time:
        return "时间不详"
    return datetime.fromisoformat(iso_time).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _sheet_of(load: dict) -> str | None:
    """A LoadRun's sheet (its id is digest-kind-sheet)."""
    return load["load_id"].split("-", 2)[2] or None


def open_sources(paths: list[str | Path], result: LoadResult, limits: ReadLimits, labels: Mapping[str, str],
                 unchanged, mappings: HeaderMappings | None = None) -> list[tuple[TableSource, str, str]]:
    """(table source, file label, file digest) of every readable file that `unchanged(digest)` does not report
    as loaded already (those are skipped unread, with the figures of that load), in reference order;
    unreadable files are reported. Only headers are read here; rows are read chunk by chunk as they load."""
    sources: list[tuple[TableSource, str, str]] = []
    for path in map(Path, paths):
        label = labels.get(str(path), str(path))
        try:
            digest = file_digest(path)
            loaded = unchanged(digest)
            if loaded:
                result.files += _skipped_results(label, loaded)
                continue
            sources += [(source, label, digest) for source in open_tables(path, limits, mappings)]
        except ReadError as error:
            result.files.append(FileResult(label, None, "unknown", error=str(error)))
            result.problems.append(Problem(label, None, 0, "", "", ERROR, str(error)))
    sources.sort(key=lambda item: formats.LOAD_ORDER.index(item[0].kind.name))
    return sources


def load_files(paths: list[str | Path], driver: neo4j.Driver, settings: Settings, *, full: bool = False,
               report_path: Path | None = None, progress: bool = True, loader: Loader | None = None,
               allowed_counties: Iterable[str] | None = None,
               labels: Mapping[str | Path, str] | None = None, instance=None,
               as_of: date | None = None) -> LoadResult:
    """Load bureau files into Neo4j; returns per-file counts, every problem and the report path.

    allowed_counties (county codes) limits what the load may write; None means every county.
    labels names a file in the report and the results as its user knows it (an upload's own file name)
    instead of the path it is stored at. Workbooks are read within the settings' size limits
    (MAX_UNCOMPRESSED_MB, MAX_COMPRESSION_RATIO). A file byte-identical to the latest completed load of its
    kind under the same conditions (load_fingerprint) is skipped unread: loading it again would change
    nothing (its result says skipped, with that load's figures).

    as_of: the data's date (数据日期), default today in China time: the date the rules judge the rows at and the
    households' incomes are observed on (their history, graph/incomes.py); kept on each LoadRun.

    instance (graph.server.LocalInstance): the local Neo4j the caller lets this load stop and start. When it is
    given, its database is empty and no county scope applies, the rows go through Neo4j's offline importer
    (etl/bulk.py) instead of transactions: the same checks and results, many times faster.
    """
    if loader is None and instance is not None:
        from etl import bulk

        if bulk.eligible(driver, instance, county_scope(allowed_counties), settings.neo4j_database):
            return bulk.load_files_bulk(paths, driver, settings, instance, full=full, report_path=report_path,
                                        progress=progress, labels=labels, as_of=as_of)
    if loader is None:
        loader = Loader(driver, settings, progress, allowed_counties=allowed_counties, as_of=as_of)
    else:
        if allowed_counties is not None:
            loader.allowed_counties = county_scope(allowed_counties)
        if as_of is not None:
            loader.as_of = as_of
    result = LoadResult()
    mappings = saved_mappings(driver, loader.allowed_counties, settings.neo4j_database)
    fingerprint = load_fingerprint(settings, loader.allowed_counties, full, mappings)
    sources = open_sources(paths, result, ReadLimits.from_settings(settings), label_map(labels),
                           lambda digest: loading.unchanged_load(driver, digest, fingerprint, settings.neo4j_database),
                           mappings)
    loader.load_reference_data()
    load_sources(loader, sources, settings, full, fingerprint, result,
                 lambda load_id, props: loading.record_load_run(driver, load_id, props, settings.neo4j_database))
    problems, result.counties_checked, result.consistency_seconds = loader.check_consistency(
        result.files, loader.counties_touched)
    result.problems += problems
    result.report_path = write_report(result.problems, report_path_for(settings, report_path), result.files)
    return result


def saved_mappings(driver: neo4j.Driver, counties: set[str] | None, database: str | None) -> HeaderMappings:
    """The column mappings bureau staff saved for the counties a load is limited to (none for a load of every
    county: a mapping belongs to one county's files). Where two counties map one header, the first wins."""
    if not counties:
        return {}
    found: dict[str, dict[str, str]] = {}
    for mapping in graph_mappings.county_mappings(driver, sorted(counties), database):
        found.setdefault(mapping["kind"], {}).setdefault(mapping["header_key"], mapping["field"])
    return found


def label_map(labels: Mapping[str | Path, str] | None) -> dict[str, str]:
    return {str(Path(path)): label for path, label in (labels or {}).items()}


def report_path_for(settings: Settings, report_path: Path | None) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return report_path or Path(settings.var_dir) / "reports" / f"load-{stamp}.csv"


def load_sources(loader: Loader, sources: list[tuple[TableSource, str, str]], settings: Settings, full: bool,
                 fingerprint: str, result: LoadResult, record: Callable[[str, dict], None]) -> None:
    """Load each table in turn into result; record(load_id, properties) keeps its LoadRun (started, then
    completed or failed with its figures)."""
    for source, label, digest in sources:
        load_id = f"{digest}-{source.kind.name}-{source.sheet or ''}"
        record(load_id, {"file": Path(label).name, "kind": source.kind.name, "status": "started",
                         "started_at": datetime.now(timezone.utc).isoformat(), "digest": digest,
                         "fingerprint": fingerprint, "as_of": loader.as_of.isoformat()})
        try:
            file_result, problems = loader.load_source(source, label, full, load_conditions(settings, source))
        except ReadError as error:
            file_result = FileResult(label, source.sheet, source.kind.name, error=str(error))
            problems = [Problem(label, source.sheet, 0, "", "", ERROR, str(error))]
        result.files.append(file_result)
        result.problems += problems
        record(load_id, {
            "status": "failed" if file_result.error else "completed",
            "finished_at": datetime.now(timezone.utc).isoformat(), "rows_read": file_result.rows_read,
            "rows_loaded": file_result.rows_loaded, "rows_rejected": file_result.rows_rejected,
            "rows_unchanged": file_result.rows_unchanged,
            "warnings": file_result.warnings, "deactivated": file_result.deactivated})
