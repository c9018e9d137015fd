"""Data upload: a bureau file is stored and loaded by the same ETL in the background; its report is kept."""
import json
from pathlib import Path
from typing import Callable

from graph import jobs as queue
from services import jobs
from services.context import Context
from services.errors import NotFound, Unsupported
from services.principal import STAFF, Principal, Role, require_role
from services.runs import jobs_page, present_job, visible_job

ALLOWED_SUFFIXES = frozenset({".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"})
MAX_FILENAME = 200


def uploads_dir(ctx: Context) -> Path:
    """Where uploaded files and their reports are kept (one folder per job)."""
    return Path(ctx.settings.var_dir) / "uploads"


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
    filename = filename or "upload"
    suffix = check_file_type(filename)
    county = principal.county_code if principal.role == Role.BUREAU else None
    job = jobs.new_job(jobs.UPLOAD, county, principal.actor, {})
    folder = uploads_dir(ctx) / job["job_id"]
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"upload{suffix}"
    save(stored)
    job["params"] = json.dumps({"path": str(stored), "filename": filename[:MAX_FILENAME], "full": full,
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
    """The validation report (CSV) of a finished upload the caller may see (NotFound otherwise)."""
    job = get(ctx, principal, job_id)
    report = Path((job.get("result") or {}).get("report", ""))
    inside = uploads_dir(ctx).resolve()
    if job["status"] != jobs.COMPLETED or not report.is_file() or inside not in report.resolve().parents:
        raise NotFound.of("校验报告")
    return report
