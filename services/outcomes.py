"""The outcomes of partnerships per county (帮扶成效): computed by refresh and stored (CountyOutcomes), so pages and
the API read one node instead of recomputing a county per request.

    report = refresh(ctx, "433123000000")          # compute and store (CLI, `flask sample`, a daily sweep job)
    report = county_outcomes(ctx, principal, code)  # read what is stored (bureau: own county; analyst, admin: any)

The computation and its method are matching/outcomes.py; the rows come from graph/outcomes.py.
"""
import time
from collections.abc import Callable
from datetime import datetime, timezone

import pandas as pd

from core import clock
from graph import match_rules as county_queries
from graph import matching as matching_queries
from graph import outcomes as queries
from matching.outcomes import METHOD, county_report
from services.context import Context
from services.errors import NotFound
from services.principal import STAFF, Principal, Role, require_role
from services.regions import check_scope

READERS = (Role.BUREAU, Role.ANALYST, Role.ADMIN)


def compute(ctx: Context, county: str) -> dict:
    """The county's report computed now from the graph (not stored)."""
    partnerships = pd.DataFrame(queries.county_partnerships(ctx.driver, county, ctx.database),
                                columns=list(queries.PARTNERSHIP_COLUMNS))
    households = pd.DataFrame(queries.county_households(ctx.driver, county, ctx.database),
                              columns=list(queries.HOUSEHOLD_COLUMNS))
    return county_report(partnerships, households, clock.today())


def refresh(ctx: Context, county: str) -> dict:
    """Compute the county's outcomes and store them (replacing the last); returns the stored report with
    computed_at and seconds. For the CLI, `flask sample` and scheduled sweeps: no principal, no scope."""
    started = time.monotonic()
    region = county_queries.county_region(ctx.driver, county, ctx.database)
    report = {"county_code": county, "county_name": region["name"] if region else None, **compute(ctx, county)}
    seconds = round(time.monotonic() - started, 3)
    computed_at = datetime.now(timezone.utc).isoformat()
    queries.store_report(ctx.driver, county, report, computed_at, seconds, ctx.database)
    return {**report, "computed_at": computed_at, "seconds": seconds}


def counties(ctx: Context) -> list[str]:
    """The counties with households (what a sweep refreshes)."""
    return [row["code"] for row in matching_queries.counties_with_households(ctx.driver, ctx.database)]


def refresh_all(ctx: Context, county_codes: list[str] | None = None,
                progress: Callable[[str, dict], None] | None = None) -> list[dict]:
    """refresh each county (default: every county with households), in turn; progress(county, report) after each."""
    reports = []
    for county in county_codes or counties(ctx):
        reports.append(refresh(ctx, county))
        if progress:
            progress(county, reports[-1])
    return reports


def _county(ctx: Context, principal: Principal, county: str) -> dict:
    check_scope(principal, county)
    region = county_queries.county_region(ctx.driver, county, ctx.database)
    if region is None:
        raise NotFound.of("县")
    return region


def county_outcomes(ctx: Context, principal: Principal, county: str) -> dict:
    """The county's stored outcomes (bureau: its own county; analyst and admin: any; enterprises: refused).
    Before the first computation: the county, no computed_at, and the method."""
    require_role(principal, *READERS)
    region = _county(ctx, principal, county)
    stored = queries.stored_report(ctx.driver, county, ctx.database)
    if stored is None:
        return {"county_code": county, "county_name": region.get("name"), "computed_at": None, "method": METHOD}
    return stored


def refresh_county(ctx: Context, principal: Principal, county: str) -> dict:
    """Recompute the county's outcomes now, for its bureau or an administrator (the page's 重新计算)."""
    require_role(principal, *STAFF)
    _county(ctx, principal, county)
    return refresh(ctx, county)
