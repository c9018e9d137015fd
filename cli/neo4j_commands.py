"""`flask neo4j build|start|stop|status|schema`: the local Neo4j (graph/server.py) and the schema.

Every command but `schema` works before any Neo4j runs: none of them opens the app's driver.
`flask neo4j backup|restore` are in cli/backup_commands.py (added to this group by cli/__init__.py).
"""
import sys

import click
from flask.cli import AppGroup

from cli import context
from graph import server

neo4j_group = AppGroup("neo4j", help="本地 Neo4j 与图模式 / the local Neo4j and the graph schema")


def _fail(error: Exception) -> None:
    click.echo(str(error), err=True)
    sys.exit(1)


@neo4j_group.command("build")
def build_command():
    """构建启动器 / Build the Neo4j launcher.

    Compiles graph/launcher with Maven when its sources changed (offline first).
    """
    try:
        server.build_launcher()
    except server.ServerError as error:
        _fail(error)


@neo4j_group.command("start")
def start_command():
    """启动 Neo4j / Start the local Neo4j.

    Builds the launcher when needed, starts it in the background and waits for Bolt; reuses a running
    one. With NEO4J_URI set, only checks that that Neo4j answers.
    """
    try:
        server.ensure_running(context.settings())
    except server.ServerError as error:
        _fail(error)


@neo4j_group.command("stop")
@click.option("--all", "stop_all", is_flag=True,
              help="停止 var/neo4j 下的全部本地实例 / stop every local instance under var/neo4j")
def stop_command(stop_all):
    """停止 Neo4j / Stop the local Neo4j.

    SIGTERM for a clean shutdown (SIGKILL after a minute).
    """
    settings = context.settings()
    targets = server.all_local_instances(settings) if stop_all else [server.LocalInstance.from_settings(settings)]
    if not any([server.stop(target) for target in targets]):  # a list: stop every one, not just the first
        click.echo("没有正在运行的本地 Neo4j / no local Neo4j running")


@neo4j_group.command("status")
def status_command():
    """Neo4j 状态 / Status of the local Neo4j.

    Exit status 3 when it is stopped.
    """
    instance = server.LocalInstance.from_settings(context.settings())
    pid = server.status(instance)
    state = f"运行中 running, pid {pid}" if pid else "已停止 stopped"
    click.echo(f"Neo4j {instance.bolt_uri} ({instance.home}): {state}")
    if pid is None:
        sys.exit(3)


@neo4j_group.command("schema")
def schema_command():
    """建立图模式 / Apply the graph schema.

    Constraints and indexes; idempotent.
    """
    from graph.schema import apply_schema

    count = apply_schema(context.driver(), context.settings().neo4j_database)
    click.echo(f"图模式已就绪 / schema applied: {count} constraints and indexes")
