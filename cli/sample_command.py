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

    Generates 凤凰县 (about 1,500 households) into var/sample the first time, then loads it (idempotent), then
    runs matching on it with the defaults (the model trained on its history), so a new user sees recommendations.
    """
    from devtools.synth import PRESETS, generate  # test tooling: imported here only, never at module level
    from etl.load import load_files

    settings = context.settings()
    out = out or Path(settings.var_dir) / "sample"
    if not (out / "households.csv").exists():
        generate(out, progress=not quiet, **PRESETS["sample"])
    paths = [out / f"{name}.csv" for name in SAMPLE_FILES if (out / f"{name}.csv").exists()]
    result = load_files(paths, context.driver(), settings, progress=not quiet)
    echo_load_result(result)
    if result.failed_files:
        raise SystemExit(2)
    if match:
        from matching.run import MatchParams, MatchRunner

        counties = sorted({str(county) for county in PRESETS["sample"]["counties"]})
        run = MatchRunner(context.driver(), settings, progress=None if quiet else click.echo).run(counties, MatchParams())
        metrics = json.loads(run.get("metrics") or "{}")
        click.echo(f"样例县匹配完成 / sample county matched: {run['run_id']}，{run.get('model_note', '')}"
                   + (f"，覆盖率 {metrics['coverage_with_existing']:.1%}" if "coverage_with_existing" in metrics else ""))
