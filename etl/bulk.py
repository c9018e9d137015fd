"""The bulk path: a first load into an empty local database through Neo4j's own offline importer.

    result = load_files(paths, driver, settings, instance=LocalInstance.from_settings(settings))

When the target is the local Neo4j this project runs (graph/server.py) and its database is empty, rows
need not go through Cypher one transaction at a time. Every row is still read, checked and transformed
chunk by chunk by the same Loader as an online load (etl/load.py) — the same problems, counts and report —
but references are checked against the keys this load has written (nothing else exists), addresses are
located among the townships and villages it has written, and rows go to
CSV files. The read state pages read (graph/readstate.py) is computed from those files and added to the
household and region rows, so `neo4j-admin database import full` writes the whole store in one pass. Then the
server starts again, constraints and indexes are built (graph/schema.py) and the load runs are marked
completed.

A marker file in the instance's home is written before the server stops and removed only once the load runs
are completed: a load killed at any point leaves it, and the next load sees a database that only an
unfinished bulk load wrote and imports again from the start (the import overwrites the store).
"""
import csv
import multiprocessing
import os
import resource
import shutil
import time
from collections import defaultdict, deque
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from core import clock, need
from core.clock import today_iso
from etl import regions
from etl.limits import ReadLimits
from etl.load import (Loader, LoadResult, PreparedChunk, label_map, load_fingerprint, load_sources, open_sources,
                      report_path_for)
from etl.readers import RawChunk, ReadError
from etl.report import write_report
from etl.writer import row_hashes
from graph import consistency, followups, loading, readstate, server, warnings
from graph.db import forget_bookmarks
from graph.model import node_type
from graph.schema import apply_schema

MARKER = "bulk-import-unfinished"
ARRAY_DELIMITER = "\x1f"  # never in a cell: the reader drops control characters
# The importer reads an empty field as no property; an empty list is written as this one-item list and made
# empty after the import (graph/loading.py clear_list_markers).
EMPTY_LIST = "\x1e"
# Worker processes that check and transform chunks side by side (more than the machine's cores only wait).
MAX_WORKERS = 4
# Labels whose keys rows refer to (members' and ledger rows' keys are never looked up: not kept).
REFERENCED = ("Region", "Industry", "Household", "Enterprise", "Project")


def unfinished(instance: server.LocalInstance) -> bool:
    """True when a bulk load into this instance started and did not finish (its store is to be imported again)."""
    return (instance.home / MARKER).exists()


def eligible(driver, instance: server.LocalInstance | None, allowed_counties, database: str | None) -> bool:
    """Whether a load may take the bulk path: a local instance whose database is empty (or holds only what an
    unfinished bulk load wrote), and no county scope (a bureau's load goes online)."""
    if instance is None or allowed_counties is not None:
        return False
    return unfinished(instance) or loading.database_is_empty(driver, database)


def _import_type(values: pd.Series, listed: bool) -> str | None:
    """The importer's type of a property column (None: no value in this chunk, the column is left out)."""
    if listed:
        return "string[]"
    present = values.dropna()
    if present.empty:
        return None
    sample = present.iloc[0]
    if isinstance(sample, (bool, np.bool_)):
        return "boolean"
    if isinstance(sample, (int, np.integer)):
        return "long"
    if isinstance(sample, (float, np.floating)):
        return "double"
    return "string"


def _joined_list(value) -> str | None:
    if not isinstance(value, list):
        return None
    return ARRAY_DELIMITER.join(value) if value else EMPTY_LIST


def _column(values: pd.Series, kind: str) -> pa.Array:
    """A property column as the importer reads it, formatted in Arrow (C++) rather than cell by cell: lists
    joined (an empty list as EMPTY_LIST), booleans in lower case, non-finite numbers and missing values as
    empty fields (no property)."""
    if kind == "string[]":
        return pa.array([_joined_list(value) for value in values.tolist()], type=pa.string())
    if kind == "double":
        array = pa.Array.from_pandas(pd.to_numeric(values.astype(object), errors="coerce").astype(float),
                                     type=pa.float64())
        return pc.if_else(pc.is_finite(array), array, pa.scalar(None, pa.float64()))
    if kind == "long":
        return pa.Array.from_pandas(values.astype("Int64"), type=pa.int64())
    if kind == "boolean":
        return pa.Array.from_pandas(values.astype("boolean"), type=pa.bool_())
    objects = values.astype(object)
    present = objects.notna()
    return pa.array(objects.where(~present, objects[present].map(str)).where(present, None).tolist(),
                    type=pa.string())


def _write_csv(path: Path, columns: dict[str, pa.Array]) -> None:
    pa_csv.write_csv(pa.table(columns), path, pa_csv.WriteOptions(quoting_style="needed"))


class ImportFiles:
    """The CSV files of one import: a file per chunk of nodes of a label and per relationship type of that
    chunk, each with its own header line (so a chunk's types are its own), and the importer's arguments."""

    def __init__(self, directory: Path, prefix: str = "", fresh: bool = True):
        self.directory = directory
        self.prefix = prefix  # tells apart the files of workers writing side by side
        if fresh:
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir(parents=True)
        self.nodes: list[tuple[str, Path]] = []
        self.relationships: list[tuple[str, Path]] = []
        self.empty_lists: set[tuple[str, str]] = set()  # (label, property) written as EMPTY_LIST somewhere
        self.multiline = False  # a value holds a line break: the importer must parse fields across lines
        self.counter = 0

    def _path(self, prefix: str) -> Path:
        self.counter += 1
        return self.directory / f"{prefix}-{self.prefix}{self.counter:05d}.csv"

    def add_nodes(self, label: str, keys: pd.Series, props: pd.DataFrame, rels: dict[str, pd.Series],
                  known: Mapping[str, set[str]] | None = None) -> None:
        """Node rows (key, properties) and their relationships (lists of target keys per type; with known, only
        to the keys known of the target's label)."""
        node = node_type(label)
        listed = {prop.name for prop in node.properties if prop.list}
        columns = [(name, _import_type(props[name], name in listed)) for name in props.columns if name != node.key]
        columns = [(name, kind) for name, kind in columns if kind]
        arrays = {f"{name}:{kind}": _column(props[name], kind) for name, kind in columns}
        self.empty_lists.update((label, name) for name, kind in columns if kind == "string[]"
                                and pc.any(pc.equal(arrays[f"{name}:{kind}"], EMPTY_LIST)).as_py())
        path = self._path(f"nodes-{label}")
        _write_csv(path, {f"{node.key}:ID({label})": pa.array(keys.astype(str).tolist(), type=pa.string()), **arrays})
        if not self.multiline:
            self.multiline = any(pc.any(pc.match_substring_regex(array, "[\r\n]")).as_py()
                                 for name, array in arrays.items() if name.endswith((":string", ":string[]")))
        self.nodes.append((label, path))
        for spec in node.loaded_relationships:
            pairs = pd.DataFrame({"start": keys.to_numpy(), "end": rels[spec.type].to_numpy()}).explode("end")
            pairs = pairs[pairs["end"].notna()]
            if known is not None:
                targets = known.get(spec.target, set())
                pairs = pairs[[end in targets for end in pairs["end"].tolist()]]
            if pairs.empty:
                continue
            path = self._path(f"rels-{spec.type}")
            _write_csv(path, {f":START_ID({label})": pa.array(pairs["start"].astype(str).tolist(), type=pa.string()),
                              f":END_ID({spec.target})": pa.array(pairs["end"].astype(str).tolist(), type=pa.string())})
            self.relationships.append((spec.type, path))

    def merge(self, other: "ImportFiles") -> None:
        """Take over the files another ImportFiles (a worker's) wrote."""
        self.nodes += other.nodes
        self.relationships += other.relationships
        self.empty_lists |= other.empty_lists
        self.multiline |= other.multiline

    def arguments(self, database: str) -> list[str]:
        """`database import full` with every file, overwriting the database's store."""
        return ["database", "import", "full", database, "--overwrite-destination=true",
                f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}", f"--multiline-fields={str(self.multiline).lower()}",
                "--skip-duplicate-nodes=false", "--skip-bad-relationships=false",
                f"--report-file={self.directory / 'import.report'}",
                *(f"--nodes={label}={path}" for label, path in self.nodes),
                *(f"--relationships={rel_type}={path}" for rel_type, path in self.relationships)]


class BulkLoader(Loader):
    """A Loader whose rows go to the importer's files; references are checked against the keys written."""

    def __init__(self, driver, settings, files: ImportFiles, progress: bool = True, chunk_rows: int | None = None,
                 workers: int | None = None, as_of=None):
        super().__init__(driver, settings, progress, None, **({"chunk_rows": chunk_rows} if chunk_rows else {}),
                         as_of=as_of)
        self.files = files
        self.keys: dict[str, set[str]] = defaultdict(set)
        # county prefix (6 digits) → township / village code → (name, level) of the regions written so far: an
        # address is located among them (known_regions), as the online path does among the graph's.
        self.region_names: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
        self.workers = workers if workers is not None else min(os.cpu_count() or 1, MAX_WORKERS)
        self.chunks_sent = 0
        self.worker_peak_kb = 0

    def load_reference_data(self) -> None:
        """Divisions and industries go into the import like every other row (the schema comes after it)."""
        from etl.base_data import reference_tables

        for label, key, props, rels, _description in reference_tables():
            self.write_nodes(label, key, props, rels, "")

    def write_nodes(self, label, key, props, rels, description, hashes=None) -> None:
        # The hash an online write stores: the source row's, or (reference data) the content's.
        props = props.assign(row_hash=(row_hashes(props, rels) if hashes is None else hashes.to_numpy()))
        if label in REFERENCED:
            self.keys[label].update(key.tolist())
        if label == "Region" and {"name", "level"} <= set(props.columns):
            self.remember_regions(key.tolist(), props["name"].tolist(), props["level"].tolist())
        # As the online write MATCHes its targets, a relationship to a node that does not exist is not drawn.
        self.files.add_nodes(label, key, props, rels, known=self.keys)

    def chunk_outcomes(self, source, file_label: str, full: bool, state, conditions: str):
        """Chunks checked, transformed and written to the import's files by `workers` processes side by side
        (the server is idle: nothing is written to it until the import), taken back in file order. The keys
        and regions written so far (and the regions' names, which addresses are located among) reach the workers
        as they were when the table started (forked): a table never refers to its own rows, and each worker adds
        the regions its chunk creates."""
        if self.workers < 2:
            yield from super().chunk_outcomes(source, file_label, full, state, conditions)
            return
        _WORK.update(loader=self, source=source)
        label = node_type(source.kind.node).label
        pending: deque = deque()

        def take() -> PreparedChunk:
            future, triage = pending.popleft()
            outcome = future.result()
            self.keys[label].update(outcome.keys)
            self.remember_regions(*outcome.regions)
            self.write_missing_regions(outcome.region_rows)
            self.files.merge(outcome.files)
            self.worker_peak_kb = max(self.worker_peak_kb, outcome.peak_kb)
            return PreparedChunk(triage.rows - outcome.blank, outcome.rows_loaded + triage.unchanged,
                                 triage.unchanged, outcome.problems, None)

        with ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork")) as pool:
            try:
                for raw in source.raw_chunks(self.chunk_rows):
                    triage = self.triage(raw, file_label, full, state, conditions)
                    self.chunks_sent += 1
                    pending.append((pool.submit(_check_and_write, raw.first_number, raw.rows, triage, file_label,
                                                f"w{self.chunks_sent:05d}-"), triage))
                    while len(pending) > self.workers:  # at most workers + 1 chunks in memory
                        yield take()
            except ReadError:  # a line that cannot be parsed: the chunks before it are loaded, and counted
                while pending:
                    yield take()
                raise
            while pending:
                yield take()

    def existing_keys(self, label: str, keys: list[str]) -> set[str]:
        return self.keys[label].intersection(keys)

    def known_regions(self, county_codes: list[str]) -> pd.DataFrame:
        found = [(code, name, level) for county in sorted({code[:6] for code in county_codes})
                 for code, (name, level) in self.region_names.get(county, {}).items()]
        return pd.DataFrame(found, columns=regions.COLUMNS)

    def remember_regions(self, codes: list[str], names: list, levels: list) -> None:
        """Keep the names of townships and villages written (the first written of a code is the one kept, as
        online a region once created keeps its properties)."""
        for code, name, level in zip(codes, names, levels):
            if level in ("township", "village"):
                self.region_names[code[:6]].setdefault(code, (name, level))

    def new_hashes(self, label: str, hashes: list[str]) -> set[str]:
        return set(hashes)  # an empty database holds no row yet

    def write_missing_regions(self, region_rows: list[dict]) -> None:
        """Townships and villages met in the rows, where no region exists yet (as the online path creates them)."""
        fresh = [row for row in region_rows if row["code"] not in self.keys["Region"]]
        fresh = list({row["code"]: row for row in reversed(fresh)}.values())[::-1]  # first one of a code wins
        if not fresh:
            return
        keys = pd.Series([row["code"] for row in fresh])
        props = pd.DataFrame([row["props"] for row in fresh])
        self.keys["Region"].update(keys)  # before the parents: a village's township may come in the same rows
        self.remember_regions(keys.tolist(), props["name"].tolist(), props["level"].tolist())
        parents = pd.Series([[row["parent_code"]] if row["parent_code"] in self.keys["Region"] else [] for row in fresh])
        self.files.add_nodes("Region", keys, props, {"PART_OF": parents})  # no row_hash: no file row wrote them

    def deactivate_missing_households(self, listed: set[str], counties: set[str]) -> int:
        return 0  # an empty database has no household that a full extract could leave out

    def household_counties(self, household_ids: list[str]) -> set[str]:
        return set()  # nothing is stored before the import: the cross-file rules check every county after it

    def stored_member_households(self, keys: list[str], households: list[str]) -> dict[str, str]:
        return {}  # an empty database stores no member (one met twice in this load is a duplicate key)


@dataclass
class ChunkOutcome:
    """What a worker sends back for a chunk: figures, problems, the keys and regions it wrote, its files."""

    blank: int
    rows_loaded: int
    problems: list
    keys: list[str]
    region_rows: list[dict]
    regions: tuple[list, list, list]  # (codes, names, levels) of the Region rows it wrote (a villages file's)
    files: ImportFiles
    peak_kb: int


# What forked workers inherit: the loader (with the keys written so far) and the table being loaded.
_WORK: dict = {}


def _check_and_write(first_number: int, rows: list[list[str]], triage, file_label: str, prefix: str) -> ChunkOutcome:
    """In a worker: check and transform the rows triage left, and write them to import files of its own."""
    loader, source = _WORK["loader"], _WORK["source"]
    chunk = RawChunk(source, first_number, rows)
    node = node_type(source.kind.node)
    checked, problems, row_hashes, blank = loader.check_rows(chunk, triage, file_label)
    region_rows = regions.missing_region_rows(source.kind.name, checked)
    loader.keys["Region"].update(row["code"] for row in region_rows)  # the parent creates those missing
    loader.files = ImportFiles(loader.files.directory, prefix, fresh=False)
    if len(checked):
        loader.write_rows(node, checked, row_hashes, source, file_label)
    keys = checked[node.key].tolist() if node.label in REFERENCED else []
    written = ((keys, checked["name"].tolist(), checked["level"].tolist()) if node.label == "Region"
               else ([], [], []))
    return ChunkOutcome(blank, len(checked), problems, keys, region_rows, written, loader.files,
                        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def load_files_bulk(paths: list, driver, settings, instance: server.LocalInstance, *, full: bool = False,
                    report_path: Path | None = None, progress: bool = True, labels=None,
                    chunk_rows: int | None = None, workers: int | None = None, as_of=None) -> LoadResult:
    """load_files into an empty local database through the importer (see the module's docstring)."""
    say = (lambda text: print(text, flush=True)) if progress else (lambda text: None)
    marker = instance.home / MARKER
    marker.write_text(datetime.now(timezone.utc).isoformat(), encoding="utf-8")
    files = ImportFiles(Path(settings.var_dir) / "import" / "bulk")
    loader = BulkLoader(driver, settings, files, progress, chunk_rows, workers, as_of)
    result = LoadResult()
    fingerprint = load_fingerprint(settings, None, full)
    sources = open_sources(paths, result, ReadLimits.from_settings(settings), label_map(labels), lambda digest: [])
    say("批量导入：检查并转换各文件 / bulk import: checking and transforming the files …")
    started = time.monotonic()
    loader.load_reference_data()
    runs: dict[str, dict] = {}
    load_sources(loader, sources, settings, full, fingerprint, result,
                 lambda load_id, props: runs.setdefault(load_id, {}).update(props))
    say(f"检查与转换 / checked and transformed: {time.monotonic() - started:.1f} s")
    add_read_state(files, say, loader.as_of.isoformat())
    import_and_restart(instance, files, settings.neo4j_database or server.DEFAULT_DATABASE, say)
    forget_bookmarks(driver, settings.neo4j_database)
    finish(driver, settings.neo4j_database, files, say)
    # The database held nothing before: every county it holds now is this load's.
    counties = consistency.household_counties(driver, settings.neo4j_database)
    problems, result.counties_checked, result.consistency_seconds = loader.check_consistency(result.files, counties)
    result.problems += problems
    say(f"跨文件一致性检查 / cross-file rules: {result.consistency_seconds:.1f} s")
    # What the follow-up rules compare later writes with, and the early warnings (the importer wrote neither).
    started = time.monotonic()
    followups.observe_unseen(driver, sorted(counties), today_iso(), settings.neo4j_database)
    warnings.refresh_counties(driver, sorted(counties), database=settings.neo4j_database)
    say(f"跟进基线与预警 / follow-up baseline and warnings: {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    for load_id, props in runs.items():
        loading.record_load_run(driver, load_id, {**props, "method": "bulk"}, settings.neo4j_database)
    marker.unlink()
    shutil.rmtree(files.directory, ignore_errors=True)
    result.report_path = write_report(result.problems, report_path_for(settings, report_path), result.files)
    say(f"加载记录与报告 / load runs and report: {time.monotonic() - started:.1f} s")
    result.worker_peak_kb = loader.worker_peak_kb
    return result


def import_and_restart(instance: server.LocalInstance, files: ImportFiles, database: str, say) -> float:
    """Stop the server, import the files into the database's store, start it again; returns the import's seconds."""
    started = time.monotonic()
    server.stop(instance)
    say(f"服务器已停止 / server stopped: {time.monotonic() - started:.1f} s")
    started = time.monotonic()
    say("neo4j-admin database import full …")
    server.import_database(instance, files.arguments(database))
    seconds = time.monotonic() - started
    say(f"导入完成 / imported in {seconds:.1f} s")
    started = time.monotonic()
    server.start(instance)
    say(f"重新启动 / restarted: {time.monotonic() - started:.1f} s")
    return seconds


def finish(driver, database: str | None, files: ImportFiles, say) -> None:
    """After the import: constraints and indexes, and meanwhile the empty lists the importer cannot write (a
    pass over nodes that no index being built reads: Neo4j populates indexes beside the writes)."""
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as lists:
        cleared = lists.submit(_clear_empty_lists, driver, database, files, started, say)
        apply_schema(driver, database)
        say(f"约束与索引 / constraints and indexes: {time.monotonic() - started:.1f} s")
        cleared.result()


def _clear_empty_lists(driver, database: str | None, files: ImportFiles, started: float, say) -> None:
    for label in sorted({label for label, _ in files.empty_lists}):
        loading.clear_list_markers(driver, label, [prop for each, prop in files.empty_lists if each == label],
                                   EMPTY_LIST, database)
    say(f"空列表 / empty lists: {time.monotonic() - started:.1f} s")


# --- the read state, from the import's files -------------------------------------------------------

def _read_csv(path: Path, multiline: bool, names: list[str], types: dict, include: list[str] | None = None) -> pa.Table:
    """An import file's rows under the given column names (its header line skipped); an empty field is null."""
    return pa_csv.read_csv(
        path, read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pa_csv.ParseOptions(newlines_in_values=multiline),
        convert_options=pa_csv.ConvertOptions(column_types=types, include_columns=include,
                                              include_missing_columns=include is not None,
                                              null_values=[""], strings_can_be_null=True))


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


def read_import_file(path: Path, multiline: bool, columns: list[str] | None = None,
                     coded: tuple[str, ...] = ()) -> pa.Table:
    """An import file as text columns named by property (its header's types dropped): every column or those
    of `columns` (missing ones as nulls), `coded` ones dictionary-encoded; an empty field is null."""
    names = [name.split(":", 1)[0] or name for name in _header(path)]
    wanted = names if columns is None else columns
    types = {name: (pa.dictionary(pa.int32(), pa.string()) if name in coded else pa.string()) for name in wanted}
    return _read_csv(path, multiline, names, types, wanted)


def _write_with(path: Path, multiline: bool, added: dict[str, pa.Array]) -> None:
    """Rewrite an import file with added columns ("name:type" → values; a null is an empty field)."""
    header = _header(path)
    table = _read_csv(path, multiline, header, {name: pa.string() for name in header})
    for name, values in added.items():
        table = table.append_column(name, values)
    pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="needed"))


def _joined(frame: pd.DataFrame, prefix: str) -> pa.Array:
    """The columns prefix_0, prefix_1 … of frame as one list per row, as the importer reads a long[] (nulls stay)."""
    columns = [column for column in frame.columns if column.startswith(f"{prefix}_")]
    text = frame[columns[0]].astype("Int64").astype(str)
    joined = text.str.cat([frame[column].astype("Int64").astype(str) for column in columns[1:]], sep=ARRAY_DELIMITER)
    return pa.array(joined.where(frame[columns[0]].notna(), None), type=pa.string())


def _counted(files: list[Path], multiline: bool, columns: list[str], household_ids: pa.Array) -> pd.DataFrame:
    """Rows of the files counted per distinct value of columns (household_id first), in Arrow: a row per
    (household position in household_ids, the other columns) with its `count`; rows of unknown households
    are left out (their relationship is not drawn)."""
    counts = [read_import_file(path, multiline, columns).group_by(columns).aggregate([([], "count_all")])
              for path in files]
    if not counts:
        return pd.DataFrame({"position": pd.Series(dtype=np.int64), **{column: pd.Series(dtype=object)
                                                                      for column in columns[1:]},
                             "count": pd.Series(dtype=np.int64)})
    table = pa.concat_tables(counts).group_by(columns).aggregate([("count_all", "sum")])
    position = pc.index_in(table.column("household_id"), value_set=household_ids)
    table = table.append_column("position", position).filter(pc.is_valid(position))
    frame = table.drop_columns(["household_id"]).rename_columns([*columns[1:], "count", "position"]).to_pandas()
    return frame.astype({"position": np.int64, "count": np.int64})


HOUSEHOLD_COLUMNS = {"household_id": pa.string(), "village_code": None, "active": None, "attribute": None,
                     "main_cause": None, "other_causes": pa.string(), "monitoring_category": None,
                     "income_per_capita": pa.float64(), "household_size": pa.float64()}  # None: coded (dictionary)
_HOUSEHOLD_SCHEMA = pa.schema([(name, kind or pa.dictionary(pa.int32(), pa.string()))
                               for name, kind in HOUSEHOLD_COLUMNS.items()])


def _need_cause(households: pa.Table) -> np.ndarray:
    """core.need.has_need_cause in Arrow, without a Python list per household."""
    causes = pa.array(list(need.NEED_CAUSE_CODES), type=pa.string())
    main = pc.fill_null(pc.is_in(households.column("main_cause").cast(pa.string()), value_set=causes), False)
    others = pc.split_pattern(households.column("other_causes").combine_chunks(), ARRAY_DELIMITER)
    found = pc.fill_null(pc.is_in(pc.list_flatten(others), value_set=causes), False).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(others).to_numpy()
    other = np.bincount(parents[found], minlength=len(households)) > 0
    return main.to_numpy(zero_copy_only=False) | other


def add_read_state(files: ImportFiles, say, as_of: str | None = None) -> None:
    """Compute the read state of every household and region the import writes from its files
    (readstate.household_states, readstate.region_figures) and add it to their rows, with each household's
    first income observation (graph/incomes.py), dated `as_of` (the load's data date; default today)."""
    started = time.monotonic()
    paths = lambda label: [path for node_label, path in files.nodes if node_label == label]  # noqa: E731
    household_files = paths("Household")
    coded = tuple(name for name, kind in HOUSEHOLD_COLUMNS.items() if kind is None)
    tables = [read_import_file(path, files.multiline, list(HOUSEHOLD_COLUMNS), coded).cast(_HOUSEHOLD_SCHEMA)
              for path in household_files]
    table = (pa.concat_tables(tables, promote_options="permissive").unify_dictionaries() if tables
             else _HOUSEHOLD_SCHEMA.empty_table())
    household_ids = table.column("household_id").combine_chunks()
    need_cause = _need_cause(table)
    households = table.drop_columns(["other_causes"]).to_pandas()
    households["active"] = households["active"].astype(object) == "true"
    members = _counted(paths("Member"), files.multiline, ["household_id", "labour_skill"], household_ids)
    partnerships = _counted(paths("Partnership"), files.multiline, ["household_id", "status", "mechanism"],
                            household_ids)
    states = readstate.household_states(households, members, partnerships, need_cause)
    offset = 0
    observed = as_of or clock.today_iso()
    for path, part in zip(household_files, tables):  # the households in file order
        _write_with(path, files.multiline, {**_state_columns(states.iloc[offset:offset + len(part)]),
                                            **_income_columns(part.column("income_per_capita"), observed)})
        offset += len(part)
    del tables
    region_files = paths("Region")
    region_codes = [read_import_file(path, files.multiline, ["code"]).column("code").to_pylist() for path in region_files]
    regions = list(dict.fromkeys(code for codes in region_codes for code in codes))
    part_of = [read_import_file(path, files.multiline) for label, path in files.relationships if label == "PART_OF"]
    part_of = (pa.concat_tables(part_of).to_pandas() if part_of else pd.DataFrame(columns=["", ""]))
    part_of.columns = ["child", "parent"]
    figures = readstate.region_figures(households, states, regions, part_of)
    for path, codes in zip(region_files, region_codes):
        rows = figures.reindex(codes)
        if rows["households"].notna().any():
            _write_with(path, files.multiline, _figure_columns(rows))
    say(f"读取状态 / read state: {time.monotonic() - started:.1f} s")


def _state_columns(states: pd.DataFrame) -> dict[str, pa.Array]:
    counts = ("labour_ordinary", "labour_skilled", "labour_weak", "members", "labourers", "active_partnerships",
              "need_tier")
    return {**{f"{name}:long": pa.array(states[name].to_numpy()) for name in counts},
            "covered:boolean": pa.array(states["covered"].to_numpy()),
            "pending:boolean": pa.array(states["pending"].to_numpy()),
            "planned:boolean": pa.array(states["planned"].to_numpy()),
            "coverage_state": pa.array(states["coverage_state"].to_numpy(dtype=object), type=pa.string()),
            "in_force_counts:long[]": _joined(states, "in_force_counts"),
            "income_order:double": pa.array(states["income_order"].to_numpy()),
            "size_order:double": pa.array(states["size_order"].to_numpy())}


def _income_columns(incomes: pa.ChunkedArray, as_of: str) -> dict[str, pa.Array]:
    """The income history's first observation (as_of, the income) of households with an income; none without."""
    present = pc.is_valid(incomes)
    return {"income_dates:string[]": pc.if_else(present, pa.scalar(as_of), pa.scalar(None, pa.string())),
            "income_values:double[]": pc.if_else(present, pc.cast(incomes, pa.string()), pa.scalar(None, pa.string()))}


def _figure_columns(rows: pd.DataFrame) -> dict[str, pa.Array]:
    return {**{f"{name}:long": pa.array(rows[name].astype("Int64"), type=pa.int64())
               for name in ("households", "covered", "pending", "planned")},
            **{f"{name}:long[]": _joined(rows, name)
               for name in ("in_force_counts", "breakdown_households", "breakdown_covered")}}
