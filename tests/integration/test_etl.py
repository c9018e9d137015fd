"""ETL against the real Neo4j: formats and encodings, bad rows, idempotency, incremental loads.

(Reading and validating files without a database: tests/unit/test_etl_files.py.)"""
import csv

import pytest

from core.codes import HouseholdAttribute, LabourSkill, Mechanism, PartnershipStatus, PovertyCause
from etl.load import load_files
from graph.maintenance import graph_snapshot
from tests.support import bureau_files as bf


def _load(graph_db, settings, *paths, **options):
    return load_files(list(paths), graph_db, settings, progress=False, **options)


def _report_rows(result):
    with open(result.report_path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _households(graph_db):
    records, _, _ = graph_db.execute_query(
        "MATCH (h:Household)-[:LIVES_IN]->(v:Region) RETURN h {.*, village: v.code} AS h ORDER BY h.household_id")
    return [record["h"] for record in records]


@pytest.mark.parametrize("file_name, encoding", [
    ("hh.csv", "utf-8"), ("hh.csv", "utf-8-sig"), ("hh.csv", "gb18030"), ("hh.csv", "gbk"),
    ("hh.xlsx", None), ("hh.xls", None),
])
def test_every_encoding_and_format_loads_the_same_households(graph_db, test_settings, tmp_path, file_name, encoding):
    rows = [bf.household_row(n) for n in range(1, 6)]
    path = bf.write_table(tmp_path / file_name, bf.HOUSEHOLD_HEADER, rows, encoding=encoding or "utf-8",
                          title="凤凰县建档立卡贫困户信息（2020年）")
    result = _load(graph_db, test_settings, path)
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected) for f in result.files] == [(5, 5, 0)]
    households = _households(graph_db)
    assert [h["household_id"] for h in households] == [f"4331231012010{n:03d}" for n in range(1, 6)]
    first = households[0]
    assert first["main_cause"] == PovertyCause.ILLNESS and first["other_causes"] == [PovertyCause.LACK_OF_SKILLS]
    assert first["attribute"] == HouseholdAttribute.ORDINARY
    assert first["arable_mu"] == 2.5 and first["household_size"] == 3
    assert first["industry_codes"] == ["kiwi", "tea"]
    assert first["head_name_masked"] == "张*丰" and first["village"] == bf.VILLAGE


def test_headers_in_english_aliases_full_width_digits_and_stray_spaces(graph_db, test_settings, tmp_path):
    header = ["household_id", " head_name ", "village_code", "main_cause", "arable_mu", "attribute"]
    rows = [["４３３１２３１０１２０１０００１ ", " 王 五", " ４３３１２３１０１２０１", " 01", "３.５", "1"]]
    path = bf.write_table(tmp_path / "english.csv", header, rows)
    result = _load(graph_db, test_settings, path)
    assert result.files[0].rows_loaded == 1, _report_rows(result)
    household = _households(graph_db)[0]
    assert household["household_id"] == "4331231012010001"
    assert household["arable_mu"] == 3.5 and household["main_cause"] == PovertyCause.ILLNESS


def test_messy_gbk_file_loads_good_rows_and_reports_every_bad_one(graph_db, test_settings, tmp_path):
    rows = [bf.household_row(n) for n in range(1, 4)]
    rows.append(bf.household_row(4, cause="因懒"))                 # unknown code
    rows.append(bf.household_row(5, arable="两亩"))                 # not a number
    rows.append(bf.household_row(6, village="433123101"))          # not a village code
    rows.append(bf.household_row(7, village="999999101201"))       # unknown county
    duplicate = bf.household_row(1)
    rows.append(duplicate)                                          # duplicate key
    missing = bf.household_row(9)
    missing[8] = ""
    rows.append(missing)                                            # required value missing
    bad_id = bf.household_row(10)
    bad_id[2] = bad_id[2][:-1] + ("0" if bad_id[2][-1] != "0" else "1")
    rows.append(bad_id)                                             # ID check digit wrong
    rows.append(bf.household_row(11, products="猕猴桃、火龙果"))       # unknown product: warning only
    path = bf.write_table(tmp_path / "凤凰县贫困户.csv", bf.HOUSEHOLD_HEADER, rows, encoding="gbk",
                          title="凤凰县2020年建档立卡贫困户花名册")
    result = _load(graph_db, test_settings, path)
    file_result = result.files[0]
    assert file_result.rows_read == 11
    assert file_result.rows_loaded == 4
    assert file_result.rows_rejected == 7
    assert file_result.rows_read == file_result.rows_loaded + file_result.rows_rejected
    report = _report_rows(result)
    errors = {(int(r["行号"]), r["列"]) for r in report if r["级别"] == "错误"}
    # Row numbers as in the file: title row 1, header row 2, data from row 3.
    assert errors == {(6, "主要致贫原因"), (7, "耕地面积（亩）"), (8, "行政区划代码"), (9, "行政区划代码"),
                      (10, "户编号"), (11, "主要致贫原因"), (12, "户主证件号码")}
    warnings = [r for r in report if r["级别"] == "警告"]
    assert [(int(w["行号"]), w["值"]) for w in warnings] == [(13, "火龙果")]
    assert all(r["原因"] and "/" in r["原因"] for r in report), "Chinese reason with English beside it"
    assert bad_id[2] not in result.report_path.read_text(encoding="utf-8-sig"), "raw ID numbers never reach the report"
    assert len(_households(graph_db)) == 4


def test_members_bad_ids_and_unknown_households_are_rejected_and_ids_never_stored(graph_db, test_settings, tmp_path):
    households = bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(1)])
    good = bf.member_row(1, 1)
    short = bf.member_row(1, 2, id_override="43312319850201001")
    bad_birth = bf.member_row(1, 3, id_override=bf.id_number("43312319851340001"))
    orphan = bf.member_row(99, 1)
    weak = bf.member_row(1, 4, skill="弱劳动力或半劳动力", id_override=bf.id_number("43312319851001004"))
    members = bf.write_table(tmp_path / "members.xlsx", bf.MEMBER_HEADER, [good, short, bad_birth, orphan, weak])
    result = _load(graph_db, test_settings, members, households)  # order of arguments does not matter
    by_kind = {f.kind: f for f in result.files}
    assert (by_kind["members"].rows_read, by_kind["members"].rows_loaded, by_kind["members"].rows_rejected) == (5, 2, 3)
    reasons = {int(r["行号"]): r["原因"] for r in _report_rows(result)}
    assert "18" in reasons[3] and "出生日期" in reasons[4] and "household not found" in reasons[5]
    records, _, _ = graph_db.execute_query(
        "MATCH (m:Member)-[:MEMBER_OF]->(h:Household) RETURN m {.*} AS m ORDER BY m.member_id")
    stored = [record["m"] for record in records]
    assert [m["labour_skill"] for m in stored] == [LabourSkill.ORDINARY, LabourSkill.WEAK]
    for member in stored:
        assert good[3] not in str(member) and "id_number" not in member
        assert len(member["id_hash"]) == 64 and member["name_masked"] == "李*华"


def test_credit_codes_wrong_length_is_an_error_bad_check_char_a_warning(graph_db, test_settings, tmp_path):
    good = bf.enterprise_row(1)
    bad_check = bf.enterprise_row(2, code="91350211M0000XUF46")   # a real registered code that fails the check
    too_short = bf.enterprise_row(3, code="91433123MA4L0000")
    bad_alphabet = bf.enterprise_row(4, code="91433123MA4L0000IO")
    path = bf.write_table(tmp_path / "ent.csv", bf.ENTERPRISE_HEADER, [good, bad_check, too_short, bad_alphabet])
    result = _load(graph_db, test_settings, path)
    assert (result.files[0].rows_loaded, result.files[0].rows_rejected) == (2, 2)
    report = {(int(r["行号"]), r["级别"]) for r in _report_rows(result) if r["列"] == "统一社会信用代码"}
    assert report == {(1, "信息"), (3, "警告"), (4, "错误"), (5, "错误")}, "the header's line: the column read"
    records, _, _ = graph_db.execute_query(
        "MATCH (e:Enterprise)-[:LOCATED_IN]->(r:Region) RETURN e.credit_code AS code, e.credit_check_ok AS ok, "
        "e.mechanisms AS mechanisms, r.code AS region ORDER BY code")
    assert [(r["code"], r["ok"]) for r in records] == [("91350211M0000XUF46", False), (good[0], True)]
    assert records[1]["mechanisms"] == [Mechanism.EMPLOYMENT, Mechanism.CONTRACT_PURCHASE]
    assert records[1]["region"] == "433123000000", "unknown township links to its county"


def test_partnerships_need_a_known_household_and_enterprise(graph_db, test_settings, tmp_path):
    enterprise = bf.enterprise_row(1)
    files = [
        bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(1)]),
        bf.write_table(tmp_path / "ent.csv", bf.ENTERPRISE_HEADER, [enterprise]),
        bf.write_table(tmp_path / "ledger.csv", bf.PARTNERSHIP_HEADER, [
            ["L1", "4331231012010001", enterprise[0], "订单收购", "2018/3/1", "2000", "履约中"],
            ["L2", "4331231012010001", bf.credit_code("91433123MA4L99999"), "就业", "2018-03-01", "9000", "有效"],
            ["", "4331231012010001", enterprise[0], "03", "2019年5月1日", "600", ""],
        ]),
    ]
    result = _load(graph_db, test_settings, *files)
    ledger = next(f for f in result.files if f.kind == "partnerships")
    assert (ledger.rows_loaded, ledger.rows_rejected) == (2, 1)
    records, _, _ = graph_db.execute_query(
        "MATCH (h:Household)<-[:OF_HOUSEHOLD]-(p:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise) "
        "RETURN p {.*} AS p ORDER BY p.mechanism")
    ledgers = [record["p"] for record in records]
    assert [(p["mechanism"], p["start_date"], p["status"]) for p in ledgers] == [
        (Mechanism.CONTRACT_PURCHASE, "2018-03-01", PartnershipStatus.IN_FORCE),
        (Mechanism.LAND_LEASE, "2019-05-01", PartnershipStatus.IN_FORCE)]
    assert ledgers[1]["partnership_id"].startswith("P")


def test_loading_the_same_files_twice_changes_nothing(graph_db, test_settings, tmp_path):
    enterprise = bf.enterprise_row(1)
    files = [
        bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(n) for n in range(1, 4)]),
        bf.write_table(tmp_path / "m.csv", bf.MEMBER_HEADER, [bf.member_row(n, 1) for n in range(1, 4)]),
        bf.write_table(tmp_path / "ent.csv", bf.ENTERPRISE_HEADER, [enterprise]),
        bf.write_table(tmp_path / "ledger.csv", bf.PARTNERSHIP_HEADER, [
            ["L1", "4331231012010001", enterprise[0], "订单收购", "2018-03-01", "2000", "履约中"]]),
    ]
    _load(graph_db, test_settings, *files)
    first = graph_snapshot(graph_db)
    _load(graph_db, test_settings, *files)
    assert graph_snapshot(graph_db) == first
    assert len(first["nodes"]) > 3000 and first["relationships"]


def test_newer_extract_updates_changes_and_marks_missing_households_inactive(graph_db, test_settings, tmp_path):
    old = bf.write_table(tmp_path / "v1.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(n) for n in range(1, 4)])
    _load(graph_db, test_settings, old, full=True)
    changed = bf.household_row(2, arable="", village=bf.OTHER_VILLAGE, cause="因残")
    new = bf.write_table(tmp_path / "v2.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(1), changed, bf.household_row(4)])
    result = _load(graph_db, test_settings, new, full=True)
    assert result.files[0].deactivated == 1
    households = {h["household_id"]: h for h in _households(graph_db)}
    assert set(households) == {f"4331231012010{n:03d}" for n in range(1, 5)}, "nothing is deleted"
    moved = households["4331231012010002"]
    assert moved["main_cause"] == PovertyCause.DISABILITY and "arable_mu" not in moved and moved["village"] == bf.OTHER_VILLAGE
    gone = households["4331231012010003"]
    assert gone["active"] is False and gone["inactive_since"]
    assert households["4331231012010004"]["active"] is True
    records, _, _ = graph_db.execute_query(
        "MATCH (:Household {household_id: '4331231012010002'})-[r:LIVES_IN]->() RETURN count(r) AS n")
    assert records[0]["n"] == 1, "a household lives in exactly one village"
    _load(graph_db, test_settings, old, full=True)
    assert _households(graph_db)[2]["active"] is True, "a household back in the extract is active again"


def test_flask_etl_load_command_reports_and_exits_non_zero_only_when_asked(app, tmp_path):
    path = bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(1), bf.household_row(2, cause="?")])
    relaxed = app.test_cli_runner().invoke(args=["etl", "load", "--quiet", "--online", str(path)])
    assert relaxed.exit_code == 0, relaxed.output
    assert "hh.csv" in relaxed.output and "校验报告" in relaxed.output
    strict = app.test_cli_runner().invoke(args=["etl", "load", "--quiet", "--online", "--strict", str(path)])
    assert strict.exit_code == 1
    unreadable = tmp_path / "notes.csv"
    unreadable.write_text("随便,写点\n什么,东西\n", encoding="utf-8")
    failed = app.test_cli_runner().invoke(args=["etl", "load", "--quiet", "--online", str(unreadable)])
    assert failed.exit_code == 2 and "无法识别文件类型" in failed.output
