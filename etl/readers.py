"""Get: read a bureau file into a table of strings and recognise its kind from the header.

CSV in UTF-8 (with or without BOM) or GB18030/GBK, XLSX and old XLS (via calamine);
title rows above the header are skipped; headers are matched after NFKC normalisation,
so full-width brackets and stray spaces do not matter. A workbook is checked against the size
limits (etl/limits.py) before it is opened; control characters are dropped from every cell.
"""
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import python_calamine

from etl.formats import KINDS, FileKind
from etl.limits import ReadLimits, WorkbookRefused, check_workbook

HEADER_SCAN_ROWS = 15
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


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (BOM or not) if valid, else GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError("无法识别文件编码（应为 UTF-8 或 GBK/GB18030）/ unknown text encoding")


def _read_csv_rows(path: Path) -> tuple[list[list[str]], str]:
    """All rows of a delimited text file as lists of strings, and the encoding used."""
    text, encoding = decode_text(path.read_bytes())
    sample = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        delimiter = ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), encoding


def _cell_text(value) -> str:
    """A spreadsheet cell as text: integral floats without '.0', dates as ISO dates."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _read_excel_sheets(path: Path) -> list[tuple[str, list[list[str]]]]:
    """Every non-empty sheet of a workbook as (name, rows of strings)."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own error types for broken files
        raise ReadError(f"无法读取电子表格 / cannot read workbook: {error}") from error
    sheets = []
    for name in workbook.sheet_names:
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
        rows = [[_cell_text(cell) for cell in row] for row in rows]
        if any(any(cell.strip() for cell in row) for row in rows):
            sheets.append((name, rows))
    return sheets


def _match_header(cells: list[str]) -> tuple[FileKind | None, int]:
    """The kind a header row belongs to and how many of its cells it recognises."""
    normalised = [normalise_header(cell) for cell in cells]
    best, best_hits = None, 0
    for name, kind in KINDS.items():
        spellings = _SPELLINGS[name]
        found = {spellings[cell] for cell in normalised if cell in spellings}
        if not set(kind.signature) <= found:
            continue
        if len(found) > best_hits:
            best, best_hits = kind, len(found)
    return best, best_hits


def detect_header(rows: list[list[str]]) -> tuple[int, FileKind]:
    """The index of the header row among the first rows, and the file kind it shows."""
    best = (None, 0, -1)
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        kind, hits = _match_header(row)
        if kind is not None and hits > best[1]:
            best = (kind, hits, index)
    kind, _, index = best
    if kind is None:
        raise ReadError(
            "无法识别文件类型：前 15 行中没有可识别的表头（如 户编号、证件号码、统一社会信用代码）/ "
            "no recognisable header in the first 15 rows"
        )
    return index, kind


def table_from_rows(path: Path, sheet: str | None, rows: list[list[str]], encoding: str | None = None) -> RawTable:
    """Turn raw rows into a RawTable: find the header, map columns, drop blank rows."""
    header_index, kind = detect_header(rows)
    header = rows[header_index]
    spellings = _SPELLINGS[kind.name]
    positions, headers, unknown = {}, {}, []
    for position, cell in enumerate(header):
        name = spellings.get(normalise_header(cell))
        if name and name not in positions:
            positions[name], headers[name] = position, cell.strip()
        elif cell.strip():
            unknown.append(cell.strip())
    width = len(header)
    body = [row + [""] * (width - len(row)) if len(row) < width else row for row in rows[header_index + 1:]]
    # Row numbers as a person sees them in the file: the header is row header_index + 1.
    numbers = range(header_index + 2, header_index + 2 + len(body))
    frame = pd.DataFrame(
        {name: [row[position] for row in body] for name, position in positions.items()},
        index=pd.Index(numbers, name="row"),
        dtype="object",
    )
    frame = frame.reindex(columns=[column.name for column in kind.columns if column.name in positions])
    frame = _normalise_cells(frame)
    frame = frame[frame.notna().any(axis=1)]
    return RawTable(path, sheet, kind, frame, headers, encoding, unknown)


def _normalise_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """NFKC (full-width digits and letters → ASCII), no control characters, trimmed; empty cells become missing."""
    for name in frame.columns:
        values = frame[name].astype("string").str.normalize("NFKC")
        values = values.str.replace(CONTROL_CHARACTERS, "", regex=True).str.strip()
        frame[name] = values.mask(values == "")
    return frame


def read_file(path: str | Path, limits: ReadLimits | None = None) -> list[RawTable]:
    """Read a CSV / XLSX / XLS file into one RawTable per recognised table (sheet).

    A workbook that would expand beyond limits (default: ReadLimits()) is refused unread."""
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"文件不存在 / file not found: {path.name}")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        rows, encoding = _read_csv_rows(path)
        return [table_from_rows(path, None, rows, encoding)]
    if suffix in EXCEL_SUFFIXES:
        try:
            check_workbook(path, limits or ReadLimits())
        except WorkbookRefused as refused:
            raise ReadError(str(refused)) from refused
        tables, errors = [], []
        for name, rows in _read_excel_sheets(path):
            try:
                tables.append(table_from_rows(path, name, rows))
            except ReadError as error:
                errors.append(f"{name}: {error}")
        if not tables:
            raise ReadError("; ".join(errors) or "工作簿为空 / empty workbook")
        return tables
    raise ReadError(f"不支持的文件格式 {suffix}（支持 CSV、XLSX、XLS）/ unsupported file type")
