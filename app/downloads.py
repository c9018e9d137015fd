"""Files for the browser to save: a service's workbook, an upload's validation report.

The file name travels as RFC 5987 `filename*` (UTF-8, so 帮扶台账-凤凰县-2026-12-01.xlsx keeps its Chinese) with a
plain ASCII `filename` beside it for clients that cannot read the first."""
import io
import re
from pathlib import Path
from urllib.parse import quote

from flask import Response, send_file

from services.exports import Download

CSV_MIMETYPE = "text/csv"


def content_disposition(filename: str, ascii_filename: str | None = None) -> str:
    """`attachment; filename="ascii"; filename*=UTF-8''percent-encoded`."""
    fallback = ascii_filename or filename
    fallback = re.sub(r'[^\x20-\x7e]|["\\]', "", fallback).strip() or "download"
    if fallback.startswith("."):
        fallback = "download" + fallback
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(file: Download) -> Response:
    """A service's file (e.g. an XLSX export) as an attachment."""
    response = send_file(io.BytesIO(file.content), mimetype=file.mimetype, as_attachment=True,
                         download_name=file.ascii_filename or file.filename)
    response.headers["Content-Disposition"] = content_disposition(file.filename, file.ascii_filename)
    return response


def report_download(path: Path, job_id: str, filename: str | None = None) -> Response:
    """An upload's validation report (CSV, UTF-8 with BOM) as an attachment: `校验报告-<file>-<job>.csv` when the
    uploaded file's name is known, else named after the job."""
    fallback = f"{job_id}-report.csv"
    response = send_file(path, mimetype=CSV_MIMETYPE, as_attachment=True, download_name=fallback)
    if filename:
        stem = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', "", Path(filename).stem)[:80] or "上传文件"
        response.headers["Content-Disposition"] = content_disposition(f"校验报告-{stem}-{job_id}.csv", fallback)
    return response
