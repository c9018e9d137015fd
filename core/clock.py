"""Today's date where the bureaus work (China Standard Time), one definition for every date rule.

Follow-up due dates, partnerships ending or past their first year, and the early warnings compare ISO dates
(`YYYY-MM-DD` text, as the ledger stores them) with this day, not with the server's UTC day: a bureau at
07:00 in Beijing is still "yesterday" in UTC.
"""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

BUREAU_ZONE = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """The current date in China Standard Time."""
    return datetime.now(BUREAU_ZONE).date()


def today_iso() -> str:
    """today() as `YYYY-MM-DD`."""
    return today().isoformat()


def days_after(day: str | date, days: int) -> str:
    """The ISO date `days` after `day` (an ISO date or a date; negative days go back)."""
    start = date.fromisoformat(day) if isinstance(day, str) else day
    return (start + timedelta(days=days)).isoformat()
