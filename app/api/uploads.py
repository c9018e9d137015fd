"""Data upload: a bureau file goes through the same ETL in the background; its report is downloadable."""
from flask import url_for

from app.api import api, dump, page_of, tag
from app.api.schemas import (ColumnMappingIn, ColumnMappingList, ColumnMappingOut, ColumnMappingPath,
                             ColumnMappingQuery, JobOut, MatchRunQuery, PageOut, UploadForm, UploadPath)
from app.auth import current_principal, requires
from app.downloads import report_download
from app.extensions import neo4j_ext
from services import column_mappings, jobs, uploads

TAGS = tag("数据上传 uploads", "上传贫困户、成员、企业、项目、村或台账文件，按同一 ETL 校验与加载")


class UploadPage(PageOut[JobOut]):
    """A page of uploads."""


def _with_report_url(job: dict) -> dict:
    """An upload as shown, with the URL its report downloads from once it is finished (never a server path)."""
    if job.get("status") == jobs.COMPLETED:
        return {**job, "report_url": url_for("api_v1.upload_report", job_id=job["job_id"])}
    return job


@api.post("/uploads", tags=TAGS, responses={202: JobOut})
@requires("bureau", "admin")
def upload_file(form: UploadForm):
    """上传数据文件（后台加载，商务局账号只能加载本县数据）/ upload a file; loaded in the background."""
    job = uploads.accept(neo4j_ext.context, current_principal(), form.file.filename, form.file.save, form.full,
                         form.confirm_full)
    return dump(JobOut(**job)), 202, {"Location": url_for("api_v1.get_upload", job_id=job["job_id"])}


@api.get("/uploads", tags=TAGS, responses={200: UploadPage})
@requires("bureau", "admin")
def list_uploads(query: MatchRunQuery):
    """上传记录（最新在前）/ uploads, newest first."""
    items, total = uploads.list_uploads(neo4j_ext.context, current_principal(), query.county, query.skip,
                                        query.page_size)
    return page_of(UploadPage, ([_with_report_url(job) for job in items], total), query)


@api.get("/uploads/<job_id>", tags=TAGS, responses={200: JobOut})
@requires("bureau", "admin")
def get_upload(path: UploadPath):
    """一次上传：状态与每个文件的读取/加载/拒绝/警告行数 / one upload with its counts."""
    return dump(JobOut(**_with_report_url(uploads.get(neo4j_ext.context, current_principal(), path.job_id))))


@api.get("/uploads/<job_id>/report.csv", tags=TAGS, responses={200: None})
@requires("bureau", "admin")
def upload_report(path: UploadPath):
    """下载校验报告（CSV，UTF-8 BOM，可用 Excel 打开）/ the validation report."""
    ctx, principal = neo4j_ext.context, current_principal()
    report = uploads.report_path(ctx, principal, path.job_id)
    return report_download(report, path.job_id, uploads.uploaded_filename(uploads.get(ctx, principal, path.job_id)))


@api.get("/column-mappings", tags=TAGS, responses={200: ColumnMappingList})
@requires("bureau", "admin")
def list_column_mappings(query: ColumnMappingQuery):
    """本县保存的列对应（未识别的列名 → 字段）/ the county's saved column mappings."""
    found = column_mappings.list_mappings(neo4j_ext.context, current_principal(), query.county)
    return dump(ColumnMappingList(items=[ColumnMappingOut(**mapping) for mapping in found]))


@api.post("/column-mappings", tags=TAGS, responses={201: ColumnMappingOut})
@requires("bureau", "admin")
def save_column_mapping(body: ColumnMappingIn):
    """保存列对应：本县此后上传的文件中，该列名读作该字段（已能识别的列名不可对应）/ map a header to a field for
    the county's later uploads."""
    saved = column_mappings.save_mapping(neo4j_ext.context, current_principal(), body.kind, body.header, body.field,
                                         body.county)
    return dump(ColumnMappingOut(**saved)), 201


@api.delete("/column-mappings/<mapping_id>", tags=TAGS, responses={204: None})
@requires("bureau", "admin")
def delete_column_mapping(path: ColumnMappingPath, query: ColumnMappingQuery):
    """删除一条列对应 / delete a column mapping."""
    column_mappings.delete_mapping(neo4j_ext.context, current_principal(), path.mapping_id, query.county)
    return "", 204
