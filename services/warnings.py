"""Early warnings (预警) for a county: counts per warning and township, the households behind each, the
enterprises flagged, and an Excel export of a warning's households.

Every figure is read from the stored warnings (graph/warnings.py), O(townships) for the counts and O(page) for a
list. Bureau staff (their county) and administrators see households in full; analysts with pseudonyms.
"""
from core.clock import today_iso
from core.codes import EnterpriseType, MonitoringCategory
from core.followup import ENTERPRISE_WARNINGS, HOUSEHOLD_WARNINGS, WARNING_DESCRIPTIONS, EarlyWarning
from graph import views
from services import exports
from services.context import Context
from services.errors import Invalid
from services.principal import STAFF, Principal, Role, require_role
from services.privacy import RequestFacts, audit_if_personal, household_view, present_household
from services.regions import check_scope

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
HOUSEHOLD_CODES = [warning.value for warning in HOUSEHOLD_WARNINGS]
EXPORT_LIMIT = 20_000
EXPORT_COLUMNS = [
    ("household_id", "户编号"), ("head_name", "户主姓名"), ("phone", "联系电话"), ("township_name", "乡镇"),
    ("village_name", "行政村"), ("warning_label", "预警"), ("monitoring_label", "监测对象类别"),
    ("household_size", "家庭人口数"), ("income_per_capita", "人均纯收入（元）"), ("labourers", "劳动力人数"),
]


def _position(warning: str) -> int:
    if warning not in HOUSEHOLD_CODES:
        raise Invalid("预警类型无效 / unknown household warning", "invalid_warning")
    return HOUSEHOLD_CODES.index(warning)


def _counts(values: list | None) -> dict[str, int]:
    values = list(values or [])
    return {code: int(values[i]) if i < len(values) and values[i] is not None else 0
            for i, code in enumerate(HOUSEHOLD_CODES)}


def overview(ctx: Context, principal: Principal, county: str) -> dict:
    """The county's warnings: per household warning its count (county and townships), label and rule; the
    enterprises flagged with the figures behind each flag."""
    require_role(principal, *READERS)
    check_scope(principal, county)
    stored = views.county_warnings(ctx.driver, county, ctx.database)
    totals = _counts(stored["counts"])
    townships = [{"code": township["code"], "name": township["name"] or township["code"],
                  "counts": _counts(township["counts"])} for township in stored["townships"]]
    enterprises = []
    for record in views.flagged_enterprises(ctx.driver, county, ctx.database):
        flags = list(record.get("warning_flags") or [])
        enterprises.append({
            **{name: record.get(name) for name in ("credit_code", "name", "decided_count", "declined_count",
                                                    "partnership_count", "terminated_count", "township_code")},
            "enterprise_type_label": EnterpriseType.label_of(record.get("enterprise_type"), None),
            "warnings": [warning.value for i, warning in enumerate(ENTERPRISE_WARNINGS) if i < len(flags) and flags[i]],
        })
    by_enterprise_warning = {warning.value: sum(warning.value in item["warnings"] for item in enterprises)
                             for warning in ENTERPRISE_WARNINGS}
    return {
        "county_code": county, "as_of": today_iso(),
        "household_warnings": [{"warning": code, "label": EarlyWarning(code).label,
                                "description": WARNING_DESCRIPTIONS[EarlyWarning(code)], "households": totals[code]}
                               for code in HOUSEHOLD_CODES],
        "enterprise_warnings": [{"warning": warning.value, "label": warning.label,
                                 "description": WARNING_DESCRIPTIONS[warning],
                                 "enterprises": by_enterprise_warning[warning.value]} for warning in ENTERPRISE_WARNINGS],
        "townships": townships, "enterprises": enterprises,
    }


def _present(principal: Principal, record: dict, key: str, warning: str) -> dict:
    shown = present_household(record, household_view(principal), key)
    shown.update(warning=warning, warning_label=EarlyWarning(warning).label,
                 monitoring_label=MonitoringCategory.label_of(shown.get("monitoring_category"), None),
                 labourers=sum(record.get(name) or 0 for name in ("labour_ordinary", "labour_skilled", "labour_weak")))
    return shown


def households(ctx: Context, principal: Principal, county: str, warning: str, township: str | None, skip: int,
               limit: int, *, facts: RequestFacts, action: str = "warnings.households") -> tuple[list[dict], int]:
    """A page of the households with the warning (the county, or one of its townships) and their count."""
    require_role(principal, *READERS)
    check_scope(principal, county)
    if township is not None:
        check_scope(principal, township)
    records, total = views.warned_households(ctx.driver, county, _position(warning), township, skip, limit,
                                             ctx.database)
    key = ctx.settings.pseudonym_secret()
    items = [_present(principal, record, key, warning) for record in records]
    audit_if_personal(ctx, principal, action, items, facts)
    return items, total


def export(ctx: Context, principal: Principal, county: str, warning: str, township: str | None, *,
           facts: RequestFacts, action: str = "warnings.export") -> exports.Download:
    """The warning's households (up to 20,000) as a workbook named after the warning, the county and the day."""
    require_role(principal, *STAFF)
    items, _ = households(ctx, principal, county, warning, township, 0, EXPORT_LIMIT, facts=facts, action=action)
    label = EarlyWarning(warning).label
    filename, fallback = exports.export_filename(f"预警-{label}", exports.place_name(ctx, township or county),
                                                 f"warning-{warning}", township or county)
    return exports.Download(filename, exports.XLSX_MIMETYPE, exports.xlsx_bytes(label[:31], EXPORT_COLUMNS, items),
                            fallback)
