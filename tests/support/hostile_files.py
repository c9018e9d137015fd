"""Hostile workbooks for the upload-size tests: small files that expand to far more than they weigh.

Each is a real workbook (openpyxl writes the parts, only the sheet XML is replaced), so a reader that
does not check sizes and dimensions first really reads (and allocates) the whole expansion.
"""
import io
import zipfile
from pathlib import Path

import openpyxl

SHEET = "xl/worksheets/sheet1.xml"
_SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
_SHEET_TAIL = b"</sheetData></worksheet>"
HEADER = ["户编号", "主要致贫原因", "行政区划代码"]


def _inline(text: str) -> bytes:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def _header_row() -> bytes:
    return b'<row r="1">' + b"".join(_inline(text) for text in HEADER) + b"</row>"


def _with_sheet(path: Path, write_sheet) -> Path:
    """An openpyxl workbook whose first sheet's XML is produced by write_sheet(stream)."""
    base = io.BytesIO()
    openpyxl.Workbook().save(base)
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for item in source.infolist():
            if item.filename == SHEET:
                with out.open(SHEET, "w") as stream:
                    write_sheet(stream)
            else:
                out.writestr(item, source.read(item.filename))
    return path


def xlsx_size_bomb(path: Path, uncompressed_mb: float) -> Path:
    """A households-looking XLSX whose sheet XML inflates to about uncompressed_mb (compresses ~1000:1)."""
    row = b"<row>" + _inline("4331231012010001") + _inline("因病") + _inline("433123101201") + b"</row>"
    chunk = row * (1 << 20 // len(row) + 1)

    def write(stream):
        stream.write(_SHEET_HEAD + _header_row())
        for _ in range(int(uncompressed_mb * (1 << 20) / len(chunk)) + 1):
            stream.write(chunk)
        stream.write(_SHEET_TAIL)

    return _with_sheet(path, write)


def xlsx_sparse_bomb(path: Path) -> Path:
    """A header and one cell in the last row and column Excel allows: a few KB, 17 billion cells dense."""
    def write(stream):
        stream.write(_SHEET_HEAD + _header_row() + b'<row r="1048576">' + b'<c r="XFD1048576" t="inlineStr">'
                     b"<is><t>x</t></is></c></row>" + _SHEET_TAIL)

    return _with_sheet(path, write)


def xlsx_implicit_wide_bomb(path: Path) -> Path:
    """16,384 cells without references in row 1 and one row at 1,048,576: wide and tall without an `r` on a cell."""
    def write(stream):
        stream.write(_SHEET_HEAD + b"<row>" + b"".join(_inline(text) for text in HEADER) + _inline("x") * 16381
                     + b'</row><row r="1048576">' + _inline("x") + b"</row>" + _SHEET_TAIL)

    return _with_sheet(path, write)


def _ods(path: Path, rows_xml: str) -> Path:
    """An ODS spreadsheet of one table (named 户) holding rows_xml."""
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 office:version="1.2"><office:body><office:spreadsheet><table:table table:name="户">{rows_xml}</table:table>
</office:spreadsheet></office:body></office:document-content>"""
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
                'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" '
                'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        out.writestr("META-INF/manifest.xml", manifest)
        out.writestr("content.xml", content)
    return path


def _ods_cell(text: str, repeat: int = 1) -> str:
    repeated = f' table:number-columns-repeated="{repeat}"' if repeat > 1 else ""
    return f'<table:table-cell{repeated} office:value-type="string"><text:p>{text}</text:p></table:table-cell>'


def _ods_header() -> str:
    return "<table:table-row>" + "".join(_ods_cell(text) for text in HEADER) + "</table:table-row>"


def ods_repeat_bomb(path: Path, rows: int, columns: int) -> Path:
    """An ODS spreadsheet whose one content cell is repeated rows × columns times (under 1 KB on disk)."""
    return _ods(path, _ods_header() + f'<table:table-row table:number-rows-repeated="{rows}">'
                      + _ods_cell("x", columns) + "</table:table-row>")


def ods_padded_to_the_edge(path: Path) -> Path:
    """A header and one household, padded with empty cells and rows to the sheet's edge, as LibreOffice saves it."""
    empty_to_edge = '<table:table-cell table:number-columns-repeated="16381"/>'
    row = "".join(_ods_cell(text) for text in ("4331231012010001", "因病", "433123101201"))
    return _ods(path, _ods_header().replace("</table:table-row>", empty_to_edge + "</table:table-row>")
                + f"<table:table-row>{row}{empty_to_edge}</table:table-row>"
                + '<table:table-row table:number-rows-repeated="1048574">'
                  '<table:table-cell table:number-columns-repeated="16384"/></table:table-row>')


def lying_size_bomb(path: Path, real_mb: float) -> Path:
    """A size bomb whose zip directory declares the sheet 1 KB long (the real inflated size is real_mb)."""
    xlsx_size_bomb(path, real_mb)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(SHEET)
    declared = (1024).to_bytes(4, "little")
    data[info.header_offset + 22:info.header_offset + 26] = declared  # the local header's uncompressed size
    central = data.find(b"PK\x01\x02")
    while central != -1:  # the central directory entry: uncompressed size at offset 24, name at 46
        name_length = int.from_bytes(data[central + 28:central + 30], "little")
        if data[central + 46:central + 46 + name_length] == SHEET.encode():
            data[central + 24:central + 28] = declared
        central = data.find(b"PK\x01\x02", central + 4)
    path.write_bytes(bytes(data))
    return path
