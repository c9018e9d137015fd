"""What each kind of job does, in the child process: a match run, an upload through the ETL."""
import json
from pathlib import Path

import neo4j

from core.settings import Settings
from graph import jobs as queue
from services.jobs import MATCH, SWEEP, UPLOAD


def run_match_job(driver: neo4j.Driver, settings: Settings, job: dict, params: dict) -> dict:
    """Plan the job's county; the MatchRun gets the job's id.

    A job taken over after its child died runs the same MatchRun again, which finishes it once
    (matching.run); each claim writes as its own attempt, so a child that lost its claim cannot write."""
    from matching.run import MatchParams, MatchRunner

    def progress(message: str) -> None:
        queue.update_job(driver, job["job_id"], {"message": message[:500]}, settings.neo4j_database,
                         worker=job["worker"])

    match_params = MatchParams(top_k=params.get("top_k", 5), household_limit=params.get("household_limit", 1))
    attempt = f"{job['worker']}#{job.get('attempts') or 1}"
    run = MatchRunner(driver, settings, progress=progress).run(params["counties"], match_params, run_id=job["job_id"],
                                                              force=params.get("force", False), writer=attempt)
    metrics = json.loads(run.get("metrics") or "{}")
    return {"run_id": job["job_id"], "metrics": {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))}}


PREVIEW_ROWS = 5


def run_upload_job(driver: neo4j.Driver, settings: Settings, job: dict, params: dict) -> dict:
    """Load the uploaded file through the ETL, limited to the uploader's county; keep the report.

    The report and the results name the file as the user knows it (its own name, not our storage path); the
    report is kept next to the upload (services/uploads.py serves it from there), so no path is returned."""
    from etl.load import load_files

    path = Path(params["path"])
    counties = set(params["counties"]) if params.get("counties") else None
    result = load_files([path], driver, settings, full=params.get("full", False),
                        report_path=path.parent / "report.csv", progress=False, allowed_counties=counties,
                        labels={path: params.get("filename") or path.name})
    files = [{"file": f.file, "sheet": f.sheet, "kind": f.kind, "rows_read": f.rows_read,
              "rows_loaded": f.rows_loaded, "rows_rejected": f.rows_rejected, "rows_unchanged": f.rows_unchanged,
              "warnings": f.warnings,
              "deactivated": f.deactivated, "error": f.error, "skipped": f.skipped, "same_as": f.same_as,
              "columns_ignored": [{"header": column["header"], "note": column["note"]}
                                  for column in f.columns if column["field"] is None and column.get("warned", True)],
              "columns_read": sum(1 for column in f.columns if column["field"] is not None),
              "columns_mapped": [{"header": column["header"], "field_header": column["field_header"]}
                                 for column in f.columns if column["field"] is not None and column["note"]]}
             for f in result.files]
    from etl.load import EXAMPLE_ROW_NOTE
    from etl.rules import group_problems

    errors = sum(1 for problem in result.problems if problem.severity == "错误")
    for item in files:  # a template's example rows, skipped on purpose (neither loaded nor rejected)
        item["examples_skipped"] = sum(1 for problem in result.problems
                                       if problem.file == item["file"] and problem.reason == EXAMPLE_ROW_NOTE)
    outcome = {"files": files, "errors": errors,
               "warnings": sum(1 for problem in result.problems if problem.severity == "警告"),
               "rows_rejected": result.rows_rejected,
               # Grouped by rule or reason, each with its first rows (row number, column, value as in the report):
               # the upload page previews them.
               "groups": group_problems(result.problems, examples=PREVIEW_ROWS)}
    if result.touched_partnerships:
        outcome["model"] = model_after_load(driver, settings)
    return outcome


def model_after_load(driver: neo4j.Driver, settings: Settings) -> dict:
    """Train the matching model now if the load changed the history (runs would otherwise do it first)."""
    from matching.model_store import current_choice

    choice = current_choice(driver, settings)
    return {"version": choice.version, "alpha": choice.alpha, "trained": choice.trained, "note": choice.note}


def run_sweep_job(driver: neo4j.Driver, settings: Settings, job: dict, params: dict) -> dict:
    """The daily sweep (services/sweep.py): items for partnerships past their end date, warnings a day changes, a
    run for the counties with new follow-up items."""
    from services.context import Context
    from services.sweep import sweep

    def progress(message: str) -> None:
        queue.update_job(driver, job["job_id"], {"message": message[:500]}, settings.neo4j_database,
                         worker=job["worker"])

    return sweep(Context(driver, settings), params.get("day"), progress)


HANDLERS = {MATCH: run_match_job, UPLOAD: run_upload_job, SWEEP: run_sweep_job}
