"""Audit events of concurrent requests share transactions, and each caller returns only after its commit."""
import threading
import time

import pytest

from graph import access


class SlowDriver:
    """Records each transaction's events; a commit takes a little while, so callers pile up."""

    def __init__(self, fail_on: str | None = None):
        self.batches: list[list[dict]] = []
        self.committed: set[str] = set()
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def execute_query(self, query, events, database_=None):
        assert query.startswith("UNWIND $events AS event CREATE (a:AuditEvent)")
        time.sleep(0.02)
        if self.fail_on and any(event["event_id"] == self.fail_on for event in events):
            raise RuntimeError("database unavailable")
        with self.lock:
            self.batches.append(events)
            self.committed.update(event["event_id"] for event in events)


def _call_concurrently(driver, count: int) -> dict[str, object]:
    outcomes: dict[str, object] = {}

    def call(number: int):
        event_id = f"e{number}"
        try:
            access.write_audit_events(driver, [{"event_id": event_id}])
            # Returned: the event must already be committed.
            outcomes[event_id] = event_id in driver.committed
        except RuntimeError as error:
            outcomes[event_id] = error

    threads = [threading.Thread(target=call, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return outcomes


def test_every_event_is_committed_once_before_its_caller_returns_and_commits_are_shared():
    driver = SlowDriver()
    outcomes = _call_concurrently(driver, 24)
    assert outcomes == {f"e{number}": True for number in range(24)}
    written = [event["event_id"] for batch in driver.batches for event in batch]
    assert sorted(written) == sorted(outcomes) and len(written) == len(set(written))
    assert len(driver.batches) < 24  # callers arriving during a commit were written together


def test_a_failed_commit_fails_every_caller_of_that_batch_and_no_other():
    driver = SlowDriver(fail_on="e0")
    outcomes = _call_concurrently(driver, 12)
    failed = {event_id for event_id, outcome in outcomes.items() if isinstance(outcome, RuntimeError)}
    assert "e0" in failed
    assert all(outcomes[event_id] is True for event_id in set(outcomes) - failed)
    assert not failed & driver.committed


def test_a_single_caller_writes_at_once():
    driver = SlowDriver()
    access.write_audit_events(driver, [{"event_id": "only"}])
    assert driver.batches == [[{"event_id": "only"}]]


@pytest.mark.parametrize("database", [None, "other"])
def test_databases_do_not_share_batches(database):
    driver = SlowDriver()
    access.write_audit_events(driver, [{"event_id": "x"}], database)
    assert driver.committed == {"x"}
