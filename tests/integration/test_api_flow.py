"""End to end through the API: run a county, read an enterprise's recommendations, accept, confirm,
see it in the ledger and in the coverage figures; decline with a reason; export; upload a file."""
import html
import io
import re
import time
from collections import Counter
from datetime import date

import openpyxl

from core.codes import PartnershipStatus
from graph import consistency, ledger
from tests.integration.api_world import OWN_COUNTY
from tests.support import bureau_files as bf


def _wait_for_job(api, location, as_, timeout_s=240):
    deadline = time.monotonic() + timeout_s
    while True:
        job = api.get(location, as_=as_).get_json()
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.5)


def _coverage(api):
    return api.get(f"/api/v1/regions/{OWN_COUNTY}", as_="bureau_own").get_json()["coverage"]


def test_run_accept_confirm_ledger_and_coverage(api, world, neo4j_driver):
    started = api.post("/api/v1/match-runs", as_="bureau_own", json={"county_code": OWN_COUNTY, "force": True})
    assert started.status_code == 202, started.get_data(as_text=True)
    assert started.get_json()["status"] in ("queued", "running")  # the request only queues it; a worker may take it at once
    run = _wait_for_job(api, started.headers["Location"], "bureau_own")
    assert run["status"] == "completed", run
    assert run["progress"] == 1.0 and run["metrics"]["households"] > 0 and run["counties"] == [OWN_COUNTY]
    # The API's runs take the defaults: the run says how it scored (a model, or the rules alone and why).
    assert run["model_note"] and run["alpha"] is not None
    assert run["metrics"]["eligible_unlisted"] == 0, "every eligible household is in some enterprise's list"
    listed = api.get("/api/v1/match-runs", as_="bureau_own").get_json()
    assert run["run_id"] in [item["run_id"] for item in listed["items"]]

    # The bureau picks an uncovered household among the enterprise's current recommendations.
    recs = api.get(f"/api/v1/enterprises/{world.own_enterprise}/recommendations?status=proposed&page_size=100",
                   as_="bureau_own").get_json()["items"]
    assert recs and all(r["run_id"] == run["run_id"] for r in recs), "the new run's recommendations are current"
    rec = next(r for r in recs if not r["household"]["covered"] and not r["household"]["pending"])
    household_id = rec["household"]["household_id"]

    # The enterprise sees it masked, and accepts it: the ledger shows it awaiting confirmation.
    seen = api.get(f"/api/v1/recommendations/{rec['rec_id']}", as_="enterprise_own").get_json()
    assert "head_name" not in seen["household"] and "household_id" not in seen["household"]
    assert seen["household"]["head_name_masked"] and "*" in seen["household"]["head_name_masked"]
    before = _coverage(api)
    accepted = api.post(f"/api/v1/recommendations/{rec['rec_id']}/accept", as_="enterprise_own")
    assert accepted.status_code == 200 and accepted.get_json()["partnership_status"] == PartnershipStatus.AWAITING_CONFIRMATION
    row = api.get(f"/api/v1/partnerships?household_id={household_id}&status=04", as_="bureau_own").get_json()
    assert [item["partnership_id"] for item in row["items"]] == [accepted.get_json()["partnership_id"]]
    assert _coverage(api)["pending"] == before["pending"] + 1

    # The bureau confirms: in force, covered, and the enterprise now sees its partner's name.
    confirmed = api.post(f"/api/v1/recommendations/{rec['rec_id']}/accept", as_="bureau_own")
    assert confirmed.status_code == 200, confirmed.get_data(as_text=True)
    assert confirmed.get_json() == {"rec_id": rec["rec_id"], "status": "confirmed",
                                    "partnership_id": accepted.get_json()["partnership_id"], "partnership_status": PartnershipStatus.IN_FORCE}
    after = _coverage(api)
    assert after["covered"] == before["covered"] + 1 and after["pending"] == before["pending"]
    # It was planned by the run or uncovered; now it is neither (the four states add up to the households).
    assert after["planned"] + after["uncovered"] == before["planned"] + before["uncovered"] - 1
    assert after["covered"] + after["pending"] + after["planned"] + after["uncovered"] == after["households"]
    partner_view = api.get(f"/api/v1/recommendations/{rec['rec_id']}", as_="enterprise_own").get_json()
    assert partner_view["confirmed"] and partner_view["household"]["head_name"]
    audit = api.get("/api/v1/audit?page_size=100", as_="admin").get_json()["items"]
    assert any(event["role"] == "enterprise" and household_id in event["household_ids"] for event in audit)

    # Accepting again is a conflict; the ledger row takes an income gain.
    again = api.post(f"/api/v1/recommendations/{rec['rec_id']}/accept", as_="bureau_own")
    assert again.status_code == 409 and again.get_json()["code"] == "recommendation_closed"
    partnership_id = confirmed.get_json()["partnership_id"]
    updated = api.patch(f"/api/v1/partnerships/{partnership_id}", as_="bureau_own", json={"income_gain": 3600})
    assert updated.status_code == 200 and updated.get_json()["income_gain"] == 3600.0
    assert updated.get_json()["status"] == PartnershipStatus.IN_FORCE

    # Declining another keeps the reason as feedback; a declined recommendation cannot be accepted.
    other = next(r for r in recs if r["rec_id"] != rec["rec_id"] and r["household"]["household_id"] != household_id)
    declined = api.post(f"/api/v1/recommendations/{other['rec_id']}/decline", as_="enterprise_own",
                        json={"reason": "距离太远，交通不便"})
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    assert api.post(f"/api/v1/recommendations/{other['rec_id']}/accept", as_="bureau_own").status_code == 409
    feedback = ledger.declined_pairs(neo4j_driver, [OWN_COUNTY])
    assert {"household_id": other["household"]["household_id"], "credit_code": world.own_enterprise,
            "reason": "距离太远，交通不便", "role": "enterprise"}.items() <= next(
        f for f in feedback if f["household_id"] == other["household"]["household_id"]).items()

    # The ledger export opens in Excel with Chinese headers and holds the new row.
    export = api.get(f"/api/v1/partnerships/export.xlsx?household_id={household_id}", as_="bureau_own")
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("户编号", "户主姓名", "行政村")  # labels, no internal partnership ids
    gain = rows[0].index("年增收（元）")
    assert any(r[0] == household_id and r[gain] == 3600 for r in rows[1:])


def test_upload_goes_through_the_etl_limited_to_the_bureau_county(api, api_app, world, neo4j_driver, tmp_path):
    rows = [bf.household_row(901, name="王五"), bf.household_row(902, village="433122101201", name="赵六")]
    rows[1][3] = "泸溪县"
    path = bf.write_table(tmp_path / "贫困户.csv", bf.HOUSEHOLD_HEADER, rows, encoding="gb18030")
    with open(path, "rb") as handle:
        started = api.post("/api/v1/uploads", as_="bureau_own", content_type="multipart/form-data",
                           data={"file": (handle, "贫困户.csv")})
    assert started.status_code == 202, started.get_data(as_text=True)
    job = _wait_for_job(api, started.headers["Location"], "bureau_own")
    assert job["status"] == "completed", job
    [summary] = job["result"]["files"]
    assert (summary["kind"], summary["rows_read"], summary["rows_loaded"], summary["rows_rejected"]) == (
        "households", 2, 1, 1)
    report = api.get(f"{started.headers['Location']}/report.csv", as_="bureau_own")
    assert report.status_code == 200
    text = report.data.decode("utf-8-sig")
    assert "贫困户.csv,,3,行政区划代码,433122101201,错误,不属于本账号管辖的县" in text, text
    assert "/uploads/" not in text, "no storage paths in the user's report"
    assert api.get(started.headers["Location"], as_="bureau_other").status_code == 404
    # The problems grouped: the scope error, and what the cross-file rules find in the county the upload touched.
    found = Counter(finding["rule"] for finding in consistency.county_findings(neo4j_driver, OWN_COUNTY,
                                                                                 date.today().isoformat()))
    groups = job["result"]["groups"]
    assert {group["rule"]: group["count"] for group in groups if group["rule"]} == dict(found) and found
    assert [{key: value for key, value in group.items() if key != "examples"} for group in groups
            if not group["rule"]] == [
        {"rule": None, "severity": "错误", "message": "不属于本账号管辖的县 / outside the county you may load", "count": 1}]
    scope_group = next(group for group in groups if not group["rule"])
    assert scope_group["examples"][0]["row"] == 3 and scope_group["examples"][0]["column"] == "行政区划代码"
    web = api_app.test_client()
    login = web.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    web.post("/login", data={"token": world.tokens["bureau_own"], "csrf_token": csrf})
    page = web.get("/uploads").get_data(as_text=True)
    job_id = started.headers["Location"].rsplit("/", 1)[-1]
    shown = re.search(rf'data-groups-of="{job_id}".*?</table>', page, re.S).group(0)
    rows = re.findall(r'<tr><td class="nowrap">([^<]*)</td><td>([^<]*)(?:<br>.*?)?</td><td class="num">(\d+)</td>', shown)
    assert [tuple(map(html.unescape, row)) for row in rows] == [
        (group["severity"], group["message"].split(" / ")[0], str(group["count"])) for group in groups]
    own = api.get("/api/v1/households/4331231012010901", as_="bureau_own")
    assert own.status_code == 200 and own.get_json()["head_name"] == "王五"
    assert api.get("/api/v1/households/4331231012010902", as_="admin").status_code == 404, "nothing outside the county"


def test_upload_refuses_unsupported_files(api):
    response = api.post("/api/v1/uploads", as_="bureau_own", content_type="multipart/form-data",
                        data={"file": (io.BytesIO(b"MZ\x90\x00"), "virus.exe")})
    assert response.status_code == 415 and response.get_json()["code"] == "unsupported_file_type"


def test_column_mappings_through_the_api_belong_to_the_bureaus_county(api):
    body = {"kind": "enterprises", "header": "带动农户数量", "field": "households_capacity"}
    created = api.post("/api/v1/column-mappings", as_="bureau_own", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    mapping = created.get_json()
    assert (mapping["county_code"], mapping["header"], mapping["field"]) == (OWN_COUNTY, "带动农户数量",
                                                                            "households_capacity")
    listed = api.get("/api/v1/column-mappings", as_="bureau_own").get_json()["items"]
    assert [item["mapping_id"] for item in listed] == [mapping["mapping_id"]]
    assert api.get("/api/v1/column-mappings", as_="bureau_other").get_json()["items"] == []
    assert [item["mapping_id"] for item in api.get("/api/v1/column-mappings", as_="admin").get_json()["items"]] == [
        mapping["mapping_id"]], "an administrator naming no county sees every county's"
    assert api.get(f"/api/v1/column-mappings?county={OWN_COUNTY}", as_="bureau_other").status_code == 403
    assert api.delete(f"/api/v1/column-mappings/{mapping['mapping_id']}", as_="bureau_other").status_code == 404
    recognised = api.post("/api/v1/column-mappings", as_="bureau_own", json={**body, "header": "企业名称"})
    assert recognised.status_code in (400, 422) and recognised.get_json()["code"] == "header_recognised"
    assert api.post("/api/v1/column-mappings", as_="admin", json=body).get_json()["code"] == "county_required"
    assert api.post("/api/v1/column-mappings", as_="enterprise_own", json=body).status_code == 403
    assert api.post("/api/v1/column-mappings", as_="analyst", json=body).status_code == 403
    assert api.delete(f"/api/v1/column-mappings/{mapping['mapping_id']}", as_="bureau_own").status_code == 204
    assert api.get("/api/v1/column-mappings", as_="bureau_own").get_json()["items"] == []
