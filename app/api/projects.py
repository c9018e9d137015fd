"""Industry projects (产业扶贫项目)."""
from app.api import api, dump, page_of, tag
from app.api.schemas import PageOut, ProjectOut, ProjectPath, ProjectQuery
from app.auth import current_principal, requires
from app.extensions import neo4j_ext
from services import projects
from services.projects import ProjectFilter

TAGS = tag("项目 projects", "产业扶贫项目")


class ProjectPage(PageOut[ProjectOut]):
    """A page of projects."""


@api.get("/projects", tags=TAGS, responses={200: ProjectPage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_projects(query: ProjectQuery):
    """项目列表（分页）；企业账号只看到自己实施的项目 / projects (paginated)."""
    filters = ProjectFilter(county=query.county, status=query.status, mechanism=query.mechanism)
    return page_of(ProjectPage, projects.search(neo4j_ext.context, current_principal(), filters, query.skip,
                                                query.page_size), query)


@api.get("/projects/<project_id>", tags=TAGS, responses={200: ProjectOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_project(path: ProjectPath):
    """一个项目 / one project."""
    return dump(ProjectOut(**projects.get(neo4j_ext.context, current_principal(), path.project_id)))
