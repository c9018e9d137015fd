"""Readable exports (labels not codes, frozen header, fitted widths, file names with place and day, RFC 5987
Content-Disposition) and the upload templates (the columns the ETL recognises; the example row it skips)."""
import io
from pathlib import Path
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from etl import formats
from etl.load import EXAMPLE_PREFIX, EXAMPLE_ROW_NOTE, without_example_rows
from etl.readers import open_tables
from etl.report import GROUPS_HEADER, REPORT_HEADER
from services import exports, uploads

LEDGER_ROW = {"partnership_id": "P-match-20261201-4331230000000022-376", "household_id": "4331230000000022",
              "head_name": "宋桂娟", "village_name": "坡坪村", "credit_code": "91433123MA4L000000",
              "enterprise_name": "凤凰县坡坪中药材扶贫车间有限责任公司", "mechanism": "04", "start_date": "2021-03-01",
              "end_date": None, "income_gain": 1200.0, "status": "01", "note": "=HYPERLINK(\"http://x\")"}
HOUSEHOLD_ROW = {"household_id": "4331230000000022", "head_name": "宋桂娟", "attribute": "02", "main_cause": "01",
                 "covered": True, "products": ["猕猴桃", "茶叶"], "income_per_capita": 5300.0}


def _sheet(download: exports.Download):
    return load_workbook(io.BytesIO(download.content)).active


def _rows(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_ledger_export_writes_labels_not_codes_and_no_internal_id():
    sheet = _sheet(exports.ledger_workbook([LEDGER_ROW], "凤凰县", "433123000000"))
    header, row = _rows(sheet)
    record = dict(zip(header, row))
    assert record["联结方式"] == "入股分红" and record["状态"] == "履约中"
    assert "联结编号" not in header and LEDGER_ROW["partnership_id"] not in row
    assert record["帮扶措施"] == LEDGER_ROW["note"]  # text, never a formula
    assert sheet["L2"].data_type == "s"
    assert all(title.isascii() is False for title in header)  # Chinese headers only


def test_household_export_writes_cause_and_attribute_labels():
    header, row = _rows(_sheet(exports.households_workbook([HOUSEHOLD_ROW], "凤凰县", "433123000000")))
    record = dict(zip(header, row))
    assert record["主要致贫原因"] == "因病" and record["贫困户属性"] not in ("02", None)
    assert record["已有履约联结"] == "是" and record["主要产业（产品）"] == "猕猴桃、茶叶"


def test_unknown_codes_stay_as_written():
    header, row = _rows(_sheet(exports.ledger_workbook([{**LEDGER_ROW, "mechanism": "99"}])))
    assert dict(zip(header, row))["联结方式"] == "99"


def test_the_header_row_is_frozen_and_columns_fit_their_content():
    sheet = _sheet(exports.ledger_workbook([LEDGER_ROW]))
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    widths = {title: sheet.column_dimensions[chr(ord("A") + index)].width for index, title in enumerate(header)}
    # The enterprise's 19 CJK characters need about 38 columns; a date about 10; nothing beyond the cap.
    assert widths["企业名称"] >= exports.display_width(LEDGER_ROW["enterprise_name"])
    assert widths["开始日期"] >= 10 and widths["开始日期"] < widths["企业名称"]
    assert all(exports.MIN_WIDTH <= width <= exports.MAX_WIDTH for width in widths.values())
    long = _sheet(exports.ledger_workbook([{**LEDGER_ROW, "note": "很长的措施" * 50}]))
    assert long.column_dimensions["L"].width == exports.MAX_WIDTH


def test_file_names_carry_what_where_and_the_day_with_an_ascii_fallback():
    download = exports.ledger_workbook([LEDGER_ROW], "凤凰县", "433123000000")
    day = download.filename.removesuffix(".xlsx")[-10:]
    assert download.filename == f"帮扶台账-凤凰县-{day}.xlsx"
    assert download.ascii_filename == f"ledger-433123000000-{day}.xlsx"
    assert exports.households_workbook([]).filename.startswith("贫困户-全部-")
    name, _ = exports.export_filename("预警", "坡/坪:镇", "warning", "433123100000", "2026-12-01")
    assert name == "预警-坡坪镇-2026-12-01.xlsx"


def test_content_disposition_has_rfc5987_filename_and_an_ascii_fallback():
    from app.downloads import content_disposition

    header = content_disposition("帮扶台账-凤凰县-2026-12-01.xlsx", "ledger-433123000000-2026-12-01.xlsx")
    assert header.startswith('attachment; filename="ledger-433123000000-2026-12-01.xlsx"; ')
    encoded = header.split("filename*=UTF-8''", 1)[1]
    assert encoded.isascii() and unquote(encoded) == "帮扶台账-凤凰县-2026-12-01.xlsx"
    assert 'filename="download.csv"' in content_disposition("校验报告.csv")  # no ASCII left: a plain name


def test_the_report_headers_are_chinese_only():
    assert all(not any(char.isascii() and char.isalpha() for char in title) for title in REPORT_HEADER + GROUPS_HEADER)


@pytest.mark.parametrize("kind_name", formats.LOAD_ORDER)
def test_a_template_has_the_columns_the_etl_reads_and_an_example_row_it_skips(kind_name, tmp_path):
    download = uploads.template(kind_name)
    assert download.filename.startswith(f"上传模板-{formats.KINDS[kind_name].title}")
    path = tmp_path / download.ascii_filename
    path.write_bytes(download.content)
    header = [cell.value for cell in load_workbook(path).active[1]]
    assert header == [column.header for column in formats.KINDS[kind_name].columns]
    (source,) = open_tables(path)
    assert source.kind.name == kind_name  # recognised from its header
    assert [use.field for use in source.column_uses] == [column.name for column in formats.KINDS[kind_name].columns]
    table = next(source.raw_chunks(100)).table()
    assert len(table.frame) == 1
    kept, problems = without_example_rows(table, path.name)
    assert kept.frame.empty and [(p.row, p.severity, p.reason) for p in problems] == [(2, "信息", EXAMPLE_ROW_NOTE)]


def test_only_rows_marked_as_examples_are_skipped(tmp_path):
    from etl.readers import table_from_rows

    table = table_from_rows(Path("x.csv"), None, [
        ["户编号", "户主姓名", "主要致贫原因", "家庭人口数", "行政区划代码"],
        ["示例0001", "张三", "因病", "3", "433123100201"],
        ["4331230000000001", "示例村民", "因病", "3", "433123100201"],  # 示例 in a name: a real row
    ])
    kept, problems = without_example_rows(table, "x.csv")
    assert list(kept.frame["household_id"]) == ["4331230000000001"] and len(problems) == 1
    assert uploads.EXAMPLE_PREFIX == EXAMPLE_PREFIX


def test_unreadable_files_are_refused_with_a_chinese_reason(tmp_path):
    from services.errors import Invalid

    picture = tmp_path / "upload.xlsx"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    binary = tmp_path / "upload.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    for path, suffix, words in ((picture, ".xlsx", "不是有效的 XLSX 工作簿"), (empty, ".csv", "空的"),
                                (binary, ".csv", "不是文本格式")):
        with pytest.raises(Invalid) as refused:
            uploads.check_readable(path, suffix)
        assert words in refused.value.message and refused.value.code == "unreadable_file"
    good = tmp_path / "good.csv"
    good.write_text("户编号,户主姓名\n1,张三\n", encoding="utf-8-sig")
    uploads.check_readable(good, ".csv")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes("户编号\n1\n".encode("utf-16"))
    uploads.check_readable(utf16, ".csv")
