"""Industry projects (产业扶贫项目)."""
from dataclasses import dataclass

from graph import views
from services.context import Context
from services.errors import NotFound
from services.principal import EVERYONE, Principal, Role, require_role, scoped_county


@dataclass(frozen=True)
class ProjectFilter:
    county: str | None = None
    status: str | None = None
    mechanism: str | None = None


def search(ctx: Context, principal: Principal, filters: ProjectFilter, skip: int,
           limit: int) -> tuple[list[dict], int]:
    """A page of projects; an enterprise sees only those it implements."""
    require_role(principal, *EVERYONE)
    graph_filters = {"status": filters.status, "mechanism": filters.mechanism}
    if principal.role == Role.ENTERPRISE:
        graph_filters.update(implementer_credit_code=principal.credit_code, county_code=filters.county)
    else:
        graph_filters["county_code"] = scoped_county(principal, filters.county)
    return views.search_projects(ctx.driver, graph_filters, skip, limit, ctx.database)


def get(ctx: Context, principal: Principal, project_id: str) -> dict:
    """One project the caller may see (NotFound otherwise)."""
    require_role(principal, *EVERYONE)
    record = views.project_detail(ctx.driver, project_id, ctx.database)
    if record is None or not principal.in_county(record.get("county_code")) or (
            principal.role == Role.ENTERPRISE and record.get("implementer_credit_code") != principal.credit_code):
        raise NotFound.of("项目")
    return record
