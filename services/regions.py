"""Regions as a tree with coverage figures per county, township and village; the county dashboard."""
import json

from core import coverage
from core.codes import CoverageState, Mechanism
from core.geography import level_of
from graph import matching as matching_queries
from graph import views
from services.context import Context
from services.errors import Forbidden, NotFound
from services.principal import STAFF, Principal, Role, require_role

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)
ABOVE_COUNTY = ("province", "prefecture")
DASHBOARD_ENTERPRISES = 500
DASHBOARD_RUNS = 30


def coverage_of(counts: dict | None) -> dict:
    """Coverage in the four states of core/coverage.py from a region's stored figures: households, covered
    (= confirmed, 履约中), pending (= awaiting, 待确认), planned (已规划), uncovered (未覆盖: what the other three
    leave), which add up to households; coverage_rate (confirmed's), awaiting_rate, planned_rate, uncovered_rate."""
    counts = counts or {}
    return coverage.coverage(counts.get("households", 0), counts.get("covered", 0), counts.get("pending", 0),
                             counts.get("planned", 0)).as_dict()


def _shown(region: dict) -> dict:
    """A region as the API shows it: its fields with `coverage` in place of the stored figures."""
    shown = {key: value for key, value in region.items() if key != "figures"}
    return {**shown, "coverage": coverage_of(region["figures"])}


def check_scope(principal: Principal, code: str) -> None:
    """Bureau staff see their own county and the regions in it only (NotFound otherwise)."""
    if principal.role == Role.BUREAU and (not code.startswith(principal.county_code[:6])
                                          or level_of(code) in ABOVE_COUNTY):
        raise NotFound.of("区划")


def _children(ctx: Context, code: str) -> list[dict]:
    """The regions under code with their coverage (stored figures: O(regions), not O(households))."""
    return [_shown(child) for child in views.child_regions(ctx.driver, code, ctx.database)]


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
    return [_shown(region) for region in views.regions(ctx.driver, codes, ctx.database)]


def get_region(ctx: Context, principal: Principal, code: str) -> dict:
    """One region with its coverage, partnerships in force by mechanism, and its children."""
    require_role(principal, *READERS)
    check_scope(principal, code)
    found = views.regions(ctx.driver, [code], ctx.database)
    if not found:
        raise NotFound.of("区划")
    if level_of(code) in ABOVE_COUNTY and principal.role == Role.BUREAU:
        raise Forbidden("只能查看本县数据 / outside your county", "outside_jurisdiction")
    region = found[0]
    return {**_shown(region), "by_mechanism": region["figures"]["in_force"], "children": _children(ctx, code)}


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


def trend(history: list[dict]) -> list[dict]:
    """Across runs (oldest first): the county's 履约中 and 已规划 shares right after each run became current (the
    figures the switch recorded, graph/matching.py record_switch); runs from before that record are left out."""
    points = []
    for run in history:
        figures = _metrics(run.get("figures"))
        if not figures or not figures.get("households"):
            continue
        shown = coverage_of(figures)
        points.append({"label": (run.get("created_at") or "")[:16].replace("T", " "), "run_id": run["run_id"],
                       CoverageState.CONFIRMED.value: shown["coverage_rate"],
                       CoverageState.PLANNED.value: shown["planned_rate"]})
    return points


def dashboard(ctx: Context, principal: Principal, county: str) -> dict:
    """A county's figures for the bureau dashboard: coverage overall and by township, partnerships by mechanism,
    coverage across runs, villages and enterprises with positions (stored figures: O(regions))."""
    require_role(principal, *STAFF)
    check_scope(principal, county)
    driver, database = ctx.driver, ctx.database
    found = views.regions(driver, [county], database)
    region = found[0] if found else {"code": county, "name": county, "figures": {"in_force": {}}}
    total = coverage_of(region.get("figures"))
    townships = [{"name": t["name"] or t["code"], "code": t["code"], **coverage_of(t["figures"])}
                 for t in views.child_regions(driver, county, database) if t["figures"]["households"]]
    in_force = region["figures"]["in_force"]
    history = views.county_run_history(driver, county, DASHBOARD_RUNS, database)
    villages, enterprises = views.county_map(driver, county, DASHBOARD_ENTERPRISES, database)
    return {
        "region": {key: value for key, value in region.items() if key != "figures"}, "total": total,
        "townships": townships,
        "mechanisms": [(mechanism.label, in_force.get(mechanism.value, 0)) for mechanism in Mechanism],
        "trend": trend(history),
        "villages": villages, "enterprises": enterprises,
    }
