"""Local Neo4j runtime: build the embedded launcher with Maven, start, stop, report.

    flask --app wsgi neo4j start     # build if needed, start in background, wait for Bolt
    flask --app wsgi neo4j status
    flask --app wsgi neo4j stop      # this instance; `stop --all` stops every local instance

(the command line lives in cli/neo4j_commands.py). The instance is chosen by the settings
(LOCAL_NEO4J_PORT, LOCAL_NEO4J_HOME), so the tests run their own instance beside the
development one. When NEO4J_URI is set, `ensure_running` only checks that the named Neo4j answers.

`dump_database` / `load_database` run Neo4j's own `neo4j-admin database dump|load` (org.neo4j.cli.AdminTool,
already on the launcher's classpath) on a stopped instance: the embedded server keeps its stores where a
Neo4j server installed in the instance's home would (HOME/data/databases, HOME/data/transactions), so the
tool is pointed at the home (NEO4J_HOME) and at a configuration naming that data folder (NEO4J_CONF).
Backups of whole installations (dump, keys, manifest) are made by cli/backup_commands.py.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import neo4j

from core.settings import Settings
from graph.db import create_driver, ping

LAUNCHER_DIR = Path(__file__).resolve().parent / "launcher"
CLASSES_DIR = LAUNCHER_DIR / "target" / "classes"
LIB_DIR = LAUNCHER_DIR / "target" / "lib"
MAIN_CLASS = "org.lianjie.graph.LocalNeo4j"
ADMIN_CLASS = "org.neo4j.cli.AdminTool"  # neo4j-admin, from org.neo4j:neo4j-command-line
ADMIN_TIMEOUT_S = 6 * 3600  # a province graph dumps in minutes; this only stops a hung tool
DEFAULT_DATABASE = "neo4j"  # Community serves one user database, under this name
PID_FILE_NAME = "lianjie-neo4j.pid"
LOG_FILE_NAME = "launcher.log"
START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 60


class ServerError(RuntimeError):
    """The local Neo4j could not be built, started or stopped."""


@dataclass(frozen=True)
class LocalInstance:
    """Where one local Neo4j keeps its data, pid and log, and the port it serves."""

    home: Path
    port: int
    heap: str
    pagecache: str
    import_dir: Path | None = None  # where LOAD CSV may read files (off when None)

    @classmethod
    def from_settings(cls, settings: Settings) -> "LocalInstance":
        """The instance the settings name."""
        return cls(
            home=Path(settings.local_neo4j_home).resolve(),
            port=settings.local_neo4j_port,
            heap=settings.local_neo4j_heap,
            pagecache=settings.local_neo4j_pagecache,
        )

    @property
    def pid_file(self) -> Path:
        return self.home / PID_FILE_NAME

    @property
    def log_file(self) -> Path:
        return self.home / LOG_FILE_NAME

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.port}"


def _launcher_is_built() -> bool:
    """True when the compiled launcher and its libraries are newer than its sources."""
    main_class = CLASSES_DIR / Path(*MAIN_CLASS.split(".")).with_suffix(".class")
    if not main_class.exists() or not LIB_DIR.is_dir() or not any(LIB_DIR.glob("neo4j-*.jar")):
        return False
    built_at = main_class.stat().st_mtime
    sources = [LAUNCHER_DIR / "pom.xml", *LAUNCHER_DIR.joinpath("src").rglob("*.java")]
    return all(source.stat().st_mtime <= built_at for source in sources)


def build_launcher() -> None:
    """Compile the launcher with Maven unless it is up to date (offline first, then online)."""
    if _launcher_is_built():
        return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ServerError("未找到 Maven（mvn）。请安装 Maven 3.8+ 与 Java 17+ / Maven not found")
    print("正在用 Maven 构建本地 Neo4j 启动器（首次需下载依赖）/ building the Neo4j launcher …", flush=True)
    base = [mvn, "-B", "-q", "package", "-DskipTests"]
    for offline in (True, False):
        command = base + (["-o"] if offline else [])
        result = subprocess.run(command, cwd=LAUNCHER_DIR, capture_output=True, text=True)
        if result.returncode == 0:
            return
    raise ServerError(f"Maven 构建失败 / Maven build failed:\n{result.stdout[-4000:]}{result.stderr[-4000:]}")


def _read_pid(instance: LocalInstance) -> int | None:
    """The pid of this instance's launcher if it is alive, else None (stale pid files are removed)."""
    try:
        pid = int(instance.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except FileNotFoundError:
        cmdline = ""
    if MAIN_CLASS not in cmdline or str(instance.home) not in cmdline:
        instance.pid_file.unlink(missing_ok=True)
        return None
    return pid


def _bolt_answers(uri: str, auth=None) -> bool:
    """True when a Bolt server answers a query at uri."""
    try:
        with neo4j.GraphDatabase.driver(uri, auth=auth, connection_timeout=2) as driver:
            ping(driver)
        return True
    except (neo4j.exceptions.DriverError, OSError):
        return False


def _port_is_taken(port: int) -> bool:
    """True when something listens on 127.0.0.1:port."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    return str(Path(java_home) / "bin" / "java") if java_home else (shutil.which("java") or "java")


def _java_command(instance: LocalInstance) -> list[str]:
    """The JVM command line for this instance."""
    java = _java()
    classpath = f"{CLASSES_DIR}{os.pathsep}{LIB_DIR}/*"
    return [
        java,
        f"-Xms{instance.heap}",
        f"-Xmx{instance.heap}",
        "-XX:+UseG1GC",
        "-XX:+ExitOnOutOfMemoryError",
        # Neo4j's page cache and network layer need these to avoid slow fallbacks.
        "--add-opens=java.base/java.nio=ALL-UNNAMED",
        "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/java.lang=ALL-UNNAMED",
        "-cp",
        classpath,
        MAIN_CLASS,
        "--home",
        str(instance.home),
        "--port",
        str(instance.port),
        "--pagecache",
        instance.pagecache,
        *(["--import-dir", str(instance.import_dir)] if instance.import_dir else []),
    ]


def _wait_for_bolt(instance: LocalInstance, alive, timeout_s: float) -> float:
    """Wait until Bolt answers; returns seconds waited. Raises if the process dies or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if _bolt_answers(instance.bolt_uri):
            return time.monotonic() - started
        if not alive():
            raise ServerError(f"Neo4j 启动失败 / Neo4j exited during start-up:\n{_log_tail(instance)}")
        time.sleep(0.25)
    raise ServerError(f"Neo4j 在 {timeout_s:.0f} 秒内未就绪 / not ready in time:\n{_log_tail(instance)}")


def _log_tail(instance: LocalInstance, lines: int = 30) -> str:
    """The last lines of the launcher's log, for error messages."""
    try:
        return "\n".join(instance.log_file.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _as_instance(target: "LocalInstance | Settings") -> LocalInstance:
    """The local instance itself, or the one the settings name."""
    return target if isinstance(target, LocalInstance) else LocalInstance.from_settings(target)


def status(target: "LocalInstance | Settings") -> int | None:
    """The pid of the instance's running Neo4j, or None when it is stopped."""
    return _read_pid(_as_instance(target))


def start(target: "LocalInstance | Settings") -> int:
    """Start the instance in the background (or reuse it if it runs); returns its pid."""
    instance = _as_instance(target)
    pid = _read_pid(instance)
    if pid is not None:
        _wait_for_bolt(instance, lambda: not _is_zombie(pid), START_TIMEOUT_S)
        print(f"Neo4j 已在运行，复用 / reusing running Neo4j (pid {pid}) at {instance.bolt_uri}", flush=True)
        return pid
    if _port_is_taken(instance.port):
        raise ServerError(
            f"端口 {instance.port} 已被其他进程占用 / port {instance.port} is taken by another process; "
            "set LOCAL_NEO4J_PORT, or NEO4J_URI to use that server"
        )
    build_launcher()
    instance.home.mkdir(parents=True, exist_ok=True)
    print(f"正在启动 Neo4j / starting Neo4j at {instance.bolt_uri} (data: {instance.home}) …", flush=True)
    with open(instance.log_file, "ab") as log:
        process = subprocess.Popen(
            _java_command(instance),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # survives the shell that started it; stopped by pid
        )
    instance.pid_file.write_text(str(process.pid))
    try:
        # The process handle tells whether it lives: /proc/PID/cmdline may not show java yet.
        waited = _wait_for_bolt(instance, lambda: process.poll() is None, START_TIMEOUT_S)
    except ServerError:
        process.kill()
        instance.pid_file.unlink(missing_ok=True)
        raise
    print(f"Neo4j 已就绪 / ready in {waited:.1f} s (pid {process.pid})", flush=True)
    return process.pid


def stop(target: "LocalInstance | Settings") -> bool:
    """Stop the instance by pid (SIGTERM, then SIGKILL after a grace period); True if one ran."""
    instance = _as_instance(target)
    pid = _read_pid(instance)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
        if _is_zombie(pid):
            break
        time.sleep(0.2)
    else:
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
    instance.pid_file.unlink(missing_ok=True)
    print(f"Neo4j 已停止 / stopped (pid {pid}, {instance.home})", flush=True)
    return True


def _is_zombie(pid: int) -> bool:
    """True when pid has exited but was not reaped yet (it is our child in tests)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def all_local_instances(settings: Settings) -> list[LocalInstance]:
    """Every local instance with a pid file under var/neo4j (dev, test, benchmarks)."""
    base = Path(settings.var_dir) / "neo4j"
    homes = sorted(path.parent for path in base.glob(f"*/{PID_FILE_NAME}"))
    return [LocalInstance(home=h.resolve(), port=0, heap="", pagecache="") for h in homes]


def ensure_running(settings: Settings) -> None:
    """Start the local Neo4j, or check that the one named by NEO4J_URI answers."""
    if settings.uses_local_neo4j:
        start(LocalInstance.from_settings(settings))
        return
    with create_driver(settings) as driver:
        try:
            ping(driver, settings.neo4j_database)
        except (neo4j.exceptions.DriverError, OSError) as error:
            raise ServerError(f"无法连接 NEO4J_URI={settings.neo4j_uri} / cannot reach Neo4j: {error}") from error
    print(f"使用外部 Neo4j / using Neo4j at {settings.neo4j_uri}", flush=True)


def neo4j_version() -> str:
    """The Neo4j version the launcher is built on (from its kernel jar), e.g. "5.26.30"."""
    jars = sorted(LIB_DIR.glob("neo4j-kernel-[0-9]*.jar"))
    return jars[-1].stem.removeprefix("neo4j-kernel-") if jars else "unknown"


def store_exists(instance: LocalInstance, database: str = DEFAULT_DATABASE) -> bool:
    """True when the instance has a store for the database (it has been started, or loaded, once)."""
    return (instance.home / "data" / "databases" / database).is_dir()


def _admin_tool(instance: LocalInstance, arguments: list[str], heap: str = "512m") -> str:
    """Run neo4j-admin on the instance's home (it must be stopped); returns its output, ServerError on failure."""
    if _read_pid(instance) is not None:
        raise ServerError(f"请先停止 Neo4j / stop the Neo4j of {instance.home} first (its store is in use)")
    build_launcher()
    instance.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="neo4j-admin-conf-") as conf_dir:
        # The tool's own configuration: only where the data is (the server's neo4j.conf is rewritten at
        # every start and holds server settings the tool does not need).
        Path(conf_dir, "neo4j.conf").write_text(
            f"server.directories.data={instance.home / 'data'}\n"
            f"server.directories.logs={instance.home / 'logs'}\n", encoding="utf-8")
        env = {**os.environ, "NEO4J_HOME": str(instance.home), "NEO4J_CONF": conf_dir}
        command = [_java(), f"-Xmx{heap}", "--add-opens=java.base/java.nio=ALL-UNNAMED",
                   "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
                   "-cp", f"{CLASSES_DIR}{os.pathsep}{LIB_DIR}/*", ADMIN_CLASS, *arguments]
        try:
            result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    timeout=ADMIN_TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise ServerError(f"neo4j-admin 超时 / timed out: {' '.join(arguments)}") from error
    # Progress lines ("Files: 3/75, data: 12.0%") are many and say nothing afterwards.
    output = "\n".join(line for line in (result.stdout + result.stderr).splitlines()
                       if not line.startswith("Files:"))
    if result.returncode != 0:
        raise ServerError(f"neo4j-admin {' '.join(arguments[:2])} 失败 / failed:\n{output[-4000:]}")
    return output


def dump_database(instance: LocalInstance, to_dir: Path, database: str = DEFAULT_DATABASE) -> Path:
    """`neo4j-admin database dump` of the stopped instance into to_dir; returns the dump file (DATABASE.dump).

    Community edition dumps only a stopped database (the running server holds the store's lock)."""
    to_dir = Path(to_dir).resolve()
    to_dir.mkdir(parents=True, exist_ok=True)
    _admin_tool(instance, ["database", "dump", database, f"--to-path={to_dir}", "--overwrite-destination=true"])
    dump = to_dir / f"{database}.dump"
    if not dump.is_file():
        raise ServerError(f"neo4j-admin 未写出 / wrote no {dump}")
    return dump


def load_database(instance: LocalInstance, from_dir: Path, database: str = DEFAULT_DATABASE) -> str:
    """`neo4j-admin database load` of from_dir/DATABASE.dump into the stopped instance, replacing its store.

    The instance's home may be new (never started): the system database is created at its first start
    and finds the loaded store."""
    return _admin_tool(instance, ["database", "load", database, f"--from-path={Path(from_dir).resolve()}",
                                  "--overwrite-destination=true"])


def import_database(instance: LocalInstance, arguments: list[str], heap: str = "1g") -> str:
    """`neo4j-admin database import …` (arguments from etl/bulk.py) into the stopped instance; returns its output.

    The importer works mostly off-heap (its page cache sizes itself to the machine): the heap holds little."""
    if arguments[:2] != ["database", "import"]:
        raise ValueError("not an import")
    return _admin_tool(instance, arguments, heap)


def database_counts(driver: neo4j.Driver, database: str | None = None) -> dict:
    """Nodes and relationships in total, by label and by type, and the server's version (a backup's manifest).

    A node with two labels counts under each label, once in the total."""
    def query(text: str):
        return driver.execute_query(text, database_=database, routing_=neo4j.RoutingControl.READ)[0]

    nodes = query("MATCH (n) RETURN count(n) AS n")
    relationships = query("MATCH ()-[r]->() RETURN count(r) AS n")
    labels = query("MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n")
    types = query("MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n")
    components = query("CALL dbms.components() YIELD versions, edition RETURN versions, edition")
    return {
        "nodes": nodes[0]["n"], "relationships": relationships[0]["n"],
        "labels": dict(sorted((record["label"], record["n"]) for record in labels)),
        "relationship_types": dict(sorted((record["type"], record["n"]) for record in types)),
        "neo4j_version": components[0]["versions"][0], "neo4j_edition": components[0]["edition"],
    }


def running_jobs(driver: neo4j.Driver, database: str | None = None) -> int:
    """Background jobs (match runs, uploads) running now: a backup stops Neo4j under them."""
    records, _, _ = driver.execute_query("MATCH (j:Job {status: 'running'}) RETURN count(j) AS n", database_=database)
    return records[0]["n"]
