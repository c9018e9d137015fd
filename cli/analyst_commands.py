"""`flask analyst export --county CODE | --all [--as-of YYYY-MM-DD] [--out DIR]`: the analysts' pseudonymised data.

Writes each county's tables as Parquet files with a manifest (services/analyst_data.py) into
DIR/<county>/<date>/ (default var/analyst), which the notebooks read with services.analyst_data.read_county.
"""
import click
from flask.cli import AppGroup

from cli import context

analyst_group = AppGroup("analyst", help="分析数据（假名化）/ the analysts' pseudonymised data files")


@analyst_group.command("export")
@click.option("--county", "counties", multiple=True, metavar="CODE",
              help="12 位县代码（可重复）/ 12-digit county code (repeatable)")
@click.option("--all", "every", is_flag=True, help="全部有户的县 / every county with households")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="导出目录所用的日期（默认今天，北京时间）/ the date the export is filed under (default today, China time)")
@click.option("--out", "out", type=click.Path(file_okay=False), default=None,
              help="输出目录（默认 var/analyst）/ output folder (default var/analyst)")
def export_command(counties, every, as_of, out):
    """导出分析数据 / Export the pseudonymised analyst tables of counties as Parquet.

    Households appear only under a keyed reference (ANALYST_PSEUDONYM_KEY, or var/secrets/analyst_pseudonym.key);
    no names, phones, ID numbers or their hashes, no 户编号 and no free text written by people.
    """
    from graph import analyst as analyst_queries
    from services import analyst_data

    if not counties and not every:
        raise click.UsageError("请给出 --county CODE 或 --all / give --county CODE or --all")
    ctx = context.service_context()
    chosen = list(counties) or analyst_queries.counties(ctx.driver, ctx.database)
    if not chosen:
        click.echo("没有有户的县 / no county has households")
        return
    day = as_of.date() if as_of else None
    for county in chosen:
        click.echo(f"{county}：导出中 / exporting …")

        def progress(table: str, rows: int, done: bool) -> None:
            if done:
                click.echo(f"  {table}: {rows:,} 行 / rows")

        folder = analyst_data.export_county(ctx, county, as_of=day, root=out, progress=progress)
        manifest = analyst_data.read_manifest(county, folder.name, root=folder.parent.parent)
        click.echo(f"{county} {manifest.get('county_name') or ''}：已写入 / written {folder}")
        for table in analyst_data.TABLES:
            click.echo(f"  {folder / (table + '.parquet')}")
        click.echo(f"  {folder / analyst_data.MANIFEST}（密钥指纹 / key fingerprint {manifest['key_fingerprint']}）")
    click.echo(f"已导出 / exported: {len(chosen)} 个县 / counties")
