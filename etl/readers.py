"""Get: read a bureau file into a table of strings and recognise its kind from the header.

CSV in UTF-8 (with or without BOM) or GB18030/GBK, XLSX and old XLS (via calamine);
title rows above the header are skipped; headers are matched after NFKC normalisation,
so full-width brackets and stray spaces do not matter. A workbook is checked against the size
limits (etl/limits.py) before it is opened; control characters are dropped from every cell.
"""
import codecs
import csv
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import python_calamine

from etl.formats import KINDS, FileKind
from etl.limits import ReadLimits, WorkbookRefused, check_workbook

HEADER_SCAN_ROWS = 15
# The largest integer a spreadsheet's number (a double) holds exactly: an 18-digit ID number typed into a number
# cell is beyond it and has lost its last digits.
EXACT_FLOAT_INTEGER = 2 ** 53
# Rows validated, transformed and written together: large enough for vectorised work, small enough that a
# province file never sits in memory whole.
CHUNK_ROWS = 50_000
DECODE_BLOCK = 1 << 20
# Control characters (C0 but tab, line feed and carriage return; DEL; C1): invisible in a cell, and a stored
# one would make every XML export of it fail. Dropped while reading, like stray spaces.
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods"}


class ReadError(ValueError):
    """The file cannot be read or its kind cannot be recognised (message in Chinese / English)."""


@dataclass
class RawTable:
    """One table of a file: its kind, the cells as strings under canonical column names."""

    path: Path
    sheet: str | None
    kind: FileKind
    frame: pd.DataFrame  # canonical column names; index = row number in the file (1-based)
    headers: dict[str, str]  # canonical name → header text as written in the file
    encoding: str | None = None
    unknown_columns: list[str] = field(default_factory=list)


def normalise_header(text: str) -> str:
    """A header cell in comparable form: NFKC, no spaces, no required-field stars, lower case."""
    text = unicodedata.normalize("NFKC", str(text))
    return re.sub(r"[\s*＊]", "", text).lower()


def _spelling_index(kind: FileKind) -> dict[str, str]:
    """Normalised header spelling → canonical column name, for one kind."""
    return {normalise_header(spelling): column.name for column in kind.columns for spelling in column.spellings()}


_SPELLINGS = {name: _spelling_index(kind) for name, kind in KINDS.items()}

# Headers bureau staff mapped to fields for their county (graph/mappings.py): kind → normalised header → field.
HeaderMappings = Mapping[str, Mapping[str, str]]


def spellings_with(kind_name: str, mappings: HeaderMappings | None) -> dict[str, str]:
    """A kind's spellings and the headers mapped for it; a declared spelling always wins over a mapping."""
    mapped = (mappings or {}).get(kind_name) or {}
    declared = _SPELLINGS[kind_name]
    return {**mapped, **declared} if mapped else declared


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (BOM or not) if valid, else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError("无法识别文件编码（应为 UTF-8 或 GBK/GB18030）/ unknown text encoding")


def text_encoding(path: Path) -> str:
    """A delimited file's encoding, found by decoding it block by block (never held whole): UTF-8 (BOM or
    not) if the whole file is valid UTF-8, else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(DECODE_BLOCK), b""):
                    decoder.decode(block)
                decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    raise ReadError("无法识别文件编码（应为 UTF-8 或 GBK/GB18030）/ unknown text encoding")


def _csv_rows(path: Path, encoding: str) -> Iterator[list[str]]:
    """The rows of a delimited text file, read as they are needed."""
    with open(path, encoding=encoding, newline="") as handle:
        sample = "".join(handle.readline() for _ in range(HEADER_SCAN_ROWS))
        handle.seek(0)
        try:
            delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
        except csv.Error:
            delimiter = ","
        reader = csv.reader(handle, delimiter=delimiter)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise ReadError(f"第 {reader.line_num} 行无法解析 / line {reader.line_num} cannot be parsed: {error}") from error
            yield row


def _cell_text(value) -> str:
    """A spreadsheet cell as text: integral floats without '.0', dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, float):
        if abs(value) > EXACT_FLOAT_INTEGER:  # its last digits are lost: shown as Excel shows it, never made up
            return f"{value:.5E}"
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _open_workbook(path: Path) -> "python_calamine.CalamineWorkbook":
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own error types for broken files
        raise ReadError(f"无法读取电子表格 / cannot read workbook: {error}") from error


def _sheet_rows(path: Path, sheet: str) -> Iterator[list[str]]:
    """The rows of one sheet as strings, from its first row (so row numbers are those Excel shows)."""
    for row in _open_workbook(path).get_sheet_by_name(sheet).iter_rows():
        yield [_cell_text(cell) for cell in row]


# A header row recognising at least this many columns of a kind is taken as that kind's, even without all of its
# signature columns (then the file is refused, naming the columns it lacks).
NEAR_MATCH_COLUMNS = 3


def _match_header(cells: list[str], mappings: HeaderMappings | None = None
                  ) -> tuple[FileKind | None, int, tuple[FileKind | None, int, list[str]]]:
    """The kind a header row belongs to and how many of its cells it recognises; and the kind it recognises most
    cells of among those whose signature it lacks (with the signature columns it lacks)."""
    normalised = [normalise_header(cell) for cell in cells]
    best, best_hits, near = None, 0, (None, 0, [])
    for name, kind in KINDS.items():
        spellings = spellings_with(name, mappings)
        found = {spellings[cell] for cell in normalised if cell in spellings}
        if not any(set(signature) <= found for signature in kind.signatures):
            if len(found) > near[1]:
                near = (kind, len(found), [name for name in kind.signature if name not in found])
            continue
        if len(found) > best_hits:
            best, best_hits = kind, len(found)
    return best, best_hits, near


def detect_header(rows: list[list[str]], mappings: HeaderMappings | None = None) -> tuple[int, FileKind]:
    """The index of the header row among the first rows, and the file kind it shows.

    A header that recognises more columns of a kind whose signature columns it lacks than of any kind it fits
    (a household file whose 户编号 is headed otherwise also fits the villages kind) is refused, naming the
    columns it lacks, rather than loaded as the wrong kind."""
    best, near = (None, 0, -1), (None, 0, [])
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        kind, hits, row_near = _match_header(row, mappings)
        if kind is not None and hits > best[1]:
            best = (kind, hits, index)
        if row_near[1] > near[1]:
            near = row_near
    kind, hits, index = best
    near_kind, near_hits, missing = near
    if near_kind is not None and near_hits >= NEAR_MATCH_COLUMNS and near_hits > hits:
        headers = "、".join(near_kind.column(name).header for name in missing)
        raise ReadError(f"表头像“{near_kind.title}”，但缺少识别所需的列：{headers}（列名不同时，可在上传页把该列对应到"
                        f"字段）/ looks like {near_kind.name} but lacks: {', '.join(missing)}")
    if kind is None:
        raise ReadError(
            "无法识别文件类型：前 15 行中没有可识别的表头（如 户编号、证件号码、统一社会信用代码）/ "
            "no recognisable header in the first 15 rows"
        )
    return index, kind


@dataclass(frozen=True)
class ColumnUse:
    """A column of a file as the ETL used it: the field it is read as (None: not read, and why)."""

    position: int
    header: str
    field: str | None
    duplicate: bool = False  # names a field an earlier column is read as
    mapped: bool = False  # read as its field by a mapping bureau staff saved, not by a declared spelling


@dataclass
class TableSource:
    """One table of a file, recognised from its header and read in chunks of rows as they are needed, so
    memory does not grow with the file."""

    path: Path
    sheet: str | None
    kind: FileKind
    headers: dict[str, str]  # canonical name → header text as written in the file
    positions: dict[str, int]  # canonical name → column position
    header_index: int  # 0-based row of the header
    rows: Callable[[], Iterator[list[str]]]  # every row of the file / sheet from its first, anew on each call
    encoding: str | None = None
    unknown_columns: list[str] = field(default_factory=list)

    header: list[str] = field(default_factory=list)  # the header row as written
    mapped_positions: frozenset[int] = frozenset()  # columns read by a saved mapping (HeaderMappings)

    @functools.cached_property
    def column_uses(self) -> list["ColumnUse"]:
        """Every column the header names, in file order: the field it is read as, or why it is not read."""
        fields = {position: name for name, position in self.positions.items()}
        uses = []
        for position, cell in enumerate(self.header):
            text = str(cell).strip()
            if not text:
                continue
            field_name = fields.get(position)
            duplicate = field_name is None and self.field_of_header(cell) in self.positions
            uses.append(ColumnUse(position, text, field_name, duplicate, position in self.mapped_positions))
        return uses

    def field_of_header(self, cell: str) -> str | None:
        """The field a header cell names for this table (declared spellings, then its saved mappings)."""
        key = normalise_header(cell)
        return _SPELLINGS[self.kind.name].get(key) or self.mapped_headers.get(key)

    @property
    def mapped_headers(self) -> dict[str, str]:
        """Normalised header → field of the columns read by a saved mapping."""
        return {normalise_header(self.header[position]): name for name, position in self.positions.items()
                if position in self.mapped_positions}

    @property
    def mapping_conditions(self) -> list[str]:
        """The saved mappings this table was read with, as text for its rows' source hashes (none: nothing)."""
        return [f"{position}={name}" for name, position in sorted(self.positions.items(), key=lambda item: item[1])
                if position in self.mapped_positions]

    def raw_chunks(self, rows_per_chunk: int = CHUNK_ROWS) -> Iterator["RawChunk"]:
        """The table's body in chunks of at most rows_per_chunk rows as read (not yet normalised)."""
        body = itertools.islice(self.rows(), self.header_index + 1, None)
        first_number = self.header_index + 2  # the header is row header_index + 1 as a person counts
        while block := list(itertools.islice(body, rows_per_chunk)):
            yield RawChunk(self, first_number, block)
            first_number += len(block)

    def chunks(self, rows_per_chunk: int = CHUNK_ROWS) -> Iterator[RawTable]:
        """The table's body as RawTables of at most rows_per_chunk rows, row numbers as in the file."""
        for chunk in self.raw_chunks(rows_per_chunk):
            yield chunk.table()

    def whole(self) -> RawTable:
        """The whole table in one RawTable (for small files and tests)."""
        parts = [chunk.frame for chunk in self.chunks()]
        frame = pd.concat(parts) if parts else RawChunk(self, self.header_index + 2, []).table().frame
        return RawTable(self.path, self.sheet, self.kind, frame, self.headers, self.encoding, self.unknown_columns)


@dataclass
class RawChunk:
    """Consecutive rows of a table as read: cells are normalised only for the rows and columns asked for."""

    source: TableSource
    first_number: int
    rows: list[list[str]]

    @property
    def numbers(self) -> pd.Index:
        """The rows' numbers in the file."""
        return pd.Index(range(self.first_number, self.first_number + len(self.rows)), name="row")

    def cells(self, columns: list[str], selected: "np.ndarray | None" = None) -> pd.DataFrame:
        """Normalised cells of the given canonical columns (those the file has), blank rows kept."""
        rows, numbers = self.rows, self.numbers
        if selected is not None:
            rows = [row for row, keep in zip(rows, selected) if keep]
            numbers = numbers[selected]
        positions = self.source.positions
        wanted = [name for name in columns if name in positions]
        # Transposed once in C (rows may be ragged: short ones padded with ""), not cell by cell per column.
        transposed = list(itertools.zip_longest(*rows, fillvalue="")) if len(wanted) > 2 else None
        empty = [""] * len(rows)

        def cells_of(position: int) -> list[str]:
            if transposed is None:
                return [row[position] if position < len(row) else "" for row in rows]
            return list(transposed[position]) if position < len(transposed) else empty

        return pd.DataFrame({name: _normalised(cells_of(positions[name])) for name in wanted}, index=numbers)

    def table(self, selected: "np.ndarray | None" = None) -> RawTable:
        """The (selected) rows as a RawTable: every mapped column normalised, blank rows dropped."""
        source = self.source
        frame = self.cells([column.name for column in source.kind.columns if column.name in source.positions],
                           selected)
        frame = frame[frame.notna().any(axis=1)]
        return RawTable(source.path, source.sheet, source.kind, frame, source.headers, source.encoding,
                        source.unknown_columns)

    def column_cells(self, position: int) -> list[str]:
        """The cells of one column as read (not normalised)."""
        return [row[position] if position < len(row) else "" for row in self.rows]

    def raw_lines(self) -> list[str]:
        """Each row's cells as read, joined (what a row's source hash is taken of)."""
        return ["\x1f".join(row) for row in self.rows]


def table_source(path: Path, sheet: str | None, rows: Callable[[], Iterator[list[str]]],
                 encoding: str | None = None, mappings: HeaderMappings | None = None) -> TableSource:
    """Find the header among the first rows and map its columns (by the declared spellings, then by the saved
    mappings of the upload's county)."""
    head = list(itertools.islice(rows(), HEADER_SCAN_ROWS))
    header_index, kind = detect_header(head, mappings)
    header = head[header_index]
    declared = _SPELLINGS[kind.name]
    spellings = spellings_with(kind.name, mappings)
    positions, headers, unknown, mapped = {}, {}, [], set()
    for position, cell in enumerate(header):
        key = normalise_header(cell)
        name = spellings.get(key)
        if name and name not in positions:
            positions[name], headers[name] = position, cell.strip()
            if key not in declared:
                mapped.add(position)
        elif cell.strip():
            unknown.append(cell.strip())
    return TableSource(path, sheet, kind, headers, positions, header_index, rows, encoding, unknown, list(header),
                       frozenset(mapped))


def table_from_rows(path: Path, sheet: str | None, rows: list[list[str]], encoding: str | None = None) -> RawTable:
    """Turn raw rows into a RawTable: find the header, map columns, drop blank rows."""
    return table_source(path, sheet, lambda: iter(rows), encoding).whole()


def _normalised(cells: list[str]) -> pd.arrays.StringArray:
    """NFKC (full-width digits and letters → ASCII), no control characters, trimmed; empty cells become missing.

    The text work runs in Arrow compute, in C++ over the whole column (pandas would call Python per cell);
    the result is a Python-backed string column like every other (core/__init__.py)."""
    values = pa.array(cells, type=pa.string(), from_pandas=True)
    values = pc.utf8_trim_whitespace(pc.replace_substring_regex(
        pc.utf8_normalize(values, form="NFKC"), pattern=CONTROL_CHARACTERS, replacement=""))
    values = pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)
    return pd.array(values.to_numpy(zero_copy_only=False), dtype="string[python]")


def open_tables(path: str | Path, limits: ReadLimits | None = None,
                mappings: HeaderMappings | None = None) -> list[TableSource]:
    """The recognised tables (sheets) of a CSV / XLSX / XLS file, each read in chunks when its rows are needed.

    A workbook that would expand beyond limits (default: ReadLimits()) is refused unread. mappings: the headers
    bureau staff mapped to fields for the upload's county."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"文件不存在 / file not found: {path.name}")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        encoding = text_encoding(path)
        return [table_source(path, None, lambda: _csv_rows(path, encoding),
                             "gb18030" if encoding == "gb18030" else "utf-8-sig", mappings)]
    if suffix in EXCEL_SUFFIXES:
        try:
            check_workbook(path, limits or ReadLimits())
        except WorkbookRefused as refused:
            raise ReadError(str(refused)) from refused
        sources, errors = [], []
        for name in _open_workbook(path).sheet_names:
            rows = functools.partial(_sheet_rows, path, name)
            try:
                sources.append(table_source(path, name, rows, mappings=mappings))
            except ReadError as error:
                if any(any(cell.strip() for cell in row) for row in rows()):  # an empty sheet is no table
                    errors.append(f"{name}: {error}")
        if not sources:
            raise ReadError("; ".join(errors) or "工作簿为空 / empty workbook")
        return sources
    raise ReadError(f"不支持的文件格式 {suffix}（支持 CSV、XLSX、XLS）/ unsupported file type")


def read_file(path: str | Path, limits: ReadLimits | None = None) -> list[RawTable]:
    """Read a CSV / XLSX / XLS file whole into one RawTable per recognised table (sheet).

    A workbook that would expand beyond limits (default: ReadLimits()) is refused unread."""
    return [source.whole() for source in open_tables(path, limits)]
