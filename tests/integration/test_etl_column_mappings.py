"""Column mappings (issue 16): a header the ETL does not recognise, mapped once by a county's bureau staff, is
read as that field in the county's later loads — and said so in the result and the report — while every other
county's loads and every declared spelling are left as they were."""
import csv

import pytest

from etl.load import COLUMN_IGNORED, COLUMN_MAPPED, load_files
from services import column_mappings
from services.context import Context
from services.errors import Forbidden, Invalid, NotFound
from services.principal import Principal
from tests.support import bureau_files as bf

COUNTY = bf.COUNTY
BUREAU = Principal("t-bureau", "凤凰县商务局", "bureau", county_code=COUNTY)
OTHER_BUREAU = Principal("t-other", "花垣县商务局", "bureau", county_code=bf.OTHER_COUNTY)
ADMIN = Principal("t-admin", "管理员", "admin")
HEADER = ["统一社会信用代码", "企业名称", "主体类型", "行政区划代码", "联结方式", "带动农户数量"]


def _directory(tmp_path):
    rows = [[bf.credit_code(f"91433123MA4L0000{n}"), f"第{n}合作社", "合作社", COUNTY, "订单收购、入股分红", 10 * n]
            for n in (1, 2)]
    return bf.write_table(tmp_path / "名录.csv", HEADER, rows, encoding="gbk", title="凤凰县经营主体名录")


def _load(graph_db, settings, path, counties=(COUNTY,)):
    return load_files([path], graph_db, settings, progress=False, allowed_counties=set(counties))


def _capacities(graph_db):
    records, _, _ = graph_db.execute_query(
        "MATCH (e:Enterprise) RETURN e.households_capacity AS total, e.contract_households AS contract, "
        "e.equity_households AS equity ORDER BY e.credit_code")
    return [tuple(record.values()) for record in records]


def test_a_saved_mapping_reads_the_column_in_the_countys_later_loads(graph_db, test_settings, tmp_path):
    ctx = Context(graph_db, test_settings)
    path = _directory(tmp_path)
    first = _load(graph_db, test_settings, path)
    assert {c["header"]: c["note"] for c in first.files[0].columns if c["field"] is None} == {"带动农户数量": COLUMN_IGNORED}
    assert _capacities(graph_db) == [(None, None, None), (None, None, None)]

    saved = column_mappings.save_mapping(ctx, BUREAU, "enterprises", " 带动农户数量 ", "households_capacity")
    assert (saved["county_code"], saved["header"], saved["field"], saved["created_by"]) == (
        COUNTY, "带动农户数量", "households_capacity", "bureau:t-bureau")
    assert [m["mapping_id"] for m in column_mappings.list_mappings(ctx, BUREAU)] == [saved["mapping_id"]]

    # The same bytes again: not skipped as unchanged, since the mapping changes what loading them writes.
    again = _load(graph_db, test_settings, path)
    [file] = again.files
    assert not file.skipped and (file.rows_read, file.rows_loaded, file.rows_rejected) == (2, 2, 0)
    assert {c["header"]: (c["field"], c["note"]) for c in file.columns}["带动农户数量"] == (
        "households_capacity", COLUMN_MAPPED)
    assert not [p for p in again.problems if p.row == 1], "no column is left unread"
    assert _capacities(graph_db) == [(10, 5, 5), (20, 10, 10)]
    with open(again.report_path, encoding="utf-8-sig", newline="") as handle:
        lines = [line for line in csv.DictReader(handle) if line["列"] == "带动农户数量"]
    assert [line["原因"] for line in lines] == [
        "读作 可带动户数（households_capacity）/ read as households_capacity；" + COLUMN_MAPPED]

    # Another county's loads (and a load of every county) do not use this county's mapping.
    other_path = bf.write_table(tmp_path / "other.csv", HEADER, [[bf.credit_code("91433124MA4L00009"), "花垣社",
                                                                  "合作社", bf.OTHER_COUNTY, "订单收购", 30]])
    for counties in ((bf.OTHER_COUNTY,), ()):
        result = load_files([other_path], graph_db, test_settings, progress=False,
                            allowed_counties=set(counties) or None)
        assert {c["header"]: c["field"] for c in result.files[0].columns}["带动农户数量"] is None

    column_mappings.delete_mapping(ctx, BUREAU, saved["mapping_id"])
    assert column_mappings.list_mappings(ctx, BUREAU) == []
    with pytest.raises(NotFound):
        column_mappings.delete_mapping(ctx, BUREAU, saved["mapping_id"])


def test_a_mapping_for_a_header_that_names_a_signature_field_lets_the_file_be_recognised(
        graph_db, test_settings, tmp_path):
    ctx = Context(graph_db, test_settings)
    header = ["户号" if text == "户编号" else text for text in bf.HOUSEHOLD_HEADER]
    path = bf.write_table(tmp_path / "hh.csv", header, [bf.household_row(1), bf.household_row(2)])
    refused = _load(graph_db, test_settings, path)
    assert refused.files[0].error.startswith("表头像“贫困户信息”，但缺少识别所需的列：户编号"), "not loaded as villages"
    column_mappings.save_mapping(ctx, BUREAU, "households", "户号", "household_id")
    result = _load(graph_db, test_settings, path)
    assert [(f.kind, f.rows_read, f.rows_loaded) for f in result.files] == [("households", 2, 2)]
    records, _, _ = graph_db.execute_query("MATCH (h:Household) RETURN h.household_id AS id ORDER BY id")
    assert [record["id"] for record in records] == [bf.household_id(1), bf.household_id(2)]


def test_what_may_be_mapped_and_by_whom(graph_db, test_settings):
    ctx = Context(graph_db, test_settings)
    with pytest.raises(Invalid, match="已能识别为 企业名称"):
        column_mappings.save_mapping(ctx, BUREAU, "enterprises", "企业名称", "address")
    with pytest.raises(Invalid, match="没有字段"):
        column_mappings.save_mapping(ctx, BUREAU, "enterprises", "带动农户数量", "head_id_number")
    with pytest.raises(Invalid, match="未知的文件类型"):
        column_mappings.save_mapping(ctx, BUREAU, "Household", "带动农户数量", "households_capacity")
    with pytest.raises(Invalid, match="列名应为"):
        column_mappings.save_mapping(ctx, BUREAU, "enterprises", "  ", "households_capacity")
    with pytest.raises(Forbidden):
        column_mappings.save_mapping(ctx, BUREAU, "enterprises", "带动农户数量", "households_capacity", bf.OTHER_COUNTY)
    with pytest.raises(Invalid, match="请指定"):
        column_mappings.save_mapping(ctx, ADMIN, "enterprises", "带动农户数量", "households_capacity")
    saved = column_mappings.save_mapping(ctx, ADMIN, "enterprises", "带动农户数量", "households_capacity", COUNTY)
    assert saved["county_code"] == COUNTY and saved["created_by"] == "admin:t-admin"
    assert column_mappings.list_mappings(ctx, OTHER_BUREAU) == [], "one county's mappings are not another's"
    with pytest.raises(NotFound):
        column_mappings.delete_mapping(ctx, OTHER_BUREAU, saved["mapping_id"])
    with pytest.raises(Forbidden):
        column_mappings.save_mapping(ctx, Principal("t-e", "企业", "enterprise", credit_code="X"), "enterprises",
                                     "带动农户数量", "households_capacity")
