"""Regions as a tree with coverage figures per county, township and village."""
from app.api import api, dump, tag
from app.api.schemas import RegionDetailOut, RegionList, RegionOut, RegionPath, RegionQuery
from app.auth import current_principal, requires
from app.extensions import neo4j_ext
from services import regions

TAGS = tag("区划 regions", "区划树与覆盖率（县/乡镇/村）")


@api.get("/regions", tags=TAGS, responses={200: RegionList})
@requires("bureau", "analyst", "admin")
def list_regions(query: RegionQuery):
    """区划及覆盖率：不指定上级时为可见的县 / regions under a parent (default: the counties you may see)."""
    return [dump(RegionOut(**region))
            for region in regions.list_regions(neo4j_ext.context, current_principal(), query.parent)]


@api.get("/regions/<code>", tags=TAGS, responses={200: RegionDetailOut})
@requires("bureau", "analyst", "admin")
def get_region(path: RegionPath):
    """一个区划：覆盖率、按联结方式的联结数、下级区划 / one region with coverage, mechanisms and children."""
    return dump(RegionDetailOut(**regions.get_region(neo4j_ext.context, current_principal(), path.code)))
