"""A household's income history: `income_dates` (ISO data dates) and `income_values` (元 per person), in date order.

The graph keeps one income per household (`income_per_capita`, the latest extract's). Every load that writes
households records, in the same transaction, an observation dated with the load's data date (LoadRun.as_of) —
only when the income differs from the observation before that date, so a re-load adds nothing. An extract
loaded late (older than the last observation) is put in its place by date; one of a date already observed
replaces that date's value. The outcomes (matching/outcomes.py) compare a household's first and last observation.
"""
import neo4j

from core.clock import today_iso

_READ = """
UNWIND $ids AS id
MATCH (h:Household {household_id: id})
WHERE h.income_per_capita IS NOT NULL
RETURN h.household_id AS id, h.income_per_capita AS income,
       coalesce(h.income_dates, []) AS dates, coalesce(h.income_values, []) AS values
"""
_WRITE = """
UNWIND $rows AS row
MATCH (h:Household {household_id: row.id})
SET h.income_dates = row.dates, h.income_values = row.values
"""


def with_observation(dates: list[str], values: list[float], as_of: str,
                     value: float) -> tuple[list[str], list[float]] | None:
    """The history with `value` observed on `as_of`, or None when it already says so (nothing to write).

    The history stays in date order with no two consecutive observations of the same value: an observation
    equal to the one before its date adds nothing, and a later one equal to it is dropped (first seen then)."""
    value = float(value)
    position = sum(1 for day in dates if day < as_of)
    dates, values = list(dates), [float(each) for each in values]
    if position < len(dates) and dates[position] == as_of:
        if values[position] == value:
            return None
        values[position] = value
    else:
        if position > 0 and values[position - 1] == value:
            return None
        dates.insert(position, as_of)
        values.insert(position, value)
    following = position + 1
    if following < len(dates) and values[following] == value:
        del dates[following], values[following]
    if position > 0 and values[position - 1] == value:  # a replaced value now equal to the one before it
        del dates[position], values[position]
    return dates, values


def record_incomes(tx: neo4j.ManagedTransaction, household_ids: list[str], as_of: str | None = None) -> int:
    """Record the current income of these households as observed on `as_of` (ISO date; default today in China
    time) where it differs from their history; returns how many histories changed."""
    as_of = as_of or today_iso()
    rows = []
    for record in tx.run(_READ, ids=household_ids):
        changed = with_observation(record["dates"], record["values"], as_of, record["income"])
        if changed is not None:
            rows.append({"id": record["id"], "dates": changed[0], "values": changed[1]})
    if rows:
        tx.run(_WRITE, rows=rows).consume()
    return len(rows)
