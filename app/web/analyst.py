"""The analyst's read-only overview: a county's coverage (overall and by township), its recent match runs,
links to the pseudonymised lists, and where the notebooks are. No personal data is read here."""
from flask import render_template, request

from app.auth import current_principal
from app.extensions import neo4j_ext
from app.web import bp, page
from services import regions, runs

RECENT_RUNS = 10

# The analysis notebooks (notebooks/), opened with `make notebook`.
NOTEBOOKS = (
    ("01-graph-overview.ipynb", "图谱概览：节点与关系的规模、一个村的户、企业与联结"),
    ("02-coverage-gaps.ipynb", "覆盖缺口：哪些户没有可行的联结，卡在哪项约束"),
    ("03-match-quality-and-what-if.ipynb", "匹配质量与假设分析：评估指标、改变名额或距离后的结果"),
    ("04-outcomes-and-risk.ipynb", "帮扶成效与风险：各联结方式的增收、与可比未联结户的对比"),
)


@bp.get("/analyst", endpoint="analyst")
@page("analyst", "admin")
def analyst_overview():
    ctx, principal = neo4j_ext.context, current_principal()
    counties = regions.list_regions(ctx, principal)
    codes = [county["code"] for county in counties]
    chosen = request.args.get("county")
    county = chosen if chosen in codes else (codes[0] if codes else None)
    region = regions.get_region(ctx, principal, county) if county else None
    recent = runs.list_runs(ctx, principal, county, 0, RECENT_RUNS)[0] if county else []
    return render_template("analyst.html", counties=counties, county=county, region=region, runs=recent,
                           notebooks=NOTEBOOKS)
