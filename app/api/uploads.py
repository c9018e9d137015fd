"""Data upload: a bureau file goes through the same ETL in the background; its report is downloadable."""
import json
from pathlib import Path

from flask import current_app, send_file, url_for

from app.api import api, dump, tag
from app.api.runs import visible_job, present_job
from app.api.schemas import JobOut, MatchRunQuery, PageOut, UploadForm, UploadPath
from app.auth import AuthError, current_principal, not_found, requires, scoped_county
from app.extensions import neo4j_ext
from app.jobs import new_job
from graph import jobs as queue

TAGS = tag("数据上传 uploads", "上传贫困户、成员、企业、项目、村或台账文件，按同一 ETL 校验与加载")
ALLOWED_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"}


class UploadPage(PageOut[JobOut]):
    """A page of uploads."""


def accept_upload(file, full: bool) -> dict:
    """Store an uploaded file and queue its load (limited to a bureau's county); returns the stored job."""
    principal = current_principal()
    filename = file.filename or "upload"
    suffix = Path(filename).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise AuthError(415, "unsupported_file_type",
                        f"不支持的文件类型 {suffix or '（无扩展名）'}，请上传 CSV 或 Excel / unsupported file type")
    county = principal.county_code if principal.role == "bureau" else None
    job = new_job("upload", county, principal.actor, {})
    settings = current_app.config["LIANJIE_SETTINGS"]
    folder = Path(settings.var_dir) / "uploads" / job["job_id"]
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"upload{suffix}"
    file.save(stored)
    job["params"] = json.dumps({"path": str(stored), "filename": filename[:200], "full": full,
                                "counties": [county] if county else None}, ensure_ascii=False)
    queue.enqueue_job(neo4j_ext.driver, job, neo4j_ext.database)
    return queue.get_job(neo4j_ext.driver, job["job_id"], neo4j_ext.database)


def report_path(job_id: str) -> Path:
    """The validation report of a finished upload the caller may see (404 otherwise)."""
    job = present_job(visible_job(job_id, "upload"))
    report = Path((job.get("result") or {}).get("report", ""))
    settings = current_app.config["LIANJIE_SETTINGS"]
    uploads = (Path(settings.var_dir) / "uploads").resolve()
    if job["status"] != "completed" or not report.is_file() or uploads not in report.resolve().parents:
        raise not_found("校验报告")
    return report


@api.post("/uploads", tags=TAGS, responses={202: JobOut})
@requires("bureau", "admin")
def upload_file(form: UploadForm):
    """上传数据文件（后台加载，商务局账号只能加载本县数据）/ upload a file; loaded in the background."""
    stored = accept_upload(form.file, form.full)
    response = dump(JobOut(**present_job(stored)))
    return response, 202, {"Location": url_for("api_v1.get_upload", job_id=stored["job_id"])}


@api.get("/uploads", tags=TAGS, responses={200: UploadPage})
@requires("bureau", "admin")
def list_uploads(query: MatchRunQuery):
    """上传记录（最新在前）/ uploads, newest first."""
    county = scoped_county(query.county)
    jobs, total = queue.list_jobs(neo4j_ext.driver, "upload", [county] if county else None, query.skip,
                                  query.page_size, neo4j_ext.database)
    return dump(UploadPage(items=[JobOut(**present_job(job)) for job in jobs], page=query.page,
                           page_size=query.page_size, total=total))


@api.get("/uploads/<job_id>", tags=TAGS, responses={200: JobOut})
@requires("bureau", "admin")
def get_upload(path: UploadPath):
    """一次上传：状态与每个文件的读取/加载/拒绝/警告行数 / one upload with its counts."""
    return dump(JobOut(**present_job(visible_job(path.job_id, "upload"))))


@api.get("/uploads/<job_id>/report.csv", tags=TAGS, responses={200: None})
@requires("bureau", "admin")
def upload_report(path: UploadPath):
    """下载校验报告（CSV，UTF-8 BOM，可用 Excel 打开）/ the validation report."""
    return send_file(report_path(path.job_id), mimetype="text/csv", as_attachment=True,
                     download_name=f"{path.job_id}-report.csv")
