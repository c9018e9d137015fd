"""`flask sample`: the synthetic sample county (凤凰县), generated once into var/sample, then loaded.

What `make run` shows a new user. devtools is test tooling that production packages never import;
this command is the top layer's one exception, and it imports devtools inside the command only.
"""
import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from cli import context
from cli.etl_commands import echo_load_result

SAMPLE_FILES = ("villages", "households", "members", "enterprises", "projects", "partnerships")


@click.command("sample")
@with_appcontext
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="样例文件目录，默认 var/sample / where the sample files are (default: var/sample)")
@click.option("--quiet", is_flag=True, help="不显示进度 / no progress output")
@click.option("--match/--no-match", default=True, show_default=True,
              help="加载后运行匹配（输入未变则不重算）/ run matching after the load (nothing recomputed when unchanged)")
def sample_command(out, quiet, match):
    """加载样例县 / Load the synthetic sample county.

    Generates 凤凰县 (about 1,500 households, and their households file of a year before) into var/sample the
    first time, then loads the previous year's households (dated a year before) and the current files (idempotent),
    runs matching on it with the defaults (the model trained on its history), so a new user sees recommendations,
    and computes the county's outcomes (帮扶成效).
    """
    from devtools.synth import PREVIOUS_YEAR_DIR, PRESETS, generate, sample_loads  # test tooling: imported here only
    from etl.load import file_digest, load_files
    from graph.loading import ever_completed

    settings = context.settings()
    out = out or Path(settings.var_dir) / "sample"
    if not (out / "households.csv").exists() or not (out / PREVIOUS_YEAR_DIR / "households.csv").exists():
        generate(out, progress=not quiet, previous_year=True, **PRESETS["sample"])
    loads = sample_loads(out, SAMPLE_FILES)
    for paths, as_of in loads[:-1]:  # the previous year's households, once: loaded again they would undo the current
        if ever_completed(context.driver(), file_digest(paths[-1]), settings.neo4j_database):
            click.echo(f"上年户数据已加载过 / the previous year's households were loaded before（{as_of}）")
            continue
        result = load_files(paths, context.driver(), settings, progress=not quiet, as_of=as_of)
        households = sum(item.rows_loaded for item in result.files if item.kind == "households")
        click.echo(f"上年户数据 / previous year's households（数据日期 {as_of}）：加载 {households} 户 / loaded")
        if result.failed_files:
            echo_load_result(result)
            raise SystemExit(2)
    paths, as_of = loads[-1]
    result = load_files(paths, context.driver(), settings, progress=not quiet, as_of=as_of)
    echo_load_result(result)
    if result.failed_files:
        raise SystemExit(2)
    counties = sorted({str(county) for county in PRESETS["sample"]["counties"]})
    if match:
        from matching.run import MatchParams, MatchRunner

        run = MatchRunner(context.driver(), settings, progress=None if quiet else click.echo).run(counties, MatchParams())
        metrics = json.loads(run.get("metrics") or "{}")
        click.echo(f"样例县匹配完成 / sample county matched: {run['run_id']}，{run.get('model_note', '')}"
                   + (f"，覆盖率 {metrics['coverage_with_existing']:.1%}" if "coverage_with_existing" in metrics else ""))
    from services import outcomes

    for county in counties:
        report = outcomes.refresh(context.service_context(), county)
        click.echo(f"帮扶成效已计算 / outcomes computed: {county}（{report['seconds']:.1f} 秒 / s）")
