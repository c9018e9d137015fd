"""Tools for the fault tests: gunicorn on a port of our own, the processes behind it, and Neo4j locks held
on purpose so that a request or a job stops exactly where the test wants to kill it.

Everything here reads /proc (Linux): which worker holds a client's connection, which processes a
master forked. Nothing is killed by name; every kill is by a pid these helpers found.
"""
import os
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import neo4j
import requests

from core.settings import Settings
from deploy.stack import start_gunicorn, stop_process
from etl.load import load_files
from tests.support import bureau_files as bf


def load_small_county(driver: neo4j.Driver, settings: Settings, folder: Path) -> None:
    """Six households of 凤凰县 with one member each and one enterprise offering two jobs, through the ETL."""
    files = [
        bf.write_table(folder / "hh.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(n) for n in range(1, 7)]),
        bf.write_table(folder / "m.csv", bf.MEMBER_HEADER, [bf.member_row(n, 1) for n in range(1, 7)]),
        bf.write_table(folder / "ent.csv", bf.ENTERPRISE_HEADER, [bf.enterprise_row(1)]),
    ]
    assert not load_files(files, driver, settings, progress=False).failed_files


def wait_until(predicate, timeout_s: float = 60, interval_s: float = 0.1, what: str = "condition"):
    """Poll predicate until it returns something truthy (returned); AssertionError after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


def child_pids(pid: int) -> list[int]:
    """The direct children of a process (from /proc; empty when it has none or is gone)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return sorted(int(child) for child in text.split())


def is_alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _socket_inodes(server_port: int, client_port: int) -> set[str]:
    """Inodes of the server side of 127.0.0.1:server_port ← 127.0.0.1:client_port (from /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            inodes.add(inode)
    return inodes


def pid_holding_connection(pids: list[int], server_port: int, client_port: int) -> int | None:
    """Which of pids holds the accepted socket of a client's connection (the worker serving it)."""
    wanted = {f"socket:[{inode}]" for inode in _socket_inodes(server_port, client_port)}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except FileNotFoundError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in wanted:
                    return pid
            except FileNotFoundError:
                continue
    return None


@dataclass
class Gunicorn:
    """A gunicorn master started by a test: its pid, address and logs."""

    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The live worker pids right now."""
        return [pid for pid in child_pids(self.process.pid) if is_alive(pid)]

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@contextmanager
def gunicorn_on(settings: Settings, port: int, folder: Path, workers: int = 2, **env_overrides):
    """gunicorn (gunicorn.conf.py, `workers` gthread workers) serving wsgi:app with these settings on port.

    The settings travel as environment variables (as the job runner hands them to its children). The
    master is stopped with SIGTERM at the end, and SIGKILL if it does not stop in time.
    """
    process = start_gunicorn(settings, folder, f"127.0.0.1:{port}", LIANJIE_WORKERS=workers, **env_overrides)
    server = Gunicorn(process, port, folder / "gunicorn.log")
    try:
        def ready():
            try:
                return requests.get(f"{server.url}/readyz", timeout=5).status_code == 200
            except requests.ConnectionError:
                assert process.poll() is None, server.log_tail()
                return False

        wait_until(ready, 60, 0.3, "gunicorn to answer /readyz")
        wait_until(lambda: len(server.workers()) == workers, 30, 0.1, f"{workers} gunicorn workers")
        yield server
    finally:
        stop_process(process)


@contextmanager
def node_locked(driver: neo4j.Driver, label: str, key: str, value: str, database: str | None = None):
    """Hold the write lock of one node in an open transaction; rolled back (nothing changed) on leaving.

    A transaction of the app or of a job that needs this node (a relationship to it, a property) waits
    for the lock: the test decides the moment it may go on, or kills it while it waits.
    """
    session = driver.session(database=database)
    tx = session.begin_transaction()
    try:
        found = tx.run(f"MATCH (n:{label} {{{key}: $value}}) SET n.{key} = n.{key} RETURN count(n) AS n",
                       value=value).single()["n"]
        assert found == 1, f"no {label} {value}"
        yield
    finally:
        tx.rollback()
        session.close()


@contextmanager
def key_reserved(driver: neo4j.Driver, label: str, key: str, value: str, database: str | None = None):
    """Create a node with a unique key in an open transaction, rolled back on leaving.

    Whoever writes a node with the same key meanwhile waits for this transaction (Neo4j locks the
    unique index entry until the first writer commits or rolls back): a batch that reaches that key
    stops there, with everything before it written and everything after it not yet.
    """
    session = driver.session(database=database)
    tx = session.begin_transaction()
    try:
        tx.run(f"CREATE (n:{label} {{{key}: $value}})", value=value).consume()
        yield
    finally:
        tx.rollback()
        session.close()


def blocked_transactions(driver: neo4j.Driver, query_fragment: str, database: str | None = None) -> list[dict]:
    """Transactions waiting for a lock whose current query contains query_fragment."""
    records, _, _ = driver.execute_query(
        "SHOW TRANSACTIONS YIELD transactionId, currentQuery, status, clientAddress "
        "WHERE status STARTS WITH 'Blocked' AND currentQuery CONTAINS $fragment "
        "RETURN transactionId, currentQuery, status, clientAddress",
        fragment=query_fragment, database_=database)
    return [record.data() for record in records]
