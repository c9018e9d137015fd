"""The audit log's spool (graph/auditlog.py) without a database: events are on disk before append returns,
stored in batches, kept when the graph refuses them, and recovered from a process that died."""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from graph import auditlog
from graph.auditlog import AuditSpool

ROOT = Path(__file__).resolve().parents[2]


class Store:
    """Stands in for the graph: records batches; can be made to fail or to block."""

    def __init__(self):
        self.batches: list[list[dict]] = []
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, events):
        self.gate.wait(5)
        if self.fail:
            raise ConnectionError("graph unavailable")
        self.batches.append(list(events))

    @property
    def ids(self):
        return [event["event_id"] for batch in self.batches for event in batch]


def _spool_lines(directory: Path) -> list[str]:
    return [event["event_id"] for path in sorted(directory.glob("audit-*.jsonl"))
            for event in map(json.loads, path.read_text().splitlines())]


def test_without_a_delay_events_are_stored_before_append_returns(tmp_path):
    store = Store()
    spool = AuditSpool(store, tmp_path, 0)
    spool.append([{"event_id": "a"}, {"event_id": "b"}])
    assert store.ids == ["a", "b"]
    assert list(tmp_path.glob("audit-*.jsonl")) == []  # stored: the spool file is gone


def test_events_are_on_disk_at_once_and_in_the_graph_after_the_interval(tmp_path):
    store = Store()
    spool = AuditSpool(store, tmp_path, 0.1)
    spool.append([{"event_id": "a"}])
    spool.append([{"event_id": "b"}])
    assert store.ids == [] and _spool_lines(tmp_path) == ["a", "b"]
    assert {path.stat().st_mode & 0o777 for path in tmp_path.glob("audit-*.jsonl")} == {0o600}
    deadline = time.monotonic() + 5
    while store.ids != ["a", "b"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert store.batches == [[{"event_id": "a"}, {"event_id": "b"}]]  # one transaction for both
    deadline = time.monotonic() + 5
    while list(tmp_path.glob("audit-*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(tmp_path.glob("audit-*.jsonl")) == []
    spool.close()


def test_refused_events_stay_spooled_and_are_stored_once_later(tmp_path):
    store = Store()
    spool = AuditSpool(store, tmp_path, 60)  # flushed by hand below
    spool.append([{"event_id": "a"}])
    store.fail = True
    with pytest.raises(ConnectionError):
        spool.flush()
    spool.append([{"event_id": "b"}])
    assert _spool_lines(tmp_path) == ["a", "b"]  # both still on disk
    store.fail = False
    assert spool.flush() == 2
    assert store.ids == ["a", "b"] and list(tmp_path.glob("audit-*.jsonl")) == []
    spool.close()


def test_concurrent_callers_without_a_delay_share_writes_and_each_waits_for_its_own(tmp_path):
    store = Store()
    spool = AuditSpool(store, tmp_path, 0)
    store.gate.clear()  # the first write blocks until the others have queued behind it
    returned = []

    def call(event_id):
        spool.append([{"event_id": event_id}])
        returned.append((event_id, event_id in store.ids))

    threads = [threading.Thread(target=call, args=(f"e{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    store.gate.set()
    for thread in threads:
        thread.join(5)
    assert sorted(store.ids) == [f"e{i}" for i in range(6)]
    assert all(stored for _, stored in returned) and len(returned) == 6  # none returned before its write
    assert len(store.batches) < 6  # the callers that waited shared a write


_CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from graph.auditlog import AuditSpool
spool = AuditSpool(lambda events: time.sleep(3600), {directory!r}, 3600)
spool.append([{{"event_id": "from-the-dead-1"}}, {{"event_id": "from-the-dead-2"}}])
print("spooled", flush=True)
time.sleep(3600)
"""


def test_a_killed_process_leaves_its_events_to_the_next_spool(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", _CHILD.format(root=str(ROOT), directory=str(tmp_path))],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "spooled"
        # While it lives, its file is locked: nobody else takes it.
        assert auditlog.recover(tmp_path, Store()) == 0
        assert _spool_lines(tmp_path) == ["from-the-dead-1", "from-the-dead-2"]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    # A torn last line (the process died while writing it) is left out; the rest is stored.
    left = next(tmp_path.glob("audit-*.jsonl"))
    with open(left, "a") as handle:
        handle.write('{"event_id": "half')
    store = Store()
    spool = AuditSpool(store, tmp_path, 0)
    spool.append([{"event_id": "mine"}])  # the first use in a process recovers what others left
    assert sorted(store.ids) == ["from-the-dead-1", "from-the-dead-2", "mine"]
    assert list(tmp_path.glob("audit-*.jsonl")) == []


def test_a_corrupt_spool_file_is_reported_not_dropped(tmp_path):
    bad = tmp_path / "audit-1-1-deadbeef.jsonl"
    bad.write_text('{"event_id": "ok"}\nnot json\n{"event_id": "after"}\n')
    with pytest.raises(ValueError, match="line 2"):
        auditlog.recover(tmp_path, Store())
    assert bad.exists()


def test_closing_stores_what_is_pending_and_a_gone_graph_leaves_the_file_for_later(tmp_path):
    store = Store()
    spool = AuditSpool(store, tmp_path, 3600)
    spool.append([{"event_id": "a"}])
    spool.close()
    assert store.ids == ["a"] and list(tmp_path.glob("audit-*.jsonl")) == []

    def gone(events):
        raise auditlog.WriterGone("closed")

    orphan = AuditSpool(gone, tmp_path, 3600)
    orphan.append([{"event_id": "b"}])
    orphan.close()  # kept on disk, unlocked
    later = Store()
    assert auditlog.recover(tmp_path, later) == 1 and later.ids == ["b"]


def test_spools_start_afresh_in_a_forked_child(tmp_path):
    store = Store()
    spool = AuditSpool(store, tmp_path, 3600)
    spool.append([{"event_id": "parent"}])
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own file; the parent's pending event is not its to store
        try:
            spool.append([{"event_id": "child"}])
            spool.flush()
            os.write(write, json.dumps(store.ids).encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert json.loads(os.read(read, 1000)) == ["child"]
    assert _spool_lines(tmp_path) == ["parent"]
    spool.flush()
    assert store.ids == ["parent"]
