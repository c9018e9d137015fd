"""A county's match rules through the API and the runs page, on the two-county world of the API tests: read
within the caller's scope, applied by its bureau (audited), refused to others."""
import re

from services import match_rules


def test_the_api_reads_and_applies_a_countys_rules(api, world, neo4j_driver):
    path = f"/api/v1/counties/{world.ids['own_county']}/match-rules"
    read = api.get(path, as_="bureau_own")
    assert read.status_code == 200, read.get_data(as_text=True)
    body = read.get_json()
    assert body["county_code"] == world.ids["own_county"] and "version" not in body
    assert {limit["field"] for limit in body["limits"]} == set(match_rules.FIELDS)
    assert all("evidence" in limit and "default" in limit and "current" in limit for limit in body["limits"])

    applied = api.post(path, as_="bureau_own", json={"values": {"workshop_max_km": 12}})
    assert applied.status_code == 200, applied.get_data(as_text=True)
    assert applied.get_json()["applied"] == ["workshop_max_km"]
    assert api.get(path, as_="analyst").get_json()["version"] == applied.get_json()["version"]
    assert api.post(path, as_="analyst", json={"apply": "all"}).status_code == 403
    other = api.post(path, as_="bureau_other", json={"values": {"workshop_max_km": 5}})
    assert other.status_code == 404 and other.mimetype == "application/problem+json"
    assert api.post(path, as_="admin", json={"values": {"workshop_max_km": 2}}).status_code == 422
    assert api.post(path, as_="admin", json={}).status_code == 422
    events = [e for e in api.get("/api/v1/audit?page_size=100", as_="admin").get_json()["items"]
              if e["action"] == "match_rules.apply"]
    assert events and events[0]["path"] == path and events[0]["method"] == "POST"


def _csrf(client, path) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_the_runs_page_shows_the_rules_and_applies_suggestions(api_app, world):
    client = api_app.test_client()
    client.post("/login", data={"token": world.tokens["bureau_own"], "csrf_token": _csrf(client, "/login")})
    page = client.get("/runs").get_data(as_text=True)
    for heading in ("联结方式", "当前上限", "建议上限", "依据（N 条联结）", "应用建议"):
        assert heading in page
    assert page.count('id="match-rules"') == 1 and "<title>匹配运行" in page, "the section once, in the page body"
    offered = re.findall(r'name="field" value="([a-z_]+)" checked', page)
    assert offered, "the world's county has suggestions that differ from its rules"
    refused = client.post("/runs/rules", data={"field": offered})
    assert refused.status_code == 400, "the form needs its CSRF token"
    done = client.post("/runs/rules", data={"field": offered, "csrf_token": _csrf(client, "/runs")},
                       follow_redirects=True).get_data(as_text=True)
    assert "已应用建议" in done and "下次匹配按新规则计算" in done
    assert not re.findall(r'name="field" value="([a-z_]+)" checked', done), "applied suggestions are current now"
