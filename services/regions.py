"""Regions as a tree with coverage figures per county, township and village; the county dashboard."""
import json

from core.codes import Mechanism
from core.geography import level_of
from graph import matching as matching_queries
from graph import views
from services.context import Context
from services.errors import Forbidden, NotFound
from services.principal import STAFF, Principal, Role, require_role

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
# The household property that groups a region's children, by the region's level.
CHILD_GROUP = {"county": "township_code", "township": "village_code"}
OWN_GROUP = {"county": "county_code", "township": "township_code", "village": "village_code"}
ABOVE_COUNTY = ("province", "prefecture")
DASHBOARD_ENTERPRISES = 500
DASHBOARD_RUNS = 30


def coverage_of(counts: dict | None) -> dict:
    """Coverage figures (households, covered, pending, uncovered, coverage_rate) from household counts."""
    counts = counts or {}
    households, covered = counts.get("households", 0), counts.get("covered", 0)
    return {"households": households, "covered": covered, "pending": counts.get("pending", 0),
            "uncovered": households - covered,
            "coverage_rate": round(covered / households, 4) if households else None}


def check_scope(principal: Principal, code: str) -> None:
    """Bureau staff see their own county and the regions in it only (NotFound otherwise)."""
    if principal.role == Role.BUREAU and (not code.startswith(principal.county_code[:6])
                                          or level_of(code) in ABOVE_COUNTY):
        raise NotFound.of("区划")


def _children(ctx: Context, code: str) -> list[dict]:
    """The regions under code with their coverage."""
    level = level_of(code)
    children = views.child_regions(ctx.driver, code, ctx.database)
    if level in CHILD_GROUP:
        counts = views.coverage_by(ctx.driver, CHILD_GROUP[level], OWN_GROUP[level], code, ctx.database)
    elif level in ABOVE_COUNTY:
        counts = views.coverage_by(ctx.driver, "county_code", None, None, ctx.database)
    else:
        counts = {}
    return [{**child, "coverage": coverage_of(counts.get(child["code"]))} for child in children]


def list_regions(ctx: Context, principal: Principal, parent: str | None = None) -> list[dict]:
    """Regions under a parent with coverage; without one, the counties the caller may see."""
    require_role(principal, *READERS)
    if parent is not None:
        check_scope(principal, parent)
        return _children(ctx, parent)
    if principal.role == Role.BUREAU:
        codes = [principal.county_code]
    else:
        codes = [row["code"] for row in matching_queries.counties_with_households(ctx.driver, ctx.database)]
    counts = views.coverage_by(ctx.driver, "county_code", None, None, ctx.database)
    return [{**region, "coverage": coverage_of(counts.get(region["code"]))}
            for region in views.regions(ctx.driver, codes, ctx.database)]


def get_region(ctx: Context, principal: Principal, code: str) -> dict:
    """One region with its coverage, partnerships in force by mechanism, and its children."""
    require_role(principal, *READERS)
    check_scope(principal, code)
    found = views.regions(ctx.driver, [code], ctx.database)
    if not found:
        raise NotFound.of("区划")
    level = level_of(code)
    if level in OWN_GROUP:
        counts = views.coverage_by(ctx.driver, OWN_GROUP[level], OWN_GROUP[level], code, ctx.database).get(code)
        by_mechanism = views.mechanism_counts(ctx.driver, OWN_GROUP[level], code, ctx.database)
    else:
        counts, by_mechanism = None, {}
        if principal.role == Role.BUREAU:
            raise Forbidden("只能查看本县数据 / outside your county", "outside_jurisdiction")
    return {**found[0], "coverage": coverage_of(counts), "by_mechanism": by_mechanism,
            "children": _children(ctx, code)}


def subregions(ctx: Context, principal: Principal, code: str | None) -> list[dict]:
    """The regions directly under code (names for select boxes; empty outside the caller's scope)."""
    if not code or (principal.role == Role.BUREAU and not code.startswith(principal.county_code[:6])):
        return []
    return views.child_regions(ctx.driver, code, ctx.database)


def page_county(ctx: Context, principal: Principal, requested: str | None = None) -> str:
    """The county a bureau page shows: the user's own; for others the one asked, else the first with data."""
    if principal.role == Role.BUREAU:
        return principal.county_code
    if requested:
        return requested
    counties = matching_queries.counties_with_households(ctx.driver, ctx.database)
    if not counties:
        raise NotFound("图中还没有贫困户数据，请先上传。/ no households in the graph yet", "no_data")
    return counties[0]["code"]


def _metrics(text) -> dict:
    return json.loads(text) if isinstance(text, str) and text else {}


def dashboard(ctx: Context, principal: Principal, county: str) -> dict:
    """A county's figures for the bureau dashboard: coverage overall and by township, partnerships by mechanism,
    coverage across runs, villages and enterprises with positions."""
    require_role(principal, *STAFF)
    check_scope(principal, county)
    driver, database = ctx.driver, ctx.database
    region = (views.regions(driver, [county], database) or [{"code": county, "name": county}])[0]
    total = coverage_of(views.coverage_by(driver, "county_code", "county_code", county, database).get(county))
    by_township = views.coverage_by(driver, "township_code", "county_code", county, database)
    townships = [{"name": t["name"] or t["code"], **coverage_of(by_township.get(t["code"]))}
                 for t in views.child_regions(driver, county, database) if t["code"] in by_township]
    in_force = views.mechanism_counts(driver, "county_code", county, database)
    history = views.county_run_history(driver, county, DASHBOARD_RUNS, database)
    by_village = views.coverage_by(driver, "village_code", "county_code", county, database)
    villages = [{**v, **by_village[v["code"]]} for v in views.regions(driver, list(by_village), database)]
    enterprises, _ = views.search_enterprises(driver, {"county_code": county}, 0, DASHBOARD_ENTERPRISES, database)
    return {
        "region": region, "total": total, "townships": townships,
        "mechanisms": [(mechanism.label, in_force.get(mechanism.value, 0)) for mechanism in Mechanism],
        "trend": [(run["created_at"][:16].replace("T", " "),
                   _metrics(run.get("metrics")).get("coverage_with_existing", 0.0)) for run in history],
        "villages": villages, "enterprises": enterprises,
    }
