"""Full extracts: households a county's file no longer lists become inactive (never deleted)."""
from datetime import datetime, timezone

import neo4j

from graph import loading


def deactivate_missing_households(driver: neo4j.Driver, database: str | None, listed: set[str],
                                  file_counties: set[str], allowed_counties: frozenset[str] | None) -> int:
    """Deactivate the active households of the file's counties that the file does not list; returns how many.

    listed: the household ids of every row of the file (rejected ones too); file_counties: the counties of its
    village codes. With a scope, only the file's counties that are allowed are considered.
    """
    counties = sorted(file_counties)
    if allowed_counties is not None:
        counties = [county for county in counties if county in allowed_counties]
    missing = sorted(loading.active_household_ids(driver, counties, database) - listed)
    loading.deactivate_households(driver, missing, datetime.now(timezone.utc).date().isoformat(), database)
    return len(missing)
