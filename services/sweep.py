"""The daily sweep (跟进与预警的每日检查): what a passing day changes, and the runs it calls for.

Once a day (China time) one worker queues the day's sweep job (jobs/runner.py; the job id names the day, so
every worker asking queues one). It
1. raises a follow-up item for every partnership still in force past its end date (graph/followups.py);
2. refreshes the warnings a day can change (ending within 30 days, a first year without income gain, equity
   only for two years) for the households whose partnerships crossed such a date since the last sweep, and
   every enterprise's warnings (graph/warnings.py);
3. queues one incremental match run of the counties with items raised since the last sweep that no run has
   planned yet (their households first), unless such a run is already queued;
4. recomputes each county's stored outcomes (services/outcomes.py), which the ledger's day changes.
"""
import json
from datetime import datetime

from core.clock import BUREAU_ZONE, today_iso
from graph import followups, warnings
from graph import jobs as queue
from services import jobs, outcomes
from services.context import Context

SWEEP_REQUESTER = "每日跟进检查（系统）"


def sweep_job_id(day: str) -> str:
    """The sweep job of a day (`sweep-20261201`): one per day, whoever queues it."""
    return f"{jobs.SWEEP}-{day.replace('-', '')}"


def queue_today(ctx: Context) -> bool:
    """Queue today's sweep unless it exists; True when this call queued it."""
    day = today_iso()
    job = jobs.new_job(jobs.SWEEP, None, SWEEP_REQUESTER, {"day": day})
    job["job_id"] = sweep_job_id(day)
    return queue.enqueue_once(ctx.driver, job, ctx.database)


def last_sweep(ctx: Context) -> dict | None:
    """The day and start time of the latest completed sweep (None before the first)."""
    job = queue.latest_completed(ctx.driver, jobs.SWEEP, ctx.database)
    if job is None:
        return None
    params = json.loads(job.get("params") or "{}")
    return {"day": params.get("day"), "started_at": job.get("started_at")}


def sweep(ctx: Context, day: str | None = None, progress=lambda message: None) -> dict:
    """Run the sweep for `day` (default today); returns what it did."""
    day = day or today_iso()
    last = last_sweep(ctx)
    progress("检查已到结束日期的联结 / partnerships past their end date")
    expired = followups.raise_expired(ctx.driver, day, database=ctx.database)
    progress("刷新随日期变化的预警 / warnings a day changes")
    refreshed = warnings.refresh_dated(ctx.driver, day, last["day"] if last else None, database=ctx.database)
    enterprises = warnings.refresh_all_enterprises(ctx.driver, database=ctx.database)
    counties = followups.counties_with_open_items(ctx.driver, last["started_at"] if last else None, ctx.database)
    run_id = None
    if counties:
        run_id = queue.queued_match_job(ctx.driver, counties, ctx.database)
        if run_id is None:
            job = jobs.new_job(jobs.MATCH, counties[0] if len(counties) == 1 else None, SWEEP_REQUESTER,
                               {"counties": counties, "top_k": 5, "household_limit": 1, "force": False,
                                "reason": "follow_ups"})
            queue.enqueue_job(ctx.driver, job, ctx.database)
            run_id = job["job_id"]
    progress("重新计算各县帮扶成效 / outcomes per county")
    computed = outcomes.refresh_all(ctx)
    return {"day": day, "expired_items": expired, "outcomes_counties": len(computed), "households_refreshed": refreshed,
            "enterprises_refreshed": enterprises, "counties_with_open_items": counties, "match_job": run_id,
            "finished_local": datetime.now(BUREAU_ZONE).isoformat(timespec="seconds")}
