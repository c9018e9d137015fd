"""The enterprise's own page (GET /enterprise) shows its recommendations and partnerships a page at a time.

One enterprise with 25 partnerships in force and 45 current recommendations (23 待处理, 22 已拒绝), loaded
through the ETL and written as a match run writes them. The two lists page independently (rec_page,
partner_page; page_size 20 / 50 / 100), the status filter and the other list's page survive every link,
bad page values answer a page (never a 500), and only the rows shown are read and audited.

Fixtures: test_settings, neo4j_driver and make_module_app from tests/integration/conftest.py.
"""
import html
import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from core.codes import Mechanism, PartnershipStatus, RecommendationStatus
from etl.load import load_files
from graph import access, ledger, matching, views
from graph.maintenance import clear_graph
from services.context import Context
from services.tokens import issue_token
from tests.support.bureau_files import (COUNTY, ENTERPRISE_HEADER, HOUSEHOLD_HEADER, PARTNERSHIP_HEADER, credit_code,
                                        enterprise_row, household_id, household_row, partnership_row, write_table)

ENTERPRISE = credit_code("91433123MA4L00801")
PARTNERSHIPS = 25                  # households 1..25, in force
RECOMMENDED = range(26, 71)        # 45 households with a current recommendation
DECLINED = range(49, 71)           # 22 of them declined: 23 proposed are left
PROPOSED_COUNT, DECLINED_COUNT = 23, 22
RUN = "run-enterprise-paging"
LEVELS = ("高", "中", "低")
OTHERS = ("02,03", "", "04")  # the enterprise's other mechanisms, as a run stores them
ALSO = {"02,03": "也可：订单收购、土地流转", "": None, "04": "也可：入股分红"}
NOW = "2024-05-01T08:00:00+00:00"


@pytest.fixture(scope="module")
def paged_graph(neo4j_driver, test_settings, tmp_path_factory):
    """The enterprise with more than a page of partnerships and of recommendations in two statuses; its token."""
    folder = tmp_path_factory.mktemp("enterprise-paging")
    clear_graph(neo4j_driver, test_settings.neo4j_database)
    start = date(2019, 1, 1)
    files = [
        write_table(folder / "贫困户.csv", HOUSEHOLD_HEADER,
                    [household_row(n) for n in range(1, max(RECOMMENDED) + 1)]),
        write_table(folder / "企业.csv", ENTERPRISE_HEADER, [enterprise_row(801, code=ENTERPRISE)]),
        write_table(folder / "联结台账.csv", PARTNERSHIP_HEADER, [
            partnership_row(f"LZ-{n:02d}", n, ENTERPRISE, start=(start + timedelta(days=n)).isoformat(),
                            status=PartnershipStatus.IN_FORCE.label)
            for n in range(1, PARTNERSHIPS + 1)]),
    ]
    result = load_files(files, neo4j_driver, test_settings, progress=False)
    assert not result.failed_files and not result.rows_rejected, result.problems
    rows = [{"household_id": household_id(n), "credit_code": ENTERPRISE, "county_code": COUNTY,
             "mechanism": Mechanism.EMPLOYMENT.value, "rank": 1, "score": round(0.99 - n / 1000, 3),
             "rule_score": 0.9, "distance_km": 1.5, "reasons": ["就近务工"], "assigned": False,
             "level": LEVELS[n % 3], "other_mechanisms": OTHERS[n % 3]}
            for n in RECOMMENDED]
    matching.write_recommendations(neo4j_driver, RUN, rows)
    matching.make_run_current(neo4j_driver, RUN, [COUNTY])
    for n in DECLINED:
        ledger.decline_recommendation(neo4j_driver, f"{RUN}-{household_id(n)}-1", "岗位已满", "test", "enterprise",
                                      NOW)
    ctx = Context(neo4j_driver, test_settings)
    return {"token": issue_token(ctx, "enterprise", "paging enterprise", credit_code=ENTERPRISE)}


@pytest.fixture(scope="module")
def paged_app(paged_graph, make_module_app):
    return make_module_app(job_workers_enabled=False)


@pytest.fixture
def client(paged_app, paged_graph):
    """A test client signed in as the enterprise."""
    client = paged_app.test_client()
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    assert client.post("/login", data={"token": paged_graph["token"], "csrf_token": csrf}).status_code == 302
    return client


def _get(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _parts(page: str) -> tuple[str, str]:
    """The recommendations part of the page (with everything above it) and the partnerships part."""
    recs, partnerships = page.split('id="partnerships"', 1)
    return recs, partnerships


def _rec_ids(page: str) -> list[str]:
    return re.findall(r'<tr class="rec" data-rec="([^"]+)"', page)


def _partnership_ids(page: str) -> list[str]:
    return re.findall(r'<tr class="partnership" data-partnership="([^"]+)"', page)


def _link(part: str, rel: str) -> str | None:
    """The path and query of the part's 上一页 (prev) / 下一页 (next) link, or None."""
    found = re.search(rf'<a rel="{rel}" href="([^"]+)">', part)
    if not found:
        return None
    parts = urlsplit(html.unescape(found.group(1)))
    assert not parts.scheme and not parts.netloc and parts.path == "/enterprise"
    return f"{parts.path}?{parts.query}"


def _query(link: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}


def _expected_recs(neo4j_driver, status: str) -> list[str]:
    items, _ = views.search_recommendations(neo4j_driver, {"credit_code": ENTERPRISE, "status": status}, 0, 1000)
    return [item["rec_id"] for item in items]


def _expected_partnerships(neo4j_driver) -> list[str]:
    items, _ = views.search_partnerships(neo4j_driver, {"credit_code": ENTERPRISE}, 0, 1000)
    return [item["partnership_id"] for item in items]


def test_the_first_page_shows_20_of_each_list_and_links_to_the_next(client, neo4j_driver):
    page = _get(client, "/enterprise")
    recs, partnerships = _parts(page)
    assert _rec_ids(page) == _expected_recs(neo4j_driver, RecommendationStatus.PROPOSED)[:20]
    assert _partnership_ids(page) == _expected_partnerships(neo4j_driver)[:20]
    assert "第 1 / 2 页" in recs and f"共 {PROPOSED_COUNT} 条" in recs
    assert "第 1 / 2 页" in partnerships and f"共 {PARTNERSHIPS} 条" in partnerships
    assert "下一页" in recs and "上一页" not in recs
    assert "下一页" in partnerships and "上一页" not in partnerships
    assert _query(_link(recs, "next")) == {"status": "proposed", "rec_page": "2", "partner_page": "1",
                                           "page_size": "20"}
    assert _query(_link(partnerships, "next")) == {"status": "proposed", "rec_page": "1", "partner_page": "2",
                                                   "page_size": "20"}


def test_page_two_shows_the_rest_and_the_lists_page_independently(client, neo4j_driver):
    all_recs = _expected_recs(neo4j_driver, RecommendationStatus.PROPOSED)
    all_partnerships = _expected_partnerships(neo4j_driver)
    first = _get(client, "/enterprise")
    second = _get(client, _link(_parts(first)[0], "next"))
    assert _rec_ids(second) == all_recs[20:] and len(all_recs[20:]) == PROPOSED_COUNT - 20
    assert _partnership_ids(second) == all_partnerships[:20], "the partnerships stay on their first page"
    recs, partnerships = _parts(second)
    assert "第 2 / 2 页" in recs and "下一页" not in recs
    assert _query(_link(recs, "prev"))["rec_page"] == "1"
    # Paging the partnerships keeps the recommendations on page 2.
    both = _get(client, _link(partnerships, "next"))
    assert _rec_ids(both) == all_recs[20:]
    assert _partnership_ids(both) == all_partnerships[20:] and len(all_partnerships[20:]) == PARTNERSHIPS - 20
    assert set(_partnership_ids(first)) | set(_partnership_ids(both)) == set(all_partnerships)
    assert _query(_link(_parts(both)[1], "prev")) == {"status": "proposed", "rec_page": "2", "partner_page": "1",
                                                      "page_size": "20"}


def test_the_status_filter_survives_paging(client, neo4j_driver):
    declined = _expected_recs(neo4j_driver, RecommendationStatus.DECLINED)
    assert len(declined) == DECLINED_COUNT
    first = _get(client, "/enterprise?status=declined")
    assert _rec_ids(first) == declined[:20]
    following = _link(_parts(first)[0], "next")
    assert _query(following)["status"] == "declined"
    second = _get(client, following)
    assert _rec_ids(second) == declined[20:]
    assert second.count("已拒绝：岗位已满") == DECLINED_COUNT - 20
    assert _query(_link(_parts(second)[1], "next"))["status"] == "declined", "paging the partnerships keeps it"
    # The status tabs keep the partnerships' page and the page size, and start the recommendations again.
    tab = re.search(r'<a href="([^"]+)"[^>]*>已拒绝</a>', _get(client, "/enterprise?partner_page=2&page_size=20"))
    assert _query(html.unescape(tab.group(1))) == {"status": "declined", "rec_page": "1", "partner_page": "2",
                                                   "page_size": "20"}


@pytest.mark.parametrize("query", [
    "rec_page=abc", "rec_page=-1", "rec_page=0", "rec_page=1.5", "rec_page=", "rec_page=%EF%BC%92",
    "partner_page=x&rec_page=%00", "page_size=abc", "page_size=-20", "page_size=7", "page_size=1000000",
    "rec_page=1&rec_page=2x", "partner_page=" + "9" * 5000,
])
def test_a_bad_value_answers_the_first_page_or_the_default_size(client, neo4j_driver, query):
    page = _get(client, f"/enterprise?{query}")
    recs, partnerships = _parts(page)
    assert len(_rec_ids(page)) == 20 and len(_partnership_ids(page)) in (20, PARTNERSHIPS - 20)
    if "partner_page=9" not in query:
        assert "第 1 / 2 页" in recs and "第 1 / 2 页" in partnerships
        assert _rec_ids(page) == _expected_recs(neo4j_driver, RecommendationStatus.PROPOSED)[:20]


@pytest.mark.parametrize("query", ["rec_page=3", "rec_page=999999999999", "rec_page=99999999999999999999999"])
def test_a_page_beyond_the_end_shows_the_last_page_and_says_so(client, neo4j_driver, query):
    page = _get(client, f"/enterprise?{query}")
    recs, partnerships = _parts(page)
    assert _rec_ids(page) == _expected_recs(neo4j_driver, RecommendationStatus.PROPOSED)[20:]
    assert "第 2 / 2 页" in recs and "超出范围" in recs and "已显示最后一页" in recs
    assert "超出范围" not in partnerships and "第 1 / 2 页" in partnerships
    assert _query(_link(recs, "prev"))["rec_page"] == "1"


def test_an_empty_list_beyond_its_end_is_not_an_error(client):
    page = _get(client, "/enterprise?status=confirmed&rec_page=5")
    recs, _ = _parts(page)
    assert "暂无推荐" in recs and "第 1 / 1 页" in recs and "共 0 条" in recs
    assert "超出范围" not in recs and "下一页" not in recs


def test_the_user_chooses_50_per_page_and_links_keep_it(client, neo4j_driver):
    page = _get(client, "/enterprise?page_size=50")
    recs, partnerships = _parts(page)
    assert _rec_ids(page) == _expected_recs(neo4j_driver, RecommendationStatus.PROPOSED)
    assert _partnership_ids(page) == _expected_partnerships(neo4j_driver)
    assert "第 1 / 1 页" in recs and "第 1 / 1 页" in partnerships and "下一页" not in page
    assert re.search(r'<option value="50" selected>50</option>', page)
    for size in (20, 50, 100):
        assert f'<option value="{size}"' in page
    tab = re.search(r'<a href="([^"]+)"[^>]*>已拒绝</a>', page)
    assert _query(html.unescape(tab.group(1)))["page_size"] == "50"


def test_only_the_rows_shown_are_audited(client, neo4j_driver):
    before = {event["event_id"] for event in access.audit_events(neo4j_driver, 0, 1_000_000)[0]}
    page = _get(client, "/enterprise?partner_page=2")
    events = [event for event in access.audit_events(neo4j_driver, 0, 1_000_000)[0] if event["event_id"] not in before]
    shown = set(_partnership_ids(page))
    assert len(shown) == PARTNERSHIPS - 20
    audited = {household for event in events if event["action"] == "web.enterprise.partnerships"
               for household in event.get("household_ids") or []}
    partnerships, _ = views.search_partnerships(neo4j_driver, {"credit_code": ENTERPRISE}, 0, 1000)
    assert audited == {row["household_id"] for row in partnerships if row["partnership_id"] in shown}
    # The proposed recommendations are masked (no partner confirmed yet): nothing of them is audited.
    assert not [event for event in events if event["action"] == "web.enterprise.recommendations"]


def test_a_decision_on_page_two_returns_to_page_two(client, neo4j_driver):
    """Last: it declines one recommendation."""
    path = "/enterprise?status=proposed&rec_page=2&partner_page=2&page_size=20"
    page = _get(client, path)
    rec_id = _rec_ids(page)[0]
    backs = set(re.findall(r'name="back" value="([^"]+)"', page))
    assert {html.unescape(back) for back in backs} == {path}
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(f"/recommendations/{rec_id}/decline",
                           data={"csrf_token": csrf, "reason": "不在本村", "back": path})
    assert response.status_code == 302 and response.headers["Location"] == path
    assert views.recommendation(neo4j_driver, rec_id)["status"] == RecommendationStatus.DECLINED
    after = _get(client, path)
    assert "已拒绝，原因已记录" in after and rec_id not in _rec_ids(after)
    # An off-site `back` is not followed.
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', after).group(1)
    other = _rec_ids(after)[0]
    response = client.post(f"/recommendations/{other}/decline",
                           data={"csrf_token": csrf, "reason": "不在本村", "back": "//evil.example/enterprise"})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


def test_each_recommendation_shows_its_match_level_strongest_factors_and_other_mechanisms(client, neo4j_driver):
    page = _get(client, "/enterprise")
    recs, _ = _parts(page)
    assert "匹配度按本县全部可行组合的得分分级" in recs, "what the level means, once"
    rows = re.findall(r'<tr class="rec" data-rec="([^"]+)">(.*?)</tr>', recs, flags=re.S)
    assert len(rows) == 20
    for rec_id, row in rows:
        n = int(household_id_number(rec_id))
        assert f"匹配度 {LEVELS[n % 3]}" in row and "<li>就近务工</li>" in row
        also = ALSO[OTHERS[n % 3]]
        assert (also in row) if also else ("也可" not in row), rec_id
    shown = views.recommendation(neo4j_driver, rows[0][0])
    assert shown["level"] == LEVELS[int(household_id_number(rows[0][0])) % 3]
    assert shown["other_mechanisms"] == [code for code in OTHERS[int(household_id_number(rows[0][0])) % 3].split(",")
                                         if code]


def household_id_number(rec_id: str) -> str:
    """The household number n of a recommendation of household_id(n) (rec id: run - household - rank)."""
    household = rec_id[len(RUN) + 1:].rsplit("-", 1)[0]
    return next(str(n) for n in RECOMMENDED if household_id(n) == household)
