"""Flask CLI commands: `flask --app wsgi etl load PATH... [--county CODE ...]`."""
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
@click.option("--county", "counties", multiple=True, metavar="CODE",
              help="只加载该县的数据（可重复）；其他县的行被拒绝 / load only this county (repeatable); rows of others are rejected")
def load_command(paths, full, strict, report, quiet, counties):
    """Load CSV / XLSX / XLS files (households, members, enterprises, projects, villages, partnerships)."""
    from etl.load import county_scope, load_files

    try:
        allowed = county_scope(counties) if counties else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--county") from None
    settings = current_app.config["LIANJIE_SETTINGS"]
    result = load_files(list(paths), neo4j_ext.driver, settings, full=full, report_path=report, progress=not quiet,
                        allowed_counties=allowed)
    for line in _summary_lines(result):
        click.echo(line)
    errors = sum(1 for problem in result.problems if problem.severity == "错误")
    click.echo(f"校验报告 / report: {result.report_path}（{errors} 个错误 / errors, "
               f"{len(result.problems) - errors} 个警告 / warnings）")
    if result.failed_files:
        sys.exit(2)
    if strict and result.rows_rejected:
        sys.exit(1)


tokens_group = AppGroup("tokens", help="API 令牌 / API tokens (stored only as hashes)")


@tokens_group.command("create")
@click.option("--role", required=True, type=click.Choice(["bureau", "enterprise", "analyst", "admin"]))
@click.option("--name", required=True, help="令牌持有者，如“凤凰县商务局” / who holds the token")
@click.option("--county", help="商务局令牌的 12 位县代码 / county code for a bureau token")
@click.option("--enterprise", help="企业令牌的统一社会信用代码 / credit code for an enterprise token")
def create_token_command(role, name, county, enterprise):
    """Create a token; it is printed once (last line) and only its hash is kept."""
    from app.auth import issue_token

    settings = current_app.config["LIANJIE_SETTINGS"]
    try:
        secret = issue_token(neo4j_ext.driver, settings, role, name, county_code=county, credit_code=enterprise)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo("令牌只显示这一次，请妥善保存 / the token is shown only once:", err=True)
    click.echo(secret)


@tokens_group.command("list")
def list_tokens_command():
    """List tokens (id, role, scope, created, revoked) — never the secrets."""
    from graph.access import list_tokens

    for token in list_tokens(neo4j_ext.driver, neo4j_ext.database):
        scope = token.get("county_code") or token.get("credit_code") or "-"
        click.echo(f"{token['token_id']}  {token['role']:<10} {scope:<20} {token.get('name', '')}  "
                   f"{token.get('created_at', '')}  {'已吊销 revoked' if token.get('revoked_at') else ''}")


@tokens_group.command("revoke")
@click.argument("token_id")
def revoke_token_command(token_id):
    """Revoke a token by its id."""
    from datetime import datetime, timezone

    from graph.access import revoke_token

    if not revoke_token(neo4j_ext.driver, token_id, datetime.now(timezone.utc).isoformat(), neo4j_ext.database):
        raise click.UsageError(f"没有该令牌 / no such token: {token_id}")
    click.echo(f"已吊销 / revoked: {token_id}")


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    app.cli.add_command(etl_group)
    app.cli.add_command(tokens_group)
