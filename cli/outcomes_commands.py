"""`flask outcomes refresh [--county CODE …]`: compute and store the counties' outcomes (帮扶成效).

Pages and the API read the stored report (services/outcomes.py); this command, `flask sample` and the page's
重新计算 button recompute it. A scheduled sweep calls services.outcomes.refresh_all the same way.
"""
import click
from flask.cli import AppGroup

from cli import context

outcomes_group = AppGroup("outcomes", help="帮扶成效 / outcomes of the partnerships per county")


@outcomes_group.command("refresh")
@click.option("--county", "counties", multiple=True, metavar="CODE",
              help="12 位县代码（可重复），默认全部有户的县 / 12-digit county code (repeatable); "
                   "default: every county with households")
def refresh_command(counties):
    """重新计算帮扶成效 / Recompute and store the outcomes of each county.

    Per mechanism, enterprise type, township and start year: partnerships formed, duration, 年增收, and the income
    change of partnered households against comparable households (method: matching/outcomes.py).
    """
    from services import outcomes

    def progress(county: str, report: dict) -> None:
        comparison = report["comparison"]
        figure = ("无可比较的户 / nothing to compare" if comparison["estimate"] is None else
                  f"收入变化差 / income change difference {comparison['estimate']:+.0f} 元/人/年"
                  f"（95% 区间 {comparison['low']:+.0f} ~ {comparison['high']:+.0f}；联结户 {comparison['partnered_n']}，"
                  f"对照户 {comparison['comparable_n']}）")
        click.echo(f"{county} {report.get('county_name') or ''}：联结 {report['totals']['formed']} 条，{figure}，"
                   f"{report['seconds']:.2f} 秒 / s")

    reports = outcomes.refresh_all(context.service_context(), list(counties) or None, progress)
    click.echo(f"已计算 / computed: {len(reports)} 个县 / counties")
