"""Search (services/search.py): households by 户主姓名 (full-text, cjk), 户编号 prefix and the last four characters
of an ID number (keyed hash), in the API's lists and the pages — within the caller's county, refused for analysts,
within an enterprise's own confirmed rows; an invalid filter lists nothing; the plans read indexes."""
import csv
import re

import pytest

from core.codes import PartnershipStatus
from core.search import SearchMode, fulltext_query, suffix_hash
from graph import views
from graph.search import HouseholdMatch
from tests.integration.api_world import OTHER_COUNTY, OWN_COUNTY

API = "/api/v1"


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def people(world, neo4j_driver, test_settings):
    """From the world's files: an own-county household (head's name and ID number), a non-head member's ID
    number and household, and an other-county household renamed to the own head's name and given the own head's
    ID-suffix hash (namesakes across the county line)."""
    households = _rows(world.files["households"])
    members = _rows(world.files["members"])
    own = next(row for row in households if row["户编号"].startswith(OWN_COUNTY[:6]) and len(row["户主姓名"]) == 3)
    other = next(row for row in households if row["户编号"].startswith(OTHER_COUNTY[:6]))
    member = next(row for row in members if row["户编号"].startswith(OWN_COUNTY[:6]) and row["与户主关系"] != "户主")
    neo4j_driver.execute_query(
        "MATCH (own:Household {household_id: $own}), (other:Household {household_id: $other}) "
        "SET other.head_name = own.head_name, other.head_id_suffix_hash = own.head_id_suffix_hash",
        own=own["户编号"], other=other["户编号"], database_=test_settings.neo4j_database)
    return {"own": own, "other": other, "member": member, "households": households, "members": members}


def _ids(answer) -> set[str]:
    assert answer.status_code == 200, answer.get_json()
    return {item["household_id"] for item in answer.get_json()["items"]}


def _suffix_holders(people, suffix: str, county: str) -> set[str]:
    """Households of the county whose head or a member has an ID number ending in suffix (from the files)."""
    found = {row["户编号"] for row in people["households"] if row["户主证件号码"].upper().endswith(suffix)}
    found |= {row["户编号"] for row in people["members"] if row["证件号码"].upper().endswith(suffix)}
    return {household for household in found if household.startswith(county[:6])}


def test_name_search_finds_the_household_in_the_callers_county_only(api, people):
    own, other = people["own"], people["other"]
    name = own["户主姓名"]
    found = _ids(api.get(f"{API}/households", as_="bureau_own", query_string={"q": name}))
    assert own["户编号"] in found and other["户编号"] not in found
    assert all(household.startswith(OWN_COUNTY[:6]) for household in found)
    expected = {row["户编号"] for row in people["households"]
                if name in row["户主姓名"] and row["户编号"].startswith(OWN_COUNTY[:6])}
    assert found == expected
    # The namesake in the other county is that county's (and an administrator's) to find.
    assert other["户编号"] in _ids(api.get(f"{API}/households", as_="bureau_other", query_string={"q": name}))
    assert {own["户编号"], other["户编号"]} <= _ids(api.get(f"{API}/households", as_="admin",
                                                            query_string={"q": name, "page_size": 100}))
    # A surname alone: every head of the county whose name holds it (before another character).
    surname = name[0]
    by_surname = _ids(api.get(f"{API}/households", as_="bureau_own",
                              query_string={"q": surname, "page_size": 100}))
    assert own["户编号"] in by_surname
    assert all(household.startswith(OWN_COUNTY[:6]) for household in by_surname)
    # Two characters that do not stand together in the name find nothing of it.
    assert own["户编号"] not in _ids(api.get(f"{API}/households", as_="bureau_own",
                                             query_string={"q": name[0] + name[2]}))


def test_household_id_prefix_finds_the_households_it_begins(api, people):
    own, other = people["own"], people["other"]
    prefix = own["户编号"][:14]  # under 100 households
    answer = api.get(f"{API}/households", as_="bureau_own", query_string={"q": prefix, "page_size": 100})
    expected = {row["户编号"] for row in people["households"] if row["户编号"].startswith(prefix)}
    assert _ids(answer) == expected and own["户编号"] in expected
    assert answer.get_json()["total"] == len(expected)
    assert _ids(api.get(f"{API}/households", as_="bureau_own", query_string={"q": own["户编号"]})) == {own["户编号"]}
    # The other county's 户编号 finds nothing for this county's bureau.
    assert _ids(api.get(f"{API}/households", as_="bureau_own", query_string={"q": other["户编号"]})) == set()


def test_id_suffix_finds_heads_and_members_by_keyed_hash_within_the_county(api, people):
    own, other, member = people["own"], people["other"], people["member"]
    head_suffix = own["户主证件号码"][-4:].upper()
    found = _ids(api.get(f"{API}/households", as_="bureau_own", query_string={"q": head_suffix, "page_size": 100}))
    assert own["户编号"] in found and other["户编号"] not in found  # the other county's copy of the hash is not ours
    assert found == _suffix_holders(people, head_suffix, OWN_COUNTY)
    member_suffix = member["证件号码"][-4:].upper()
    found = _ids(api.get(f"{API}/households", as_="bureau_own", query_string={"q": member_suffix, "page_size": 100}))
    assert member["户编号"] in found and found == _suffix_holders(people, member_suffix, OWN_COUNTY)
    # Lower-case x and full-width digits are the same search.
    if head_suffix.endswith("X"):
        assert own["户编号"] in _ids(api.get(f"{API}/households", as_="bureau_own",
                                             query_string={"q": head_suffix.lower()}))
    full_width = "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in head_suffix)
    assert own["户编号"] in _ids(api.get(f"{API}/households", as_="bureau_own", query_string={"q": full_width}))
    # An administrator names the county.
    assert api.get(f"{API}/households", as_="admin", query_string={"q": head_suffix}).status_code == 422
    assert other["户编号"] in _ids(api.get(f"{API}/households", as_="admin",
                                           query_string={"q": head_suffix, "county": OTHER_COUNTY}))


def test_analysts_may_not_search(api, people):
    for text in (people["own"]["户主姓名"], people["own"]["户主证件号码"][-4:], people["own"]["户编号"][:10]):
        for path in ("/households", "/partnerships", f"/counties/{OWN_COUNTY}/followups"):
            answer = api.get(f"{API}{path}", as_="analyst", query_string={"q": text})
            assert answer.status_code == 403, path
            assert "分析人员" in answer.get_json()["detail"]
    assert api.get(f"{API}/households", as_="analyst").status_code == 200


def test_the_ledger_and_followups_search_by_household(api, world, people, neo4j_driver, test_settings):
    rows, _ = views.search_partnerships(neo4j_driver, {"county_code": OWN_COUNTY}, 0, 1, test_settings.neo4j_database)
    household = rows[0]["household_id"]
    name = rows[0]["head_name"]
    answer = api.get(f"{API}/partnerships", as_="bureau_own", query_string={"q": name, "page_size": 100})
    assert answer.status_code == 200
    items = answer.get_json()["items"]
    assert household in {item["household_id"] for item in items}
    assert all(name in item["head_name"] and item["county_code"] == OWN_COUNTY for item in items)
    by_prefix = api.get(f"{API}/partnerships", as_="bureau_own", query_string={"q": household}).get_json()["items"]
    assert by_prefix and {item["household_id"] for item in by_prefix} == {household}
    assert api.get(f"{API}/partnerships", as_="bureau_other", query_string={"q": household}).get_json()["total"] == 0
    queue = api.get(f"{API}/counties/{OWN_COUNTY}/followups", as_="bureau_own",
                    query_string={"q": people["own"]["户编号"], "status": "closed"})
    assert queue.status_code == 200
    assert all(item["household_id"] == people["own"]["户编号"] for item in queue.get_json()["items"])


def test_enterprises_search_their_own_confirmed_rows_only(api, world, neo4j_driver, test_settings):
    database = test_settings.neo4j_database
    rows, _ = views.search_partnerships(neo4j_driver, {"credit_code": world.own_enterprise,
                                                       "status": PartnershipStatus.IN_FORCE.value}, 0, 1, database)
    mine = rows[0]
    found = api.get(f"{API}/partnerships", as_="enterprise_own", query_string={"q": mine["head_name"]}).get_json()
    assert mine["partnership_id"] in {item["partnership_id"] for item in found["items"]}
    assert all(item["credit_code"] == world.own_enterprise and item["status"] == PartnershipStatus.IN_FORCE
               for item in found["items"])
    by_id = api.get(f"{API}/partnerships", as_="enterprise_own", query_string={"q": mine["household_id"]}).get_json()
    assert mine["partnership_id"] in {item["partnership_id"] for item in by_id["items"]}
    # Another enterprise finds nothing of this one's households; nor are rows awaiting confirmation searched.
    assert api.get(f"{API}/partnerships", as_="enterprise_other",
                   query_string={"q": mine["household_id"]}).get_json()["total"] == 0
    awaiting = api.get(f"{API}/partnerships", as_="enterprise_own",
                       query_string={"q": mine["household_id"], "status": PartnershipStatus.AWAITING_CONFIRMATION.value})
    assert awaiting.get_json()["total"] == 0


def test_enterprise_name_search(api, world, neo4j_driver, test_settings):
    own = views.enterprise_detail(neo4j_driver, world.own_enterprise, test_settings.neo4j_database)
    word = re.sub(r"^.{2}县", "", own["name"])[:4]  # a word of the name after the county's
    found = api.get(f"{API}/enterprises", as_="bureau_own", query_string={"q": word, "page_size": 100}).get_json()
    assert world.own_enterprise in {item["credit_code"] for item in found["items"]}
    assert all(word in item["name"] and item["county_code"] == OWN_COUNTY for item in found["items"])
    assert world.own_enterprise not in {item["credit_code"] for item in api.get(
        f"{API}/enterprises", as_="bureau_other", query_string={"q": word}).get_json()["items"]}


def test_invalid_search_text_is_a_chinese_error_and_no_rows(api, api_app, world):
    answer = api.get(f"{API}/households", as_="bureau_own", query_string={"q": "a;b"})
    assert answer.status_code == 422 and [error["field"] for error in answer.get_json()["errors"]] == ["q"]
    web = _login(api_app, world.tokens["bureau_own"])
    page = web.get("/households", query_string={"q": "a;b"}).get_data(as_text=True)
    assert "搜索（户主姓名、户编号或证件号后四位）有误" in page and "共 0 户" in page
    # The ledger's old 户编号 box with a name: the field is named in Chinese and nothing is listed.
    page = web.get("/ledger", query_string={"household_id": "张三"}).get_data(as_text=True)
    assert "筛选条件有误：户编号" in page and "共 0 条" in page
    page = web.get("/ledger", query_string={"page": "x"}).get_data(as_text=True)
    assert "筛选条件有误：页码" in page and "共 0 条" in page
    page = web.get("/followups", query_string={"q": "a;b"}).get_data(as_text=True)
    assert "有误" in page and "共 0 项" in page
    assert web.get("/households/export.xlsx", query_string={"covered": "maybe"}).status_code >= 400


def test_the_pages_search_and_hide_the_box_from_analysts(api_app, world, people):
    web = _login(api_app, world.tokens["bureau_own"])
    own = people["own"]
    page = web.get("/households", query_string={"q": own["户主姓名"]}).get_data(as_text=True)
    assert 'name="q"' in page and own["户编号"] in page and people["other"]["户编号"] not in page
    page = web.get("/ledger", query_string={"q": own["户编号"][:10]}).get_data(as_text=True)
    assert 'name="q"' in page and "筛选条件有误" not in page
    analyst = _login(api_app, world.tokens["analyst"])
    page = analyst.get("/households").get_data(as_text=True)
    assert 'name="q"' not in page and "化名数据不能按户主姓名、户编号或证件号查找" in page
    page = analyst.get("/households", query_string={"q": own["户主姓名"]}).get_data(as_text=True)
    assert "分析人员" in page and "共 0 户" in page


def test_raw_id_digits_are_never_stored(world, people, neo4j_driver, test_settings):
    numbers = [people["own"]["户主证件号码"], people["member"]["证件号码"]]
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (n) UNWIND keys(n) AS key WITH n, key, n[key] AS value "
        "WHERE value IS :: STRING AND (any(number IN $numbers WHERE value CONTAINS number) "
        "  OR (toLower(key) CONTAINS 'id' AND any(number IN $numbers WHERE value = right(number, 4)))) "
        "RETURN labels(n) AS labels, key LIMIT 5",
        numbers=numbers, database_=test_settings.neo4j_database)
    assert records == []
    stored, _, _ = neo4j_driver.execute_query(
        "MATCH (h:Household {household_id: $id}) RETURN h.head_id_suffix_hash AS hash",
        id=people["own"]["户编号"], database_=test_settings.neo4j_database)
    key = test_settings.id_hash_secret()
    assert stored[0]["hash"] == suffix_hash(people["own"]["户主证件号码"][-4:], key)


def _operators(plan) -> set[str]:
    found, stack = set(), [plan]
    while stack:
        step = stack.pop()
        found.add(step["operatorType"].split("@")[0])
        stack += step.get("children", [])
    return found


@pytest.mark.parametrize("mode", [SearchMode.NAME, SearchMode.HOUSEHOLD_PREFIX, SearchMode.ID_SUFFIX])
def test_search_plans_read_indexes_not_the_county(mode, people, neo4j_driver, test_settings, monkeypatch):
    own = people["own"]
    value = {SearchMode.NAME: fulltext_query("head_name", own["户主姓名"], {"county_code": OWN_COUNTY}),
             SearchMode.HOUSEHOLD_PREFIX: own["户编号"][:12],
             SearchMode.ID_SUFFIX: suffix_hash(own["户主证件号码"][-4:], test_settings.id_hash_secret())}[mode]
    plans = []
    original = neo4j_driver.execute_query

    def explained(query, *args, **kwargs):
        if "search_value" in query:
            plans.append(original("EXPLAIN " + query, *args, **kwargs)[1].plan)
        return original(query, *args, **kwargs)

    monkeypatch.setattr(neo4j_driver, "execute_query", explained)
    items, total = views.search_households(neo4j_driver, {"county_code": OWN_COUNTY}, None, None, "household_id", 0,
                                           20, test_settings.neo4j_database, match=HouseholdMatch(mode, value))
    assert own["户编号"] in {item["household_id"] for item in items} and total >= 1
    operators = _operators(plans[0])
    assert not operators & {"NodeByLabelScan", "AllNodesScan", "NodeIndexScan"}, operators
    expected = {SearchMode.NAME: "ProcedureCall", SearchMode.HOUSEHOLD_PREFIX: "IndexSeekByRange",
                SearchMode.ID_SUFFIX: "NodeIndexSeek"}[mode]
    assert any(operator.endswith(expected) for operator in operators), operators


def _login(api_app, token: str):
    client = api_app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"token": token, "csrf_token": csrf})
    return client
