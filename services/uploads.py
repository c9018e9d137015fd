"""Data upload: a bureau file is stored and loaded by the same ETL in the background; its report is kept.

The file is stored under a name of our own (var/uploads/JOB_ID/upload.csv); the name it had on the
user's computer is kept only for display, without any folder part or control characters. The report is
served from the job's folder (never from a path read back from the graph) and re-escaped before it is
served, so no field of it opens in Excel as a formula, whatever wrote it.
"""
import json
import re
from pathlib import Path
from typing import Callable

from etl.report import make_safe
from graph import jobs as queue
from services import jobs
from services.context import Context
from services.exports import CONTROL_CHARACTERS
from services.errors import NotFound, Unsupported
from services.principal import STAFF, Principal, Role, require_role
from services.runs import jobs_page, present_job, visible_job

ALLOWED_SUFFIXES = frozenset({".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"})
MAX_FILENAME = 200
REPORT_NAME = "report.csv"


def uploads_dir(ctx: Context) -> Path:
    """Where uploaded files and their reports are kept (one folder per job)."""
    return Path(ctx.settings.var_dir) / "uploads"


def display_name(filename: str | None) -> str:
    """The uploaded file's own name, for display: no folder part (some browsers send the whole path), no
    control characters, at most MAX_FILENAME characters."""
    name = re.split(r"[\\/]", filename or "")[-1]
    return CONTROL_CHARACTERS.sub("", name).strip()[:MAX_FILENAME] or "upload"


def check_file_type(filename: str) -> str:
    """The file's suffix if it is a supported table format (Unsupported otherwise)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise Unsupported(f"不支持的文件类型 {suffix or '（无扩展名）'}，请上传 CSV 或 Excel / unsupported file type",
                          "unsupported_file_type")
    return suffix


def accept(ctx: Context, principal: Principal, filename: str | None, save: Callable[[Path], None],
           full: bool = False) -> dict:
    """Store an uploaded file (save(path) writes it there) and queue its load, limited to a bureau's county.

    Returns the queued job as presented."""
    require_role(principal, *STAFF)
    filename = display_name(filename)
    suffix = check_file_type(filename)
    county = principal.county_code if principal.role == Role.BUREAU else None
    job = jobs.new_job(jobs.UPLOAD, county, jobs.requester(principal), {}, actor=principal.actor)
    folder = uploads_dir(ctx) / job["job_id"]
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"upload{suffix}"
    save(stored)
    job["params"] = json.dumps({"path": str(stored), "filename": filename, "full": full,
                                "counties": [county] if county else None}, ensure_ascii=False)
    queue.enqueue_job(ctx.driver, job, ctx.database)
    return present_job(queue.get_job(ctx.driver, job["job_id"], ctx.database))


def list_uploads(ctx: Context, principal: Principal, county: str | None, skip: int,
                 limit: int) -> tuple[list[dict], int]:
    """Uploads, newest first (a bureau's county only)."""
    require_role(principal, *STAFF)
    return jobs_page(ctx, principal, jobs.UPLOAD, county, skip, limit)


def get(ctx: Context, principal: Principal, job_id: str) -> dict:
    """One upload with its per-file counts."""
    require_role(principal, *STAFF)
    return present_job(visible_job(ctx, principal, job_id, jobs.UPLOAD))


def report_path(ctx: Context, principal: Principal, job_id: str) -> Path:
    """The validation report (CSV) of a finished upload the caller may see (NotFound otherwise), made safe to
    open in Excel."""
    job = get(ctx, principal, job_id)
    report = uploads_dir(ctx) / job["job_id"] / REPORT_NAME
    if job["status"] != jobs.COMPLETED or not report.is_file():
        raise NotFound.of("校验报告")
    make_safe(report)
    return report


def uploaded_filename(job: dict) -> str | None:
    """The uploaded file's own name as the load reported it (for the report's download name)."""
    files = (job.get("result") or {}).get("files") or []
    return files[0].get("file") if files else None
