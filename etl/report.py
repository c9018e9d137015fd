"""The validation report: one line per problem, as CSV that Excel opens (UTF-8 with BOM)."""
import csv
from pathlib import Path

from etl.validate import Problem

REPORT_HEADER = ["文件 file", "工作表 sheet", "行号 row", "列 column", "值 value", "级别 severity", "原因 reason"]


def write_report(problems: list[Problem], path: Path) -> Path:
    """Write every problem to path (CSV) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_HEADER)
        for problem in problems:
            writer.writerow([problem.file, problem.sheet or "", problem.row, problem.column, problem.value,
                             problem.severity, problem.reason])
    return path
