"""Industry projects (产业扶贫项目)."""
from app.api import api, dump, tag
from app.api.schemas import PageOut, ProjectOut, ProjectPath, ProjectQuery
from app.auth import current_principal, not_found, requires, scoped_county
from app.extensions import neo4j_ext
from graph import views

TAGS = tag("项目 projects", "产业扶贫项目")


class ProjectPage(PageOut[ProjectOut]):
    """A page of projects."""


@api.get("/projects", tags=TAGS, responses={200: ProjectPage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_projects(query: ProjectQuery):
    """项目列表（分页）；企业账号只看到自己实施的项目 / projects (paginated)."""
    principal = current_principal()
    filters = {"status": query.status, "mechanism": query.mechanism}
    if principal.role == "enterprise":
        filters.update(implementer_credit_code=principal.credit_code, county_code=query.county)
    else:
        filters["county_code"] = scoped_county(query.county)
    records, total = views.search_projects(neo4j_ext.driver, filters, query.skip, query.page_size, neo4j_ext.database)
    return dump(ProjectPage(items=[ProjectOut(**r) for r in records], page=query.page, page_size=query.page_size,
                            total=total))


@api.get("/projects/<project_id>", tags=TAGS, responses={200: ProjectOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_project(path: ProjectPath):
    """一个项目 / one project."""
    principal = current_principal()
    record = views.project_detail(neo4j_ext.driver, path.project_id, neo4j_ext.database)
    if record is None or (principal.role == "bureau" and record.get("county_code") != principal.county_code) or (
            principal.role == "enterprise" and record.get("implementer_credit_code") != principal.credit_code):
        raise not_found("项目")
    return dump(ProjectOut(**record))
