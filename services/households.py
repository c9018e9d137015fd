"""Households: search (paginated), detail with members, partnerships and recommendations, XLSX export."""
from dataclasses import dataclass, fields

from graph import views
from services import exports
from services.context import Context
from services.errors import NotFound
from services.principal import STAFF, Principal, Role, require_role, scoped_county
from services.privacy import (FULL, RequestFacts, audit_if_personal, household_view, present_household,
                              present_member)

SEARCHERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
MAX_ID_LENGTH = 64


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
    sort: str = "household_id"

    @classmethod
    def from_mapping(cls, values: dict) -> "HouseholdFilter":
        """The filter from a mapping with (at least) these names; other keys are ignored."""
        return cls(**{field.name: values[field.name] for field in fields(cls) if field.name in values})


def _records(ctx: Context, principal: Principal, filters: HouseholdFilter, skip: int,
             limit: int) -> tuple[list[dict], int]:
    county = scoped_county(principal, filters.county)
    for code in (filters.township, filters.village):
        if code is not None and county is not None and not code.startswith(county[:6]):
            return [], 0
    graph_filters = {"county_code": county, "township_code": filters.township, "village_code": filters.village,
                     "main_cause": filters.cause, "attribute": filters.attribute,
                     "monitoring_category": filters.monitoring}
    return views.search_households(ctx.driver, graph_filters, filters.labour, filters.covered, filters.sort, skip,
                                   limit, ctx.database)


def search(ctx: Context, principal: Principal, filters: HouseholdFilter, skip: int, limit: int, *,
           facts: RequestFacts, action: str = "households.search") -> tuple[list[dict], int]:
    """A page of households as the caller may see them (analysts: pseudonymised), and the total."""
    require_role(principal, *SEARCHERS)
    records, total = _records(ctx, principal, filters, skip, limit)
    view, key = household_view(principal), ctx.settings.pseudonym_secret()
    items = [present_household(record, view, key) for record in records]
    audit_if_personal(ctx, principal, action, items, facts)
    return items, total


def export(ctx: Context, principal: Principal, filters: HouseholdFilter, skip: int, limit: int, *,
           facts: RequestFacts, action: str = "households.export") -> exports.Download:
    """The search result, unmasked (bureau, admin), as households.xlsx; the read is audited as `action`."""
    require_role(principal, *STAFF)
    records, _ = _records(ctx, principal, filters, skip, limit)
    key = ctx.settings.pseudonym_secret()
    items = [present_household(record, FULL, key) for record in records]
    audit_if_personal(ctx, principal, action, items, facts)
    return exports.households_workbook(items)


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
