"""Size limits checked before a workbook is read: a small file must not expand into gigabytes.

An XLSX / XLSM / ODS file is a zip of XML parts. Two kinds of bomb hide in one:

- a part that inflates far beyond its compressed size (a 200 KB file holding 200 MB of repeated rows),
  caught by the total uncompressed size (MAX_UNCOMPRESSED_MB) and the compression ratio of each large
  part (MAX_COMPRESSION_RATIO); the zip's declared sizes can be trusted for this, because calamine (the
  reader) refuses a part that inflates beyond what it declares;
- a sheet whose few cells sit far apart (A1 and XFD1048576, or an ODS cell repeated a million times):
  the reader allocates the whole rectangle between them, billions of cells from a few KB. The sheet XML
  is scanned (streamed, never held whole) for the rectangle it spans and the cells it really holds.

An old .xls file is not compressed: its size on disk is what it holds, so only that is capped.
"""
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

ZIP_SUFFIXES = frozenset({".xlsx", ".xlsm", ".ods"})
MIB = 1 << 20
DEFAULT_MAX_UNCOMPRESSED_MB = 512
DEFAULT_MAX_COMPRESSION_RATIO = 100
# Parts smaller than this may compress at any ratio (a tiny styles.xml of repeated tags is not a bomb).
RATIO_FLOOR_BYTES = MIB
MAX_ZIP_ENTRIES = 10_000
# A real cell takes about this much sheet XML (`<c r="A1" t="s"><v>12</v></c>`): the cell budget follows the
# byte budget (512 MB → 16.7 million cells, each of which costs the reader 30–120 bytes of memory).
BYTES_PER_CELL = 32
# A rectangle this many times larger than the cells it holds is a sparse bomb (above this many cells).
SPARSE_FACTOR = 10
SPARSE_FLOOR_CELLS = 1_000_000
CHUNK = MIB
MAX_OPEN_TAG = MIB


class WorkbookRefused(ValueError):
    """The workbook would expand beyond the limits, or is not a valid one (message in Chinese / English)."""


@dataclass(frozen=True)
class ReadLimits:
    """How much a workbook may expand to when read."""

    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_MB * MIB
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO

    @property
    def max_cells(self) -> int:
        """The largest sheet rectangle (rows × columns) the reader may allocate."""
        return self.max_uncompressed_bytes // BYTES_PER_CELL

    @classmethod
    def from_settings(cls, settings) -> "ReadLimits":
        """MAX_UNCOMPRESSED_MB and MAX_COMPRESSION_RATIO of the settings (the defaults where not configured)."""
        megabytes = getattr(settings, "max_uncompressed_mb", None) or DEFAULT_MAX_UNCOMPRESSED_MB
        ratio = getattr(settings, "max_compression_ratio", None) or DEFAULT_MAX_COMPRESSION_RATIO
        return cls(int(float(megabytes) * MIB), float(ratio))


def _megabytes(size: int) -> str:
    return f"{size / MIB:,.0f} MB" if size >= MIB else f"{size / MIB:.2f} MB"


def check_workbook(path: Path, limits: ReadLimits) -> None:
    """Refuse (WorkbookRefused) a workbook that would expand beyond the limits; return quietly otherwise."""
    if path.suffix.lower() not in ZIP_SUFFIXES:
        size = path.stat().st_size
        if size > limits.max_uncompressed_bytes:
            raise WorkbookRefused(f"文件过大（{_megabytes(size)}，上限 {_megabytes(limits.max_uncompressed_bytes)}）"
                                  f"/ file too large")
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise WorkbookRefused("文件已损坏，或不是 Excel / ODS 工作簿 / not a valid workbook") from error
    with archive:
        entries = archive.infolist()
        _check_sizes(entries, limits)
        scan = _scan_ods if path.suffix.lower() == ".ods" else _scan_xlsx
        for entry in entries:
            if entry.filename.lower().endswith(".xml"):
                try:
                    rows, columns, present = scan(archive, entry)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
                    raise WorkbookRefused("文件已损坏，或不是 Excel / ODS 工作簿 / not a valid workbook") from error
                _check_rectangle(rows, columns, present, limits)


def _check_sizes(entries: list[zipfile.ZipInfo], limits: ReadLimits) -> None:
    if len(entries) > MAX_ZIP_ENTRIES:
        raise WorkbookRefused(f"工作簿包含的部件过多（{len(entries):,} 个）/ too many parts in the workbook")
    total = sum(entry.file_size for entry in entries)
    if total > limits.max_uncompressed_bytes:
        raise WorkbookRefused(f"工作簿解压后过大（{_megabytes(total)}，上限 {_megabytes(limits.max_uncompressed_bytes)}），"
                              f"请拆分后上传或另存为 CSV / workbook expands beyond the limit")
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_FLOOR_BYTES and ratio > limits.max_compression_ratio:
            raise WorkbookRefused(f"工作簿压缩比异常（{ratio:,.0f}:1，上限 {limits.max_compression_ratio:g}:1），"
                                  f"疑似压缩炸弹 / abnormal compression ratio")


def _check_rectangle(rows: int, columns: int, present: int, limits: ReadLimits) -> None:
    cells = rows * columns
    if cells > SPARSE_FLOOR_CELLS and cells > SPARSE_FACTOR * max(present, 1):
        raise WorkbookRefused(f"工作表区域过大（{rows:,} 行 × {columns:,} 列，实有 {present:,} 个单元格），"
                              f"请删除远处零散的单元格后重新上传 / sheet area far larger than its content")
    if cells > limits.max_cells:
        raise WorkbookRefused(f"工作表过大（{rows:,} 行 × {columns:,} 列，上限 {limits.max_cells:,} 个单元格），"
                              f"请拆分后上传 / sheet too large")


def _tags(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, pattern: re.Pattern):
    """The matches of pattern (one tag each) in a streamed XML part, in order, never splitting a tag."""
    carry = b""
    with archive.open(entry) as stream:
        while chunk := stream.read(CHUNK):
            buffer = carry + chunk
            cut = buffer.rfind(b"<")
            if cut == -1 or buffer.find(b">", cut) != -1:
                cut = len(buffer)  # the last tag is complete: nothing to carry over
            if len(buffer) - cut > MAX_OPEN_TAG:
                raise WorkbookRefused("工作簿内容异常（标签过长）/ malformed workbook part")
            yield from pattern.finditer(buffer, 0, cut)
            carry = buffer[cut:]
    yield from pattern.finditer(carry)


_XLSX_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_REFERENCE = re.compile(rb'\sr\s*=\s*"([A-Za-z]{0,3})(\d{0,7})"')


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _scan_xlsx(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> tuple[int, int, int]:
    """(rows, columns, cells) a worksheet spans: cells without a reference follow the one before, as in Excel."""
    row = column = max_row = max_column = present = 0
    for match in _tags(archive, entry, _XLSX_TAG):
        reference = _REFERENCE.search(match.group(2))
        letters, digits = (reference.group(1), reference.group(2)) if reference else (b"", b"")
        if match.group(1) == b"row":
            row, column = (int(digits) if digits else row + 1), 0
        else:
            present += 1
            column = _column_number(letters) if letters else column + 1
            max_column = max(max_column, column)
            max_row = max(max_row, int(digits) if digits else row)
        max_row = max(max_row, row)
    return max_row, max_column, present


_ODS_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
_ROWS_REPEATED = re.compile(rb'number-rows-repeated\s*=\s*"(\d{1,9})"')
_COLUMNS_REPEATED = re.compile(rb'number-columns-repeated\s*=\s*"(\d{1,9})"')


def _repeat(pattern: re.Pattern, attributes: bytes) -> int:
    found = pattern.search(attributes)
    return max(int(found.group(1)), 1) if found else 1


def _scan_ods(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> tuple[int, int, int]:
    """(rows, columns, cells) of the largest table: repeated rows and cells count as many times as repeated.

    Empty cells and rows (LibreOffice repeats them to the sheet's edge) widen nothing: only content does."""
    largest = (0, 0, 0)
    row = column = max_row = max_column = present = 0
    row_repeat = row_cells = 0
    for match in _tags(archive, entry, _ODS_TAG):
        closing, tag, attributes, empty = match.group(1), match.group(2), match.group(3), match.group(4)
        if tag == b"table":
            if not closing:
                row = column = max_row = max_column = present = 0
            elif max_row * max_column >= largest[0] * largest[1]:
                largest = (max_row, max_column, present)
        elif tag == b"table-row":
            if not closing:
                row_repeat, row_cells, column = _repeat(_ROWS_REPEATED, attributes), 0, 0
            if closing or empty:
                if row_cells:
                    max_row = row + row_repeat
                    present += row_cells * row_repeat
                row += row_repeat
        elif not closing:
            repeat = _repeat(_COLUMNS_REPEATED, attributes)
            if not empty or b"value-type" in attributes:
                max_column = max(max_column, column + repeat)
                row_cells += repeat
            column += repeat
    if max_row * max_column >= largest[0] * largest[1]:
        largest = (max_row, max_column, present)
    return largest
