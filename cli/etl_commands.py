"""`flask etl load PATH… [--full] [--strict] [--report FILE] [--quiet] [--county CODE …] [--as-of YYYY-MM-DD]`;
`flask etl rules`."""
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from cli import context


def summary_lines(result) -> list[str]:
    """The per-file summary table of a load as lines of text."""
    lines = [f"{'文件 file':<34}{'类型 kind':<14}{'读取':>9}{'加载':>9}{'其中未变':>9}{'拒绝':>8}{'警告':>8}{'停用':>7}"
             f"{'秒':>8}"]
    for item in result.files:
        name = Path(item.file).name + (f" [{item.sheet}]" if item.sheet else "")
        if item.error:
            lines.append(f"{name:<34}{item.kind:<14}  无法读取 / not read: {item.error}")
            continue
        if item.skipped:
            lines.append(f"{name:<34}{item.kind:<14}  与已加载的文件相同，跳过 / unchanged, skipped "
                         f"（{item.same_as}：读取 {item.rows_read}，加载 {item.rows_loaded}，拒绝 {item.rows_rejected}）")
            continue
        lines.append(f"{name:<34}{item.kind:<14}{item.rows_read:>9}{item.rows_loaded:>9}{item.rows_unchanged:>9}"
                     f"{item.rows_rejected:>8}{item.warnings:>8}{item.deactivated:>7}{item.seconds:>8.1f}")
    for item in result.files:
        if item.columns:
            name = Path(item.file).name + (f" [{item.sheet}]" if item.sheet else "")
            lines.append(f"{name} 的列 / columns: " + "；".join(column_text(column) for column in item.columns))
    if any(item.rows_unchanged for item in result.files):
        lines.append("其中未变：与上次加载完全相同的行，未重新校验和写入 / unchanged rows: identical to their last load, "
                     "not checked or written again")
    return lines + group_lines(result)


def group_lines(result) -> list[str]:
    """The problems grouped by rule (or by severity and reason), with counts, and the cross-file rules' run."""
    lines = []
    if result.groups:
        lines.append("按规则汇总 / problems by rule:")
        lines.append(f"{'条数':>8}  {'级别':<4}{'规则 rule':<40}说明 message")
        lines += [f"{group['count']:>8}  {group['severity']:<4}{group['rule'] or '—':<40}{group['message']}"
                  for group in result.groups]
    if result.counties_checked:
        lines.append(f"跨文件一致性检查 / cross-file rules: {result.counties_checked} 个县 / counties, "
                     f"{result.consistency_seconds:.1f} 秒 / s")
    return lines


def column_text(column: dict) -> str:
    """A column as the summary shows it: 户主 → 户主姓名, or 距离 → 未加载（why）."""
    if column["field"] is not None:
        note = f"（{column['note'].split(' / ')[0]}）" if column.get("note") else ""
        return f"{column['header']} → {column['field_header']}{note}"
    return f"{column['header']} → 未加载（{column['note'].split(' / ')[0]}）"


def echo_load_result(result) -> None:
    """Print the summary table and where the validation report is."""
    for line in summary_lines(result):
        click.echo(line)
    errors = sum(1 for problem in result.problems if problem.severity == "错误")
    click.echo(f"校验报告 / report: {result.report_path}（{errors} 个错误 / errors, "
               f"{len(result.problems) - errors} 个警告 / warnings）")


etl_group = AppGroup("etl", help="数据加载 / load bureau files into the graph")


def rule_lines() -> list[str]:
    """The consistency rules as a table of text."""
    from etl.rules import rule_table

    return [f"{'规则 rule':<40}{'级别':<4}{'文件':<14}{'检查':<10}说明 message"] + [
        f"{rule['id']:<40}{rule['severity']:<4}{rule['kind']:<14}{rule['check']:<10}{rule['message']}"
        for rule in rule_table()]


@etl_group.command("rules")
def rules_command():
    """列出一致性规则 / List the consistency rules (id, severity, file kind, how checked, message)."""
    for line in rule_lines():
        click.echo(line)


@etl_group.command("load")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--full", is_flag=True, help="全量户数据：文件所涉县中未列出的户标记为停用 / full extract: mark missing households inactive")
@click.option("--strict", is_flag=True, help="有被拒绝的行时以非零状态退出 / exit non-zero when rows are rejected")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="校验报告路径（CSV）/ report path")
@click.option("--quiet", is_flag=True, help="不显示进度条 / no progress bars")
@click.option("--county", "counties", multiple=True, metavar="CODE",
              help="只加载该县的数据（可重复）；其他县的行被拒绝 / load only this county (repeatable); rows of others are rejected")
@click.option("--online", is_flag=True,
              help="即使数据库为空也逐批写入，不停用 Neo4j 做离线导入 / never stop the local Neo4j for an offline import")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="数据日期：文件所述的日期，默认今天（北京时间）；户的人均纯收入记为该日的观测，校验规则按该日判断 / "
                   "the data's date (default today, China time): incomes are observed on it, rules judge rows at it")
def load_command(paths, full, strict, report, quiet, counties, online, as_of):
    """加载文件 / Load CSV, XLSX, XLS files.

    Households, members, enterprises, projects, villages, partnerships (the kind is read from the header).

    Into an empty local database (no NEO4J_URI) without --county, the rows go through Neo4j's offline importer:
    the local Neo4j is stopped for the import and started again.

    Exit status: 2 when a file cannot be read; 1 with --strict when rows were rejected.
    """
    from etl.load import county_scope, load_files
    from graph.server import LocalInstance

    try:
        allowed = county_scope(counties) if counties else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--county") from None
    settings = context.settings()
    instance = LocalInstance.from_settings(settings) if settings.uses_local_neo4j and not online else None
    result = load_files(list(paths), context.driver(), settings, full=full, report_path=report,
                        progress=not quiet, allowed_counties=allowed, instance=instance,
                        as_of=as_of.date() if as_of else None)
    echo_load_result(result)
    if result.touched_partnerships:
        echo_model(context.driver(), settings)
    if result.failed_files:
        sys.exit(2)
    if strict and result.rows_rejected:
        sys.exit(1)


def echo_model(driver, settings) -> None:
    """Train the matching model when the load changed the partnership history, and say what runs will use."""
    from matching.model_store import current_choice

    choice = current_choice(driver, settings, progress=click.echo)
    click.echo(f"匹配模型 / matching model: {choice.version or '仅用规则 / rules only'}（规则权重 alpha {choice.alpha}）"
               f"{'，刚训练 / just trained' if choice.trained else ''}：{choice.note}")
