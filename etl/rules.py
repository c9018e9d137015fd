"""Consistency rules: the registry's own checks across the fields of a row and across files, declared as data.

Each `Rule` has an id, a severity (an error rejects the row; a warning loads it and says why), a message in
Chinese with English after " / ", the file kind whose records it names, the field the report names, and how
it is checked:

- ROW: a vectorised test over one chunk's transformed rows of its kind (`check_rows`, called by
  Loader.check_rows, so the online path and the bulk path's worker processes apply the same rules);
- KEY: Loader.triage's duplicate-key check (for members: an ID number met again in the file or in another
  file of the same load, i.e. twice in one household or in two households);
- STORED: a row against the stored record of the same key (Loader.check_rows: a member whose ID number is
  stored in another household is moved to the row's household, with a warning);
- CROSS_FILE: Cypher over the graph once the load's files are written (graph/consistency.py, one pass per
  county the load touched), always a warning: the rows are written already, nothing is half-written. Checks of
  stored records against the load's date (a ledger row in force past its end) run there too, so they are
  made at every load.

A row whose only problems are rule warnings keeps its source hash (etl/load.py): loaded again unchanged, it is
skipped like any unchanged row, and its warnings are not repeated (the row rules read only the row, and a change
of rules changes the ETL version, ROW_HASH_KEY, which checks every row again). Ages count from the date of the
load that checks the row: an unchanged member row is not checked again as the member grows older.

Every problem a rule finds carries the rule's id (Problem.rule) and its message as the reason; a load's
problems are grouped by rule (`group_problems`: LoadResult.groups, the report's groups file, the CLI summary,
the upload page). `flask etl rules` prints the table.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from core.codes import (ABLE_SKILLS, EnterpriseType, Education, HouseholdType, LabourSkill, Mechanism,
                        MonitoringCategory, PovertyStatus, WorkPlace)
from etl import formats, values
from etl.validate import ERROR, WARNING, Problem

ROW, KEY, STORED, CROSS_FILE = "row", "key", "stored", "cross_file"
CHECK_TITLES = {ROW: "行内", KEY: "重复键", STORED: "与库中记录比对", CROSS_FILE: "跨文件（库中）"}

# The national poverty line (元 per person and year, current prices of the 2,300 元 line at 2010 prices) by
# year: a household marked 已脱贫 in a year should have had at least that income. Sources and certainty:
# 2013 2,736 / 2014 2,800 / 2015 2,855: NBS (国家统计局) figures, also in shared/DOMAIN.md for 2013.
# 2016 2,952 / 2018 2,995 / 2019 3,218: NBS poverty-monitoring figures as recalled, not checked against the
# report here. 2017: recalled as 2,952 as well, uncertain (prices rose, so the true figure may be a little
# higher; a lower line only means fewer warnings). 2020: NBS published no current-price line; 4,000 元 is the
# threshold widely used for the 2020 exits (several provinces set theirs about there). Provinces set their own
# exit standards, often higher (figures such as 3,335 / 3,535 / 3,747 元 for 2017–2019 are cited): a province
# that wants its own replaces this table. Years outside it are not checked.
EXIT_INCOME_LINE: dict[int, int] = {2013: 2736, 2014: 2800, 2015: 2855, 2016: 2952, 2017: 2952, 2018: 2995,
                                    2019: 3218, 2020: 4000}
# Age (full years) from which a child should be at school, and the end of compulsory schooling.
SCHOOL_AGE = (7, 15)
# The age from which a person may be a (ordinary or skilled) labourer (劳动法: 16).
WORKING_AGE = 16
# 在校生状况 texts that say the member is not at school (非在校生, 否, 已毕业, 辍学 …).
NOT_AT_SCHOOL = r"非|否|不|无|未|毕业|辍学|失学"
# 务工状况 texts that say the member works, and those that say not (未务工, 无, 失业 …).
IN_WORK = r"务工|就业|打工|上班|在岗|工作"
NOT_IN_WORK = r"未|无|不|没|否|失业|待业"


@dataclass
class RuleRows:
    """One chunk's rows of a kind as the rules read them: transformed (etl/transform.py) and as text (the
    validated cells under canonical names, the columns the file has), indexed by row number."""

    rows: pd.DataFrame
    text: pd.DataFrame
    as_of: date

    def has(self, column: str) -> bool:
        """Whether the file has the column (a rule about a missing value applies only then)."""
        return column in self.text.columns

    def where(self, selected: pd.Series) -> "RuleRows":
        """The selected rows only (to show the values of the rows a rule flagged)."""
        index = selected.index[selected.to_numpy()]
        return RuleRows(self.rows.loc[index], self.text.loc[index.intersection(self.text.index)], self.as_of)

    @cached_property
    def age(self) -> pd.Series:
        """Full years at as_of from the birth date in the ID number (read before it is hashed; Int64)."""
        if "id_number" not in self.text.columns:
            return pd.Series(pd.NA, index=self.rows.index, dtype="Int64")
        births = values.id_birth_date(self.text["id_number"].reindex(self.rows.index))
        before_birthday = (births.dt.month > self.as_of.month) | (
            (births.dt.month == self.as_of.month) & (births.dt.day > self.as_of.day))
        return (self.as_of.year - births.dt.year - before_birthday.astype(int)).astype("Int64")


Test = Callable[[RuleRows], pd.Series]
Shown = Callable[[RuleRows], pd.Series]


@dataclass(frozen=True)
class Rule:
    """One consistency rule (see the module's docstring)."""

    id: str
    severity: str  # ERROR (the row is rejected) or WARNING
    message: str  # Chinese, then " / " and English
    kind: str  # the file kind whose records it names (formats.KINDS)
    check: str  # ROW, KEY, STORED or CROSS_FILE
    column: str  # the field whose header the report names (the record's key for cross-file rules)
    test: Test | None = field(default=None, compare=False)  # ROW: True for the rows breaking the rule
    shown: Shown | None = field(default=None, compare=False)  # ROW: the value shown for each flagged row
    detail: str = ""  # STORED / CROSS_FILE: what the report shows beside the record, from the finding's details


# --- helpers over columns ---------------------------------------------------------------------------

def _flag(series) -> pd.Series:
    """A test's answer as plain booleans (missing: the rule does not apply)."""
    return pd.Series(series).astype("boolean").fillna(False).astype(bool)


def _text(series: pd.Series) -> pd.Series:
    """Values as report text (numbers without a needless .0; missing as empty)."""
    return series.map(lambda value: "" if pd.isna(value) else f"{value:g}" if isinstance(value, float) else str(value))


def _label(series: pd.Series, code_list) -> pd.Series:
    return series.map(lambda code: code_list.label_of(code, code) if isinstance(code, str) else "")


def _has_code(lists: pd.Series, code: str) -> pd.Series:
    """Per row: whether its list (of codes) holds code."""
    items = lists.explode()
    found = (items == code).groupby(level=0).any()
    return found.reindex(lists.index, fill_value=False).astype(bool)


def _year_line(rows: pd.DataFrame) -> pd.Series:
    return rows["exit_year"].astype("Int64").map(EXIT_INCOME_LINE).astype(float)


def _in_work(context: RuleRows) -> pd.Series:
    rows = context.rows
    status = rows["work_status"].astype("string")
    says_working = status.str.contains(IN_WORK, regex=True) & ~status.str.contains(NOT_IN_WORK, regex=True)
    return _flag(rows["work_months"].astype("Int64") > 0) | rows["work_place"].notna().to_numpy() | _flag(says_working)


def _student(rows: pd.DataFrame) -> pd.Series:
    status = rows["school_status"].astype("string")
    return _flag(status.notna() & ~status.str.contains(NOT_AT_SCHOOL, regex=True))


def _skill_is(rows: pd.DataFrame, *skills) -> pd.Series:
    return rows["labour_skill"].isin([skill.value for skill in skills])


def _age_shown(context: RuleRows, field_name: str, code_list) -> pd.Series:
    return "年龄 " + _text(context.age.astype(object)) + " 岁，" + _label(context.rows[field_name], code_list)


# --- the rules ---------------------------------------------------------------------------------------

_RULES: tuple[Rule, ...] = (
    # households: one row
    Rule("hh.exit_income_below_line", WARNING,
         "已脱贫但人均纯收入低于脱贫年度的贫困标准 / exited with an income below the poverty line of its exit year",
         "households", ROW, "income_per_capita",
         test=lambda c: _flag((c.rows["poverty_status"] == PovertyStatus.EXITED.value)
                              & (c.rows["income_per_capita"] < _year_line(c.rows))),
         shown=lambda c: (_text(c.rows["income_per_capita"]) + "（" + _text(c.rows["exit_year"].astype(object))
                          + " 年标准 " + _text(_year_line(c.rows)) + " 元）")),
    Rule("hh.exit_year_in_future", ERROR, "脱贫年度晚于今年 / exit year in the future",
         "households", ROW, "exit_year",
         test=lambda c: _flag(c.rows["exit_year"] > c.as_of.year),
         shown=lambda c: _text(c.rows["exit_year"].astype(object))),
    Rule("hh.identification_year_in_future", ERROR, "识别年度晚于今年 / identification year in the future",
         "households", ROW, "identification_year",
         test=lambda c: _flag(c.rows["identification_year"] > c.as_of.year),
         shown=lambda c: _text(c.rows["identification_year"].astype(object))),
    Rule("hh.exit_before_identification", WARNING, "脱贫年度早于识别年度 / exit year before identification year",
         "households", ROW, "exit_year",
         test=lambda c: _flag(c.rows["exit_year"] < c.rows["identification_year"]),
         shown=lambda c: (_text(c.rows["exit_year"].astype(object)) + "（识别年度 "
                          + _text(c.rows["identification_year"].astype(object)) + "）")),
    Rule("hh.poor_with_exit_year", WARNING, "未脱贫却填有脱贫年度 / not exited but has an exit year",
         "households", ROW, "exit_year",
         test=lambda c: _flag((c.rows["poverty_status"] == PovertyStatus.POOR.value) & c.rows["exit_year"].notna()),
         shown=lambda c: _text(c.rows["exit_year"].astype(object)) + "（未脱贫）"),
    Rule("hh.exited_without_exit_year", WARNING, "已脱贫但未填脱贫年度 / exited without an exit year",
         "households", ROW, "exit_year",
         test=lambda c: _flag((c.rows["poverty_status"] == PovertyStatus.EXITED.value) & c.rows["exit_year"].isna()
                              & c.has("exit_year")),
         shown=lambda c: pd.Series("（空）", index=c.rows.index)),
    Rule("hh.main_cause_repeated", WARNING, "主要致贫原因在其他致贫原因中重复 / main cause repeated among the other causes",
         "households", ROW, "other_causes",
         test=lambda c: _main_in_others(c.rows),
         shown=lambda c: c.text["other_causes"].reindex(c.rows.index).fillna("").astype(str)),
    Rule("hh.other_causes_too_many", WARNING, "其他致贫原因超过 2 项 / more than 2 other causes",
         "households", ROW, "other_causes",
         test=lambda c: _flag(c.rows["other_causes"].str.len() > 2),
         shown=lambda c: c.text["other_causes"].reindex(c.rows.index).fillna("").astype(str)),
    Rule("hh.irrigated_exceeds_arable", WARNING, "有效灌溉面积大于耕地面积 / irrigated land exceeds arable land",
         "households", ROW, "irrigated_mu",
         test=lambda c: _flag(c.rows["irrigated_mu"] > c.rows["arable_mu"]),
         shown=lambda c: _text(c.rows["irrigated_mu"]) + "（耕地 " + _text(c.rows["arable_mu"]) + " 亩）"),
    Rule("hh.monitoring_without_type", WARNING,
         "有监测对象类别，但户类型不是脱贫户或普通农户（未填）/ monitoring category on a household whose type is neither "
         "脱贫户 nor 普通农户", "households", ROW, "monitoring_category",
         test=lambda c: _flag(c.rows["monitoring_category"].notna()
                              & ~c.rows["household_type"].isin(HouseholdType.codes()) & c.has("household_type")),
         shown=lambda c: _label(c.rows["monitoring_category"], MonitoringCategory) + "（户类型未填）"),
    # members: one row (ages from the ID number's birth date, at the load's date)
    Rule("mem.no_labour_in_work", WARNING,
         "无劳动力或丧失劳动力的成员登记为务工 / member without labour recorded as working",
         "members", ROW, "labour_skill",
         test=lambda c: _flag(_skill_is(c.rows, LabourSkill.LOST, LabourSkill.NONE)) & _in_work(c),
         shown=lambda c: _label(c.rows["labour_skill"], LabourSkill) + "，" + _work_shown(c.rows)),
    Rule("mem.student_with_work_months", WARNING, "在校生有务工时间 / a student with months of work",
         "members", ROW, "work_months",
         test=lambda c: _student(c.rows) & _flag(c.rows["work_months"].astype("Int64") > 0),
         shown=lambda c: (_text(c.rows["work_months"].astype(object)) + " 个月（"
                          + c.rows["school_status"].astype("string").fillna("").astype(str) + "）")),
    Rule("mem.school_age_illiterate", WARNING,
         f"学龄（{SCHOOL_AGE[0]}–{SCHOOL_AGE[1]} 岁）成员的文化程度为文盲或半文盲 / school-age member marked illiterate",
         "members", ROW, "education",
         test=lambda c: _flag((c.rows["education"] == Education.ILLITERATE.value)
                              & c.age.between(*SCHOOL_AGE)),
         shown=lambda c: _age_shown(c, "education", Education)),
    Rule("mem.preschool_too_old", WARNING,
         f"{SCHOOL_AGE[0]} 岁及以上成员的文化程度为学龄前 / member aged {SCHOOL_AGE[0]} or more marked pre-school",
         "members", ROW, "education",
         test=lambda c: _flag((c.rows["education"] == Education.PRESCHOOL.value) & (c.age >= SCHOOL_AGE[0])),
         shown=lambda c: _age_shown(c, "education", Education)),
    Rule("mem.able_labour_under_16", WARNING,
         f"未满 {WORKING_AGE} 岁的成员登记为普通或技能劳动力 / member under {WORKING_AGE} recorded as an able labourer",
         "members", ROW, "labour_skill",
         test=lambda c: _flag(_skill_is(c.rows, *ABLE_SKILLS) & (c.age < WORKING_AGE)),
         shown=lambda c: _age_shown(c, "labour_skill", LabourSkill)),
    Rule("mem.id_number_repeated", ERROR,
         "证件号码重复：同一人在本次加载中已出现（同一户重复或登记在两户），此行未加载 / ID number met again in this "
         "load (twice in a household or in two households): row not loaded", "members", KEY, "id_number"),
    Rule("mem.id_number_in_other_household", WARNING,
         "证件号码已登记在另一户：该成员已移至本行的户 / ID number stored in another household: member moved to this "
         "row's household", "members", STORED, "household_id", detail="原登记户 {stored_household}，本行户 {household_id}"),
    # enterprises
    Rule("ent.employment_without_jobs", WARNING, "联结方式含就业务工，但用工需求为 0 或未填 / offers employment but no jobs",
         "enterprises", ROW, "jobs_offered",
         test=lambda c: _has_code(c.rows["mechanisms"], Mechanism.EMPLOYMENT.value)
         & _flag((c.rows["jobs_offered"] == 0) | (c.rows["jobs_offered"].isna() & c.has("jobs_offered"))),
         shown=lambda c: _text(c.rows["jobs_offered"].astype(object)).replace("", "（空）")),
    Rule("ent.jobs_without_employment", WARNING, "有用工需求，但联结方式不含就业务工 / jobs offered but no employment mechanism",
         "enterprises", ROW, "mechanisms",
         test=lambda c: _flag(c.rows["jobs_offered"] > 0) & ~_has_code(c.rows["mechanisms"], Mechanism.EMPLOYMENT.value),
         shown=lambda c: ("用工需求 " + _text(c.rows["jobs_offered"].astype(object)) + " 人，联结方式："
                          + _mechanism_labels(c.rows["mechanisms"]))),
    Rule("ent.workshop_without_employment", WARNING, "扶贫车间不提供就业务工 / a workshop that offers no employment",
         "enterprises", ROW, "mechanisms",
         test=lambda c: _flag(c.rows["enterprise_type"] == EnterpriseType.WORKSHOP.value)
         & ~_has_code(c.rows["mechanisms"], Mechanism.EMPLOYMENT.value),
         shown=lambda c: "联结方式：" + _mechanism_labels(c.rows["mechanisms"])),
    # projects
    Rule("proj.end_before_start", ERROR, "完成年度早于建设年度 / project ends before it starts",
         "projects", ROW, "end_year",
         test=lambda c: _flag(c.rows["end_year"] < c.rows["start_year"]),
         shown=lambda c: (_text(c.rows["end_year"].astype(object)) + "（建设年度 "
                          + _text(c.rows["start_year"].astype(object)) + "）")),
    # partnerships (dates are ISO text: compared as text)
    Rule("pt.end_before_start", ERROR, "结束日期早于开始日期 / partnership ends before it starts",
         "partnerships", ROW, "end_date",
         test=lambda c: _flag(c.rows["end_date"] < c.rows["start_date"]),
         shown=lambda c: c.rows["end_date"].astype(str) + "（开始 " + c.rows["start_date"].astype(str) + "）"),
    # across files: households, members and ledger rows in the graph (graph/consistency.py)
    Rule("hh.size_vs_members", WARNING, "家庭人口数与登记的成员人数不符 / household size differs from the members listed",
         "households", CROSS_FILE, "household_id", detail="家庭人口数 {household_size}，登记成员 {members} 人"),
    Rule("hh.disability_without_disabled_member", WARNING,
         "致贫原因为因残，但没有健康状况为残疾的成员 / 因残 without a disabled member",
         "households", CROSS_FILE, "household_id", detail="成员 {members} 人，残疾 0 人"),
    Rule("hh.lack_of_labour_with_able_member", WARNING,
         "致贫原因为缺劳动力，但有普通或技能劳动力成员 / 缺劳动力 while a member is an able labourer",
         "households", CROSS_FILE, "household_id", detail="普通或技能劳动力 {able} 人"),
    Rule("hh.two_heads", WARNING, "一户登记了多名户主 / more than one head of household",
         "households", CROSS_FILE, "household_id", detail="户主 {heads} 人"),
    Rule("hh.no_head", WARNING, "成员中没有户主 / no member is the head of household",
         "households", CROSS_FILE, "household_id", detail="成员 {members} 人，户主 0 人"),
    Rule("pt.employment_without_able_member", WARNING,
         "就业务工联结的户没有普通或技能劳动力 / employment partnership for a household without an able member",
         "partnerships", CROSS_FILE, "partnership_id", detail="户 {household_id}，成员 {members} 人，普通或技能劳动力 0 人"),
    Rule("pt.start_before_identification", WARNING, "联结开始日期早于该户的识别年度 / partnership starts before the "
         "household's identification year", "partnerships", CROSS_FILE, "partnership_id",
         detail="户 {household_id}，开始 {start_date}，识别年度 {identification_year}"),
    # A stored ledger row against the load's date: checked in the graph at every load, whether or not its row
    # changed (a row rule would see it only when its row is checked again).
    Rule("pt.in_force_expired", WARNING, "状态为履约中，但结束日期已过 / in force but its end date has passed",
         "partnerships", CROSS_FILE, "partnership_id", detail="户 {household_id}，结束日期 {end_date}"),
)


def _work_shown(rows: pd.DataFrame) -> pd.Series:
    """What a member's row says of work: status, months and place, those given."""
    parts = pd.DataFrame({
        "status": "务工状况 " + rows["work_status"].astype("string"),
        "months": "务工 " + rows["work_months"].astype("string") + " 个月",
        "place": "务工地 " + _label(rows["work_place"], WorkPlace).replace("", pd.NA).astype("string")},
        index=rows.index)
    return parts.apply(lambda row: "，".join(row.dropna()), axis=1) if len(parts) else pd.Series(dtype=str)


def _main_in_others(rows: pd.DataFrame) -> pd.Series:
    """Per row: whether its main cause is among its other causes."""
    others = rows["other_causes"].explode()
    main = rows["main_cause"].astype(object).reindex(others.index)
    return (others == main).groupby(level=0).any().reindex(rows.index, fill_value=False).astype(bool)


def _mechanism_labels(lists: pd.Series) -> pd.Series:
    return lists.map(lambda codes: "、".join(Mechanism.label_of(code, code) for code in codes) or "（空）")


RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
ROW_RULES: dict[str, tuple[Rule, ...]] = {
    kind: tuple(rule for rule in _RULES if rule.check == ROW and rule.kind == kind) for kind in formats.KINDS}
CROSS_FILE_RULES: tuple[Rule, ...] = tuple(rule for rule in _RULES if rule.check == CROSS_FILE)
# The rule of the duplicate-key check, per kind (members: the same person twice).
KEY_RULES: dict[str, str] = {rule.kind: rule.id for rule in _RULES if rule.check == KEY}


def header_of(table, kind: formats.FileKind, column: str) -> str:
    """A field's header as the file writes it (its official header when the file lacks it)."""
    return table.headers.get(column) or kind.column(column).header


def check_rows(kind: formats.FileKind, rows: pd.DataFrame, table, file_label: str,
               as_of: date) -> tuple[pd.DataFrame, list[Problem]]:
    """Apply the kind's row rules to transformed rows (table: the validated RawTable they came from): the rows
    to keep (an error rule rejects its rows) and a problem per rule and row flagged."""
    problems: list[Problem] = []
    if rows.empty or not ROW_RULES.get(kind.name):
        return rows, problems
    context = RuleRows(rows, table.frame, as_of)
    rejected = np.zeros(len(rows), dtype=bool)
    for rule in ROW_RULES[kind.name]:
        flagged = _flag(rule.test(context)).reindex(rows.index, fill_value=False)
        if not flagged.any():
            continue
        header = header_of(table, kind, rule.column)
        shown = rule.shown(context.where(flagged))
        problems += [Problem(file_label, table.sheet, int(row_number), header, str(value), rule.severity,
                             rule.message, rule.id) for row_number, value in shown.items()]
        if rule.severity == ERROR:
            rejected |= flagged.to_numpy()
    return rows[~rejected], problems


def stored_record_problems(rule_id: str, findings: Iterable[dict], table, kind: formats.FileKind,
                           file_label: str) -> list[Problem]:
    """Problems of a STORED rule: findings are {row, ...details} (the row number and what detail names)."""
    rule = RULES[rule_id]
    header = header_of(table, kind, rule.column)
    return [Problem(file_label, table.sheet, int(finding["row"]), header, rule.detail.format(**finding),
                    rule.severity, rule.message, rule.id) for finding in findings]


def cross_file_problems(findings: Iterable[dict], files_by_kind: dict[str, tuple[str, str | None]]) -> list[Problem]:
    """Problems of the cross-file rules from graph/consistency.py's findings ({rule, household_id,
    partnership_id, details}). A finding names its record (户编号 or 联结编号, never a person) and the load's
    file of the record's kind (files_by_kind: kind → (file, sheet); the records are in the graph already when
    the load has none); row 0: it is about a record, not one line of a file."""
    problems = []
    for finding in findings:
        rule = RULES[finding["rule"]]
        kind = formats.KINDS[rule.kind]
        file, sheet = files_by_kind.get(rule.kind) or (f"（库中已有的{kind.title}）", None)
        record = finding["partnership_id"] if rule.column == "partnership_id" else finding["household_id"]
        details = {"household_id": finding["household_id"], **finding["details"]}
        shown = {name: ("空" if value is None else value) for name, value in details.items()}
        problems.append(Problem(file, sheet, 0, kind.column(rule.column).header,
                                f"{record}（{rule.detail.format(**shown)}）", rule.severity, rule.message, rule.id))
    return problems


def group_problems(problems: Iterable[Problem], examples: int = 0) -> list[dict]:
    """The problems grouped: by rule where they have one, otherwise by severity and reason, so every problem is
    in exactly one group. Each group: rule (id or None), severity, message, count; errors first, then the
    largest groups. With `examples`, each group also lists its first problems (file, sheet, row, column, value)."""
    counts: dict[tuple, int] = {}
    firsts: dict[tuple, list[dict]] = {}
    for problem in problems:
        key = (problem.rule, problem.severity, RULES[problem.rule].message if problem.rule else problem.reason)
        counts[key] = counts.get(key, 0) + 1
        if examples and len(firsts.setdefault(key, [])) < examples:
            firsts[key].append({"file": problem.file, "sheet": problem.sheet, "row": problem.row,
                                "column": problem.column, "value": problem.value})
    groups = [{"rule": rule, "severity": severity, "message": message, "count": count}
              for (rule, severity, message), count in counts.items()]
    if examples:
        for group in groups:
            group["examples"] = firsts.get((group["rule"], group["severity"], group["message"]), [])
    groups.sort(key=lambda group: (group["severity"] != ERROR, -group["count"], group["rule"] or "", group["message"]))
    return groups


def rule_table() -> list[dict]:
    """Every rule as a row (id, severity, kind, check, message), in declaration order."""
    return [{"id": rule.id, "severity": rule.severity, "kind": formats.KINDS[rule.kind].title,
             "check": CHECK_TITLES[rule.check], "message": rule.message} for rule in _RULES]
