"""The ledger (帮扶台账) pages: a read-only table without internal ids, 查看 / 编辑 on a page of its own (the dialog
fetches the same form), a message naming the row saved, and the change history (PartnershipChange) written by
the page, the API and a re-loaded ledger file, served by GET /api/v1/partnerships/{id}/changes."""
import csv
import html
import re

from etl.load import load_files
from graph import views
from tests.integration.api_client import RoleClient
from tests.integration.test_web import _csrf, _login


def _text(page: str) -> str:
    """What a reader sees: the page without its tags (attributes and links are not text)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _bureau(api_app, world):
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])
    return client


def _row(neo4j_driver, world) -> dict:
    return views.partnership(neo4j_driver, world.ids["own_partnership"])


def test_the_table_shows_no_internal_partnership_id_and_links_to_view_and_edit(api_app, world, neo4j_driver):
    client = _bureau(api_app, world)
    page = client.get("/ledger").get_data(as_text=True)
    rows, _ = views.search_partnerships(neo4j_driver, {"county_code": world.ids["own_county"]}, 0, 20)
    text = _text(page)
    assert rows and all(row["partnership_id"] not in text for row in rows)
    assert not re.search(r"\bP-[\w-]+", text)  # no partnership id of any shape
    for header in ("户编号", "户主", "企业", "联结方式", "状态", "开始日期", "结束日期", "年增收（元）"):
        assert f">{header}</th>" in page
    assert "查看 / 编辑" in text and "<dialog" in page
    assert f'href="/ledger/{rows[0]["partnership_id"]}' in page  # the link works without JavaScript
    assert "<form method=\"post\" action=\"/ledger/" not in page  # rows are no longer open edit forms


def test_the_row_page_and_dialog_show_the_form_and_history(api_app, world):
    client = _bureau(api_app, world)
    partnership_id = world.ids["own_partnership"]
    full = client.get(f"/ledger/{partnership_id}").get_data(as_text=True)
    part = client.get(f"/ledger/{partnership_id}?part=dialog").get_data(as_text=True)
    for page in (full, part):
        for label in ("年增收（按年）", "帮扶措施", "结束日期", "状态", "变更记录"):
            assert label in page
        assert partnership_id not in _text(page)
    assert "<html" in full and "<html" not in part  # the dialog gets the form alone
    other = client.get(f"/ledger/{world.ids['other_partnership']}")
    assert other.status_code == 404 and world.ids["other_partnership"] not in other.get_data(as_text=True)


def test_saving_names_the_row_and_records_who_when_what(api_app, world, neo4j_driver):
    client = _bureau(api_app, world)
    partnership_id = world.ids["own_partnership"]
    before = _row(neo4j_driver, world)
    response = client.post(f"/ledger/{partnership_id}", data={
        "csrf_token": _csrf(client, "/ledger"), "back": "/ledger", "income_gain": "2345",
        "status": "03", "end_date": "2026-06-30", "note": "技能培训＋订单收购"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    after = _row(neo4j_driver, world)
    assert (after["income_gain"], after["status"], after["end_date"], after["note"]) == (
        2345.0, "03", "2026-06-30", "技能培训＋订单收购")
    assert f"已保存：{before['head_name']}（{before['household_id']}） · {before['enterprise_name']}" in page, \
        re.findall(r'class="flash[^>]*>[^<]*', page)
    detail = client.get(f"/ledger/{partnership_id}").get_data(as_text=True)
    assert "test bureau_own（商务局）" in detail and "台账页面" in detail
    assert "已终止" in detail and "2026-06-30" in detail and "技能培训＋订单收购" in detail
    api = RoleClient(api_app.test_client(), world.tokens)
    changes = api.get(f"/api/v1/partnerships/{partnership_id}/changes?page_size=100", as_="bureau_own").get_json()
    recorded = {item["field"]: item for item in changes["items"] if item["source"] == "page"}
    assert set(recorded) >= {"income_gain", "status", "end_date", "note"}
    assert recorded["status"]["to_value"] == "03" and recorded["status"]["to_text"] == "已终止"
    assert recorded["status"]["from_value"] == before["status"]
    assert recorded["income_gain"]["to_value"] == "2345"
    assert all(item["changed_by"] == "test bureau_own（商务局）" and item["changed_at"] for item in recorded.values())
    assert "changed_by_actor" not in changes["items"][0]
    # Saving the same values again changes nothing and records nothing.
    again = client.post(f"/ledger/{partnership_id}", data={
        "csrf_token": _csrf(client, "/ledger"), "back": "/ledger", "income_gain": "2345", "status": "03",
        "end_date": "2026-06-30", "note": "技能培训＋订单收购"}, follow_redirects=True).get_data(as_text=True)
    assert "未作修改" in again
    assert api.get(f"/api/v1/partnerships/{partnership_id}/changes?page_size=100",
                   as_="bureau_own").get_json()["total"] == changes["total"]


def test_a_bad_value_is_refused_on_the_page_and_nothing_is_recorded(api_app, world):
    client = _bureau(api_app, world)
    api = RoleClient(api_app.test_client(), world.tokens)
    partnership_id = world.ids["own_partnership"]
    total = api.get(f"/api/v1/partnerships/{partnership_id}/changes", as_="bureau_own").get_json()["total"]
    page = client.post(f"/ledger/{partnership_id}", data={
        "csrf_token": _csrf(client, "/ledger"), "back": "/ledger", "end_date": "2026-02-30"},
        headers={"Referer": "http://localhost/ledger"}, follow_redirects=True).get_data(as_text=True)
    assert "未保存" in page and "结束日期不是有效日期" in page
    assert api.get(f"/api/v1/partnerships/{partnership_id}/changes", as_="bureau_own").get_json()["total"] == total


def test_an_api_patch_is_recorded_and_enterprises_read_only_their_own_history(api_app, world):
    api = RoleClient(api_app.test_client(), world.tokens)
    partnership_id = world.ids["own_partnership"]
    response = api.patch(f"/api/v1/partnerships/{partnership_id}", as_="admin", json={"income_gain": 777})
    assert response.status_code == 200
    latest = api.get(f"/api/v1/partnerships/{partnership_id}/changes", as_="enterprise_own").get_json()["items"][0]
    assert (latest["field"], latest["to_value"], latest["source"]) == ("income_gain", "777", "api")
    assert latest["changed_by"] == "test admin（管理员）"
    for role in ("enterprise_other", "bureau_other"):
        refused = api.get(f"/api/v1/partnerships/{partnership_id}/changes", as_=role)
        assert refused.status_code == 404 and "777" not in refused.get_data(as_text=True)
    assert api.get(f"/api/v1/partnerships/{partnership_id}/changes", as_="analyst").status_code == 200
    spec = api.get("/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/v1/partnerships/{partnership_id}/changes"]


def test_a_ledger_file_loaded_again_with_another_status_records_the_change(world, neo4j_driver, test_settings,
                                                                          tmp_path, api_app):
    source = world.files["partnerships"]
    with open(source, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    key, status = header.index(next(h for h in header if h in ("联结编号", "partnership_id"))), \
        header.index(next(h for h in header if h in ("状态", "status")))
    row = next(r for r in body if r[key] and views.partnership(neo4j_driver, r[key]) is not None
               and views.partnership(neo4j_driver, r[key])["county_code"] == world.ids["own_county"])
    partnership_id = row[key]
    stored = views.partnership(neo4j_driver, partnership_id)["status"]
    row[status] = "02" if stored != "02" else "01"
    changed = tmp_path / "ledger.csv"
    with open(changed, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([header, row])
    result = load_files([changed], neo4j_driver, test_settings, progress=False)
    assert not result.failed_files and result.files[0].rows_loaded == 1
    api = RoleClient(api_app.test_client(), world.tokens)
    items = api.get(f"/api/v1/partnerships/{partnership_id}/changes", as_="bureau_own").get_json()["items"]
    etl = [item for item in items if item["source"] == "etl" and item["field"] == "status"]
    assert etl and etl[0]["changed_by"] == "数据导入" and etl[0]["to_value"] == row[status]
