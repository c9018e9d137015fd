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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import neo4j
import pandas as pd

from core.settings import Settings
from etl import deactivation, formats, references, regions, scope
from etl.limits import ReadLimits
from etl.readers import RawTable, ReadError, read_file
from etl.base_data import reference_tables
from etl.report import write_report
from etl.scope import county_scope
from etl.transform import transform
from etl.validate import ERROR, WARNING, Problem, validate
from etl.writer import ROW_HASH_KEY, NodeWriter
from graph import loading
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
    warnings: int = 0
    deactivated: int = 0
    seconds: float = 0.0
    error: str | None = None  # the whole file could not be read
    skipped: bool = False  # byte-identical to the latest load of its kind under the same conditions: not read
    same_as: str | None = None  # when skipped: the file and time of the load it would repeat (its report has the rows)


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


def written_properties(label: str, rows: pd.DataFrame, file_columns: Iterable[str]) -> list[str]:
    """The declared properties a table writes.

    A column the file does not have leaves the stored property alone; an empty cell clears it.
    """
    file_columns = set(file_columns)
    return [name for name in node_type(label).loaded if name in file_columns or rows[name].notna().any()]


class Loader:
    """Loads tables into one Neo4j database with one settings object.

    Each step is a method so a caller (e.g. the ETL benchmark) can replace one, such as where rows are written.
    """

    def __init__(self, driver: neo4j.Driver, settings: Settings, progress: bool = True,
                 allowed_counties: Iterable[str] | None = None):
        self.driver = driver
        self.settings = settings
        self.database = settings.neo4j_database
        self.batch_size = settings.etl_batch_size
        self.progress = progress
        self.allowed_counties = county_scope(allowed_counties)  # None: every county

    def write_nodes(self, label: str, key: pd.Series, props: pd.DataFrame, rels: dict[str, pd.Series],
                    description: str) -> None:
        """Upsert node rows of label (rels: each declared relationship type → lists of target keys)."""
        NodeWriter(self.driver, self.database, self.batch_size, self.progress).write(label, key, props, rels,
                                                                                     description)

    def load_reference_data(self) -> None:
        """Schema first, then the divisions down to county (cpca) and the industry vocabulary."""
        apply_schema(self.driver, self.database)
        for label, key, props, rels, description in reference_tables():
            self.write_nodes(label, key, props, rels, description)

    def load_table(self, table: RawTable, file_label: str, full: bool) -> tuple[FileResult, list[Problem]]:
        """Validate, transform, check scope and references, write and clean up one table."""
        started = time.monotonic()
        kind = table.kind
        node = node_type(kind.node)
        result = FileResult(file_label, table.sheet, kind.name, rows_read=len(table.frame))
        rejected, problems = validate(table, file_label)
        rows = transform(kind, table.frame.drop(index=rejected), self.settings.id_hash_secret())
        rows, scope_problems = self.check_scope(kind, rows, table, file_label)
        problems += scope_problems
        problems += references.unknown_product_warnings(rows, table, file_label)
        rows, reference_problems = self.check_references(kind, rows, table, file_label)
        problems += reference_problems
        self.prepare_regions(kind.name, rows)
        rels = {rel.type: rows[rel.field] for rel in node.loaded_relationships}
        written = written_properties(node.label, rows, table.frame.columns)
        self.write_nodes(node.label, rows[node.key], rows[written].copy(), rels,
                         f"{Path(file_label).name}（{kind.title}）")
        if full and kind.name == "households":
            result.deactivated = self.deactivate_missing_households(table)
        result.rows_rejected = result.rows_read - len(rows)
        result.rows_loaded = len(rows)
        result.warnings = sum(1 for problem in problems if problem.severity == WARNING)
        result.seconds = time.monotonic() - started
        return result, problems

    def check_scope(self, kind: formats.FileKind, rows: pd.DataFrame, table: RawTable,
                    file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
        """Reject rows outside the allowed counties, and rows that would change a record of another county."""
        return scope.check_scope(self.driver, self.database, self.allowed_counties, kind, rows, table, file_label)

    def check_references(self, kind: formats.FileKind, rows: pd.DataFrame, table: RawTable,
                         file_label: str) -> tuple[pd.DataFrame, list[Problem]]:
        """Reject rows naming missing households / enterprises, drop missing optional links, place enterprises."""
        rows, problems = references.check_references(self.driver, self.database, kind, rows, table, file_label)
        if kind.name == "enterprises":
            rows, located = regions.locate_enterprises(self.driver, self.database, rows, table, file_label)
            problems += located
        return rows, problems

    def prepare_regions(self, kind_name: str, rows: pd.DataFrame) -> None:
        """Create the townships and villages that rows point at but that no file has loaded yet."""
        region_rows = regions.missing_region_rows(kind_name, rows)
        if region_rows:
            self.write_missing_regions(region_rows)

    def write_missing_regions(self, region_rows: list[dict]) -> None:
        """Create regions that do not exist yet (existing ones are left untouched)."""
        regions.create_missing_regions(self.driver, self.database, self.batch_size, region_rows)

    def deactivate_missing_households(self, table: RawTable) -> int:
        """Full extract: households of the file's counties that the file no longer lists become inactive."""
        return deactivation.deactivate_missing_households(self.driver, self.database, table, self.allowed_counties)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def load_fingerprint(settings: Settings, allowed_counties: set[str] | None, full: bool) -> str:
    """What besides a file's bytes decides what loading it writes: the ETL's version, the counties it may
    write, a full extract or not, and (as a hash of a hash) the ID-number hashing key."""
    material = json.dumps({"etl": ROW_HASH_KEY,
                           "counties": None if allowed_counties is None else sorted(allowed_counties),
                           "full": full, "id_key": hashlib.sha256(settings.id_hash_secret()).hexdigest()},
                          sort_keys=True)
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


def _read_tables(paths: list[str | Path], result: LoadResult, limits: ReadLimits, labels: Mapping[str, str],
                 unchanged) -> list[tuple[RawTable, str, str]]:
    """(table, file label, file digest) of every readable file that `unchanged(digest)` does not report as
    loaded already (those are skipped unread, with the figures of that load), in reference order;
    unreadable files are reported."""
    tables: list[tuple[RawTable, str, str]] = []
    for path in map(Path, paths):
        label = labels.get(str(path), str(path))
        try:
            digest = _file_digest(path)
            loaded = unchanged(digest)
            if loaded:
                result.files += _skipped_results(label, loaded)
                continue
            tables += [(table, label, digest) for table in read_file(path, limits)]
        except ReadError as error:
            result.files.append(FileResult(label, None, "unknown", error=str(error)))
            result.problems.append(Problem(label, None, 0, "", "", ERROR, str(error)))
    tables.sort(key=lambda item: formats.LOAD_ORDER.index(item[0].kind.name))
    return tables


def load_files(paths: list[str | Path], driver: neo4j.Driver, settings: Settings, *, full: bool = False,
               report_path: Path | None = None, progress: bool = True, loader: Loader | None = None,
               allowed_counties: Iterable[str] | None = None,
               labels: Mapping[str | Path, str] | None = None) -> LoadResult:
    """Load bureau files into Neo4j; returns per-file counts, every problem and the report path.

    allowed_counties (county codes) limits what the load may write; None means every county.
    labels names a file in the report and the results as its user knows it (an upload's own file name)
    instead of the path it is stored at. Workbooks are read within the settings' size limits
    (MAX_UNCOMPRESSED_MB, MAX_COMPRESSION_RATIO). A file byte-identical to the latest completed load of its
    kind under the same conditions (load_fingerprint) is skipped unread: loading it again would change
    nothing (its result says skipped, with that load's figures).
    """
    if loader is None:
        loader = Loader(driver, settings, progress, allowed_counties=allowed_counties)
    elif allowed_counties is not None:
        loader.allowed_counties = county_scope(allowed_counties)
    result = LoadResult()
    labels = {str(Path(path)): label for path, label in (labels or {}).items()}
    fingerprint = load_fingerprint(settings, loader.allowed_counties, full)
    tables = _read_tables(paths, result, ReadLimits.from_settings(settings), labels,
                          lambda digest: loading.unchanged_load(driver, digest, fingerprint, settings.neo4j_database))
    loader.load_reference_data()
    for table, label, digest in tables:
        load_id = f"{digest}-{table.kind.name}-{table.sheet or ''}"
        started_at = datetime.now(timezone.utc).isoformat()
        loading.record_load_run(driver, load_id, {"file": Path(label).name, "kind": table.kind.name, "status": "started",
                                                  "started_at": started_at, "digest": digest,
                                                  "fingerprint": fingerprint}, settings.neo4j_database)
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
