"""Consistency rules against the real Neo4j: the cross-file rules after a load (households vs members vs ledger
rows), run over the counties the load touched (and, for a bureau, only its own); an ID number met twice in one
load is rejected, one stored in another household moves the member with a warning; the bulk path gives the same
findings as the online path.

(The row rules and the rule table without a database: tests/unit/test_etl_rules.py.)"""
import csv
from pathlib import Path

import pytest

import etl.bulk
from core.settings import Settings
from etl.load import load_files
from etl.report import groups_path
from etl.rules import RULES
from graph import readstate, server
from graph.db import create_driver
from graph.maintenance import clear_graph
from tests.support import bureau_files as bf
from tests.support.network import free_port

HOUSEHOLD_HEADER = bf.HOUSEHOLD_HEADER + ["识别年度"]
OTHER_VILLAGE = bf.OTHER_COUNTY_VILLAGE  # 花垣县
CODE = bf.credit_code("91433123MA4L00001")


def _household(number: int, size: int, cause: str = "因病", identified: str = "2014",
               village: str = bf.VILLAGE) -> list:
    row = bf.household_row(number, cause=cause, village=village)
    row[10] = size
    if village == OTHER_VILLAGE:
        row[3] = "花垣县"
    return row + [identified]


def _member(household: int, position: int, relation: str, health: str = "健康", skill: str = "普通劳动力") -> list:
    number = bf.id_number(f"4331231985{position:02d}01{household:03d}")
    return [bf.household_id(household), f"M{household:03d}{position}", "李小华", number, relation, "初中", health,
            skill, ""]


def _files(directory: Path) -> list[Path]:
    """One county's files, each household breaking (at most) one cross-file rule:
    1 size 3 with 2 members; 2 因残 without a disabled member; 3 因残 with one (clean); 4 缺劳动力 with an ordinary
    labourer; 5 two heads; 6 no head (and size 3 with 2 members); 7 an employment partnership, no able member;
    8 a partnership starting (2015) before its identification (2016); 9 no members listed (nothing to compare);
    10 clean, with an employment partnership in force whose end date has passed (and 6 a terminated one)."""
    households = [_household(1, 3), _household(2, 2, "因残"), _household(3, 2, "因残"), _household(4, 2, "缺劳动力"),
                  _household(5, 2), _household(6, 3), _household(7, 1), _household(8, 1, identified="2016"),
                  _household(9, 2), _household(10, 2)]
    members = [_member(1, 1, "户主"), _member(1, 2, "配偶"),
               _member(2, 1, "户主"), _member(2, 2, "配偶", skill="弱劳动力"),
               _member(3, 1, "户主"), _member(3, 2, "配偶", health="残疾", skill="丧失劳动力"),
               _member(4, 1, "户主"), _member(4, 2, "配偶", skill="弱劳动力"),
               _member(5, 1, "户主"), _member(5, 2, "户主"),
               _member(6, 1, "之子"), _member(6, 2, "之女"),
               _member(7, 1, "户主", skill="无劳动力"),
               _member(8, 1, "户主"),
               _member(10, 1, "户主"), _member(10, 2, "配偶")]
    ledger = [bf.partnership_row("L7", 7, CODE, mechanism="就业务工") + [""],
              bf.partnership_row("L8", 8, CODE, start="2015-03-01") + [""],
              bf.partnership_row("L9", 9, CODE, mechanism="就业务工") + ["2099-12-31"],
              bf.partnership_row("L10", 10, CODE, mechanism="就业务工") + ["2020-12-31"],
              bf.partnership_row("L6", 6, CODE, mechanism="就业务工", status="已终止") + ["2020-12-31"]]
    return [bf.write_table(directory / "households.csv", HOUSEHOLD_HEADER, households),
            bf.write_table(directory / "members.csv", bf.MEMBER_HEADER, members),
            bf.write_table(directory / "enterprises.csv", bf.ENTERPRISE_HEADER, [bf.enterprise_row(1)]),
            bf.write_table(directory / "ledger.csv", bf.PARTNERSHIP_HEADER + ["结束日期"], ledger)]


def hh(number: int) -> str:
    return bf.household_id(number)


# The findings of _files: (file, column, value, rule).
EXPECTED = [
    ("households.csv", "户编号", f"{hh(1)}（家庭人口数 3，登记成员 2 人）", "hh.size_vs_members"),
    ("households.csv", "户编号", f"{hh(2)}（成员 2 人，残疾 0 人）", "hh.disability_without_disabled_member"),
    ("households.csv", "户编号", f"{hh(4)}（普通或技能劳动力 1 人）", "hh.lack_of_labour_with_able_member"),
    ("households.csv", "户编号", f"{hh(5)}（户主 2 人）", "hh.two_heads"),
    ("households.csv", "户编号", f"{hh(6)}（家庭人口数 3，登记成员 2 人）", "hh.size_vs_members"),
    ("households.csv", "户编号", f"{hh(6)}（成员 2 人，户主 0 人）", "hh.no_head"),
    ("ledger.csv", "联结编号", f"L7（户 {hh(7)}，成员 1 人，普通或技能劳动力 0 人）", "pt.employment_without_able_member"),
    ("ledger.csv", "联结编号", f"L8（户 {hh(8)}，开始 2015-03-01，识别年度 2016）", "pt.start_before_identification"),
    ("ledger.csv", "联结编号", f"L10（户 {hh(10)}，结束日期 2020-12-31）", "pt.in_force_expired"),
]


def _findings(result) -> list[tuple]:
    """(file name, column, value, rule) of the problems of the cross-file rules, in the order found."""
    assert all(p.severity == "警告" and p.row == 0 for p in result.problems
               if p.rule and RULES[p.rule].check == "cross_file")
    return [(Path(p.file).name, p.column, p.value, p.rule) for p in result.problems
            if p.rule and RULES[p.rule].check == "cross_file"]


def _rule_problems(result) -> list[tuple]:
    """(file name, row, column, value, severity, rule) of every problem with a rule but the cross-file ones."""
    return sorted((Path(p.file).name, p.row, p.column, p.value, p.severity, p.rule) for p in result.problems
                  if p.rule and RULES[p.rule].check != "cross_file")


def _counts(result):
    assert all(f.rows_read == f.rows_loaded + f.rows_rejected for f in result.files), "counts reconcile"
    return [(Path(f.file).name, f.rows_read, f.rows_loaded, f.rows_rejected) for f in result.files]


def _query(driver, cypher, **params):
    records, _, _ = driver.execute_query(cypher, **params)
    return [record.data() for record in records]


def test_cross_file_rules_find_exactly_the_inconsistent_households_and_ledger_rows(graph_db, test_settings, tmp_path):
    result = load_files(_files(tmp_path), graph_db, test_settings, progress=False)
    assert _counts(result) == [("households.csv", 10, 10, 0), ("members.csv", 16, 16, 0),
                               ("enterprises.csv", 1, 1, 0), ("ledger.csv", 5, 5, 0)]
    assert _findings(result) == EXPECTED
    assert _rule_problems(result) == []
    assert result.counties_checked == 1 and result.consistency_seconds > 0
    groups = {group["rule"]: group["count"] for group in result.groups if group["rule"]}
    assert groups == {"hh.size_vs_members": 2, "hh.disability_without_disabled_member": 1,
                      "hh.lack_of_labour_with_able_member": 1, "hh.two_heads": 1, "hh.no_head": 1,
                      "pt.employment_without_able_member": 1, "pt.start_before_identification": 1,
                      "pt.in_force_expired": 1}
    assert sum(group["count"] for group in result.groups) == len(result.problems)
    with open(result.report_path, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [(line["值"], line["规则"]) for line in lines if line["规则"]] == [
        (value, rule) for _, _, value, rule in EXPECTED]
    with open(groups_path(result.report_path), encoding="utf-8-sig", newline="") as handle:
        written = {line["规则"]: int(line["条数"]) for line in csv.DictReader(handle) if line["规则"]}
    assert written == groups
    stored = _query(graph_db, "MATCH (h:Household {household_id: $id}) RETURN h.identification_year AS year", id=hh(8))
    assert stored == [{"year": 2016}]


def test_the_rules_run_over_the_counties_the_load_touched_and_only_a_bureau_s_own(graph_db, test_settings, tmp_path):
    other = bf.write_table(tmp_path / "other.csv", HOUSEHOLD_HEADER, [_household(51, 4, village=OTHER_VILLAGE)])
    other_members = bf.write_table(tmp_path / "other_members.csv", bf.MEMBER_HEADER, [_member(51, 1, "户主")])
    first = load_files([other, other_members], graph_db, test_settings, progress=False)
    assert _findings(first) == [("other.csv", "户编号", f"{hh(51)}（家庭人口数 4，登记成员 1 人）", "hh.size_vs_members")]

    files = _files(tmp_path)
    own = load_files(files, graph_db, test_settings, progress=False, allowed_counties={bf.COUNTY})
    assert _findings(own) == EXPECTED, "花垣县's household is not this load's, and not the bureau's"
    assert own.counties_checked == 1

    # A ledger file alone touches its households' county: their findings name the stored households.
    again = bf.write_table(tmp_path / "ledger2.csv", bf.PARTNERSHIP_HEADER,
                           [bf.partnership_row("L11", 1, CODE, start="2013-01-01")])
    ledger_only = load_files([again], graph_db, test_settings, progress=False)
    stored_households = "（库中已有的贫困户信息）"
    assert _findings(ledger_only) == [
        (stored_households if file == "households.csv" else "ledger2.csv", column, value, rule)
        for file, column, value, rule in EXPECTED[:6]] + [
        ("ledger2.csv", "联结编号", f"L11（户 {hh(1)}，开始 2013-01-01，识别年度 2014）", "pt.start_before_identification"),
        *[("ledger2.csv", *finding[1:]) for finding in EXPECTED[6:]]]


def test_an_id_number_met_twice_in_one_load_is_rejected_in_a_file_and_across_files(graph_db, test_settings, tmp_path):
    households = bf.write_table(tmp_path / "households.csv", HOUSEHOLD_HEADER,
                                [_household(1, 2), _household(2, 2), _household(3, 1)])
    person = _member(1, 1, "户主")
    first = bf.write_table(tmp_path / "members_a.csv", bf.MEMBER_HEADER,
                           [person, _member(1, 2, "配偶"), [bf.household_id(2)] + person[1:]])  # twice in the file
    second = bf.write_table(tmp_path / "members_b.csv", bf.MEMBER_HEADER,
                            [_member(2, 1, "户主"), [bf.household_id(3)] + person[1:]])  # and in another file
    result = load_files([households, first, second], graph_db, test_settings, progress=False)
    assert _counts(result) == [("households.csv", 3, 3, 0), ("members_a.csv", 3, 2, 1), ("members_b.csv", 2, 1, 1)]
    masked = person[3][:4] + "*" * 12 + person[3][-2:]
    assert _rule_problems(result) == [("members_a.csv", 4, "证件号码", masked, "错误", "mem.id_number_repeated"),
                                      ("members_b.csv", 3, "证件号码", masked, "错误", "mem.id_number_repeated")]
    assert person[3] not in repr(result.problems)
    placed = _query(graph_db, "MATCH (m:Member)-[:MEMBER_OF]->(h:Household) RETURN m.member_id AS member, "
                              "h.household_id AS household ORDER BY member")
    assert placed == [{"member": "M0011", "household": hh(1)}, {"member": "M0012", "household": hh(1)},
                      {"member": "M0021", "household": hh(2)}], "the first row met stays where it was"
    assert _findings(result) == [("households.csv", "户编号", f"{hh(2)}（家庭人口数 2，登记成员 1 人）",
                                  "hh.size_vs_members")], "household 3 lists no member: nothing to compare"


def test_a_member_stored_in_another_household_moves_with_a_warning(graph_db, test_settings, tmp_path):
    households = bf.write_table(tmp_path / "households.csv", HOUSEHOLD_HEADER, [_household(1, 2), _household(2, 1)])
    members = bf.write_table(tmp_path / "members.csv", bf.MEMBER_HEADER,
                             [_member(1, 1, "户主"), _member(1, 2, "配偶"), _member(2, 1, "户主")])
    assert _findings(load_files([households, members], graph_db, test_settings, progress=False)) == []
    spouse = _member(1, 2, "配偶")
    moved = bf.write_table(tmp_path / "moved.csv", bf.MEMBER_HEADER, [[bf.household_id(2)] + spouse[1:]])
    result = load_files([moved], graph_db, test_settings, progress=False)
    assert _counts(result) == [("moved.csv", 1, 1, 0)]
    assert _rule_problems(result) == [("moved.csv", 2, "户编号", f"原登记户 {hh(1)}，本行户 {hh(2)}", "警告",
                                       "mem.id_number_in_other_household")]
    assert _query(graph_db, "MATCH (h:Household) RETURN h.household_id AS id, h.members AS members ORDER BY id") == [
        {"id": hh(1), "members": 1}, {"id": hh(2), "members": 2}], "the member moved; both households' counts too"
    assert _findings(result) == [
        ("（库中已有的贫困户信息）", "户编号", f"{hh(1)}（家庭人口数 2，登记成员 1 人）", "hh.size_vs_members"),
        ("（库中已有的贫困户信息）", "户编号", f"{hh(2)}（家庭人口数 1，登记成员 2 人）", "hh.size_vs_members")]
    assert readstate.check(graph_db) == []


def test_a_row_with_only_rule_warnings_is_skipped_when_loaded_again_unchanged(graph_db, test_settings, tmp_path):
    header = HOUSEHOLD_HEADER + ["脱贫状态", "脱贫年度"]
    rows = [_household(1, 1) + ["已脱贫", "2019"], _household(2, 1) + ["", ""]]
    rows[0][11] = 3000  # below 2019's line
    members = bf.write_table(tmp_path / "members.csv", bf.MEMBER_HEADER, [_member(2, 1, "户主"), _member(2, 2, "配偶")])
    first = load_files([bf.write_table(tmp_path / "first.csv", header, rows), members], graph_db, test_settings,
                       progress=False)
    below = ("first.csv", 2, "人均纯收入（元）", "3000（2019 年标准 3218 元）", "警告", "hh.exit_income_below_line")
    assert _rule_problems(first) == [below]
    size = ("户编号", f"{hh(2)}（家庭人口数 1，登记成员 2 人）", "hh.size_vs_members")
    assert _findings(first) == [("first.csv", *size)]
    stored = _query(graph_db, "MATCH (h:Household {household_id: $id}) RETURN h.row_hash AS hash", id=hh(1))
    assert stored[0]["hash"], "a rule's warning leaves the row its source hash"

    rows[1][11] = 3400  # household 2 changes; household 1 does not
    second = load_files([bf.write_table(tmp_path / "second.csv", header, rows)], graph_db, test_settings,
                        progress=False)
    [result] = second.files
    assert (result.rows_read, result.rows_loaded, result.rows_unchanged) == (2, 2, 1)
    assert _rule_problems(second) == [], "the unchanged row is neither checked nor written again"
    assert _findings(second) == [("second.csv", *size)], "the cross-file rules look at every household again"
    assert _query(graph_db, "MATCH (h:Household {household_id: $id}) RETURN h.row_hash AS hash", id=hh(1)) == stored


# --- the bulk path ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    """A local Neo4j of this module's own, which the bulk load may stop and start."""
    home = tmp_path_factory.mktemp("rules-bulk")
    settings = Settings(local_neo4j_port=free_port(), local_neo4j_home=home / "neo4j", local_neo4j_heap="512m",
                        local_neo4j_pagecache="64m", id_hash_key="rules-test", var_dir=home / "var")
    local = server.LocalInstance.from_settings(settings)
    server.start(local)
    yield settings, local
    server.stop(local)


def test_the_bulk_path_finds_what_the_online_path_finds(instance, tmp_path):
    settings, local = instance
    files = _files(tmp_path)
    person = _member(1, 1, "户主")
    repeated = bf.write_table(tmp_path / "members_more.csv", bf.MEMBER_HEADER,
                              [_member(9, 1, "户主"), [bf.household_id(9)] + person[1:]])
    files.insert(1, bf.write_table(tmp_path / "households_more.csv", HOUSEHOLD_HEADER,
                                   [_household(10, 5), _household(11, 1)]))  # 10 again: rejected, not overwritten
    files.insert(3, repeated)
    expected_rules = [("members_more.csv", 3, "证件号码", person[3][:4] + "*" * 12 + person[3][-2:], "错误",
                       "mem.id_number_repeated")]
    # household 9 now lists one member (size 2); household 10 keeps its first row (size 2); 11 lists no member
    both = "households.csv、households_more.csv"  # the findings name both files of the kind
    expected = [(both, *finding[1:]) for finding in EXPECTED[:6]] + [
        (both, "户编号", f"{hh(9)}（家庭人口数 2，登记成员 1 人）", "hh.size_vs_members")] + EXPECTED[6:]
    with create_driver(settings) as driver:
        clear_graph(driver)
        online = load_files(files, driver, settings, progress=False)
        clear_graph(driver)
        bulk = etl.bulk.load_files_bulk(files, driver, settings, local, progress=False, chunk_rows=4, workers=2)
        for result in (online, bulk):
            assert _counts(result)[:4] == [("households.csv", 10, 10, 0), ("households_more.csv", 2, 1, 1),
                                           ("members.csv", 16, 16, 0), ("members_more.csv", 2, 1, 1)]
            assert _rule_problems(result) == expected_rules
            assert [(p.row, p.column, p.value, p.reason) for p in result.problems
                    if Path(p.file).name == "households_more.csv"] == [
                (2, "户编号", hh(10), "户编号已在本次加载的另一文件中出现，此行未加载 / key already in another file of this "
                                      "load: row not loaded")]
            assert _findings(result) == expected
        assert bulk.counties_checked == online.counties_checked == 1
        assert [(g["rule"], g["count"]) for g in bulk.groups] == [(g["rule"], g["count"]) for g in online.groups]
