"""Consistency rules without a database: the rule table, each row rule on rows read, validated and transformed
as a load would, grouping, and the report's rule column and groups file.

(The cross-file rules, the ID number met twice in one load and a member moved from another household are
checked against the real Neo4j: tests/integration/test_etl_rules.py.)"""
import csv
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from cli.etl_commands import group_lines, rule_lines
from etl import formats, rules
from etl.readers import table_from_rows
from etl.report import GROUPS_HEADER, REPORT_HEADER, groups_path, write_report
from etl.transform import transform
from etl.validate import ERROR, WARNING, Problem, validate
from etl.values import year_of, year_text_ok
from graph import consistency
from tests.support import bureau_files as bf

AS_OF = date(2026, 6, 30)


def _checked(header: list[str], rows: list[list], as_of: date = AS_OF):
    """Rows through validation (no error allowed: only the rules speak), transform and the row rules: the row
    numbers kept and the problems as (row, column, value, severity, rule)."""
    lines = [header] + [["" if value is None else str(value) for value in row] for row in rows]
    table = table_from_rows(Path("f.csv"), None, lines)
    rejected, problems = validate(table, "f.csv")
    assert not [problem for problem in problems if problem.severity == ERROR], problems
    kept, found = rules.check_rows(table.kind, transform(table.kind, table.frame, b"key"), table, "f.csv", as_of)
    assert all(problem.reason == rules.RULES[problem.rule].message for problem in found)
    return list(kept.index), sorted((p.row, p.column, p.value, p.severity, p.rule) for p in found)


# --- the table ------------------------------------------------------------------------------------

def test_the_rule_table_has_at_least_twenty_unique_rules_with_chinese_messages():
    ids = [row["id"] for row in rules.rule_table()]
    assert len(ids) >= 20 and len(ids) == len(set(ids)) == len(rules.RULES)
    for rule in rules.RULES.values():
        assert re.fullmatch(r"(hh|mem|ent|proj|pt)\.[a-z0-9_]+", rule.id), rule.id
        assert rule.severity in (ERROR, WARNING)
        assert rule.kind in formats.KINDS and rule.check in rules.CHECK_TITLES
        chinese, english = rule.message.split("/ ", 1)
        assert re.search(r"[\u4e00-\u9fff]", chinese) and re.search(r"[a-z]", english), rule.message
        assert rule.column in {column.name for column in formats.KINDS[rule.kind].columns}, rule.id
        assert (rule.test is not None and rule.shown is not None) == (rule.check == rules.ROW), rule.id
        if rule.check == rules.CROSS_FILE:
            assert rule.severity == WARNING, "data already written: a cross-file finding can only warn"


def test_every_cross_file_rule_has_its_cypher_and_every_check_its_rule():
    declared = {rule.id: rule for rule in rules.CROSS_FILE_RULES}
    assert [check.rule for check in consistency.CHECKS] == list(declared)
    subjects = {"households": consistency.HOUSEHOLD, "partnerships": consistency.PARTNERSHIP}
    assert all(subjects[declared[check.rule].kind] == check.subject for check in consistency.CHECKS)
    returned = {subject: set(names) for subject, names in consistency.DETAILS.items()}
    for check in consistency.CHECKS:
        named = set(re.findall(r"{(\w+)}", declared[check.rule].detail)) - {"household_id"}
        assert named <= returned[check.subject], (check.rule, named)
        assert not re.search(r"'|\"|\b\d{2}\b", check.condition), "values travel as parameters"


def test_the_rules_command_lists_every_rule():
    lines = rule_lines()
    assert len(lines) == len(rules.RULES) + 1
    assert all(any(line.startswith(rule_id) for line in lines) for rule_id in rules.RULES)


def test_a_problem_keeps_its_positional_fields_and_has_no_rule_by_default():
    problem = Problem("a.csv", None, 3, "户编号", "x", ERROR, "原因 / reason")
    assert problem.rule is None and problem.reason == "原因 / reason"


# --- row rules, kind by kind ------------------------------------------------------------------------

HOUSEHOLD_EXTRA = ["脱贫状态", "脱贫年度", "识别年度", "有效灌溉面积（亩）", "户类型", "监测对象类别"]


def _household(number: int, status="", exit_year="", identified="", irrigated="", household_type="",
               monitoring="", income=3200, main="因病", others="缺技术") -> list:
    row = bf.household_row(number, cause=main)
    row[9], row[11] = others, income
    return row + [status, exit_year, identified, irrigated, household_type, monitoring]


def test_household_row_rules_flag_exactly_the_rows_that_break_them():
    rows = [
        _household(1, "已脱贫", "2019", income=3000),        # row 2: below the 2019 line
        _household(2, "已脱贫", "2019", income=3218),        # row 3: at the line
        _household(3, "已脱贫", "2027", "2014"),              # row 4: exit year in the future (error)
        _household(4, "未脱贫", "", "2027"),                  # row 5: identified in the future (error)
        _household(5, "已脱贫", "2015", "2016年"),            # row 6: exit before identification
        _household(6, "未脱贫", "2019"),                      # row 7: not exited, with an exit year
        _household(7, "已脱贫", ""),                          # row 8: exited, no exit year
        _household(8, main="缺技术"),                         # row 9: main cause among the others
        _household(9, others="缺技术、因灾、缺水"),            # row 10: three other causes
        _household(10, irrigated="3"),                        # row 11: irrigated 3 > arable 2.5
        _household(11, irrigated="2.5"),                      # row 12: irrigated = arable
        _household(12, monitoring="边缘易致贫户"),             # row 13: monitored, no household type
        _household(13, household_type="普通农户", monitoring="边缘易致贫户"),  # row 14
        _household(14, "已脱贫", "2014-05-01", "2014", income=3300),  # row 15: a date as year; above 2014's line
    ]
    kept, found = _checked(bf.HOUSEHOLD_HEADER + HOUSEHOLD_EXTRA, rows)
    assert found == [
        (2, "人均纯收入（元）", "3000（2019 年标准 3218 元）", WARNING, "hh.exit_income_below_line"),
        (4, "脱贫年度", "2027", ERROR, "hh.exit_year_in_future"),
        (5, "识别年度", "2027", ERROR, "hh.identification_year_in_future"),
        (6, "脱贫年度", "2015（识别年度 2016）", WARNING, "hh.exit_before_identification"),
        (7, "脱贫年度", "2019（未脱贫）", WARNING, "hh.poor_with_exit_year"),
        (8, "脱贫年度", "（空）", WARNING, "hh.exited_without_exit_year"),
        (9, "其他致贫原因", "缺技术", WARNING, "hh.main_cause_repeated"),
        (10, "其他致贫原因", "缺技术、因灾、缺水", WARNING, "hh.other_causes_too_many"),
        (11, "有效灌溉面积（亩）", "3（耕地 2.5 亩）", WARNING, "hh.irrigated_exceeds_arable"),
        (13, "监测对象类别", "边缘易致贫户（户类型未填）", WARNING, "hh.monitoring_without_type"),
    ]
    assert kept == [2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], "an error rule rejects its row, a warning does not"


def test_a_rule_about_a_missing_value_applies_only_where_the_file_has_the_column():
    header = bf.HOUSEHOLD_HEADER + ["脱贫状态", "监测对象类别"]
    rows = [bf.household_row(1) + ["已脱贫", "边缘易致贫户"]]
    assert _checked(header, rows) == ([2], []), "no 脱贫年度 nor 户类型 column: nothing to say about them"


MEMBER_EXTRA = ["在校生状况", "务工状况", "务工时间（月）"]


def _member(position: int, born: str, skill="普通劳动力", education="初中", place="", school="", work="",
            months="") -> list:
    row = bf.member_row(1, position, skill=skill, id_override=bf.id_number(f"433123{born}{position:03d}"))
    row[5], row[8] = education, place
    return row + [school, work, months]


def test_member_row_rules_use_the_age_from_the_id_number_at_the_load_date():
    rows = [
        _member(1, "19850101", skill="无劳动力", place="乡内"),                  # row 2: no labour, works
        _member(2, "19600101", skill="丧失劳动力", work="省外务工"),               # row 3
        _member(3, "19600101", skill="无劳动力", work="未务工", months="0"),      # row 4: says not working
        _member(4, "20120101", skill="弱劳动力", school="初中", months="3"),      # row 5: student working
        _member(5, "19900101", school="非在校生", months="6"),                    # row 6: not a student
        _member(6, "20160101", skill="无劳动力", education="文盲"),               # row 7: 10 years old, illiterate
        _member(7, "20100101", education="文盲"),                                 # row 8: 16: past school age
        _member(8, "20190630", skill="无劳动力", education="学龄前"),             # row 9: 7 today
        _member(9, "20190701", skill="无劳动力", education="学龄前"),             # row 10: 7 tomorrow
        _member(10, "20110101", skill="技能劳动力"),                              # row 11: 15, skilled
    ]
    kept, found = _checked(bf.MEMBER_HEADER + MEMBER_EXTRA, rows)
    assert found == [
        (2, "劳动技能", "无劳动力，务工地 乡内", WARNING, "mem.no_labour_in_work"),
        (3, "劳动技能", "丧失劳动力，务工状况 省外务工", WARNING, "mem.no_labour_in_work"),
        (5, "务工时间（月）", "3 个月（初中）", WARNING, "mem.student_with_work_months"),
        (7, "文化程度", "年龄 10 岁，文盲或半文盲", WARNING, "mem.school_age_illiterate"),
        (9, "文化程度", "年龄 7 岁，学龄前儿童", WARNING, "mem.preschool_too_old"),
        (11, "劳动技能", "年龄 15 岁，技能劳动力", WARNING, "mem.able_labour_under_16"),
    ]
    assert kept == list(range(2, 12))


def test_ages_follow_the_load_date():
    rows = [_member(1, "20100701", skill="普通劳动力")]  # 16 on 2026-07-01
    assert _checked(bf.MEMBER_HEADER + MEMBER_EXTRA, rows, as_of=date(2026, 6, 30))[1] == [
        (2, "劳动技能", "年龄 15 岁，普通劳动力", WARNING, "mem.able_labour_under_16")]
    assert _checked(bf.MEMBER_HEADER + MEMBER_EXTRA, rows, as_of=date(2026, 7, 1))[1] == []


def _enterprise(number: int, kind="农民专业合作社", mechanisms="就业务工、订单收购", jobs=15) -> list:
    row = bf.enterprise_row(number)
    row[2], row[8], row[9] = kind, mechanisms, jobs
    return row


def test_enterprise_row_rules_read_the_mechanisms_listed_or_implied():
    rows = [
        _enterprise(1, mechanisms="就业务工", jobs=0),                 # row 2: employment, no jobs
        _enterprise(2, jobs=""),                                        # row 3: employment, jobs not given
        _enterprise(3, mechanisms="订单收购", jobs=15),                 # row 4: jobs, no employment
        _enterprise(4, kind="扶贫车间", mechanisms="订单收购", jobs=0),  # row 5: a workshop without employment
        _enterprise(5, kind="扶贫车间", mechanisms="", jobs=20),        # row 6: employment implied by its jobs
        _enterprise(6),                                                 # row 7
    ]
    kept, found = _checked(bf.ENTERPRISE_HEADER, rows)
    assert found == [
        (2, "用工需求（人）", "0", WARNING, "ent.employment_without_jobs"),
        (3, "用工需求（人）", "（空）", WARNING, "ent.employment_without_jobs"),
        (4, "联结方式", "用工需求 15 人，联结方式：订单收购", WARNING, "ent.jobs_without_employment"),
        (5, "联结方式", "联结方式：订单收购", WARNING, "ent.workshop_without_employment"),
    ]
    assert kept == [2, 3, 4, 5, 6, 7]


def test_a_project_ending_before_it_starts_is_rejected():
    rows = [bf.project_row(1) + ["2018"], bf.project_row(2) + ["2019"], bf.project_row(3) + [""]]
    kept, found = _checked(bf.PROJECT_HEADER + ["完成年度"], rows)
    assert found == [(2, "完成年度", "2018（建设年度 2019）", ERROR, "proj.end_before_start")]
    assert kept == [3, 4]


def test_a_ledger_row_ending_before_it_starts_is_rejected():
    code = bf.credit_code("91433123MA4L00001")
    rows = [
        bf.partnership_row("L1", 1, code) + ["2018-12-31"],                      # row 2: ends before it starts
        bf.partnership_row("L2", 2, code, start="2019/3/2") + ["2019-03-01"],    # row 3: a day before
        bf.partnership_row("L3", 3, code) + ["2019-03-01"],                      # row 4: ends the day it starts
        bf.partnership_row("L4", 4, code) + [""],                                # row 5: no end
    ]
    kept, found = _checked(bf.PARTNERSHIP_HEADER + ["结束日期"], rows)
    assert found == [
        (2, "结束日期", "2018-12-31（开始 2019-03-01）", ERROR, "pt.end_before_start"),
        (3, "结束日期", "2019-03-01（开始 2019-03-02）", ERROR, "pt.end_before_start"),
    ]
    assert kept == [4, 5]


def test_every_row_rule_is_exercised_by_the_tests_above():
    flagged = {"hh.exit_income_below_line", "hh.exit_year_in_future", "hh.identification_year_in_future",
               "hh.exit_before_identification", "hh.poor_with_exit_year", "hh.exited_without_exit_year",
               "hh.main_cause_repeated", "hh.other_causes_too_many", "hh.irrigated_exceeds_arable",
               "hh.monitoring_without_type", "mem.no_labour_in_work", "mem.student_with_work_months",
               "mem.school_age_illiterate", "mem.preschool_too_old", "mem.able_labour_under_16",
               "ent.employment_without_jobs", "ent.jobs_without_employment", "ent.workshop_without_employment",
               "proj.end_before_start", "pt.end_before_start"}
    assert flagged == {rule.id for rule in rules.RULES.values() if rule.check == rules.ROW}


def test_the_poverty_line_table_covers_the_registry_years_and_rises():
    years = sorted(rules.EXIT_INCOME_LINE)
    assert years == list(range(2013, 2021)) and rules.EXIT_INCOME_LINE[2013] == 2736
    lines = [rules.EXIT_INCOME_LINE[year] for year in years]
    assert lines == sorted(lines)


def test_years_are_read_from_years_and_dates():
    texts = pd.Series(["2019", "2019年", "2014-05-01", "2014/5/1", "2014年5月1日", "20140501", "2014年5月", "19",
                       "2019x", "3019", None])
    assert year_text_ok(texts).tolist() == [True] * 7 + [False] * 4
    assert year_of(texts).tolist()[:7] == [2019, 2019, 2014, 2014, 2014, 2014, 2014]
    assert year_of(texts).isna().tolist()[7:] == [True] * 4


# --- groups and the report --------------------------------------------------------------------------

def _problems() -> list[Problem]:
    income = rules.RULES["hh.exit_income_below_line"]
    size = rules.RULES["hh.size_vs_members"]
    return [
        Problem("hh.csv", None, 2, "人均纯收入（元）", "3000", WARNING, income.message, income.id),
        Problem("hh.csv", None, 5, "人均纯收入（元）", "2000", WARNING, income.message, income.id),
        Problem("hh.csv", None, 0, "户编号", "=1+1（家庭人口数 3，登记成员 2 人）", WARNING, size.message, size.id),
        Problem("hh.csv", None, 3, "耕地面积（亩）", "两亩", ERROR, "应为数字 / must be a number"),
        Problem("hh.csv", None, 4, "林地面积（亩）", "x", ERROR, "应为数字 / must be a number"),
        Problem("hh.csv", None, 1, "备注", "", WARNING, "未识别的列，未加载 / column not recognised, not loaded"),
    ]


def test_problems_are_grouped_by_rule_or_by_severity_and_reason_errors_first():
    groups = rules.group_problems(_problems())
    assert groups == [
        {"rule": None, "severity": ERROR, "message": "应为数字 / must be a number", "count": 2},
        {"rule": "hh.exit_income_below_line", "severity": WARNING,
         "message": rules.RULES["hh.exit_income_below_line"].message, "count": 2},
        {"rule": None, "severity": WARNING, "message": "未识别的列，未加载 / column not recognised, not loaded", "count": 1},
        {"rule": "hh.size_vs_members", "severity": WARNING, "message": rules.RULES["hh.size_vs_members"].message,
         "count": 1},
    ]
    assert sum(group["count"] for group in groups) == len(_problems()), "every problem is in one group"


def test_the_report_names_each_line_s_rule_and_writes_the_groups_beside_it(tmp_path):
    path = write_report(_problems(), tmp_path / "report.csv")
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == REPORT_HEADER and REPORT_HEADER[-1] == "规则"
    assert [line[-1] for line in lines[1:]] == ["hh.exit_income_below_line"] * 2 + ["hh.size_vs_members", "", "", ""]
    assert lines[3][4] == "'=1+1（家庭人口数 3，登记成员 2 人）", "Excel-safe, like every other field"
    assert groups_path(path) == tmp_path / "report-groups.csv"
    with open(groups_path(path), encoding="utf-8-sig", newline="") as handle:
        grouped = list(csv.reader(handle))
    assert grouped[0] == GROUPS_HEADER
    assert grouped[1:] == [["", ERROR, "应为数字 / must be a number", "2"],
                           ["hh.exit_income_below_line", WARNING, rules.RULES["hh.exit_income_below_line"].message, "2"],
                           ["", WARNING, "未识别的列，未加载 / column not recognised, not loaded", "1"],
                           ["hh.size_vs_members", WARNING, rules.RULES["hh.size_vs_members"].message, "1"]]


class _Result:
    def __init__(self, problems, counties=0, seconds=0.0):
        self.problems, self.counties_checked, self.consistency_seconds = problems, counties, seconds

    @property
    def groups(self):
        return rules.group_problems(self.problems)


def test_the_cli_summary_prints_the_groups_and_the_cross_file_run():
    lines = group_lines(_Result(_problems(), counties=2, seconds=0.25))
    assert lines[0] == "按规则汇总 / problems by rule:"
    assert lines[2].split() == ["2", ERROR, "—", "应为数字", "/", "must", "be", "a", "number"]
    assert lines[3].split()[:3] == ["2", WARNING, "hh.exit_income_below_line"]
    assert lines[-1] == "跨文件一致性检查 / cross-file rules: 2 个县 / counties, 0.2 秒 / s"
    assert group_lines(_Result([])) == []


def test_cross_file_findings_name_the_record_and_the_file_of_its_kind():
    findings = [{"rule": "hh.size_vs_members", "household_id": "H1", "partnership_id": None,
                 "details": {"household_size": 3, "members": 2, "able": 1, "heads": 1}},
                {"rule": "pt.start_before_identification", "household_id": "H2", "partnership_id": "L7",
                 "details": {"members": 2, "able": 1, "start_date": "2013-05-01", "identification_year": 2014}}]
    problems = rules.cross_file_problems(findings, {"households": ("户.xlsx", "户信息")})
    assert [(p.file, p.sheet, p.row, p.column, p.value, p.severity, p.rule) for p in problems] == [
        ("户.xlsx", "户信息", 0, "户编号", "H1（家庭人口数 3，登记成员 2 人）", WARNING, "hh.size_vs_members"),
        ("（库中已有的利益联结台账）", None, 0, "联结编号", "L7（户 H2，开始 2013-05-01，识别年度 2014）", WARNING,
         "pt.start_before_identification")]


@pytest.mark.parametrize("rule_id", [rule.id for rule in rules.CROSS_FILE_RULES])
def test_each_cross_file_rule_shows_its_details(rule_id):
    details = {"household_size": 4, "members": 2, "able": 0, "heads": 2, "start_date": None,
               "end_date": "2020-01-01", "identification_year": 2015}
    [problem] = rules.cross_file_problems(
        [{"rule": rule_id, "household_id": "H9", "partnership_id": "L9", "details": details}], {})
    assert problem.value.startswith(("H9（", "L9（")) and "{" not in problem.value
    assert problem.reason == rules.RULES[rule_id].message and problem.rule == rule_id
