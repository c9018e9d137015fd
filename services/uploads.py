"""Data upload: a bureau file is stored and loaded by the same ETL in the background; its report is kept.

The file is stored under a name of our own (var/uploads/JOB_ID/upload.csv); the name it had on the
user's computer is kept only for display, without any folder part or control characters. The report is
served from the job's folder (never from a path read back from the graph) and re-escaped before it is
served, so no field of it opens in Excel as a formula, whatever wrote it.
"""
import json
import re
import shutil
from pathlib import Path
from typing import Callable

from etl.report import make_safe
from graph import jobs as queue
from services import jobs
from services.context import Context
from services.exports import CONTROL_CHARACTERS, XLSX_MIMETYPE, Download, export_filename, xlsx_bytes
from services.errors import Invalid, NotFound, Unsupported
from services.principal import STAFF, Principal, Role, require_role
from services.runs import jobs_page, present_job, visible_job

ALLOWED_SUFFIXES = frozenset({".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"})
MAX_FILENAME = 200
REPORT_NAME = "report.csv"
EXAMPLE_PREFIX = "示例"  # etl.load.EXAMPLE_PREFIX: the example row a template carries is skipped by the ETL


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


FULL_NOT_CONFIRMED = ("“全量户数据”会把本县在册、但文件中未列出的户标记为停用：请勾选确认后再上传 / a full extract marks "
                      "the county's households it does not list inactive: confirm it")
# The first bytes of each kind of workbook: a zip container (xlsx, xlsm, ods) or an OLE2 compound file (xls).
_SIGNATURES = {".xlsx": b"PK\x03\x04", ".xlsm": b"PK\x03\x04", ".ods": b"PK\x03\x04",
               ".xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"}


def check_readable(path: Path, suffix: str) -> None:
    """Refuse at once (Invalid, in Chinese) a file that cannot be a table: empty, a workbook suffix on something
    else (a picture renamed .xlsx), a text file holding binary data. Deeper problems are the ETL's to report."""
    size = path.stat().st_size if path.is_file() else 0
    if size == 0:
        raise Invalid("上传的文件是空的（0 字节），请检查后重新选择 / the file is empty", "unreadable_file")
    with open(path, "rb") as handle:
        head = handle.read(4096)
    expected = _SIGNATURES.get(suffix)
    if expected is not None and not head.startswith(expected):
        raise Invalid(f"无法读取：文件不是有效的 {suffix[1:].upper()} 工作簿（可能已损坏，或是改了扩展名的其他文件），"
                      "请在 Excel 中另存为 .xlsx 后重新上传 / not a valid workbook", "unreadable_file")
    if expected is None and b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Invalid("无法读取：文件不是文本格式的 CSV，请在 Excel 中另存为 CSV 或 .xlsx 后重新上传 / not a text file",
                      "unreadable_file")


def accept(ctx: Context, principal: Principal, filename: str | None, save: Callable[[Path], None],
           full: bool = False, confirm_full: bool = False) -> dict:
    """Store an uploaded file (save(path) writes it there) and queue its load, limited to a bureau's county.

    A full extract (`full`: households it does not list are marked inactive) must be confirmed (`confirm_full`);
    an empty or unreadable file is refused before anything is queued (Invalid). Returns the queued job as
    presented."""
    require_role(principal, *STAFF)
    filename = display_name(filename)
    suffix = check_file_type(filename)
    if full and not confirm_full:
        raise Invalid(FULL_NOT_CONFIRMED, "full_not_confirmed")
    county = principal.county_code if principal.role == Role.BUREAU else None
    job = jobs.new_job(jobs.UPLOAD, county, jobs.requester(principal), {}, actor=principal.actor)
    folder = uploads_dir(ctx) / job["job_id"]
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"upload{suffix}"
    save(stored)
    try:
        check_readable(stored, suffix)
    except Invalid:
        shutil.rmtree(folder, ignore_errors=True)
        raise
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


# --- templates (下载模板): the official Chinese headers the ETL reads, and one example row it skips ---------------

def _example_value(column, identifying: bool):
    """A cell of the example row: the identifying columns start 示例 (the ETL skips such a row); the others show the
    expected form (a code list's first label, a date, a number)."""
    from etl import formats

    if identifying:
        return f"{EXAMPLE_PREFIX}（请删除本行）"
    if column.code_list is not None:
        labels = list(column.code_list.labels().values())
        return "、".join(labels[:2]) if column.type == formats.CODES else labels[0]
    return {formats.INTEGER: 3, formats.DECIMAL: 1200.5, formats.DATE: "2025-01-01", formats.YEAR: 2020,
            formats.REGION_CODE: "433123100201", formats.CREDIT_CODE: "91433123MA4L000000",
            formats.ID_NUMBER: "433123199001010000", formats.LIST: "猕猴桃、茶叶"}.get(column.type, "")


TEMPLATE_NOTE = "第 2 行为示例（户编号等以“示例”开头），上传时自动跳过，可删除；列名请勿修改。"


def template_kinds() -> list[dict]:
    """The upload kinds with a template: name and Chinese title, in load order."""
    from etl import formats

    return [{"kind": name, "title": formats.KINDS[name].title} for name in formats.LOAD_ORDER]


def template(kind_name: str) -> Download:
    """The upload template of a file kind: an .xlsx whose header row is the kind's official Chinese column names
    (what the ETL recognises) and whose second row is an example the ETL skips (its key starts 示例)."""
    from etl import formats
    from etl.load import example_columns

    kind = formats.KINDS.get(kind_name)
    if kind is None:
        raise NotFound.of("模板")
    identifying = set(example_columns(kind))
    columns = [(column.name, column.header) for column in kind.columns]
    example = {column.name: _example_value(column, column.name in identifying) for column in kind.columns}
    name, fallback = export_filename(f"上传模板-{kind.title}", None, f"template-{kind_name}", None, "")
    name, fallback = name.replace("-全部", ""), fallback.replace("-all", "")
    return Download(name, XLSX_MIMETYPE, xlsx_bytes(kind.title[:31], columns, [example]), fallback)
