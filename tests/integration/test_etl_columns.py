"""Real bureau files: every column accounted for (read as a field, or not loaded with a warning saying why),
and the spellings of the registry's and the bureaus' own exports (issue 16)."""
import csv


from cli.etl_commands import summary_lines
from etl.load import COLUMN_DUPLICATE, COLUMN_IGNORED, COLUMN_PERSONAL, load_files
from etl.validate import WARNING
from tests.support import bureau_files as bf


def _load(graph_db, settings, *paths):
    return load_files(list(paths), graph_db, settings, progress=False)


def _report(result):
    with open(result.report_path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_household_export_heading_the_head_id_number_证件号码_checks_and_hashes_it(graph_db, test_settings, tmp_path):
    header = [("证件号码" if text == "户主证件号码" else "户主" if text == "户主姓名" else text)
              for text in bf.HOUSEHOLD_HEADER] + ["与村主干路距离（公里）"]
    rows = [bf.household_row(n) + ["1.5"] for n in range(1, 7)]
    good = rows[0][2]
    rows[1][2] = good[:-1] + ("0" if good[-1] != "0" else "1")  # check digit
    rows[2][2] = good[:17]  # length
    rows[3][2] = good[:10] + "1340" + good[14:]  # birth date (month 13)
    path = bf.write_table(tmp_path / "hh.csv", header, rows, encoding="gbk", title="凤凰县脱贫户信息")
    result = _load(graph_db, test_settings, path)
    [file] = result.files
    assert (file.rows_read, file.rows_loaded, file.rows_rejected) == (6, 3, 3)
    rejected = sorted({(p.row, p.column) for p in result.problems if p.severity == "错误"})
    assert rejected == [(4, "证件号码"), (5, "证件号码"), (6, "证件号码")]
    records, _, _ = graph_db.execute_query(
        "MATCH (h:Household) RETURN h.head_id_hash AS hash, h.road_distance_km AS road ORDER BY h.household_id")
    assert [len(record["hash"]) for record in records] == [64, 64, 64], "the ID number is kept as its keyed hash"
    assert {record["road"] for record in records} == {1.5}
    assert {column["header"]: column["field"] for column in file.columns}["证件号码"] == "head_id_number"
    assert all(column["field"] for column in file.columns), "every column of this export is read"


def test_columns_the_etl_does_not_know_are_named_with_a_warning_and_personal_ones_never_stored(
        graph_db, test_settings, tmp_path):
    header = bf.ENTERPRISE_HEADER + ["注册资本（万元）", "负责人身份证", "备用电话", "联结方式"]
    rows = [bf.enterprise_row(n) + [40, bf.id_number("43312319800101001"), "13912345678", "订单收购"]
            for n in range(1, 4)]
    path = bf.write_table(tmp_path / "enterprises.xlsx", header, rows)
    result = _load(graph_db, test_settings, path)
    [file] = result.files
    assert (file.rows_read, file.rows_loaded, file.rows_rejected) == (3, 3, 0)
    ignored = {column["header"]: column["note"] for column in file.columns if column["field"] is None}
    assert ignored == {"注册资本（万元）": COLUMN_IGNORED, "负责人身份证": COLUMN_PERSONAL, "备用电话": COLUMN_PERSONAL,
                       "联结方式": COLUMN_DUPLICATE}
    assert len(file.columns) == len(header), "every column is accounted for"
    warnings = {(p.row, p.column, p.reason) for p in result.problems if p.severity == WARNING and p.row == 1}
    assert warnings == {(1, header_text, reason) for header_text, reason in ignored.items()}
    report = _report(result)
    read_lines = [line for line in report if line["级别"] == "信息"]
    assert [line["列"] for line in read_lines] == bf.ENTERPRISE_HEADER
    assert read_lines[0]["原因"].startswith("读作 统一社会信用代码（credit_code）")
    stored, _, _ = graph_db.execute_query("MATCH (e:Enterprise) RETURN properties(e) AS props")
    text = repr([record["props"] for record in stored])
    assert "13912345678" not in text and "43312319800101001" not in text
    summary = "\n".join(summary_lines(result))
    assert "注册资本（万元） → 未加载（未识别的列，未加载）" in summary and "企业名称 → 企业名称" in summary


def test_a_leading_enterprise_without_its_level_and_所属行业_load_with_a_warning(graph_db, test_settings, tmp_path):
    header = [("企业类型" if text == "主体类型" else "所属行业" if text == "所属产业" else text)
              for text in bf.ENTERPRISE_HEADER]
    rows = [bf.enterprise_row(n) for n in range(1, 3)]
    rows[0][2] = "龙头企业"
    path = bf.write_table(tmp_path / "enterprises.csv", header, rows)
    result = _load(graph_db, test_settings, path)
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected) for f in result.files] == [(2, 2, 0)]
    # (no township is loaded: both sit at their county, with that warning)
    assert [(p.row, p.column, p.severity) for p in result.problems] == [
        (2, "企业类型", WARNING), (2, "行政区划代码", WARNING), (3, "行政区划代码", WARNING)]
    assert "未注明级别" in result.problems[0].reason
    records, _, _ = graph_db.execute_query(
        "MATCH (e:Enterprise) RETURN e.enterprise_type AS type, e.industry_codes AS industries ORDER BY e.name")
    assert [record["type"] for record in records] == ["04", "05"]
    assert all(record["industries"] == ["kiwi"] for record in records)


def test_可带动户数_is_read_and_shared_among_the_mechanisms_listed_without_an_amount(graph_db, test_settings, tmp_path):
    header = ["统一社会信用代码", "企业名称", "企业类型", "行政区划代码", "所属行业", "用工需求（人）", "可带动户数",
              "利益联结方式"]
    rows = [[bf.credit_code("91433123MA4L00001"), "甲合作社", "合作社", bf.COUNTY, "猕猴桃", 6, 20,
             "就业务工、订单收购、入股分红"],
            [bf.credit_code("91433123MA4L00002"), "乙家庭农场", "家庭农场", bf.COUNTY, "猕猴桃", "", 5, "土地流转"]]
    path = bf.write_table(tmp_path / "enterprises.csv", header, rows, encoding="gbk", title="凤凰县经营主体名录")
    result = _load(graph_db, test_settings, path)
    [file] = result.files
    assert (file.rows_read, file.rows_loaded, file.rows_rejected) == (2, 2, 0)
    assert {column["header"]: column["field"] for column in file.columns}["可带动户数"] == "households_capacity"
    records, _, _ = graph_db.execute_query(
        "MATCH (e:Enterprise) RETURN e.households_capacity AS total, e.jobs_offered AS jobs, "
        "e.contract_households AS contract, e.equity_households AS equity, e.land_wanted_mu AS land ORDER BY total DESC")
    # 20 households: 6 jobs stated, 14 shared by contract purchase (7) and equity (7); 5 households of 3 亩 each.
    assert [record.data() for record in records] == [
        {"total": 20, "jobs": 6, "contract": 7, "equity": 7, "land": None},
        {"total": 5, "jobs": None, "contract": None, "equity": None, "land": 15.0}]


def test_monitoring_and_housing_fields_of_a_registry_export_are_stored(graph_db, test_settings, tmp_path):
    header = [*bf.HOUSEHOLD_HEADER, "户类型", "监测对象类别", "风险类型", "纳入监测时间", "风险是否消除", "住房安全是否有保障",
              "是否通生活用电", "饮水是否安全"]
    rows = [[*bf.household_row(1), "脱贫户", "突发严重困难户", "因病、因灾", "2023-05-06", "否", "是", "是", "否"],
            [*bf.household_row(2), "脱贫户", "", "", "", "", "是", "是", "是"]]
    path = bf.write_table(tmp_path / "hh.xlsx", header, rows, title="防返贫监测信息")
    result = _load(graph_db, test_settings, path)
    [file] = result.files
    assert (file.rows_read, file.rows_loaded, file.rows_rejected) == (2, 2, 0)
    assert all(column["field"] for column in file.columns), "every column of this export is read"
    records, _, _ = graph_db.execute_query(
        "MATCH (h:Household) RETURN h.monitoring_category AS category, h.risk_causes AS risks, "
        "h.monitoring_since AS since, h.risk_removed AS removed, h.housing_secure AS housing, "
        "h.electricity AS power, h.drinking_water_safe AS water ORDER BY h.household_id")
    assert [record.data() for record in records] == [
        {"category": "03", "risks": ["01", "02"], "since": "2023-05-06", "removed": False, "housing": True,
         "power": True, "water": False},
        {"category": None, "risks": [], "since": None, "removed": None, "housing": True, "power": True,
         "water": True}]


def test_a_monitoring_export_without_causes_of_poverty_loads_as_households(graph_db, test_settings, tmp_path):
    from graph import readstate

    header = ["序号", "户编号", "户主", "证件号码", "行政区划代码", "户类型", "监测对象类别", "风险类型", "纳入监测时间",
              "家庭人口数", "人均纯收入（元）"]
    rows = [["1", bf.household_id(1), "王五", bf.id_number("43312319800101001"), bf.VILLAGE, "普通农户", "边缘易致贫户",
             "因病、因务工就业不稳", "2022-05-06", 4, 5200],
            ["2", bf.household_id(2), "赵六", bf.id_number("43312319800101002"), bf.VILLAGE, "脱贫户", "突发严重困难户",
             "因灾", "2023-07-01", 3, 3100],
            ["3", bf.household_id(3), "钱七", bf.id_number("43312319800101003"), bf.VILLAGE, "普通农户", "", "", "", 2,
             8000]]
    path = bf.write_table(tmp_path / "monitoring.xlsx", header, rows, title="防止返贫监测对象信息")
    result = _load(graph_db, test_settings, path)
    [file] = result.files
    assert (file.kind, file.rows_read, file.rows_loaded, file.rows_rejected) == ("households", 3, 2, 1)
    assert [(p.row, p.column, p.severity, p.reason) for p in result.problems if p.severity == "错误"] == [
        (5, "监测对象类别", "错误", "主要致贫原因与监测对象类别均为空，至少应填写一项 / neither main_cause nor "
                                     "monitoring_category given")]
    assert not [p for p in result.problems if p.severity == WARNING], "every column read (序号 as row numbers)"
    records, _, _ = graph_db.execute_query(
        "MATCH (h:Household) RETURN h.household_id AS id, h.main_cause AS cause, h.monitoring_category AS category, "
        "h.risk_causes AS risks, h.household_type AS type ORDER BY id")
    assert [record.data() for record in records] == [
        {"id": bf.household_id(1), "cause": None, "category": "02", "risks": ["01", "07"], "type": "02"},
        {"id": bf.household_id(2), "cause": None, "category": "03", "risks": ["02"], "type": "01"}]
    assert readstate.check(graph_db, [bf.COUNTY], database=test_settings.neo4j_database) == [], "read state as recomputed"


def test_total_and_sign_off_lines_below_the_table_are_no_records_and_said_so(graph_db, test_settings, tmp_path):
    from etl.load import SUMMARY_ROW_NOTE
    from etl.validate import INFO

    rows = [bf.household_row(1), bf.household_row(2),
            ["合计", "", "", "", "", "", "", "", "", "", 6, 6400, "5", "2", "", ""],
            ["填表人：李四", "", "", "", "", "", "", "", "审核人：王五", "", "", "", "", "", "", ""],
            ["", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
            ["", "", "", "", "", "", "", "", "因病", "", "", "", "", "", "", ""]]
    path = bf.write_table(tmp_path / "hh.xlsx", bf.HOUSEHOLD_HEADER, rows, title="凤凰县脱贫户信息")
    result = _load(graph_db, test_settings, path)
    [file] = result.files
    # The keyless row that is no total (row 8) is a record with its key missing: rejected.
    assert (file.rows_read, file.rows_loaded, file.rows_rejected, file.warnings) == (3, 2, 1, 0)
    assert [(p.row, p.severity, p.reason) for p in result.problems if p.severity == INFO] == [
        (5, INFO, SUMMARY_ROW_NOTE), (6, INFO, SUMMARY_ROW_NOTE)]
    assert {p.row for p in result.problems if p.severity == "错误"} == {8}
    report = _report(result)
    assert [line["行号"] for line in report if line["原因"] == SUMMARY_ROW_NOTE] == ["5", "6"]
