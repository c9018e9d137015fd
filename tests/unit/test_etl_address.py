"""Locating enterprises and projects from their address, without a database: the county cpca finds, the
township and village among the names known, and what validation asks of a file without region codes.

(The same end to end, online and bulk: tests/integration/test_etl_locate.py and test_etl_bulk.py.)"""
import pandas as pd
import pytest

from etl import address, regions
from etl.address import FROM_CODE, FROM_COUNTY, FROM_TOWNSHIP, FROM_VILLAGE
from etl.readers import ReadError, read_file
from etl.validate import ERROR, WARNING, check_required_columns, validate
from etl import formats
from tests.support import bureau_files as bf

BAOJING = "433125000000"  # 保靖县
# The townships and villages a load knows in 保靖县: two 和平村 (one in each township), a 新民 (no 村) beside a
# 新民村, and a village named like its township (迁陵).
KNOWN = pd.DataFrame([
    ("433125101000", "迁陵镇", "township"), ("433125101201", "新民村", "village"),
    ("433125101202", "和平村", "village"), ("433125101203", "迁陵", "village"),
    ("433125102000", "碗米坡镇", "township"), ("433125102201", "和平村", "village"),
    ("433125102202", "新民", "village"), ("433125103000", "433125103000", "township"),
], columns=["code", "name", "level"])


def _known(counties):
    """The known regions of these counties, as Loader.known_regions answers."""
    return KNOWN[KNOWN["code"].str[:6].isin([county[:6] for county in counties])]


def test_cpca_finds_the_county_and_the_text_after_it():
    found = address.find_counties(["湖南省湘西土家族苗族自治州保靖县迁陵镇新民村", "保靖县迁陵镇", "湘西州吉首市乾州街道",
                                   "吉首市", "长沙市天心区", "湖南湘西保靖县"])
    assert found["county_code"].tolist() == [BAOJING, BAOJING, "433101000000", "433101000000", "430103000000",
                                             BAOJING]
    assert found["rest"].tolist() == ["迁陵镇新民村", "迁陵镇", "乾州街道", "", "", ""]
    assert found["error"].isna().all()


def test_an_address_without_a_county_or_with_a_county_name_several_counties_bear_is_not_located():
    found = address.find_counties(["新民村", "湖南省长沙市", "湖南省湘西州", "asdf123", "朝阳区建国路", "江苏省鼓楼区"])
    assert found["county_code"].isna().all()
    assert found["error"].tolist() == [
        address.NOT_A_COUNTY,  # not 新民市 (辽宁): 新民 starts the village's own name
        address.NOT_A_COUNTY, address.NOT_A_COUNTY, address.NOT_A_COUNTY,
        "地址中的县名对应多个县（吉林省长春市朝阳区、北京市朝阳区），无法定位：请写明省、市或填写行政区划代码 / the county "
        "name in the address fits several counties",
        "地址中的县名对应多个县（江苏省南京市鼓楼区、江苏省徐州市鼓楼区），无法定位：请写明省、市或填写行政区划代码 / the "
        "county name in the address fits several counties",
    ]
    # Named with its prefecture, a county is one county.
    assert address.find_counties(["南京市鼓楼区中山路"])["county_code"].tolist() == ["320106000000"]


@pytest.mark.parametrize("text, code, source, warning", [
    ("保靖县迁陵镇新民村5组", "433125101201", FROM_VILLAGE, None),
    ("保靖县迁陵镇和平村", "433125101202", FROM_VILLAGE, None),  # the 和平村 of the township named
    ("保靖县碗米坡镇新民村", "433125102202", FROM_VILLAGE, None),  # 碗米坡镇 has 新民, not 新民村
    ("保靖县新民村", "433125101201", FROM_VILLAGE, None),  # 新民 lies inside 新民村: not meant
    ("保靖县迁陵镇迁陵村", "433125101203", FROM_VILLAGE, None),  # 迁陵 of 迁陵镇 is the township's name
    ("保靖县迁陵乡新民村", "433125101201", FROM_VILLAGE, None),  # 乡 for 镇: the same township
    ("保靖县迁陵镇", "433125101000", FROM_TOWNSHIP,
     "地址只定位到乡镇（迁陵镇）：地址中没有该乡镇已加载的村 / address located to its township only"),
    ("保靖县迁陵镇新民村和平村", "433125101000", FROM_TOWNSHIP,
     "地址中的地名对应多个行政村（迁陵镇和平村、迁陵镇新民村），只定位到乡镇（迁陵镇） / place names in the address fit "
     "several regions: located to the township"),
    ("保靖县和平村", BAOJING, FROM_COUNTY,
     "地址中的地名对应多个行政村（碗米坡镇和平村、迁陵镇和平村），只定位到县（保靖县） / place names in the address fit "
     "several regions: located to the county"),
    ("保靖县迁陵镇碗米坡镇", BAOJING, FROM_COUNTY,
     "地址中的地名对应多个乡镇（碗米坡镇、迁陵镇），只定位到县（保靖县） / place names in the address fit several "
     "regions: located to the county"),
    ("保靖县复兴镇", BAOJING, FROM_COUNTY,
     "地址只定位到县（保靖县）：地址中没有该县已加载的乡镇或村 / address located to its county only"),
    ("保靖县433125103000", BAOJING, FROM_COUNTY,  # a region without a name (its code stands in) is never matched
     "地址只定位到县（保靖县）：地址中没有该县已加载的乡镇或村 / address located to its county only"),
    ("吉首市乾州街道", "433101000000", FROM_COUNTY,  # no region of 吉首市 known
     "地址只定位到县（吉首市）：地址中没有该县已加载的乡镇或村 / address located to its county only"),
])
def test_the_township_and_village_are_found_among_the_regions_known(text, code, source, warning):
    [located] = address.locate(pd.Series([text]), _known).itertuples(index=False)
    assert (located.code, located.source, located.warning, located.error) == (code, source, warning, None)


def test_each_distinct_address_is_parsed_once_and_known_regions_asked_once_per_chunk():
    asked = []
    addresses = pd.Series(["保靖县迁陵镇新民村", "新民村", "保靖县迁陵镇新民村", "吉首市"], index=[3, 4, 5, 6])
    located = address.locate(addresses, lambda counties: asked.append(counties) or _known(counties))
    assert asked == [["433101000000", BAOJING]]
    assert located.index.tolist() == [3, 4, 5, 6]
    assert located["code"].tolist()[::2] == ["433125101201", "433125101201"]
    assert located["error"].tolist()[1] == address.NOT_A_COUNTY


def _enterprises(tmp_path, header, rows):
    [table] = read_file(bf.write_table(tmp_path / "enterprises.csv", header, rows, encoding="gbk", title="企业名录"))
    return table


BUREAU_HEADER = ["企业名称", "统一社会信用代码", "企业类型", "所属行业", "注册地址", "用工需求（人）", "利益联结方式"]


def test_a_file_with_an_address_column_needs_no_region_code_column_and_a_row_needs_one_or_the_other(tmp_path):
    code = bf.credit_code("91433125MA4L00001")
    rows = [["保靖县甲合作社", code, "合作社", "茶叶", "保靖县迁陵镇新民村", 10, "就业务工"],
            ["保靖县乙合作社", bf.credit_code("91433125MA4L00002"), "合作社", "茶叶", "", 10, "就业务工"]]
    table = _enterprises(tmp_path, BUREAU_HEADER, rows)
    assert table.kind.name == "enterprises" and "region_code" not in table.frame.columns
    rejected, problems = validate(table, "enterprises.csv")
    assert list(rejected) == [4]
    assert [(p.row, p.column, p.value, p.severity, p.reason) for p in problems] == [
        (4, "注册地址", "", ERROR, "行政区划代码与地址均为空，无法定位 / neither region_code nor address given")]

    with pytest.raises(ReadError) as refused:
        check_required_columns(formats.ENTERPRISES, ["credit_code", "name", "enterprise_type"])
    assert str(refused.value) == "缺少必填列：行政区划代码（或地址） / required columns missing: 行政区划代码（或地址）"
    check_required_columns(formats.PROJECTS, ["project_id", "name", "address"])


def test_with_both_columns_a_row_with_a_code_keeps_it_and_a_row_with_neither_is_rejected(tmp_path):
    header = ["统一社会信用代码", "企业名称", "主体类型", "行政区划代码", "地址"]
    rows = [[bf.credit_code(f"91433125MA4L0000{n}"), f"企业{n}", "合作社", region, where]
            for n, (region, where) in enumerate([("433125101", "吉首市"), ("", "保靖县迁陵镇"), ("", ""),
                                                 ("4331251", "保靖县")], start=1)]
    table = _enterprises(tmp_path, header, rows)
    rejected, problems = validate(table, "enterprises.csv")
    assert list(rejected) == [5, 6]
    assert [(p.row, p.column, p.reason) for p in problems] == [
        (5, "行政区划代码", "行政区划代码与地址均为空，无法定位 / neither region_code nor address given"),
        (6, "行政区划代码", "行政区划代码应为 6、9 或 12 位数字 / region code must have 6, 9 or 12 digits")]
    valid = table.frame.drop(index=rejected)
    frame, sources, located = regions.locate_by_address(_known, "enterprises", valid, table, "enterprises.csv")
    assert frame["region_code"].tolist() == ["433125101", "433125101000"], "a code given is kept, not the address"
    assert sources.tolist() == [FROM_CODE, FROM_TOWNSHIP]
    assert [(p.row, p.column, p.value, p.severity) for p in located] == [(4, "地址", "保靖县迁陵镇", WARNING)]


def test_rows_located_from_their_address_and_those_that_cannot_be(tmp_path):
    rows = [[f"企业{n}", bf.credit_code(f"91433125MA4L0000{n}"), "合作社", "茶叶", where, 5, "就业务工"]
            for n, where in enumerate(["湖南省保靖县迁陵镇新民村", "湖南省长沙市", "保靖县碗米坡镇", "新民村"], start=1)]
    table = _enterprises(tmp_path, BUREAU_HEADER, rows)
    frame, sources, problems = regions.locate_by_address(_known, "enterprises", table.frame, table, "e.csv")
    assert frame.index.tolist() == [3, 5]
    assert frame["region_code"].tolist() == ["433125101201", "433125102000"]
    assert sources.to_dict() == {3: FROM_VILLAGE, 5: FROM_TOWNSHIP}
    assert [(p.row, p.column, p.value, p.severity, p.reason) for p in problems] == [
        (4, "注册地址", "湖南省长沙市", ERROR, address.NOT_A_COUNTY),
        (5, "注册地址", "保靖县碗米坡镇", WARNING,
         "地址只定位到乡镇（碗米坡镇）：地址中没有该乡镇已加载的村 / address located to its township only"),
        (6, "注册地址", "新民村", ERROR, address.NOT_A_COUNTY)]


def test_address_location_is_20000_addresses_in_a_few_seconds():
    import time

    addresses = pd.Series([f"湖南省湘西土家族苗族自治州保靖县迁陵镇新民村{n}号" for n in range(10_000)]
                          + [f"吉首市乾州街道{n}号" for n in range(10_000)])
    started = time.monotonic()
    located = address.locate(addresses, _known)
    assert time.monotonic() - started < 5
    assert located["source"].value_counts().to_dict() == {FROM_VILLAGE: 10_000, FROM_COUNTY: 10_000}
