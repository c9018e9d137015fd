"""The follow-up queue through the API, the pages and the daily sweep, on the two-county world of the API tests."""
import json
import re

from core.clock import today_iso
from core.codes import PartnershipStatus
from core.followup import FollowUpReason, FollowUpStatus
from graph import jobs as queue
from services import sweep
from services.context import Context


def _in_force_partnership(driver, county: str) -> dict:
    records, _, _ = driver.execute_query(
        "MATCH (p:Partnership {status: $in_force})-[:OF_HOUSEHOLD]->(h:Household {county_code: $county}) "
        "WHERE p.end_date IS NULL OR p.end_date >= $today "
        "RETURN p.partnership_id AS id, h.household_id AS household ORDER BY id LIMIT 1",
        in_force=PartnershipStatus.IN_FORCE.value, county=county, today=today_iso())
    if records:
        return records[0].data()
    records, _, _ = driver.execute_query(
        "MATCH (p:Partnership {status: $in_force})-[:OF_HOUSEHOLD]->(h:Household {county_code: $county}) "
        "RETURN p.partnership_id AS id, h.household_id AS household ORDER BY id LIMIT 1",
        in_force=PartnershipStatus.IN_FORCE.value, county=county)
    return records[0].data()


def test_an_ended_partnership_is_queued_closed_by_staff_and_rematched(api, world, neo4j_driver):
    county = world.ids["own_county"]
    partnership = _in_force_partnership(neo4j_driver, county)
    ended = api.patch(f"/api/v1/partnerships/{partnership['id']}", as_="bureau_own",
                      json={"status": PartnershipStatus.TERMINATED.value})
    assert ended.status_code == 200, ended.get_data(as_text=True)
    listed = api.get(f"/api/v1/counties/{county}/followups?reason={FollowUpReason.PARTNERSHIP_ENDED.value}",
                     as_="bureau_own").get_json()
    [item] = [entry for entry in listed["items"] if entry["subject"] == partnership["id"]]
    assert item["household_id"] == partnership["household"] and item["status"] == FollowUpStatus.OPEN.value
    assert item["reason_label"] == FollowUpReason.PARTNERSHIP_ENDED.label and item["household"]["head_name"]
    assert listed["summary"]["unresolved"] >= 1
    analyst = api.get(f"/api/v1/counties/{county}/followups", as_="analyst").get_json()
    assert analyst["items"] and all("followup_id" not in entry and "household_id" not in entry
                                    and "head_name" not in entry["household"] for entry in analyst["items"])
    assert api.get(f"/api/v1/counties/{county}/followups", as_="bureau_other").status_code == 404
    assert api.get(f"/api/v1/counties/{county}/followups", as_="enterprise_own").status_code == 403

    close_path = f"/api/v1/followups/{item['followup_id']}/close"
    assert api.post(close_path, as_="bureau_other", json={"reason": "x"}).status_code == 404
    assert api.post(close_path, as_="analyst", json={"reason": "x"}).status_code == 403
    assert api.post(close_path, as_="bureau_own", json={"reason": ""}).status_code == 422
    closed = api.post(close_path, as_="bureau_own", json={"reason": "户已外出务工，无需帮扶"})
    assert closed.status_code == 200, closed.get_data(as_text=True)
    body = closed.get_json()
    assert (body["status"], body["closed_by"], body["close_reason"]) == (
        FollowUpStatus.CLOSED.value, "staff", "户已外出务工，无需帮扶")
    assert body["closed_by_name"].startswith("test bureau_own")
    assert api.post(close_path, as_="bureau_own", json={"reason": "again"}).status_code == 409

    rematch = api.post(f"/api/v1/counties/{county}/followups/rematch", as_="bureau_own")
    assert rematch.status_code == 202 and rematch.get_json()["kind"] == "match"


def test_the_daily_sweep_raises_expired_items_once_and_queues_one_run(world, neo4j_driver, test_settings):
    ctx = Context(neo4j_driver, test_settings)
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (p:Partnership {status: $in_force})-[:OF_HOUSEHOLD]->(h:Household {active: true}) "
        "WHERE p.end_date < $today RETURN count(p) AS expired",
        in_force=PartnershipStatus.IN_FORCE.value, today=today_iso())
    expired = records[0]["expired"]
    assert expired > 0, "the synthetic ledger has partnerships past their end date still in force"
    first = sweep.sweep(ctx)
    assert first["expired_items"] == expired and first["match_job"]
    job = queue.get_job(neo4j_driver, first["match_job"])
    assert job["status"] == "queued"
    assert sorted(first["counties_with_open_items"]) == sorted(json.loads(job["params"])["counties"])
    again = sweep.sweep(ctx)
    assert again["expired_items"] == 0 and again["match_job"] == first["match_job"], "one item, one queued run"
    assert sweep.queue_today(ctx) is True and sweep.queue_today(ctx) is False, "one sweep job a day"
    # The queued jobs are the test's own: leave no background work for the next tests.
    for job_id in (first["match_job"], sweep.sweep_job_id(today_iso())):
        queue.update_job(neo4j_driver, job_id, {"status": "failed", "error": "test"})


def _login(api_app, token: str):
    client = api_app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"token": token, "csrf_token": csrf})
    return client


def test_the_followups_page_lists_and_closes_items(api_app, world, neo4j_driver):
    client = _login(api_app, world.tokens["bureau_own"])
    page = client.get("/followups").get_data(as_text=True)
    assert 'id="followups"' in page and "重新匹配本县（跟进户优先）" in page
    followup_id = re.search(r'name="followup_id" value="([^"]+)"', page).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/followups/close", data={"followup_id": followup_id, "reason": "x"}).status_code == 400
    done = client.post("/followups/close", data={"followup_id": followup_id, "reason": "已电话回访，暂不需要",
                                                 "csrf_token": csrf}, follow_redirects=True)
    assert "跟进事项已关闭" in done.get_data(as_text=True)
    records, _, _ = neo4j_driver.execute_query("MATCH (f:FollowUp {followup_id: $id}) RETURN f.status AS status",
                                               id=followup_id)
    assert records[0]["status"] == FollowUpStatus.CLOSED.value
