"""One command-line surface: `flask --app wsgi …` command groups.

    flask --app wsgi etl load FILE…            数据加载 / load bureau files
    flask --app wsgi etl rules                 一致性规则 / the consistency rules
    flask --app wsgi match run|train|evaluate  匹配 / matching
    flask --app wsgi tokens create|list|revoke API 令牌 / API tokens
    flask --app wsgi neo4j build|start|stop|status|schema   本地 Neo4j / the local Neo4j
    flask --app wsgi neo4j backup|restore      备份与恢复 / backup and restore (Neo4j dump + var/secrets)
    flask --app wsgi sample                    样例数据 / generate and load the synthetic sample county
    flask --app wsgi followups sweep           每日检查 / the daily follow-up and warnings sweep now
    flask --app wsgi outcomes refresh          帮扶成效 / compute and store each county's outcomes
    flask --app wsgi analyst export            分析数据 / the analysts' pseudonymised Parquet files

Top layer: commands may import anything below (services, etl, matching, graph, core) but never `app`;
they reach the settings and the driver through `flask.current_app` (cli/context.py). Heavy imports
happen inside the commands, so `flask --help` and `flask neo4j start` stay quick and need no Neo4j.
"""
from flask import Flask

from cli.analyst_commands import analyst_group
from cli.backup_commands import backup_command, restore_command
from cli.etl_commands import etl_group
from cli.followup_commands import followups_group
from cli.match_commands import match_group
from cli.neo4j_commands import neo4j_group
from cli.outcomes_commands import outcomes_group
from cli.readstate_commands import readstate_group
from cli.sample_command import sample_command
from cli.token_commands import tokens_group

GROUPS = (etl_group, match_group, tokens_group, neo4j_group, sample_command, readstate_group, outcomes_group,
          followups_group, analyst_group)
neo4j_group.add_command(backup_command)
neo4j_group.add_command(restore_command)


def register_cli(app: Flask) -> None:
    """Attach the command groups to the app."""
    for command in GROUPS:
        app.cli.add_command(command)
