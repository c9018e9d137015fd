"""`flask followups sweep [--day YYYY-MM-DD]`: the daily sweep now (services/sweep.py)."""
import json

import click
from flask.cli import AppGroup

from cli import context

followups_group = AppGroup("followups", help="跟进事项与预警 / follow-up items and early warnings")


@followups_group.command("sweep")
@click.option("--day", default=None, metavar="YYYY-MM-DD",
              help="按哪一天检查（默认今天，中国标准时间）/ the day to sweep for (default: today, China time)")
def sweep_command(day):
    """每日检查 / Run the daily sweep now.

    Raises the follow-up items of partnerships past their end date, refreshes the warnings a day changes and
    every enterprise's, and queues one incremental match run of the counties with new follow-up items.
    """
    from services.sweep import sweep

    result = sweep(context.service_context(), day, progress=click.echo)
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))
