"""The registry's monitoring, housing and utility fields and the enterprise directories' 可带动户数, read from
the headers real exports use, and what 可带动户数 gives the mechanisms an enterprise lists without an amount.

(Loaded end to end: tests/integration/test_etl_columns.py.)"""
import pandas as pd
import pytest

from etl import formats
from etl.readers import open_tables, read_file
from etl.validate import ERROR, STORED_AS_NUMBER, validate
from etl.transform import transform
from tests.support import bureau_files as bf

MONITORING_AND_HOUSING = {
    "监测对象类型": "monitoring_category", "致贫返贫风险": "risk_causes", "纳入监测时间": "monitoring_since",
    "风险是否消除": "risk_removed", "风险消除时间": "risk_removed_date", "住房安全是否有保障": "housing_secure",
    "住房面积（平方米）": "housing_area_m2", "是否通生活用电": "electricity", "饮水是否困难": "drinking_water_difficult",
    "饮水是否安全": "drinking_water_safe", "是否有卫生厕所": "sanitary_toilet",
}


def test_monitoring_housing_and_utility_headers_are_read_as_household_fields(tmp_path):
    header = [*bf.HOUSEHOLD_HEADER, *MONITORING_AND_HOUSING]
    row = [*bf.household_row(1), "边缘户", "因病、因务工就业不稳", "2022-03-15", "否", "", "是", "86.5", "是", "否", "是", "否"]
    bf.write_table(tmp_path / "hh.csv", header, [row])
    table = read_file(tmp_path / "hh.csv")[0]
    read_as = {use.header: use.field for use in open_tables(tmp_path / "hh.csv")[0].column_uses}
    assert table.kind.name == "households"
    assert {table.headers[field]: field for field in MONITORING_AND_HOUSING.values()} == MONITORING_AND_HOUSING
    assert {header: read_as[header] for header in MONITORING_AND_HOUSING} == MONITORING_AND_HOUSING
    typed = transform(formats.HOUSEHOLDS, table.frame, b"key").iloc[0]
    assert typed["monitoring_category"] == "02"
    assert typed["risk_causes"] == ["01", "07"]
    assert typed["monitoring_since"] == "2022-03-15"
    assert (typed["risk_removed"], typed["housing_secure"], typed["electricity"]) == (False, True, True)
    assert (typed["drinking_water_difficult"], typed["drinking_water_safe"], typed["sanitary_toilet"]) == (False, True, False)
    assert typed["housing_area_m2"] == 86.5 and pd.isna(typed["risk_removed_date"])


def _enterprises(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, index=range(2, 2 + len(rows)), dtype=object)
    for name, value in {"credit_code": "91433125MA4L00001X", "name": "企业", "enterprise_type": "05",
                        "region_code": "433125"}.items():
        frame[name] = value
    return frame


def test_households_capacity_is_shared_among_mechanisms_listed_without_their_own_amount():
    frame = _enterprises([
        # 12 households: employment states 5 jobs, so contract purchase and equity share 7 (4 + 3).
        {"mechanisms": "就业务工、订单收购、入股分红", "jobs_offered": "5", "households_capacity": "12"},
        # Land lease alone: 7 households of 3 亩 each.
        {"mechanisms": "土地流转", "households_capacity": "7"},
        # Every mechanism states its own amount: the figure changes nothing.
        {"mechanisms": "订单收购", "contract_households": "9", "households_capacity": "2"},
        # Stated amounts already use more than the figure: nothing is left to share.
        {"mechanisms": "就业务工、电商销售", "jobs_offered": "20", "households_capacity": "10"},
        # No figure: nothing is invented.
        {"mechanisms": "入股分红"},
    ])
    out = transform(formats.ENTERPRISES, frame, b"key")
    amounts = out[["jobs_offered", "contract_households", "land_wanted_mu", "equity_households",
                   "ecommerce_households"]].astype(float).fillna(-1).to_numpy().tolist()
    assert amounts == [[5, 4, -1, 3, -1], [-1, -1, 21, -1, -1], [-1, 9, -1, -1, -1], [20, -1, -1, -1, 0],
                       [-1, -1, -1, -1, -1]]
    assert out["households_capacity"].astype(float).fillna(-1).tolist() == [12, 7, 2, 10, -1]


def test_directory_capacity_headers_name_one_field():
    column = formats.ENTERPRISES.column("households_capacity")
    assert {"可带动户数", "带动贫困户数"} <= set(column.spellings())


def _bad_id_rows(rows: list[list], column: int) -> list[list]:
    """rows[1:] made invalid in `column`: check digit, length, birth date (month 13)."""
    good = rows[0][column]
    rows[1][column] = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows[2][column] = good[:17]
    rows[3][column] = good[:10] + "1340" + good[14:]
    return rows


@pytest.mark.parametrize("spelling", formats.HOUSEHOLDS.column("head_id_number").spellings())
@pytest.mark.parametrize("shape", ["gbk-title.csv", "utf8.csv", "sheet.xlsx"])
def test_the_heads_id_number_is_checked_under_every_spelling_and_file_shape(tmp_path, spelling, shape):
    header = [spelling if text == "户主证件号码" else text for text in bf.HOUSEHOLD_HEADER]
    rows = _bad_id_rows([bf.household_row(n) for n in range(1, 5)], 2)
    encoding = "gbk" if shape.startswith("gbk") else "utf-8"
    title = "凤凰县脱贫户信息" if "title" in shape else None
    path = bf.write_table(tmp_path / f"hh-{shape}", header, rows, encoding=encoding, title=title)
    [table] = read_file(path)
    first = 3 if title else 2
    rejected, problems = validate(table, path.name)
    assert list(rejected) == [first + 1, first + 2, first + 3]
    assert sorted({(p.row, p.column) for p in problems if p.severity == ERROR}) == [
        (first + 1, spelling), (first + 2, spelling), (first + 3, spelling)]
    assert rows[1][2] not in repr(problems) and rows[0][2] not in repr(problems), "ID numbers never shown raw"


@pytest.mark.parametrize("spelling", formats.MEMBERS.column("id_number").spellings())
def test_a_members_id_number_is_checked_under_every_spelling(tmp_path, spelling):
    header = [spelling if text == "证件号码" else text for text in bf.MEMBER_HEADER]
    rows = _bad_id_rows([bf.member_row(1, position) for position in range(1, 5)], 3)
    path = bf.write_table(tmp_path / "members.xlsx", header, rows, title="家庭成员")
    [table] = read_file(path)
    assert table.kind.name == "members"
    rejected, problems = validate(table, path.name)
    assert list(rejected) == [4, 5, 6]
    assert sorted({(p.row, p.column) for p in problems if p.severity == ERROR}) == [(4, spelling), (5, spelling),
                                                                                  (6, spelling)]


def test_a_registry_household_export_is_read_whole_and_its_three_causes_joined(tmp_path):
    header = ["序号", "县(市、区、旗)", "乡(镇)", "行政村", "自然村", "户编号", "户主", "证件号码", "人数", "行政区划代码",
              "致贫原因1", "致贫原因2", "致贫原因3", "户联系电话", "易返贫致贫户(监测对象)类型", "风险识别时间",
              "是否解决安全饮用水"]
    row = ["1", "凤凰县", "廖家桥镇", "菖蒲塘村", "三组", "4331231012010001", "张三丰", bf.id_number("43312319800101001"),
           "4", bf.VILLAGE, "因病", "缺技术", "因病", "13800001234", "边缘易致贫户", "2022-04-01", "是"]
    bf.write_table(tmp_path / "export.csv", header, [row, row[:11] + ["", ""] + row[13:]])
    [source] = open_tables(tmp_path / "export.csv")
    assert source.kind.name == "households"
    read_as = {use.header: use.field for use in source.column_uses}
    assert read_as == {"序号": None, "县(市、区、旗)": "county", "乡(镇)": "township", "行政村": "village",
                       "自然村": "natural_village", "户编号": "household_id", "户主": "head_name",
                       "证件号码": "head_id_number", "人数": "household_size", "行政区划代码": "village_code",
                       "致贫原因1": "main_cause", "致贫原因2": "other_cause_2", "致贫原因3": "other_cause_3",
                       "户联系电话": "phone", "易返贫致贫户(监测对象)类型": "monitoring_category",
                       "风险识别时间": "monitoring_since", "是否解决安全饮用水": "drinking_water_safe"}
    typed = transform(formats.HOUSEHOLDS, source.whole().frame, b"key")
    assert typed["other_causes"].tolist() == [["07", "01"], []], "the main cause is kept apart; each cause once"
    assert typed["main_cause"].tolist() == ["01", "01"]
    assert (typed["monitoring_category"].iloc[0], typed["monitoring_since"].iloc[0]) == ("02", "2022-04-01")


def test_an_id_number_excel_kept_as_a_number_is_rejected_saying_so(tmp_path):
    import openpyxl

    rows = [bf.household_row(n) for n in range(1, 4)]
    path = tmp_path / "hh.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(bf.HOUSEHOLD_HEADER)
    for number, row in enumerate(rows):
        # the second row's ID number typed into a number cell (as Excel does when the column is not text)
        sheet.append([int(cell) if number == 1 and position == 2 else cell for position, cell in enumerate(row)])
    book.save(path)
    csv_path = bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER,
                              [rows[0], [*rows[1][:2], "4.33123E+17", *rows[1][3:]], rows[2]])
    for file in (path, csv_path):
        [table] = read_file(file)
        rejected, problems = validate(table, file.name)
        assert list(rejected) == [3]
        assert [(p.row, p.column, p.reason) for p in problems if p.severity == ERROR] == [
            (3, "户主证件号码", STORED_AS_NUMBER)]
