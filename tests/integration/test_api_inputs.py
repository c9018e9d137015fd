"""Hostile input: Cypher in every string parameter, over-long and malformed values — a 4xx, and nothing changes."""
import io
from urllib.parse import quote

import pytest

from graph import jobs, views
from graph.bulk import count_entities
from tests.support.apps import api_document

CYPHER = [
    "' OR 1=1 //",
    "x\"}) MATCH (n) DETACH DELETE n //",
    "433123000000' }) DETACH DELETE h RETURN 1 //",
    "$household_id",
    "`Household`",
    "0\u0000",
]
OVERLONG = "4" * 10_000
DOC = api_document()


def _string_parameters() -> list[tuple[str, str, str, str]]:
    """(method, path, location, name) of every string parameter of every operation in the document."""
    found = []
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                types = {schema.get("type")} | {option.get("type") for option in schema.get("anyOf", [])}
                if "string" in types:
                    found.append((method.upper(), path, parameter["in"], parameter["name"]))
    return found


STRING_PARAMETERS = _string_parameters()


def _request(api, world, method, path, location, name, value, as_="admin"):
    filled = path
    for placeholder, real in (("{household_id}", world.own_household), ("{credit_code}", world.own_enterprise),
                              ("{code}", world.ids["own_county"]), ("{rec_id}", world.ids["own_rec"]),
                              ("{partnership_id}", world.ids["own_partnership"]), ("{run_id}", world.ids["own_run"]),
                              ("{job_id}", world.ids["own_upload"]), ("{project_id}", world.ids["own_project"])):
        is_probed = location == "path" and placeholder == "{" + name + "}"
        filled = filled.replace(placeholder, quote(value, safe="") if is_probed else real)
    kwargs = {}
    if location == "query":
        kwargs["query_string"] = {name: value}
    if method == "POST" and path.endswith("/decline"):
        kwargs["json"] = {"reason": value}
    if method == "PATCH":
        kwargs["json"] = {"note": value}
    if method == "POST" and path.endswith("/match-runs"):
        kwargs["json"] = {"county_code": value}
    call = {"GET": api.get, "POST": api.post, "PATCH": api.patch, "DELETE": api.delete}[method]
    return call(filled, as_=as_, **kwargs)


def _state(driver, world):
    return (count_entities(driver), views.partnership(driver, world.ids["own_partnership"]),
            views.recommendation(driver, world.ids["own_rec"]), jobs.list_jobs(driver, "match", None, 0, 100))


@pytest.mark.parametrize("method,path,location,name", STRING_PARAMETERS,
                         ids=[f"{m} {p} {n}" for m, p, _, n in STRING_PARAMETERS])
def test_cypher_and_overlong_values_in_every_string_parameter(api, world, neo4j_driver, method, path, location, name):
    before = _state(neo4j_driver, world)
    for value in CYPHER + [OVERLONG]:
        response = _request(api, world, method, path, location, name, value)
        assert 400 <= response.status_code < 500, (value, response.status_code, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/problem+json"
    assert _state(neo4j_driver, world) == before


@pytest.mark.parametrize("query", [
    "page=0", "page=-1", "page=abc", "page_size=0", "page_size=101", "page_size=1e9", "covered=maybe",
    "labour=drop", "sort=h.head_name", "sort=household_id%20DESC", "county=43312300000", "county=4331230000000",
    "cause=1", "unknown=1", "page=99999999999999999999",
])
def test_malformed_query_values_are_refused_with_the_field_named(api, query):
    response = api.get(f"/api/v1/households?{query}", as_="admin")
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == "validation_error" and body["errors"]
    assert query.split("=")[0] in body["detail"]


@pytest.mark.parametrize("body,content_type", [
    ('{"reason": ', "application/json"),
    ("reason=x", "application/x-www-form-urlencoded"),
    ('{"reason": ""}', "application/json"),
    ('{"reason": "' + "长" * 501 + '"}', "application/json"),
    ('{"reason": "ok", "status": "confirmed"}', "application/json"),
    ('["ok"]', "application/json"),
])
def test_malformed_bodies_are_refused(api, world, neo4j_driver, body, content_type):
    before = _state(neo4j_driver, world)
    response = api.post(f"/api/v1/recommendations/{world.ids['own_rec']}/decline", as_="bureau_own", data=body,
                        content_type=content_type)
    assert 400 <= response.status_code < 500 and response.mimetype == "application/problem+json"
    assert _state(neo4j_driver, world) == before


def test_ledger_updates_are_bounded(api, world, neo4j_driver):
    before = _state(neo4j_driver, world)
    for body in ({"income_gain": -1}, {"income_gain": 1e12}, {"status": "99"}, {"end_date": "2024-13"},
                 {"partnership_id": "other"}, {"credit_code": world.other_enterprise}, {}):
        response = api.patch(f"/api/v1/partnerships/{world.ids['own_partnership']}", as_="bureau_own", json=body)
        assert response.status_code == 422, (body, response.get_data(as_text=True))
    assert _state(neo4j_driver, world) == before


def test_oversized_upload_is_refused(api, api_app):
    api_app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = api.post("/api/v1/uploads", as_="bureau_own", content_type="multipart/form-data",
                            data={"file": (io.BytesIO(b"x" * 4096), "big.csv")})
    finally:
        api_app.config["MAX_CONTENT_LENGTH"] = 50 * 1024 * 1024
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
