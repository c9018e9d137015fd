"""The web UI's sessions, CSRF protection and role rules (Flask test client; the browser tests drive the flows)."""
import html
import re

from services.context import Context
from services.tokens import issue_token, list_tokens, revoke_token


def _csrf(client, path="/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _login(client, token: str):
    return client.post("/login", data={"token": token, "csrf_token": _csrf(client)})


def test_sign_in_sets_a_secure_httponly_samesite_cookie_holding_no_token(api_app, world):
    client = api_app.test_client()
    response = _login(client, world.tokens["bureau_own"])
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Lax" in cookie
    assert world.tokens["bureau_own"] not in cookie and world.tokens["bureau_own"][3:20] not in cookie


def test_pages_need_a_session_and_the_right_role(api_app, world):
    anonymous = api_app.test_client()
    assert anonymous.get("/dashboard").headers["Location"].startswith("/login")
    enterprise = api_app.test_client()
    _login(enterprise, world.tokens["enterprise_own"])
    for path in ("/dashboard", "/households", "/ledger", "/runs", "/uploads", f"/households/{world.own_household}"):
        response = enterprise.get(path)
        assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True), path
    bureau = api_app.test_client()
    _login(bureau, world.tokens["bureau_own"])
    assert bureau.get("/enterprise").status_code == 403
    other = bureau.get(f"/households/{world.other_household}")
    assert other.status_code == 404 and world.other_household not in other.get_data(as_text=True)


def test_analysts_see_pseudonyms_in_the_finder(api_app, world):
    analyst = api_app.test_client()
    _login(analyst, world.tokens["analyst"])
    page = analyst.get("/households").get_data(as_text=True)
    assert re.search(r"<td>H[0-9a-f]{14}</td>", page)
    assert world.own_household not in page
    assert '<th scope="col">户主</th>' not in page and 'type="search"' not in page, "no names, no name search"


def test_a_form_without_csrf_token_is_refused(api_app, world):
    client = api_app.test_client()
    response = client.post("/login", data={"token": world.tokens["admin"]})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    _login(client, world.tokens["bureau_own"])
    forged = client.post(f"/recommendations/{world.ids['own_rec']}/confirm", data={"back": "/dashboard"})
    assert forged.status_code == 400


def test_a_bad_token_is_refused_and_counted(api_app, world):
    client = api_app.test_client()
    api_app.extensions["failed_logins"].limiter.storage.reset()
    statuses = [_login(client, "lj_wrong").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    assert "登录失败次数过多" in _login(client, world.tokens["admin"]).get_data(as_text=True)
    api_app.extensions["failed_logins"].limiter.storage.reset()


def test_revoking_the_token_ends_the_session(api_app, world, neo4j_driver, test_settings):
    ctx = Context(neo4j_driver, test_settings)
    secret = issue_token(ctx, "bureau", "web revoke", county_code=world.ids["own_county"])
    client = api_app.test_client()
    _login(client, secret)
    assert client.get("/dashboard").status_code == 200
    token = next(t for t in list_tokens(ctx) if t["name"] == "web revoke")
    assert revoke_token(ctx, token["token_id"])
    assert client.get("/dashboard").headers["Location"].startswith("/login")


def test_sign_out_needs_the_form_token_and_ends_the_session(api_app, world):
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])
    assert client.post("/logout").status_code == 400
    client.post("/logout", data={"csrf_token": _csrf(client, "/dashboard")})
    assert client.get("/dashboard").status_code == 302


def test_an_unread_column_of_an_upload_is_mapped_on_the_upload_page_and_read_in_the_next_upload(
        api_app, world, tmp_path):
    import time

    from tests.support import bureau_files as bf

    header = ["统一社会信用代码", "企业名称", "主体类型", "行政区划代码", "联结方式", "带动农户数量"]
    path = bf.write_table(tmp_path / "名录.csv", header, [[bf.credit_code("91433123MA4L00077"), "映射合作社", "合作社",
                                                          "433123000000", "订单收购", 12]], encoding="gbk")
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])

    def upload() -> str:
        with open(path, "rb") as handle:
            response = client.post("/uploads", data={"file": (handle, "名录.csv"), "csrf_token": _csrf(client, "/uploads")},
                                   content_type="multipart/form-data")
        job_id = response.headers["Location"].split("highlight=")[1]
        for _ in range(240):
            if client.get(f"/jobs/{job_id}/status").get_json()["status"] in ("completed", "failed"):
                return job_id
            time.sleep(0.5)
        raise AssertionError("upload did not finish")

    upload()
    page = client.get("/uploads").get_data(as_text=True)
    section = page[page.index('id="column-mappings"'):]
    assert "带动农户数量" in section and '<option value="households_capacity">可带动户数</option>' in section
    saved = client.post("/uploads/mappings", data={
        "kind": "enterprises", "header": "带动农户数量", "field": "households_capacity", "county": "433123000000",
        "csrf_token": _csrf(client, "/uploads")}, follow_redirects=True).get_data(as_text=True)
    assert "已保存：此后上传的文件中，列“带动农户数量”读作可带动户数" in saved
    listed = saved[saved.index("已保存的列对应"):]
    assert "带动农户数量" in listed and "可带动户数" in listed
    refused = client.post("/uploads/mappings", data={
        "kind": "enterprises", "header": "企业名称", "field": "address", "county": "433123000000",
        "csrf_token": _csrf(client, "/uploads")}, follow_redirects=True).get_data(as_text=True)
    assert "列名“企业名称”已能识别为 企业名称，无需对应" in refused

    upload()
    page = client.get("/uploads").get_data(as_text=True)
    assert "按本县列对应读取：带动农户数量 → 可带动户数" in page
    section = page[page.index('id="column-mappings"'):page.index("已保存的列对应")]
    assert "带动农户数量" not in section, "a mapped column is no longer offered"
    mapping_id = re.search(r'name="mapping_id" value="([0-9a-f]{16})"', page).group(1)
    deleted = client.post("/uploads/mappings/delete", data={
        "mapping_id": mapping_id, "county": "433123000000", "csrf_token": _csrf(client, "/uploads")},
        follow_redirects=True).get_data(as_text=True)
    assert "已删除该列对应。" in deleted and "本县尚未保存列对应。" in deleted


def test_a_household_page_gives_each_recommendation_its_match_level_and_strongest_factors(api_app, world, api):
    detail = api.get(f"/api/v1/households/{world.own_household}", as_="bureau_own").get_json()
    recommendations = detail["recommendation_list"]
    assert recommendations and all(r["level"] in ("高", "中", "低") and r["reasons"] for r in recommendations)
    assert all(isinstance(r["score"], float) for r in recommendations), "the API keeps the numeric score"
    bureau = api_app.test_client()
    _login(bureau, world.tokens["bureau_own"])
    page = bureau.get(f"/households/{world.own_household}").get_data(as_text=True)
    assert page.count("匹配度按本县全部可行组合的得分分级") == 1
    cells = re.findall(r'<td class="match">(.*?)</td>', page, flags=re.S)
    assert len(cells) == len(recommendations)
    for cell, rec in zip(cells, recommendations):
        assert f"匹配度 {rec['level']}" in cell and f"综合得分 {rec['score']:.3f}" in cell
        assert re.findall(r"<li>(.*?)</li>", cell) == [html.escape(reason) for reason in rec["reasons"]]
