"""The validation report: one line per problem, as CSV that Excel opens (UTF-8 with BOM), each with the
consistency rule it breaks (etl/rules.py; empty for other problems); beside it (report-groups.csv for
report.csv) the problems grouped by rule, or by severity and reason, with their counts.

Everything in it came from the uploaded file (its name, sheet names, headers, cell values), so a field
Excel would read as a formula (it starts with = + - @, a tab or a carriage return, or their full-width
forms, which Chinese input methods type) gets a leading apostrophe, as OWASP advises for CSV: Excel then
shows it as text. Plain numbers (-5) are left alone: Excel reads those as numbers, never as formulas.
"""
import csv
import os
import re
import tempfile
from pathlib import Path

from etl.rules import group_problems
from etl.validate import INFO, Problem

REPORT_HEADER = ["文件", "工作表", "行号", "列", "值", "级别", "原因",
                 "规则"]
GROUPS_HEADER = ["规则", "级别", "说明", "条数"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_safe(value) -> str:
    """A report field Excel shows as written: formula-like text gets a leading apostrophe."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text




def groups_path(path: Path) -> Path:
    """Where the groups of a report are written: beside it (report.csv → report-groups.csv)."""
    return path.with_name(f"{path.stem}-groups{path.suffix}")


def write_report(problems: list[Problem], path: Path, files=(), groups=None) -> Path:
    """Write every problem to path (CSV) and return it; first, for each file (FileResult), the columns read and
    the field each was read as (the columns not read are among the problems, as warnings). The groups
    (etl/rules.group_problems, computed from problems when not given) go to groups_path(path)."""
    groups = group_problems(problems) if groups is None else groups
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADER)
        for result in files:
            for column in getattr(result, "columns", ()):
                if column["field"] is not None:
                    reason = (f"读作 {column['field_header']}（{column['field']}）/ read as {column['field']}"
                              + (f"；{column['note']}" if column.get("note") else ""))
                elif column.get("warned") is False:  # read nothing, and rightly so (row numbers): no warning
                    reason = column["note"]
                else:
                    continue
                writer.writerow([csv_safe(field) for field in (
                    result.file, result.sheet or "", column["row"], column["header"], "", INFO, reason, "")])
        for problem in problems:
            writer.writerow([csv_safe(field) for field in (problem.file, problem.sheet or "", problem.row,
                                                             problem.column, problem.value, problem.severity,
                                                             problem.reason, problem.rule or "")])
    with open(groups_path(path), "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(GROUPS_HEADER)
        for group in groups:
            writer.writerow([csv_safe(field) for field in (group["rule"] or "", group["severity"], group["message"],
                                                             group["count"])])
    return path


def make_safe(path: Path) -> bool:
    """Re-escape a report written elsewhere or earlier (e.g. with a file name put in after writing);
    True when it had to change. Idempotent: an escaped field starts with an apostrophe."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    safe = [[csv_safe(field) for field in row] for row in rows]
    if safe == rows:
        return False
    # Written next to the report, then moved over it: a reader never sees half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".csv")
    with os.fdopen(handle, "w", newline="", encoding="utf-8-sig") as out:
        csv.writer(out).writerows(safe)
    os.replace(temporary, path)
    return True
