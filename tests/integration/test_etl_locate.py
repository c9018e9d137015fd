"""Enterprises and projects without a region code, located from their address (issue: an enterprise directory
as commerce bureaus keep it, with 注册地址 and no 行政区划代码, was refused whole).

The townships and villages an address is matched against are those the villages and households files loaded;
the bulk path (which locates among the regions its own load wrote) is compared with this one in
tests/integration/test_etl_bulk.py."""
import pytest

from etl import address
from etl.load import load_files
from etl.scope import OUTSIDE_SCOPE
from etl.validate import ERROR, WARNING
from tests.support import bureau_files as bf
from tests.support.located_files import (BAOJING, BUREAU_HEADER, CHANGPUTANG, FENGHUANG, HEPING_L, NANHUA, PLACES,
                                         SHANJIANG, code, directory_rows, region_files)


def _load(graph_db, settings, *paths, **options):
    return load_files(list(paths), graph_db, settings, progress=False, **options)


def _query(graph_db, cypher, **params):
    records, _, _ = graph_db.execute_query(cypher, **params)
    return [record.data() for record in records]


def _problems(result, kind):
    return [(p.row, p.column, p.value, p.severity, p.reason) for p in result.problems
            if p.file.endswith(kind)]


LEADING_WITHOUT_LEVEL = "龙头企业未注明级别，按县级龙头企业加载 / leading enterprise without its level: loaded as county level"
COUNTY_ONLY = "地址只定位到县（{}）：地址中没有该县已加载的乡镇或村 / address located to its county only"
NEITHER = "行政区划代码与地址均为空，无法定位 / neither region_code nor address given"
EXPECTED_PROBLEMS = [
    (4, "企业类型", "龙头企业", WARNING, LEADING_WITHOUT_LEVEL),
    (5, "注册地址", "湖南省凤凰县廖家桥镇", WARNING,
     "地址只定位到乡镇（廖家桥镇）：地址中没有该乡镇已加载的村 / address located to its township only"),
    (6, "注册地址", "凤凰县和平村", WARNING,
     "地址中的地名对应多个行政村（廖家桥镇和平村、沱江镇和平村），只定位到县（凤凰县） / place names in the address fit "
     "several regions: located to the county"),
    (8, "注册地址", "湖南省湘西土家族苗族自治州凤凰县阿拉营镇", WARNING, COUNTY_ONLY.format("凤凰县")),
    (9, "注册地址", "湖南省长沙市", ERROR, address.NOT_A_COUNTY),
    (10, "注册地址", "", ERROR, NEITHER),
    (11, "注册地址", "朝阳区建国路88号", ERROR,
     "地址中的县名对应多个县（吉林省长春市朝阳区、北京市朝阳区），无法定位：请写明省、市或填写行政区划代码 / the county "
     "name in the address fits several counties"),
    (13, "注册地址", "湖南省保靖县迁陵镇", WARNING, COUNTY_ONLY.format("保靖县")),
]
def _enterprises(graph_db):
    """credit code → (region_code, county_code, location_source, LOCATED_IN region, lon, lat, position_source)."""
    return {r["code"]: (r["region"], r["county"], r["source"], r["located_in"], r["lon"], r["lat"], r["position"])
            for r in _query(graph_db, "MATCH (e:Enterprise)-[:LOCATED_IN]->(r:Region) RETURN e.credit_code AS code, "
                                      "e.region_code AS region, e.county_code AS county, e.location_source AS source, "
                                      "r.code AS located_in, e.lon AS lon, e.lat AS lat, "
                                      "e.position_source AS position")}


COUNTY_POSITIONS = {FENGHUANG: (109.581083, 27.958081), BAOJING: (109.660559, 28.699878)}  # cpca's


@pytest.mark.parametrize("file_name", ["企业名录.csv", "企业名录.xlsx"])
def test_a_bureau_enterprise_directory_without_region_codes_is_located_from_its_addresses(
        graph_db, test_settings, tmp_path, file_name):
    directory = bf.write_table(tmp_path / file_name, BUREAU_HEADER, directory_rows(), encoding="gbk",
                               title="凤凰县农业产业化龙头企业及农民专业合作社名录")
    result = _load(graph_db, test_settings, *region_files(tmp_path), directory)
    assert [(f.kind, f.rows_read, f.rows_loaded, f.rows_rejected, f.warnings, f.error) for f in result.files] == [
        ("villages", 4, 4, 0, 0, None), ("households", 1, 1, 0, 0, None), ("enterprises", 12, 9, 3, 5, None)]
    assert all(column["field"] for column in result.files[2].columns), "every column of the directory is read"
    assert _problems(result, file_name) == EXPECTED_PROBLEMS
    stored = _enterprises(graph_db)
    assert stored == {code(row): (region, county, source, region, *COUNTY_POSITIONS[county], "county")
                      for row, (region, county, source) in PLACES.items()}
    addresses = {r["code"]: r["address"] for r in _query(graph_db, "MATCH (e:Enterprise) RETURN e.credit_code AS code, "
                                                                   "e.address AS address")}
    assert addresses[code(3)] == "湖南省湘西土家族苗族自治州凤凰县廖家桥镇菖蒲塘村"


def test_a_file_with_neither_a_region_code_nor_an_address_column_is_refused_whole(graph_db, test_settings, tmp_path):
    header = [text for text in BUREAU_HEADER if text != "注册地址"]
    rows = [[cell for position, cell in enumerate(row) if position != 4] for row in directory_rows()]
    result = _load(graph_db, test_settings, bf.write_table(tmp_path / "企业名录.csv", header, rows))
    [file] = result.files
    assert (file.rows_read, file.rows_loaded, file.error) == (
        0, 0, "缺少必填列：行政区划代码（或地址） / required columns missing: 行政区划代码（或地址）")
    assert _query(graph_db, "MATCH (e:Enterprise) RETURN count(e) AS n") == [{"n": 0}]


def test_a_code_given_wins_over_the_address_and_an_empty_code_is_located_from_it(graph_db, test_settings, tmp_path):
    header = ["统一社会信用代码", "企业名称", "主体类型", "行政区划代码", "经营地址"]
    rows = [[code(3), "甲", "合作社", NANHUA, "凤凰县廖家桥镇菖蒲塘村"],  # the code is where it is
            [code(4), "乙", "合作社", "", "凤凰县廖家桥镇菖蒲塘村"],
            [code(5), "丙", "合作社", "", ""]]
    result = _load(graph_db, test_settings, *region_files(tmp_path), bf.write_table(tmp_path / "e.csv", header, rows))
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected) for f in result.files][2] == (3, 2, 1)
    assert _problems(result, "e.csv") == [(4, "行政区划代码", "", ERROR, NEITHER)]
    assert {code: place[:4] for code, place in _enterprises(graph_db).items()} == {
        code(3): (NANHUA, FENGHUANG, address.FROM_CODE, NANHUA),
        code(4): (CHANGPUTANG, FENGHUANG, address.FROM_VILLAGE, CHANGPUTANG)}


PROJECT_HEADER = ["项目编号", "项目名称", "产业类别", "资金来源", "资金规模（万元）", "建设地点", "联结方式"]


def test_projects_with_a_location_column_are_located_from_it(graph_db, test_settings, tmp_path):
    rows = [[f"XM{n}", f"项目{n}", "猕猴桃", "财政专项扶贫资金", "120", where, "订单收购"]
            for n, where in enumerate(["凤凰县沱江镇南华村", "凤凰县山江镇", "湖南省湘西州", "保靖县碗米坡镇"], start=1)]
    result = _load(graph_db, test_settings, *region_files(tmp_path),
                   bf.write_table(tmp_path / "projects.xlsx", PROJECT_HEADER, rows))
    assert [(f.kind, f.rows_read, f.rows_loaded, f.rows_rejected) for f in result.files][2] == ("projects", 4, 3, 1)
    assert _problems(result, "projects.xlsx") == [
        (3, "建设地点", "凤凰县山江镇", WARNING,
         "地址只定位到乡镇（山江镇）：地址中没有该乡镇已加载的村 / address located to its township only"),
        (4, "建设地点", "湖南省湘西州", ERROR, address.NOT_A_COUNTY),
        (5, "建设地点", "保靖县碗米坡镇", WARNING, COUNTY_ONLY.format("保靖县"))]
    projects = _query(graph_db, "MATCH (p:Project)-[:PROJECT_IN]->(r:Region) RETURN p.project_id AS id, "
                                "p.region_code AS region, p.county_code AS county, p.location_source AS source, "
                                "p.address AS address, r.code AS county_linked ORDER BY id")
    assert [tuple(p.values()) for p in projects] == [
        ("XM1", NANHUA, FENGHUANG, address.FROM_VILLAGE, "凤凰县沱江镇南华村", FENGHUANG),
        ("XM2", SHANJIANG, FENGHUANG, address.FROM_TOWNSHIP, "凤凰县山江镇", FENGHUANG),
        ("XM4", BAOJING, BAOJING, address.FROM_COUNTY, "保靖县碗米坡镇", BAOJING)]


def test_a_located_county_goes_through_the_county_scope_again_when_rows_are_unchanged(
        graph_db, test_settings, tmp_path):
    directory = bf.write_table(tmp_path / "企业名录.csv", BUREAU_HEADER, directory_rows(), encoding="gbk",
                               title="企业名录")
    _load(graph_db, test_settings, *region_files(tmp_path))
    # 凤凰县's bureau: 保靖县's enterprise (row 13) is outside its county.
    first = _load(graph_db, test_settings, directory, allowed_counties=["433123"])
    [file] = first.files
    assert (file.rows_read, file.rows_loaded, file.rows_rejected, file.rows_unchanged) == (12, 8, 4, 0)
    assert [(p.row, p.column, p.value, p.reason) for p in first.problems if p.severity == ERROR and p.row == 13] == [
        (13, "行政区划代码", BAOJING, OUTSIDE_SCOPE)]
    assert set(_enterprises(graph_db)) == {code(row) for row in PLACES if row != 13}
    # Again (another title: the file is read): the rows located at their village without a warning are unchanged
    # and inside the county their node was located in; the others are checked again.
    updated = bf.write_table(tmp_path / "企业名录（更新）.csv", BUREAU_HEADER, directory_rows(), encoding="gbk",
                             title="企业名录（更新）")
    again = _load(graph_db, test_settings, updated, allowed_counties=["433123"])
    [file] = again.files
    assert (file.rows_read, file.rows_loaded, file.rows_rejected, file.rows_unchanged) == (12, 8, 4, 4)
    assert sorted(p.row for p in again.problems if p.severity == ERROR) == [9, 10, 11, 13]
    # 保靖县's bureau loads the same file: the rows located in 凤凰县 without a warning are unchanged (their source
    # hash is stored), and still outside its county, by the county their node was located in.
    second = _load(graph_db, test_settings, directory, allowed_counties=["433125"])
    [file] = second.files
    assert (file.rows_read, file.rows_loaded, file.rows_rejected, file.rows_unchanged) == (12, 1, 11, 0)
    outside = sorted(p.row for p in second.problems if p.reason == OUTSIDE_SCOPE)
    assert outside == [3, 4, 5, 6, 7, 8, 12, 14]
    assert _enterprises(graph_db)[code(13)][:3] == (BAOJING, BAOJING, address.FROM_COUNTY)


def test_a_directory_loaded_again_skips_the_rows_located_exactly_and_checks_the_others_again(
        graph_db, test_settings, tmp_path):
    directory = bf.write_table(tmp_path / "企业名录.csv", BUREAU_HEADER, directory_rows(), encoding="gbk",
                               title="企业名录")
    _load(graph_db, test_settings, *region_files(tmp_path), directory)
    # 阿拉营镇 becomes known (a villages file of it): the enterprise placed at its county now finds it.
    more = bf.write_table(tmp_path / "more.csv", bf.VILLAGE_HEADER,
                          [bf.village_row("433123104201", name="舒家塘村", township="阿拉营镇")])
    # The same rows under another title: not the same file (it is read), the same rows (their source hashes).
    updated = bf.write_table(tmp_path / "企业名录（更新）.csv", BUREAU_HEADER, directory_rows(), encoding="gbk",
                             title="企业名录（更新）")
    again = _load(graph_db, test_settings, more, updated)
    file = again.files[1]
    # Rows 3, 7, 12, 14 were located at their village with no warning: unchanged. Rows with a warning (or rejected)
    # are checked again.
    assert (file.rows_read, file.rows_loaded, file.rows_rejected, file.rows_unchanged) == (12, 9, 3, 4)
    assert _enterprises(graph_db)[code(8)][:4] == ("433123104000", FENGHUANG, address.FROM_TOWNSHIP, "433123104000")
