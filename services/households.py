"""Households: search (paginated, with a keyset cursor), detail with members, partnerships and
recommendations, XLSX export (read in keyset chunks)."""
import base64
import binascii
import json
from dataclasses import dataclass, fields

from graph import views
from services import exports
from services import search as searching
from services.context import Context
from services.errors import Invalid, NotFound
from services.principal import STAFF, Principal, Role, require_role, scoped_county
from services.privacy import (FULL, PSEUDONYMOUS, RequestFacts, audit_if_personal, household_view,
                              present_household, present_member)

SEARCHERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
MAX_ID_LENGTH = 64
MAX_CURSOR_LENGTH = 200
EXPORT_CHUNK = 1000


@dataclass(frozen=True)
class HouseholdFilter:
    """What a household search may ask for (codes as stored; None = any)."""

    county: str | None = None
    township: str | None = None
    village: str | None = None
    cause: str | None = None
    attribute: str | None = None
    monitoring: str | None = None
    labour: str | None = None  # none / weak / ordinary / skilled / any
    covered: bool | None = None
    coverage: str | None = None  # a coverage state (core/coverage.py): confirmed / awaiting / planned / uncovered
    sort: str = "household_id"
    q: str | None = None  # 户主姓名, 户编号 prefix or ID suffix (services/search.py)
    order: str = "asc"  # asc / desc

    @property
    def sort_token(self) -> str:
        """The sort as a cursor records it: the key, with a leading minus when descending."""
        return f"-{self.sort}" if self.order == "desc" else self.sort

    @classmethod
    def from_mapping(cls, values: dict) -> "HouseholdFilter":
        """The filter from a mapping with (at least) these names; other keys are ignored."""
        return cls(**{field.name: values[field.name] for field in fields(cls) if field.name in values})


def _graph_filters(principal: Principal, filters: HouseholdFilter) -> dict | None:
    """The graph's filters for the caller's scope; None when the filters fall outside it."""
    county = scoped_county(principal, filters.county)
    for code in (filters.township, filters.village):
        if code is not None and county is not None and not code.startswith(county[:6]):
            return None
    return {"county_code": county, "township_code": filters.township, "village_code": filters.village,
            "main_cause": filters.cause, "attribute": filters.attribute, "monitoring_category": filters.monitoring}


def _records(ctx: Context, principal: Principal, filters: HouseholdFilter, skip: int, limit: int,
             after: tuple | None = None, count: bool = True) -> tuple[list[dict], int | None]:
    match = searching.household_match(ctx, principal, filters.q, scoped_county(principal, filters.county))
    graph_filters = _graph_filters(principal, filters)
    if graph_filters is None:
        return [], 0
    return views.search_households(ctx.driver, graph_filters, filters.labour, filters.covered, filters.sort, skip,
                                   limit, ctx.database, after=after, count=count,
                                   descending=filters.order == "desc", match=match, coverage=filters.coverage)


# --- keyset cursors --------------------------------------------------------------------------------
# A cursor names the last row of a page: [sort, sort value, household id], base64url-encoded JSON.
# Views without the household id (analysts' pseudonyms) get an offset cursor ["offset", n] instead,
# so a cursor never reveals what the page hides.

def _encode(value: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(value, ensure_ascii=False).encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[tuple | None, int]:
    """(after, skip) from a cursor; Invalid when it is not one this search made."""
    invalid = Invalid("分页游标无效，请从第一页重新查找 / invalid cursor: start again from the first page",
                      "invalid_cursor")
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    if isinstance(value, list) and len(value) == 2 and value[0] == "offset" and type(value[1]) is int \
            and 0 <= value[1] <= 10_000_000:
        return None, value[1]
    if not (isinstance(value, list) and len(value) == 3 and value[0] == sort):
        raise invalid
    _, sort_value, household_id = value
    if not isinstance(household_id, str) or not household_id or len(household_id) > MAX_ID_LENGTH:
        raise invalid
    if sort_value is not None and (isinstance(sort_value, bool) or not isinstance(sort_value, (int, float, str))):
        raise invalid
    return (sort_value, household_id), 0


def _next_cursor(records: list[dict], limit: int, sort: str, view: str, skip: int) -> str | None:
    if len(records) < limit:
        return None  # the last page
    if view == PSEUDONYMOUS:
        return _encode(["offset", skip + len(records)])
    last = records[-1]
    return _encode([sort, last.get("_sort_value"), last["household_id"]])


@dataclass(frozen=True)
class HouseholdPage:
    """One page of a household search."""

    items: list[dict]
    total: int
    next_cursor: str | None


def search_page(ctx: Context, principal: Principal, filters: HouseholdFilter, skip: int, limit: int, *,
                facts: RequestFacts, cursor: str | None = None, action: str = "households.search") -> HouseholdPage:
    """A page of households as the caller may see them (analysts: pseudonymised), the total and the next cursor.

    With a cursor (from the previous page's next_cursor) the page continues after that page's last row;
    skip is then ignored. The page is read from the stored read state, O(page)."""
    require_role(principal, *SEARCHERS)
    after = None
    if cursor:
        after, skip = _decode(cursor, filters.sort_token)
    # One row more than the page says whether another page follows (no cursor to an empty page).
    records, total = _records(ctx, principal, filters, skip, limit + 1, after)
    view, key = household_view(principal), ctx.settings.pseudonym_secret()
    next_cursor = _next_cursor(records[:limit], limit, filters.sort_token, view, skip) if len(records) > limit else None
    records = records[:limit]
    items = [present_household(_without_cursor(record), view, key) for record in records]
    audit_if_personal(ctx, principal, action, items, facts)
    return HouseholdPage(items, total, next_cursor)


def _without_cursor(record: dict) -> dict:
    return {name: value for name, value in record.items() if name != "_sort_value"}


def search(ctx: Context, principal: Principal, filters: HouseholdFilter, skip: int, limit: int, *,
           facts: RequestFacts, action: str = "households.search") -> tuple[list[dict], int]:
    """A page of households as the caller may see them (analysts: pseudonymised), and the total."""
    page = search_page(ctx, principal, filters, skip, limit, facts=facts, action=action)
    return page.items, page.total


def export(ctx: Context, principal: Principal, filters: HouseholdFilter, skip: int, limit: int, *,
           facts: RequestFacts, action: str = "households.export") -> exports.Download:
    """The search result, unmasked (bureau, admin), as households.xlsx; the read is audited as `action`.

    Read in keyset chunks of EXPORT_CHUNK rows, so no query holds the whole export."""
    require_role(principal, *STAFF)
    key = ctx.settings.pseudonym_secret()
    items, after = [], None
    while len(items) < limit:
        chunk = min(EXPORT_CHUNK, limit - len(items))
        records, _ = _records(ctx, principal, filters, skip if after is None else 0, chunk, after, count=False)
        items += [present_household(_without_cursor(record), FULL, key) for record in records]
        if len(records) < chunk:
            break
        after = (records[-1].get("_sort_value"), records[-1]["household_id"])
    audit_if_personal(ctx, principal, action, items, facts)
    place = filters.village or filters.township or filters.county or (
        principal.county_code if principal.role == Role.BUREAU else None)
    return exports.households_workbook(items, exports.place_name(ctx, place), place)


def visible_household(ctx: Context, principal: Principal, household_id: str) -> dict:
    """A household's detail record if the caller may see it (NotFound otherwise)."""
    record = None
    if len(household_id) <= MAX_ID_LENGTH:
        record = views.household_detail(ctx.driver, household_id, ctx.database)
    if record is None or not principal.in_county(record["county_code"]):
        raise NotFound.of("户")
    return record


def get(ctx: Context, principal: Principal, household_id: str, *, facts: RequestFacts,
        action: str = "households.detail") -> dict:
    """A household as the caller may see it, with member_list, partnership_list and recommendation_list."""
    require_role(principal, *STAFF)
    record = visible_household(ctx, principal, household_id)
    view = household_view(principal)
    shown = {**present_household(record, view, ctx.settings.pseudonym_secret()),
             "member_list": [present_member(member, view) for member in record["member_list"]],
             "partnership_list": record["partnership_list"], "recommendation_list": record["recommendation_list"]}
    audit_if_personal(ctx, principal, action, [shown], facts)  # members' names count, not only the head's
    return shown
