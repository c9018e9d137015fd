"""Flask CLI commands: `flask --app wsgi etl load PATH...`."""
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import neo4j_ext


def _summary_lines(result) -> list[str]:
    """The per-file summary table as lines of text."""
    lines = [f"{'文件 file':<34}{'类型 kind':<14}{'读取':>9}{'加载':>9}{'拒绝':>8}{'警告':>8}{'停用':>7}{'秒':>8}"]
    for item in result.files:
        name = Path(item.file).name + (f" [{item.sheet}]" if item.sheet else "")
        if item.error:
            lines.append(f"{name:<34}{item.kind:<14}  无法读取 / not read: {item.error}")
            continue
        lines.append(f"{name:<34}{item.kind:<14}{item.rows_read:>9}{item.rows_loaded:>9}{item.rows_rejected:>8}"
                     f"{item.warnings:>8}{item.deactivated:>7}{item.seconds:>8.1f}")
    return lines


etl_group = AppGroup("etl", help="数据加载 / load bureau files into the graph")


@etl_group.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="全量户数据：文件所涉县中未列出的户标记为停用 / full extract: mark missing households inactive")
@click.option("--strict", is_flag=True, help="有被拒绝的行时以非零状态退出 / exit non-zero when rows are rejected")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="校验报告路径（CSV）/ report path")
@click.option("--quiet", is_flag=True, help="不显示进度条 / no progress bars")
def load_command(paths, full, strict, report, quiet):
    """Load CSV / XLSX / XLS files (households, members, enterprises, projects, villages, partnerships)."""
    from etl.load import load_files

    settings = current_app.config["LIANJIE_SETTINGS"]
    result = load_files(list(paths), neo4j_ext.driver, settings, full=full, report_path=report, progress=not quiet)
    for line in _summary_lines(result):
        click.echo(line)
    errors = sum(1 for problem in result.problems if problem.severity == "错误")
    click.echo(f"校验报告 / report: {result.report_path}（{errors} 个错误 / errors, "
               f"{len(result.problems) - errors} 个警告 / warnings）")
    if result.failed_files:
        sys.exit(2)
    if strict and result.rows_rejected:
        sys.exit(1)


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(etl_group)
