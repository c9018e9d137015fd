"""Regions as a tree with coverage figures per county, township and village."""
from app.api import api, dump, tag
from app.api.schemas import Coverage, RegionDetailOut, RegionList, RegionOut, RegionPath, RegionQuery
from app.auth import AuthError, current_principal, not_found, requires
from app.extensions import neo4j_ext
from core.geography import level_of
from graph import matching as matching_queries
from graph import views

TAGS = tag("区划 regions", "区划树与覆盖率（县/乡镇/村）")
# The household property that groups a region's children, by the region's level.
CHILD_GROUP = {"county": "township_code", "township": "village_code"}
OWN_GROUP = {"county": "county_code", "township": "township_code", "village": "village_code"}


def coverage_of(counts: dict | None) -> Coverage:
    """Coverage figures from household counts."""
    counts = counts or {}
    households, covered = counts.get("households", 0), counts.get("covered", 0)
    return Coverage(households=households, covered=covered, pending=counts.get("pending", 0),
                    uncovered=households - covered,
                    coverage_rate=round(covered / households, 4) if households else None)


def _check_scope(code: str) -> None:
    """Bureau staff see their own county and the regions in it only."""
    principal = current_principal()
    if principal.role == "bureau" and not code.startswith(principal.county_code[:6]):
        raise not_found("区划")
    if principal.role == "bureau" and level_of(code) in ("province", "prefecture"):
        raise not_found("区划")


def _children(code: str) -> list[RegionOut]:
    """The regions under code with their coverage."""
    level = level_of(code)
    driver, database = neo4j_ext.driver, neo4j_ext.database
    children = views.child_regions(driver, code, database)
    if level in CHILD_GROUP:
        counts = views.coverage_by(driver, CHILD_GROUP[level], OWN_GROUP[level], code, database)
    elif level in ("province", "prefecture"):
        counts = views.coverage_by(driver, "county_code", None, None, database)
    else:
        counts = {}
    return [RegionOut(**child, coverage=coverage_of(counts.get(child["code"]))) for child in children]


@api.get("/regions", tags=TAGS, responses={200: RegionList})
@requires("bureau", "analyst", "admin")
def list_regions(query: RegionQuery):
    """区划及覆盖率：不指定上级时为可见的县 / regions under a parent (default: the counties you may see)."""
    principal = current_principal()
    driver, database = neo4j_ext.driver, neo4j_ext.database
    if query.parent is not None:
        _check_scope(query.parent)
        return [dump(region) for region in _children(query.parent)]
    if principal.role == "bureau":
        codes = [principal.county_code]
    else:
        codes = [row["code"] for row in matching_queries.counties_with_households(driver, database)]
    counts = views.coverage_by(driver, "county_code", None, None, database)
    return [dump(RegionOut(**region, coverage=coverage_of(counts.get(region["code"]))))
            for region in views.regions(driver, codes, database)]


@api.get("/regions/<code>", tags=TAGS, responses={200: RegionDetailOut})
@requires("bureau", "analyst", "admin")
def get_region(path: RegionPath):
    """一个区划：覆盖率、按联结方式的联结数、下级区划 / one region with coverage, mechanisms and children."""
    _check_scope(path.code)
    driver, database = neo4j_ext.driver, neo4j_ext.database
    found = views.regions(driver, [path.code], database)
    if not found:
        raise not_found("区划")
    level = level_of(path.code)
    if level in OWN_GROUP:
        counts = views.coverage_by(driver, OWN_GROUP[level], OWN_GROUP[level], path.code, database).get(path.code)
        by_mechanism = views.mechanism_counts(driver, OWN_GROUP[level], path.code, database)
    else:
        counts, by_mechanism = None, {}
        if current_principal().role == "bureau":
            raise AuthError(403, "outside_jurisdiction", "只能查看本县数据 / outside your county")
    return dump(RegionDetailOut(**found[0], coverage=coverage_of(counts), by_mechanism=by_mechanism,
                                children=_children(path.code)))
