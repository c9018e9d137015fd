"""The partnership ledger (帮扶台账): search, read, update income gain and status, XLSX export."""
from dataclasses import dataclass, fields
from datetime import datetime, timezone

from core.clock import today_iso
from core.codes import PartnershipStatus
from graph import ledger as graph_ledger
from graph import views
from services import exports, jobs
from services import search as searching
from services.context import Context
from services.errors import Forbidden, Invalid, NotFound
from services.principal import EVERYONE, STAFF, Principal, Role, require_role, scoped_county
from services.privacy import RequestFacts, audit_if_personal, pseudonym
from services.text import calendar_date, plain_text

# Ledger fields anyone allowed to see the row sees; the household's identity depends on the caller.
ROW_FIELDS = ("partnership_id", "county_code", "village_code", "village_name", "credit_code", "enterprise_name",
              "project_id", "mechanism", "start_date", "end_date", "income_gain", "status", "note", "source", "rec_id",
              "updated_at")
UPDATABLE = graph_ledger.PARTNERSHIP_UPDATABLE
MAX_INCOME_GAIN = 1_000_000
MAX_NOTE = 500


@dataclass(frozen=True)
class PartnershipFilter:
    """What a ledger search may ask for (None = any)."""

    county: str | None = None
    village: str | None = None
    household_id: str | None = None
    credit_code: str | None = None
    mechanism: str | None = None
    status: str | None = None
    q: str | None = None  # the household: 户主姓名, 户编号 prefix or ID suffix (services/search.py)

    @classmethod
    def from_mapping(cls, values: dict) -> "PartnershipFilter":
        """The filter from a mapping with (at least) these names; other keys are ignored."""
        return cls(**{field.name: values[field.name] for field in fields(cls) if field.name in values})


def present_partnership(principal: Principal, record: dict, key: str) -> dict:
    """A ledger row as the caller may see it: staff and a confirmed partner see the household's name and phone."""
    shown = {field: record.get(field) for field in ROW_FIELDS}
    shown["household_ref"] = pseudonym(key, record["household_id"])
    partner = principal.role == Role.ENTERPRISE and record.get("status") == PartnershipStatus.IN_FORCE
    if principal.role in STAFF or partner:
        shown.update(household_id=record["household_id"], head_name=record.get("head_name"),
                     phone=record.get("phone"))
    elif principal.role == Role.ENTERPRISE:
        shown["head_name_masked"] = record.get("head_name_masked")
    return shown


def visible_records(ctx: Context, principal: Principal, filters: PartnershipFilter, skip: int,
             limit: int) -> tuple[list[dict], int]:
    graph_filters = {"village_code": filters.village, "household_id": filters.household_id,
                     "credit_code": filters.credit_code, "mechanism": filters.mechanism, "status": filters.status}
    if principal.role == Role.ENTERPRISE:
        if filters.credit_code not in (None, principal.credit_code):
            raise Forbidden("企业账号只能查看本企业的联结 / only your own partnerships", "forbidden_scope")
        graph_filters.update(credit_code=principal.credit_code, county_code=filters.county)
        if filters.q is not None and filters.q.strip():
            # An enterprise sees who a household is only once the pairing is confirmed: it searches those rows.
            if filters.status not in (None, PartnershipStatus.IN_FORCE.value):
                return [], 0
            graph_filters["status"] = PartnershipStatus.IN_FORCE.value
    else:
        graph_filters["county_code"] = scoped_county(principal, filters.county)
    # An enterprise's own rows are few: an ID suffix is then checked on them rather than looked up by county.
    match = searching.household_match(ctx, principal, filters.q, graph_filters.get("county_code"),
                                             county_required=principal.role != Role.ENTERPRISE)
    return views.search_partnerships(ctx.driver, graph_filters, skip, limit, ctx.database, match=match)


def search(ctx: Context, principal: Principal, filters: PartnershipFilter, skip: int, limit: int, *,
           facts: RequestFacts, action: str = "partnerships.search") -> tuple[list[dict], int]:
    """A page of the ledger, newest first, as the caller may see it, and the total."""
    require_role(principal, *EVERYONE)
    records, total = visible_records(ctx, principal, filters, skip, limit)
    key = ctx.settings.pseudonym_secret()
    items = [present_partnership(principal, record, key) for record in records]
    audit_if_personal(ctx, principal, action, items, facts)
    return items, total


def export(ctx: Context, principal: Principal, filters: PartnershipFilter, skip: int, limit: int, *,
           facts: RequestFacts, action: str = "partnerships.export") -> exports.Download:
    """The filtered ledger (bureau, admin) as 帮扶台账-<place>-<day>.xlsx; the read is audited as `action`."""
    require_role(principal, *STAFF)
    records, _ = visible_records(ctx, principal, filters, skip, limit)
    key = ctx.settings.pseudonym_secret()
    items = [present_partnership(principal, record, key) for record in records]
    audit_if_personal(ctx, principal, action, items, facts)
    place = filters.village or (filters.county if principal.role != Role.BUREAU else principal.county_code)
    return exports.ledger_workbook(items, exports.place_name(ctx, place), place)


def visible_partnership(ctx: Context, principal: Principal, partnership_id: str) -> dict:
    """A ledger row if the caller may see it (NotFound otherwise)."""
    record = views.partnership(ctx.driver, partnership_id, ctx.database)
    if record is None or not principal.in_county(record["county_code"]) or (
            principal.role == Role.ENTERPRISE and record["credit_code"] != principal.credit_code):
        raise NotFound.of("联结")
    return record


def get(ctx: Context, principal: Principal, partnership_id: str, *, facts: RequestFacts,
        action: str = "partnerships.detail") -> dict:
    """One ledger row as the caller may see it."""
    require_role(principal, *EVERYONE)
    item = present_partnership(principal, visible_partnership(ctx, principal, partnership_id),
                               ctx.settings.pseudonym_secret())
    audit_if_personal(ctx, principal, action, [item], facts)
    return item


def check_changes(changes: dict) -> dict:
    """The changes, checked: known fields, a status of the code list, the income range, plain text, real dates."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise Invalid(f"不能修改的字段 / fields that cannot be changed: {'、'.join(sorted(unknown))}", "unknown_field")
    checked = dict(changes)
    if "status" in checked:
        if checked["status"] not in PartnershipStatus.codes():
            raise Invalid("联结状态无效 / invalid status", "invalid_status")
        checked["status"] = str(checked["status"])  # the plain code, also when given as the enum
    if "income_gain" in checked and not 0 <= float(checked["income_gain"]) <= MAX_INCOME_GAIN:
        raise Invalid("年增收须在 0 到 1,000,000 之间 / income gain out of range", "invalid_income_gain")
    if checked.get("note") is not None:
        plain_text(checked["note"], "帮扶措施")
        if len(checked["note"]) > MAX_NOTE:
            raise Invalid(f"帮扶措施最多 {MAX_NOTE} 字 / note too long", "invalid_note")
    if checked.get("end_date") is not None:
        calendar_date(checked["end_date"], "结束日期")
    return checked


def update(ctx: Context, principal: Principal, partnership_id: str, changes: dict, *, facts: RequestFacts,
           action: str = "partnerships.update", source: str = "api") -> dict:
    """Change income gain, status, note or end date of a visible row (bureau, admin); returns the row as shown.

    Each changed field is recorded (who, when, from → to; source: page or api) in the same transaction."""
    require_role(principal, *STAFF)
    visible_partnership(ctx, principal, partnership_id)
    if not changes:
        raise Invalid("没有要更新的字段 / nothing to update", "nothing_to_update")
    graph_ledger.update_partnership(ctx.driver, partnership_id, check_changes(changes), principal.actor,
                                    datetime.now(timezone.utc).isoformat(), ctx.database,
                                    changed_by=jobs.requester(principal), source=source)
    item = present_partnership(principal, visible_partnership(ctx, principal, partnership_id),
                               ctx.settings.pseudonym_secret())
    audit_if_personal(ctx, principal, action, [item], facts)
    return item


FIELD_TITLES = {"status": "状态", "end_date": "结束日期", "income_gain": "年增收（元）", "note": "帮扶措施"}
SOURCE_TITLES = {"page": "台账页面", "api": "接口", "etl": "台账文件导入", "recommendation": "接受、确认或退回推荐"}


def change_text(field: str, value: str | None) -> str:
    """A recorded value in words: a status by its label, none as —."""
    if value is None or value == "":
        return "—"
    if field == "status":
        return PartnershipStatus.label_of(value, value)
    return value


def present_change(change: dict) -> dict:
    """A PartnershipChange as shown (no token id): who, when, which field, from → to (as stored and in words)."""
    field = change.get("field")
    return {"change_id": change.get("change_id"), "partnership_id": change.get("partnership_id"),
            "changed_at": change.get("changed_at"), "changed_by": change.get("changed_by"),
            "source": change.get("source"), "source_title": SOURCE_TITLES.get(change.get("source"), ""),
            "field": field, "field_title": FIELD_TITLES.get(field, field),
            "from_value": change.get("from_value"), "to_value": change.get("to_value"),
            "from_text": change_text(field, change.get("from_value")),
            "to_text": change_text(field, change.get("to_value"))}


def changes(ctx: Context, principal: Principal, partnership_id: str, skip: int, limit: int) -> tuple[list[dict], int]:
    """A page of a partnership's change history, newest first: whoever may see the row (an enterprise only its
    own; a bureau only its county's; NotFound otherwise)."""
    require_role(principal, *EVERYONE)
    visible_partnership(ctx, principal, partnership_id)
    items, total = graph_ledger.partnership_changes(ctx.driver, partnership_id, skip, limit, ctx.database)
    return [present_change(item) for item in items], total


MAX_HISTORY = 200
MAX_YEARS = 20


def _year(text: str | None) -> int | None:
    return int(text[:4]) if text and len(text) >= 4 and text[:4].isdigit() else None


def income_by_year(row: dict, history: list[dict], today: str) -> list[dict]:
    """The 年增收 in force at the end of each year of the partnership, from its start year to its end (or this
    year), rebuilt from the recorded changes of income_gain: [{year, income_gain (None when none was stated),
    changed (True in a year the value was changed)}]. Empty without a start date."""
    first = _year(row.get("start_date"))
    if first is None:
        return []
    last = min(_year(row.get("end_date")) or _year(today), _year(today))
    gains = sorted((change for change in history if change.get("field") == "income_gain"),
                   key=lambda change: change.get("changed_at") or "")
    value = gains[0].get("from_value") if gains else value_text_of(row.get("income_gain"))
    years, pending = [], list(gains)
    for year in range(max(first, last - MAX_YEARS + 1), max(last, first) + 1):
        changed = False
        while pending and (_year(pending[0].get("changed_at")) or 0) <= year:
            value, changed = pending.pop(0).get("to_value"), True
        years.append({"year": year, "income_gain": float(value) if value not in (None, "") else None,
                      "changed": changed})
    return years


def value_text_of(value) -> str | None:
    """A stored value as the history writes it (graph.ledger.value_text)."""
    return graph_ledger.value_text(value)


def row_name(item: dict) -> str:
    """How a ledger row is named to the caller: the household as the role may see it · the enterprise."""
    household = item.get("head_name") or item.get("head_name_masked") or item.get("household_ref") or ""
    if item.get("household_id"):
        household = f"{household}（{item['household_id']}）"
    return f"{household} · {item.get('enterprise_name') or item.get('credit_code') or ''}"


def detail(ctx: Context, principal: Principal, partnership_id: str, *, facts: RequestFacts,
           action: str = "partnerships.detail") -> dict:
    """One ledger row with its change history (newest first, up to MAX_HISTORY) and its 年增收 by year."""
    item = get(ctx, principal, partnership_id, facts=facts, action=action)
    history, total = changes(ctx, principal, partnership_id, 0, MAX_HISTORY)
    return {"item": item, "changes": history, "changes_total": total, "name": row_name(item),
            "income_years": income_by_year(item, history, today_iso())}
