"""XLSX export of lists for bureau staff (openpyxl write-only mode: constant memory per row)."""
import io

from flask import Response, send_file
from openpyxl import Workbook

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def xlsx_bytes(sheet_title: str, columns: list[tuple[str, str]], rows: list[dict]) -> bytes:
    """A workbook with one sheet: a Chinese header row, then one row per item."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    header = []
    for _, title in columns:
        header.append(title)
    sheet.append(header)
    for row in rows:
        sheet.append([_cell(row.get(key)) for key, _ in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(sheet_title: str, columns: list[tuple[str, str]], rows: list[dict], filename: str) -> Response:
    """The rows as an XLSX download."""
    data = xlsx_bytes(sheet_title, columns, rows)
    return send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)
