"""The batched audit log on the test Neo4j (the default AUDIT_FLUSH_SECONDS > 0): a read returns before its
event is stored, the event reaches the graph within the interval, an admin listing shows it at once, and an
event stored twice (spooled and recovered) is one node."""
import time

import pytest

from graph import access
from services.context import Context
from services.tokens import issue_token

COUNTY = "433123000000"


@pytest.fixture
def batched(graph_db, make_app, test_settings, tmp_path):
    app = make_app(job_workers_enabled=False, audit_flush_seconds=0.2, var_dir=tmp_path)
    ctx = Context(graph_db, test_settings)
    graph_db.execute_query(
        "UNWIND range(1, 3) AS n CREATE (:Household {household_id: '43312300000000' + toString(10 + n), "
        "county_code: $county, active: true, covered: false, head_name: '张' + toString(n), phone: '1390000000' "
        "+ toString(n), income_order: 1.0, size_order: 1.0})", county=COUNTY)
    tokens = {"bureau": issue_token(ctx, "bureau", "spool bureau", county_code=COUNTY),
              "admin": issue_token(ctx, "admin", "spool admin")}
    return app, tokens, tmp_path


def _stored(driver) -> list[dict]:
    return access.audit_events(driver, 0, 1000)[0]


def test_a_read_is_spooled_then_stored_in_the_graph(batched, graph_db):
    app, tokens, var_dir = batched
    client = app.test_client()
    response = client.get(f"/api/v1/households?county={COUNTY}",
                          headers={"Authorization": f"Bearer {tokens['bureau']}"})
    assert response.status_code == 200 and len(response.get_json()["items"]) == 3
    deadline = time.monotonic() + 5
    while not _stored(graph_db) and time.monotonic() < deadline:
        time.sleep(0.05)
    events = _stored(graph_db)
    assert [sorted(event["household_ids"]) for event in events] == [
        ["4331230000000011", "4331230000000012", "4331230000000013"]]
    deadline = time.monotonic() + 5
    while list((var_dir / "audit-spool").glob("audit-*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list((var_dir / "audit-spool").glob("audit-*.jsonl")) == []  # stored: nothing left to recover


def test_the_admin_listing_shows_this_process_spooled_reads_at_once(batched, graph_db):
    app, tokens, _ = batched
    client = app.test_client()
    for _ in range(3):
        assert client.get(f"/api/v1/households?county={COUNTY}",
                          headers={"Authorization": f"Bearer {tokens['bureau']}"}).status_code == 200
    listing = client.get("/api/v1/audit", headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert listing.status_code == 200
    assert listing.get_json()["total"] == 3


def test_an_event_stored_twice_is_one_node(graph_db):
    event = {"event_id": "evt-twice", "at": "2026-11-30T00:00:00+00:00", "household_ids": ["1"],
             "household_count": 1}
    access.store_audit_events(graph_db, [event])
    access.store_audit_events(graph_db, [event, {**event, "event_id": "evt-other"}])
    records, _, _ = graph_db.execute_query("MATCH (a:AuditEvent) RETURN a.event_id AS id ORDER BY id")
    assert [record["id"] for record in records] == ["evt-other", "evt-twice"]
