"""Files for the browser to save: a service's workbook, an upload's validation report."""
import io
from pathlib import Path

from flask import Response, send_file

from services.exports import Download

CSV_MIMETYPE = "text/csv"


def download(file: Download) -> Response:
    """A service's file (e.g. an XLSX export) as an attachment."""
    return send_file(io.BytesIO(file.content), mimetype=file.mimetype, as_attachment=True,
                     download_name=file.filename)


def report_download(path: Path, job_id: str) -> Response:
    """An upload's validation report (CSV, UTF-8 with BOM) as an attachment named after the job."""
    return send_file(path, mimetype=CSV_MIMETYPE, as_attachment=True, download_name=f"{job_id}-report.csv")
