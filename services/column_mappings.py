"""Column mappings: a header the ETL does not recognise, mapped once by bureau staff to a field of its file kind
and applied to their county's later uploads (and named in their reports: 按本县保存的列对应读取).

A mapping belongs to one county: a bureau maps for its own; an administrator names the county. Only a field
the kind declares (etl/formats.py) may be chosen, and only for a header that no declared spelling already
names — a saved mapping never changes how a recognised column is read.
"""
import hashlib
from datetime import datetime, timezone

from core import geography
from etl.formats import KINDS
from etl.readers import normalise_header, spellings_with
from graph import mappings as queries
from services.context import Context
from services.errors import Invalid, NotFound
from services.principal import STAFF, Principal, require_role, scoped_county

MAX_HEADER = 100
KIND_TITLES = {kind.name: kind.title for kind in KINDS.values()}  # the file kinds a mapping may be for


def field_choices() -> dict[str, dict]:
    """Per file kind: its title and the fields a column may be mapped to (name → official header)."""
    return {kind.name: {"title": kind.title, "fields": {column.name: column.header for column in kind.columns}}
            for kind in KINDS.values()}


def unmapped_columns(jobs: list[dict], mappings: list[dict]) -> list[dict]:
    """The columns recent uploads did not load and that no saved mapping names yet, once each (kind, header):
    what the upload page offers to map."""
    mapped = {(mapping["kind"], mapping["header_key"]) for mapping in mappings}
    found: dict[tuple[str, str], dict] = {}
    for job in jobs:
        for file in (job.get("result") or {}).get("files") or []:
            if file.get("kind") not in KINDS:
                continue
            for column in file.get("columns_ignored") or []:
                key = (file["kind"], normalise_header(column["header"]))
                if key not in mapped and key not in found:
                    found[key] = {"kind": file["kind"], "header": column["header"], "file": file.get("file")}
    return list(found.values())


def _county(principal: Principal, county: str | None) -> str:
    """The county a mapping is saved for: a bureau's own; an administrator's choice (a known county)."""
    county = scoped_county(principal, county)
    if not county or len(county) != 12 or not county.isdigit() or geography.division(county) is None:
        raise Invalid("请指定列对应所属的县（12 位县级代码）/ name the county (12-digit code)", "county_required")
    return county


def list_mappings(ctx: Context, principal: Principal, county: str | None = None) -> list[dict]:
    """The county's saved mappings (an administrator naming none: every county's), with the titles to show."""
    require_role(principal, *STAFF)
    scoped = scoped_county(principal, county)
    found = queries.county_mappings(ctx.driver, None if scoped is None else [scoped], ctx.database)
    for mapping in found:
        kind = KINDS.get(mapping["kind"])
        mapping["kind_title"] = kind.title if kind else mapping["kind"]
        mapping["field_header"] = next((column.header for column in kind.columns if column.name == mapping["field"]),
                                       mapping["field"]) if kind else mapping["field"]
    return found


def save_mapping(ctx: Context, principal: Principal, kind_name: str, header: str, field: str,
                 county: str | None = None) -> dict:
    """Map a header of a file kind to one of its fields for the county's later uploads (replacing an earlier
    mapping of the same header)."""
    require_role(principal, *STAFF)
    county = _county(principal, county)
    kind = KINDS.get(kind_name)
    if kind is None:
        raise Invalid(f"未知的文件类型：{kind_name} / unknown file kind", "unknown_kind")
    if field not in {column.name for column in kind.columns}:
        raise Invalid(f"{kind.title}没有字段 {field} / no such field", "unknown_field")
    text = (header or "").strip()
    key = normalise_header(text)
    if not key or len(text) > MAX_HEADER:
        raise Invalid(f"列名应为 1–{MAX_HEADER} 个字符 / header must have 1–{MAX_HEADER} characters", "invalid_header")
    declared = spellings_with(kind.name, None).get(key)
    if declared is not None:
        header_of = kind.column(declared).header
        raise Invalid(f"列名“{text}”已能识别为 {header_of}，无需对应 / header already recognised", "header_recognised")
    mapping_id = hashlib.sha256(f"{county}|{kind.name}|{key}".encode("utf-8")).hexdigest()[:16]
    mapping = {"mapping_id": mapping_id, "county_code": county, "kind": kind.name,
               "header": text, "header_key": key, "field": field, "created_by": principal.actor,
               "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    return queries.save_mapping(ctx.driver, mapping, ctx.database)


def delete_mapping(ctx: Context, principal: Principal, mapping_id: str, county: str | None = None) -> None:
    """Delete one of the county's mappings (an administrator naming no county: any county's); NotFound when
    there is none by that id."""
    require_role(principal, *STAFF)
    if not queries.delete_mapping(ctx.driver, scoped_county(principal, county), mapping_id, ctx.database):
        raise NotFound.of("列对应")
