"""The ETL's file handling without a database: kinds recognised from headers, every bad row found by
validation, identifier checks, and the county scope of an upload.

(Loading into Neo4j — the same files end to end — is tested in tests/integration/test_etl*.py.)"""
import pandas as pd
import pytest

from etl.load import county_scope
from etl.readers import open_tables, read_file
from etl.validate import ERROR, validate
from etl.values import credit_check_char_ok, id_check_digit_ok, mask_name
from tests.support import bureau_files as bf


def test_kind_is_recognised_from_the_header(tmp_path):
    kinds = {
        "a.csv": (bf.HOUSEHOLD_HEADER, "households"), "b.csv": (bf.MEMBER_HEADER, "members"),
        "c.csv": (bf.ENTERPRISE_HEADER, "enterprises"), "d.csv": (bf.PARTNERSHIP_HEADER, "partnerships"),
        "e.csv": (["行政区划代码", "行政村", "乡镇", "经度", "纬度"], "villages"),
        "f.csv": (["项目编号", "项目名称", "行政区划代码", "资金来源", "资金规模（万元）"], "projects"),
    }
    for name, (header, kind) in kinds.items():
        bf.write_table(tmp_path / name, header, [])
        assert read_file(tmp_path / name)[0].kind.name == kind


def test_validation_rejects_every_bad_row_of_a_messy_gbk_file(tmp_path):
    rows = [bf.household_row(n) for n in range(1, 4)]
    rows.append(bf.household_row(4, cause="因懒"))                 # unknown code
    rows.append(bf.household_row(5, arable="两亩"))                 # not a number
    rows.append(bf.household_row(6, village="433123101"))          # not a village code
    rows.append(bf.household_row(7, village="999999101201"))       # unknown county
    rows.append(bf.household_row(1))                               # duplicate key
    missing = bf.household_row(9)
    missing[8] = ""
    rows.append(missing)                                            # required value missing
    bad_id = bf.household_row(10)
    bad_id[2] = bad_id[2][:-1] + ("0" if bad_id[2][-1] != "0" else "1")
    rows.append(bad_id)                                             # ID check digit wrong
    path = bf.write_table(tmp_path / "凤凰县贫困户.csv", bf.HOUSEHOLD_HEADER, rows, encoding="gbk",
                          title="凤凰县2020年建档立卡贫困户花名册")
    [table] = read_file(path)
    assert table.kind.name == "households" and table.encoding in ("gbk", "gb18030")
    assert table.frame.index[0] == 3, "row numbers as in the file: title row 1, header row 2"
    rejected, problems = validate(table, path.name)
    assert list(rejected) == list(range(6, 13))
    errors = {(problem.row, problem.column) for problem in problems if problem.severity == ERROR}
    assert errors == {(6, "主要致贫原因"), (7, "耕地面积（亩）"), (8, "行政区划代码"), (9, "行政区划代码"),
                      (10, "户编号"), (11, "主要致贫原因"), (12, "户主证件号码")}
    assert all("/" in problem.reason for problem in problems), "Chinese reason with English beside it"
    assert bad_id[2] not in repr(problems), "raw ID numbers never reach the report"


def test_identifier_check_characters():
    good = bf.id_number("43312319850101001")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert id_check_digit_ok(pd.Series([good, good.lower(), wrong, "4331231985"])).tolist() == [True, True, False, False]
    codes = pd.Series([bf.credit_code("91433123MA4L00001"), "91350211M0000XUF46", "91433123MA4L0000IO"])
    assert credit_check_char_ok(codes).tolist() == [True, False, False]
    assert mask_name(pd.Series(["张三丰", "李四", "欧阳小明"])).tolist() == ["张*丰", "李*", "欧*明"]


def test_county_scope_pads_known_counties_and_refuses_anything_else():
    assert county_scope(None) is None, "no scope: every county"
    assert county_scope(["433123", "433124000000"]) == {"433123000000", "433124000000"}
    assert county_scope("433123") == {"433123000000"}
    assert county_scope([]) == frozenset(), "an empty scope allows nothing"
    for wrong in (["433100000000"], ["433123101201"], ["4331"], ["999999"], ["43312x"]):
        with pytest.raises(ValueError, match="county"):
            county_scope(wrong)


@pytest.mark.parametrize("name", ["hh.csv", "hh.xlsx"])
def test_a_table_is_read_in_chunks_with_the_row_numbers_of_the_file(tmp_path, name):
    rows = [bf.household_row(n) for n in range(1, 13)]
    rows.insert(4, [""] * len(bf.HOUSEHOLD_HEADER))  # a blank line (file row 7) is dropped, not renumbered
    path = bf.write_table(tmp_path / name, bf.HOUSEHOLD_HEADER, rows, title="凤凰县贫困户花名册")
    [source] = open_tables(path)
    chunks = list(source.chunks(5))
    assert [list(chunk.frame.index) for chunk in chunks] == [[3, 4, 5, 6], [8, 9, 10, 11, 12], [13, 14, 15]]
    assert pd.concat([chunk.frame for chunk in chunks]).equals(read_file(path)[0].frame)
    assert list(chunks[2].frame["household_id"]) == [bf.household_id(n) for n in (10, 11, 12)]


def test_the_encoding_is_found_over_the_whole_file_block_by_block(tmp_path, monkeypatch):
    import etl.readers

    rows = [bf.household_row(n) for n in range(1, 40)]
    rows[-1][1] = "龍鳳"  # GBK bytes only near the end: the first blocks alone are valid UTF-8
    path = bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, rows, encoding="gbk")
    monkeypatch.setattr(etl.readers, "DECODE_BLOCK", 7)  # blocks that cut characters in two
    [table] = read_file(path)
    assert table.encoding == "gb18030" and table.frame["head_name"].iloc[-1] == "龍鳳"
    utf8 = bf.write_table(tmp_path / "utf8.csv", bf.HOUSEHOLD_HEADER, rows, encoding="utf-8-sig")
    assert read_file(utf8)[0].encoding == "utf-8-sig" and read_file(utf8)[0].frame["head_name"].iloc[-1] == "龍鳳"


def test_lists_split_in_arrow_as_pythons_pattern_splits_them():
    import re

    import pandas as pd

    from etl import values

    cells = ["因病、因残", " 因病 ,因残 ", "", None, "猕猴桃\u3000茶叶", "a;b；c/d|e", "、、a、", "x\xa0y", "one",
             "a\tb\nc", "a\x0bb", "茶叶，，猕猴桃"]
    expected = [[item for item in re.split(values.LIST_SEPARATORS, cell or "") if item] for cell in cells]
    assert values.split_list(pd.Series(cells, dtype="string")).tolist() == expected
