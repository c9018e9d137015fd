"""The audit log's write path: each event is spooled to a local file at once and written to the graph in batches.

An unmasked read must not wait for a commit of its own — under load that commit cost a bureau's household
search 40 % of its throughput — and no audit event may be lost. So `append` writes the events as JSON lines to
this process's spool file and hands them to the operating system before it returns (they survive the process
being killed), and a background thread writes what has been spooled to the graph in one transaction every
`flush_seconds`, then deletes the file. A spool file whose process died (its lock is free) is written to the
graph by the next audit log that starts on the same directory. Writing is idempotent (MERGE on the event id),
so an event written twice is stored once. flush_seconds = 0 writes in the caller's thread before `append`
returns; callers arriving during a write share the next one (group commit).

Each process has its own spool file, locked (flock) while the process lives: var/audit-spool/audit-<pid>-<n>.jsonl.
"""
import atexit
import fcntl
import itertools
import json
import logging
import os
import threading
import uuid
import weakref
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("lianjie.audit")

SPOOL_PATTERN = "audit-*.jsonl"


class WriterGone(RuntimeError):
    """The graph a spool writes to is no longer there (its driver was closed or collected)."""


BATCH = 1000  # events per transaction when a backlog is written; also what wakes the writer early


class _SpoolFile:
    """One spool file, exclusively locked by this process until it is deleted or closed."""

    def __init__(self, path: Path):
        # Locked under a name recovery does not look at, then renamed: a recovering process never takes
        # a new file for an abandoned one.
        hidden = path.with_name("." + path.name + ".new")
        # Readable by this user only: the events name households and the people who read them.
        descriptor = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.handle = os.fdopen(descriptor, "a", encoding="utf-8")
        fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        hidden.rename(path)
        self.path = path

    def append(self, events: list[dict]) -> None:
        self.handle.write("".join(json.dumps(event, ensure_ascii=False) + "\n" for event in events))
        self.handle.flush()  # in the operating system's hands: kept if this process dies now

    def discard(self) -> None:
        """The events are in the graph: delete the file (and so release its lock)."""
        self.path.unlink(missing_ok=True)
        self.handle.close()


class AuditSpool:
    """Audit events of one process for one graph: spooled at once, written in batches (see the module)."""

    def __init__(self, write_batch: Callable[[list[dict]], None], directory: Path, flush_seconds: float):
        self.write_batch = write_batch
        self.directory = Path(directory)
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()        # the current file and the pending events
        self._flush_lock = threading.Lock()  # one write to the graph at a time
        self._wake = threading.Event()
        self._pending: list[dict] = []
        self._file: _SpoolFile | None = None
        self._spooled: list[_SpoolFile] = []  # files whose events are pending (deleted once written)
        self._numbers = itertools.count(1)
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._closed = False

    # --- writing ------------------------------------------------------------------------------------

    def append(self, events: list[dict]) -> None:
        """Spool the events (returns once the operating system holds them; written to the graph soon after,
        or before returning when flush_seconds is 0)."""
        if not events:
            return
        with self._lock:
            started = self._start_in_this_process()
            if self._file is None:
                self._file = self._open_file()
                self._spooled.append(self._file)
            self._file.append(events)
            self._pending.extend(events)
        if started:
            self._recover_others()
        if self.flush_seconds <= 0:
            self.flush()
        elif len(self._pending) >= BATCH:
            self._wake.set()  # a large backlog: write it now rather than at the next tick

    def flush(self) -> int:
        """Write the pending events to the graph now; returns how many. Raises when the graph refuses
        them (they stay spooled and pending, and are written by a later flush)."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                files, self._spooled, self._file = self._spooled, [], None
            if not batch:
                for spool_file in files:
                    spool_file.discard()
                return 0
            try:
                self.write_batch(batch)
            except BaseException:
                with self._lock:
                    self._pending = batch + self._pending
                    self._spooled = files + self._spooled
                raise
            for spool_file in files:
                spool_file.discard()
            return len(batch)

    def close(self) -> None:
        """Write what is pending, stop the background thread and let go of the spool files (what could not
        be written stays in them, unlocked, for the next audit log on this directory)."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        try:
            self.flush()
        except Exception:  # noqa: BLE001 — left spooled: the next process writes it
            log.warning("审计记录暂未写入图，保留在本地待写 / audit events left spooled for the next start",
                        exc_info=True)
        self._release()

    def _release(self) -> None:
        with self._lock:
            for spool_file in self._spooled:
                spool_file.handle.close()  # unlocked, not deleted: recovered by the next audit log
            self._spooled, self._file, self._pending = [], None, []

    # --- process life -------------------------------------------------------------------------------

    def _start_in_this_process(self) -> bool:
        """Called under the lock: on first use in a process (also after a fork) start afresh; True then."""
        if self._pid == os.getpid():
            return False
        self._pid = os.getpid()
        self._pending, self._file, self._spooled = [], None, []  # a parent's belong to the parent
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.flush_seconds > 0:
            self._thread = threading.Thread(target=self._run, name="audit-spool", daemon=True)
            self._thread.start()
        return True

    def _open_file(self) -> _SpoolFile:
        name = f"audit-{os.getpid()}-{next(self._numbers)}-{uuid.uuid4().hex[:8]}.jsonl"
        return _SpoolFile(self.directory / name)

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_seconds)
            self._wake.clear()
            try:
                self.flush()
            except WriterGone:
                self._closed = True
                self._release()
            except Exception:  # noqa: BLE001 — kept pending and spooled; tried again next round
                log.exception("审计记录写入图失败，稍后重试 / writing audit events failed; retrying")

    # --- recovery -----------------------------------------------------------------------------------

    def _recover_others(self) -> None:
        try:
            recovered = recover(self.directory, self.write_batch, own=self._own_paths())
        except Exception:  # noqa: BLE001 — the files stay; a later start tries again
            log.exception("未能写入遗留的审计记录 / could not write audit events left by another process")
            return
        if recovered:
            log.info("已写入其他进程遗留的审计记录 / wrote audit events left by stopped processes",
                     extra={"events": recovered})

    def _own_paths(self) -> set[Path]:
        with self._lock:
            return {spool_file.path for spool_file in self._spooled}


def _read_spool(path: Path) -> list[dict]:
    """The events of a spool file. A last line cut short (its process died while writing it, before the read it
    records returned) is left out; any other unreadable line is an error."""
    lines = path.read_text(encoding="utf-8").split("\n")
    events = []
    for number, line in enumerate(lines, 1):
        if not line:
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: the write never finished
                break
            raise ValueError(f"{path}: 第 {number} 行不是审计记录 / line {number} is not an audit event") from None
    return events


def recover(directory: Path, write_batch: Callable[[list[dict]], None], own: set[Path] = frozenset()) -> int:
    """Write the events of spool files whose process is gone (their lock is free) and delete the files;
    returns how many events were written."""
    written = 0
    for path in sorted(Path(directory).glob(SPOOL_PATTERN)):
        if path in own:
            continue
        try:
            handle = open(path, "r+", encoding="utf-8")  # noqa: SIM115 — held locked while it is written
        except FileNotFoundError:
            continue  # written and deleted by another process meanwhile
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # its process is alive
            if not path.exists():
                continue
            events = _read_spool(path)
            for start in range(0, len(events), BATCH):
                write_batch(events[start:start + BATCH])
            path.unlink()
            written += len(events)
    return written


_SPOOLS: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()
_SPOOLS_LOCK = threading.Lock()


def spool_for(owner: object, key: tuple, factory: Callable[[], AuditSpool]) -> AuditSpool:
    """The process's spool for this owner (a driver) and key (database, directory), made on first use."""
    with _SPOOLS_LOCK:
        spools = _SPOOLS.setdefault(owner, {})
        spool = spools.get(key)
        if spool is None:
            spool = spools[key] = factory()
            _CLOSE_AT_EXIT.add(spool)
        return spool


_CLOSE_AT_EXIT: "weakref.WeakSet[AuditSpool]" = weakref.WeakSet()


def close_all() -> None:
    """Write every spool's pending events (registered to run at interpreter exit)."""
    for spool in list(_CLOSE_AT_EXIT):
        spool.close()


def close_owner(owner: object) -> None:
    """Write and close the spools of this owner (before its driver is closed)."""
    with _SPOOLS_LOCK:
        spools = list(_SPOOLS.pop(owner, {}).values())
    for spool in spools:
        spool.close()


atexit.register(close_all)
