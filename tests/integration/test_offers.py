"""An enterprise keeps its own offer (帮扶供给) through the API and its page, on the two-county world of the API
tests: only its own, recorded with who and when, BUYS redrawn, one queued match job of the counties it reaches
(reused while queued), nothing for a change that changes nothing; a re-loaded enterprise file row undoes it only
when the row changed."""
import html
import re

import pandas as pd
import pytest

from core.codes import LabourSkill, Mechanism
from etl.load import load_files
from graph import access
from tests.integration.api_client import RoleClient
from tests.integration.api_world import OTHER_COUNTY, OWN_COUNTY

EMPLOYMENT, CONTRACT = Mechanism.EMPLOYMENT.value, Mechanism.CONTRACT_PURCHASE.value
BOTH = sorted([OWN_COUNTY, OTHER_COUNTY])  # neighbours: each reaches the other's enterprises


@pytest.fixture(scope="module")
def offer_app(world, make_module_app):
    """The app on the world's graph without a job poller: queued jobs stay queued for the tests to see."""
    return make_module_app(job_workers_enabled=False)


@pytest.fixture
def api(offer_app, world):
    return RoleClient(offer_app.test_client(), world.tokens)


def _graph(driver, query, **params):
    records, _, _ = driver.execute_query(query, params)
    return [record.data() for record in records]


def _state(driver, code):
    """What the graph holds of the enterprise's offer: properties, BUYS targets, changes, queued match jobs."""
    enterprise = _graph(driver, "MATCH (e:Enterprise {credit_code: $code}) RETURN e {.*} AS e", code=code)[0]["e"]
    buys = {row["code"] for row in _graph(driver, "MATCH (:Enterprise {credit_code: $code})-[:BUYS]->(i:Industry) "
                                                  "RETURN i.code AS code", code=code)}
    changes = _graph(driver, "MATCH (c:OfferChange {credit_code: $code}) RETURN c {.*} AS c ORDER BY c.changed_at",
                     code=code)
    queued = _graph(driver, "MATCH (j:Job {kind: 'match', status: 'queued'}) RETURN j {.*} AS j ORDER BY j.created_at")
    return enterprise, buys, [row["c"] for row in changes], [row["j"] for row in queued]


def _token_id(driver, name):
    return next(token["token_id"] for token in access.list_tokens(driver) if token["name"] == name)


def test_an_enterprise_changes_its_offer_through_the_api(api, world, neo4j_driver):
    code = world.own_enterprise
    path = f"/api/v1/enterprises/{code}/offer"
    before = api.get(path, as_="enterprise_own")
    assert before.status_code == 200, before.get_data(as_text=True)
    _, _, changes_before, queued_before = _state(neo4j_driver, code)

    answer = api.patch(path, as_="enterprise_own", json={
        "mechanisms": [CONTRACT, EMPLOYMENT], "jobs_offered": 17, "skill_required": LabourSkill.SKILLED.value,
        "products_bought": ["黄金茶", "苹果"]})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert {"jobs_offered", "skill_required", "products_bought"} <= set(body["changed"])
    assert body["jobs_offered"] == 17 and body["skill_required"] == LabourSkill.SKILLED.value
    assert body["products_bought"] == ["黄金茶", "苹果"] and body["unrecognised_products"] == ["苹果"]
    assert body["offer_updated_by"] == "test enterprise_own（企业）" and body["replans"] is True
    employment = next(offer for offer in body["offers"] if offer["mechanism"] == EMPLOYMENT)
    assert employment["capacity"] == 17
    job = body["job"]
    assert job["counties"] == BOTH and job["reused"] is False and job["status"] == "queued"
    assert job["county_names"] == ["泸溪县", "凤凰县"]

    enterprise, buys, changes, queued = _state(neo4j_driver, code)
    assert enterprise["jobs_offered"] == 17 and enterprise["bought_codes"] == ["tea"] and buys == {"tea"}
    assert enterprise["row_hash"], "the file row's hash is kept: an unchanged row loaded again is still skipped"
    assert enterprise["offer_updated_at"] and "lock" not in enterprise
    assert len(changes) == len(changes_before) + 1
    change = changes[-1]
    assert change["change_id"] == body["change_id"] and change["county_code"] == enterprise["county_code"]
    assert change["changed_by"] == "test enterprise_own（企业）"
    assert change["changed_by_actor"] == f"enterprise:{_token_id(neo4j_driver, 'test enterprise_own')}"
    assert change["changed_at"] == enterprise["offer_updated_at"] and change["job_id"] == job["job_id"]
    assert change["counties"] == BOTH
    assert len(queued) == len(queued_before) + 1
    stored_job = next(j for j in queued if j["job_id"] == job["job_id"])
    assert stored_job["county_code"] == enterprise["county_code"] and stored_job["requested_by"] == change["changed_by"]
    assert '"counties": ["433122000000", "433123000000"]' in stored_job["params"]

    history = api.get(f"/api/v1/enterprises/{code}/offer-changes", as_="enterprise_own")
    assert history.status_code == 200
    newest = history.get_json()["items"][0]
    assert newest["change_id"] == change["change_id"] and newest["changed_by"] == "test enterprise_own（企业）"
    assert newest["changes"]["jobs_offered"]["to"] == 17
    assert newest["changes"]["products_bought"] == {"from": before.get_json()["products_bought"],
                                                    "to": ["黄金茶", "苹果"]}
    assert "changed_by_actor" not in newest and "enterprise:" not in history.get_data(as_text=True)
    events = [e for e in api.get("/api/v1/audit?page_size=100", as_="admin").get_json()["items"]
              if e["action"] == "enterprises.offer.update"]
    assert events and events[0]["path"] == path and events[0]["method"] == "PATCH"


def test_a_further_change_reuses_the_queued_job_and_the_same_values_change_nothing(api, world, neo4j_driver):
    code = world.own_enterprise
    path = f"/api/v1/enterprises/{code}/offer"
    first = api.patch(path, as_="bureau_own", json={"contract_households": 9})
    assert first.status_code == 200, first.get_data(as_text=True)
    _, _, changes, queued = _state(neo4j_driver, code)
    second = api.patch(path, as_="admin", json={"contract_households": 11, "jobs_offered": 4})
    assert second.status_code == 200
    assert second.get_json()["job"]["reused"] is True
    assert second.get_json()["job"]["job_id"] == first.get_json()["job"]["job_id"], "one queued job for these counties"
    enterprise, _, changes_after, queued_after = _state(neo4j_driver, code)
    assert len(changes_after) == len(changes) + 1 and len(queued_after) == len(queued)
    assert changes_after[-1]["changed_by"] == "test admin（管理员）"
    assert enterprise["offer_updated_by"] == "test admin（管理员）"

    same = api.patch(path, as_="enterprise_own", json={"contract_households": 11, "jobs_offered": 4.0,
                                                        "mechanisms": enterprise["mechanisms"][::-1]})
    assert same.status_code == 200
    assert same.get_json()["changed"] == [] and "job" not in same.get_json() and "change_id" not in same.get_json()
    _, _, changes_same, queued_same = _state(neo4j_driver, code)
    assert len(changes_same) == len(changes_after) and len(queued_same) == len(queued_after)

    # The households figure alone changes no plan: recorded, nothing queued.
    total = api.patch(path, as_="enterprise_own", json={"households_capacity": 77})
    assert total.get_json()["changed"] == ["households_capacity"] and total.get_json()["replans"] is False
    assert "job" not in total.get_json()
    _, _, changes_total, queued_total = _state(neo4j_driver, code)
    assert len(changes_total) == len(changes_same) + 1 and len(queued_total) == len(queued_same)
    assert changes_total[-1].get("job_id") is None and changes_total[-1]["counties"] == []


def test_only_the_enterprise_its_bureau_and_administrators_may_change_it(api, world, neo4j_driver):
    path = f"/api/v1/enterprises/{world.own_enterprise}/offer"
    enterprise_before = _state(neo4j_driver, world.own_enterprise)[0]
    other = api.patch(path, as_="enterprise_other", json={"jobs_offered": 1})
    assert other.status_code == 404 and other.mimetype == "application/problem+json"
    assert api.patch(path, as_="analyst", json={"jobs_offered": 1}).status_code == 403
    assert api.patch(path, as_="bureau_other", json={"jobs_offered": 1}).status_code == 404
    assert api.patch(path, json={"jobs_offered": 1}).status_code == 401
    assert api.get(f"/api/v1/enterprises/{world.own_enterprise}/offer-changes", as_="enterprise_other").status_code == 404
    assert api.get(f"/api/v1/enterprises/{world.own_enterprise}/offer-changes", as_="analyst").status_code == 200
    assert _state(neo4j_driver, world.own_enterprise)[0] == enterprise_before

    for body, field in (({"jobs_offered": -1}, "jobs_offered"), ({"jobs_offered": 2.5}, "jobs_offered"),
                        ({"mechanisms": ["09"]}, "mechanisms"), ({"name": "改名"}, "name"), ({}, None)):
        refused = api.patch(path, as_="enterprise_own", json=body)
        assert refused.status_code == 422, (body, refused.get_data(as_text=True))
        assert field is None or field in refused.get_data(as_text=True)
    phone = api.patch(path, as_="enterprise_own", json={"products_bought": ["联系13812345678"]})
    assert phone.status_code == 422 and "收购产品" in phone.get_json()["detail"]
    assert _state(neo4j_driver, world.own_enterprise)[0] == enterprise_before


def _csrf(client, path) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_the_enterprise_page_shows_and_saves_its_offer(offer_app, world, neo4j_driver):
    client = offer_app.test_client()
    client.post("/login", data={"token": world.tokens["enterprise_own"], "csrf_token": _csrf(client, "/login")})
    page = html.unescape(client.get("/enterprise").get_data(as_text=True))
    enterprise = _state(neo4j_driver, world.own_enterprise)[0]
    assert "更新帮扶供给" in page and "变更记录" in page
    shown = re.search(r'name="jobs_offered"[^>]*value="([^"]*)"', page).group(1)
    assert shown == str(enterprise["jobs_offered"])
    assert "可带动户数" in page and "订单收购带动户数" in page

    form = {"csrf_token": _csrf(client, "/enterprise"), "mechanisms": [EMPLOYMENT, CONTRACT],
            "jobs_offered": "25", "contract_households": "", "households_capacity": "80",
            "skill_required": LabourSkill.ORDINARY.value, "products_bought": "猕猴桃、椪柑",
            **{name: "" if enterprise.get(name) is None else str(enterprise[name])
               for name in ("land_wanted_mu", "equity_households", "ecommerce_households")}}
    saved = client.post("/enterprise/offer", data=form, follow_redirects=True)
    text = html.unescape(saved.get_data(as_text=True))
    assert saved.status_code == 200
    assert "帮扶供给已更新（用工需求（人）、订单收购带动户数、可带动户数、技能要求、收购产品）" in text
    assert "将重新匹配：泸溪县、凤凰县" in text
    enterprise, buys, changes, _ = _state(neo4j_driver, world.own_enterprise)
    assert enterprise["jobs_offered"] == 25 and "contract_households" not in enterprise
    assert buys == {"kiwi", "citrus"} and changes[-1]["changed_by"] == "test enterprise_own（企业）"
    # The history in words: field titles and code labels, not codes.
    history = text[text.index("变更记录"):]
    assert "用工需求（人）" in history and "→ 25" in history and "技能要求" in history
    assert "技能劳动力 → 普通劳动力" in history and "猕猴桃、椪柑" in history and "test enterprise_own（企业）" in history

    again = client.post("/enterprise/offer", data={**form, "csrf_token": _csrf(client, "/enterprise")},
                        follow_redirects=True)
    assert "帮扶供给与原来相同，未作改动" in html.unescape(again.get_data(as_text=True))
    assert len(_state(neo4j_driver, world.own_enterprise)[2]) == len(changes)
    bad = client.post("/enterprise/offer", data={**form, "jobs_offered": "十二", "csrf_token": _csrf(client, "/enterprise")},
                      follow_redirects=True)
    assert "用工需求（人）：“十二”不是数字" in html.unescape(bad.get_data(as_text=True))
    forged = client.post("/enterprise/offer", data={key: value for key, value in form.items() if key != "csrf_token"})
    assert forged.status_code == 400
    assert _state(neo4j_driver, world.own_enterprise)[0]["jobs_offered"] == 25


def test_a_reloaded_file_row_undoes_a_change_only_when_the_row_changed(api, world, neo4j_driver, test_settings,
                                                                      tmp_path):
    """An enterprise whose row loaded without a warning (it keeps its row hash) changes its offer; the file with
    another enterprise's row changed is loaded again (so the file is read, not skipped whole): the change stays.
    Then its own row changes in the file: the file's figure wins."""
    table = pd.read_csv(world.files["enterprises"], dtype=str, keep_default_na=False)
    code_column = next(column for column in table.columns if "信用代码" in column)
    jobs_column = next(column for column in table.columns if column.startswith("用工需求"))
    hashed = {row["code"] for row in _graph(neo4j_driver, "MATCH (e:Enterprise) WHERE e.row_hash IS NOT NULL "
                                                          "RETURN e.credit_code AS code")}
    code, other = [value for value in table[code_column] if value in hashed][:2]
    row = table.index[table[code_column] == code][0]
    changed = api.patch(f"/api/v1/enterprises/{code}/offer", as_="admin",
                        json={"jobs_offered": 333, "products_bought": ["茶叶"]})
    assert changed.status_code == 200, changed.get_data(as_text=True)

    table.loc[table[code_column] == other, jobs_column] = "1"
    reloaded = tmp_path / "企业-再次.csv"
    table.to_csv(reloaded, index=False)
    result = load_files([reloaded], neo4j_driver, test_settings, progress=False)
    assert not result.failed_files and result.files[0].rows_unchanged >= 1
    enterprise, buys, _, _ = _state(neo4j_driver, code)
    assert enterprise["jobs_offered"] == 333 and buys == {"tea"}, "an unchanged row does not undo the change"

    table.loc[row, jobs_column] = "7"
    table.to_csv(reloaded, index=False)
    load_files([reloaded], neo4j_driver, test_settings, progress=False)
    enterprise, buys, _, _ = _state(neo4j_driver, code)
    assert enterprise["jobs_offered"] == 7, "a changed row of the file overwrites the offer"


def test_a_change_worked_out_from_values_that_no_longer_hold_writes_nothing(world, neo4j_driver):
    """The transaction checks the values a change starts from under the enterprise's lock: had someone changed
    the offer since it was read, nothing is written (the service reads again and works the change out anew)."""
    from graph import offers as offer_queries

    code = world.other_enterprise
    current = offer_queries.current_offer(neo4j_driver, code)
    enterprise, buys, changes, queued = _state(neo4j_driver, code)
    stale = {"jobs_offered": (current["jobs_offered"] or 0) + 1}  # not what it holds
    change = {"change_id": "offer-stale", "county_code": current["county_code"], "changed_at": "2026-01-01T00:00:00+00:00",
              "changed_by": "test", "changed_by_actor": "admin:x", "changes": {"jobs_offered": {"from": 1, "to": 2}},
              "counties": []}
    with pytest.raises(offer_queries.OfferChanged):
        offer_queries.record_offer_change(neo4j_driver, code, stale, {"jobs_offered": 2}, change, None)
    assert _state(neo4j_driver, code) == (enterprise, buys, changes, queued)
    with pytest.raises(ValueError):
        offer_queries.record_offer_change(neo4j_driver, code, {}, {"name": "改名"}, change, None)
