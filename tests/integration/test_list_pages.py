"""The list pages share one behaviour (app/web/lists.py, _lists.html): sortable headers both ways, a pager
with 共 N 条, page size and page jump, 查询 / 重置, a page beyond the last answered with the last page and a
notice, and a wrong filter answered with an error naming the field in Chinese and no rows (never all rows).

32 households of one county with distinct sizes and incomes, loaded through the ETL."""
import html
import re

import pytest

from etl.load import load_files
from graph.maintenance import clear_graph
from services.context import Context
from services.tokens import issue_token
from tests.support.bureau_files import COUNTY, HOUSEHOLD_HEADER, household_id, household_row, write_table
from tests.support.web import signed_in

HOUSEHOLDS = 32


def _row(number: int) -> list:
    row = household_row(number)
    row[10] = 1 + number % 7                # 家庭人口数: ties, so the order's tie-break shows
    row[11] = 3000 + 37 * ((number * 11) % HOUSEHOLDS)  # 人均纯收入: a permutation of the numbers
    return row


@pytest.fixture(scope="module")
def list_graph(neo4j_driver, test_settings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("list-pages")
    clear_graph(neo4j_driver, test_settings.neo4j_database)
    files = [write_table(folder / "贫困户.csv", HOUSEHOLD_HEADER, [_row(n) for n in range(1, HOUSEHOLDS + 1)])]
    result = load_files(files, neo4j_driver, test_settings, progress=False)
    assert not result.failed_files and not result.rows_rejected, result.problems
    ctx = Context(neo4j_driver, test_settings)
    return {"token": issue_token(ctx, "bureau", "凤凰县商务局", county_code=COUNTY)}


@pytest.fixture(scope="module")
def list_app(list_graph, make_module_app):
    return make_module_app(job_workers_enabled=False)


@pytest.fixture
def client(list_app, list_graph):
    return signed_in(list_app, list_graph["token"])


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _ids(page: str) -> list[str]:
    return re.findall(r'href="/households/(\d{16})"', page)


def _expected(key, reverse=False) -> list[str]:
    rows = {household_id(n): _row(n) for n in range(1, HOUSEHOLDS + 1)}
    ordered = sorted(rows, key=lambda hid: (key(rows[hid]), hid), reverse=reverse)
    return ordered


def test_sorted_both_ways_across_pages(client):
    """Income ascending and descending, 10 a page: the pages together give the whole order, ties by 户编号."""
    for order, reverse in (("asc", False), ("desc", True)):
        seen = []
        for number in (1, 2, 3, 4):
            seen += _ids(_page(client, f"/households?sort=income_per_capita&order={order}&page_size=10&page={number}"))
        assert seen == _expected(lambda row: row[11], reverse), order
    by_size = _ids(_page(client, "/households?sort=household_size&order=desc&page_size=100"))
    assert by_size == _expected(lambda row: row[10], reverse=True)


def test_sort_header_reverses_and_marks_the_column(client):
    page = _page(client, "/households?sort=household_size&order=asc")
    header = re.search(r'<th scope="col" aria-sort="ascending">\s*<a class="sort" href="([^"]+)">人口', page)
    assert header, "the sorted column is marked"
    link = html.unescape(header.group(1))
    assert "sort=household_size" in link and "order=desc" in link and "page=1" in link
    assert _ids(_page(client, link)) == _expected(lambda row: row[10], reverse=True)[:20]


def test_pager_total_size_and_jump(client):
    page = _page(client, "/households?page_size=20&page=2")
    assert "共 32 条" not in page and "共 32 户" in page
    assert "第 2 / 2 页" in page
    assert re.search(r'<select name="page_size">.*<option value="50"', page, re.S)
    assert re.search(r'<input type="number" name="page" min="1" max="2" value="2"', page)
    assert len(_ids(page)) == 12


def test_beyond_the_last_page_shows_the_last_with_a_notice(client):
    response = client.get("/households?page_size=20&page=999")
    assert response.status_code == 302
    assert "page=2" in response.headers["Location"]
    page = _page(client, response.headers["Location"])
    assert "第 999 页超出范围（共 2 页），已显示最后一页。" in page
    assert len(_ids(page)) == 12


def test_wrong_filter_names_the_field_and_shows_no_rows(client):
    page = _page(client, "/households?township=廖家桥镇&page_size=abc")
    assert "筛选条件有误：每页条数、乡镇" in page
    assert _ids(page) == []
    assert "township" not in re.sub(r"<[^>]+>", "", page)  # no internal field name in the text


def test_reset_goes_back_to_no_filter(client):
    page = _page(client, "/households?cause=01")
    assert re.search(r'<button type="submit">查询</button>\s*<a class="button secondary" href="/households">重置</a>',
                     page)


def test_followups_and_warnings_use_the_shared_pager(client):
    assert "共 0 项" in _page(client, "/followups")
    assert "筛选条件有误：页码" in _page(client, "/followups?page=0")


def test_a_household_page_has_breadcrumbs_back_to_its_village(client):
    page = _page(client, f"/households/{household_id(3)}")
    crumbs = re.search(r'<nav class="breadcrumbs" aria-label="当前位置">(.*?)</nav>', page, re.S).group(1)
    links = [html.unescape(link) for link in re.findall(r'href="([^"]+)"', crumbs)]
    assert links[0] == "/dashboard" and links[-1].startswith("/households?village=")
    assert 'aria-current="page">张三丰 户' in crumbs
    assert household_id(3) in _ids(_page(client, links[-1]))
