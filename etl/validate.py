"""Validation: a pandera schema per file kind, generated from etl.formats.

Two schemas per kind: errors (the row is rejected) and warnings (the row loads, the
issue is reported). Every failure becomes a `Problem` naming file, row, column,
value (masked when personal) and a reason in Chinese with English beside it.

Every check answers for each cell on its own: a check that cannot (it raised on the column) fails the
table rather than letting the column through unchecked. An ID number or a mobile number is personal
wherever it was typed: a report never shows one raw (`Problem` masks them), an ID number in any column but
its own rejects the row (the columns are likely shifted, and it would be stored and served raw), and a
mobile number in free text is masked before it is stored (the row loads, with a warning).
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import pandera.pandas as pa

from core import geography
from etl import formats, values
from etl.formats import Column, FileKind

ERROR, WARNING, INFO = "错误", "警告", "信息"  # INFO: what the report says for the record (no fault of the row)
MAX_TEXT_LENGTH = 200


@dataclass(frozen=True)
class Problem:
    """One bad cell or row, as written to the validation report (ID and mobile numbers in the value masked).

    rule: the id of the consistency rule it breaks (etl/rules.py), None for other problems."""

    file: str
    sheet: str | None
    row: int
    column: str
    value: str
    severity: str
    reason: str
    rule: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "value", values.mask_embedded(self.value or ""))


def _check(function, reason: str) -> pa.Check:
    """A vectorised pandera check whose error text is the report's reason."""
    return pa.Check(function, error=reason)


def _range_checks(column: Column) -> list[pa.Check]:
    # A cell that is no number answers "in range" here (its type check rejects it): each cell is checked on
    # its own, never skipped because another cell of the column is not a number.
    checks = []
    if column.minimum is not None:
        checks.append(_check(lambda s: ~values.parse_number(s).lt(column.minimum).fillna(False).astype(bool),
                             f"不能小于 {column.minimum:g} / must be at least {column.minimum:g}"))
    if column.maximum is not None:
        checks.append(_check(lambda s: ~values.parse_number(s).gt(column.maximum).fillna(False).astype(bool),
                             f"不能大于 {column.maximum:g} / must be at most {column.maximum:g}"))
    return checks


NOT_AN_ID_NUMBER = "疑似身份证号码：证件号码只能填在证件号码列（请核对各列是否错位）/ looks like an ID number"
STORED_AS_NUMBER = ("证件号码被 Excel 存成了数字（如 4.33123E+17），后几位已丢失：请把该列设为文本格式后重新导出 / "
                    "ID number stored as a number: its last digits are lost")
NOT_A_MOBILE = "疑似手机号码：编号列不能填写手机号码 / looks like a mobile number"
MOBILE_MASKED = "含手机号码，已隐去中间四位后加载 / mobile number masked before loading"


def _personal_number_checks(column: Column) -> list[pa.Check]:
    """Text where an ID number (anywhere) or a mobile number (in an id) does not belong."""
    if column.type not in (formats.TEXT, formats.LIST):
        return []
    checks = [_check(lambda s: ~values.has_id_number(s), NOT_AN_ID_NUMBER)]
    if column.identifier:
        checks.append(_check(lambda s: ~values.has_mobile(s), NOT_A_MOBILE))
    return checks


def _known_county(series: pd.Series) -> pd.Series:
    counties = series.str[:6]
    known = [code for code in counties.dropna().unique()  # a few per file
             if geography.division(code.ljust(12, "0")) is not None]
    return counties.isin(known).fillna(False).astype(bool)


def _error_checks(kind: FileKind, column: Column) -> list[pa.Check]:
    """The checks whose failure rejects the row."""
    kind_of_value = column.type
    if kind_of_value == formats.TEXT:
        return [_check(lambda s: s.str.len() <= MAX_TEXT_LENGTH, f"内容过长（超过 {MAX_TEXT_LENGTH} 字）/ too long"),
                *_personal_number_checks(column)]
    if kind_of_value == formats.LIST:
        return _personal_number_checks(column)
    if kind_of_value == formats.INTEGER:
        return [_check(values.is_integer_text, "应为整数 / must be a whole number"), *_range_checks(column)]
    if kind_of_value == formats.DECIMAL:
        return [_check(lambda s: values.parse_number(s).notna(), "应为数字 / must be a number"), *_range_checks(column)]
    if kind_of_value in (formats.CODE, formats.FLAG):
        allowed = "、".join(column.code_list.labels().values())
        return [_check(lambda s: s.isin(column.code_list.lookup().keys()),
                       f"不是有效的{column.code_list.list_name}（可用：{allowed}）/ not a valid code or label")]
    if kind_of_value == formats.CODES:
        return [_check(lambda s: ~values.codes_of(s, column.code_list)[1],
                       f"含无效的{column.code_list.list_name} / contains an unknown code")]
    if kind_of_value == formats.DATE:
        return [_check(lambda s: values.parse_date(s).notna(), "不是有效日期（如 2019-03-01）/ not a valid date")]
    if kind_of_value == formats.YEAR:
        return [_check(values.year_text_ok, "应为四位年份（如 2019 或 2019年）/ must be a year")]
    if kind_of_value == formats.ID_NUMBER:
        return [
            _check(lambda s: ~values.stored_as_number(s), STORED_AS_NUMBER),
            _check(lambda s: values.id_number_format_ok(s) | values.stored_as_number(s),
                   "证件号码应为 18 位（末位可为 X）/ ID number must have 18 characters"),
            _check(lambda s: ~values.id_number_format_ok(s) | values.id_birth_date(s).notna(),
                   "证件号码中的出生日期无效 / impossible birth date in ID number"),
            _check(lambda s: ~values.id_number_format_ok(s) | values.id_check_digit_ok(s),
                   "证件号码校验位错误 / ID number check digit is wrong"),
        ]
    if kind_of_value == formats.CREDIT_CODE:
        # An ID number fits a credit code's alphabet and length; one that checks as an ID number and not as a
        # credit code was typed in the wrong place.
        return [_check(values.credit_code_format_ok,
                       "统一社会信用代码应为 18 位，且不含 I、O、S、V、Z / credit code must be 18 characters of its alphabet"),
                _check(lambda s: ~(values.has_id_number(s) & values.id_check_digit_ok(s)
                                   & ~values.credit_check_char_ok(s)), NOT_AN_ID_NUMBER)]
    if kind_of_value == formats.REGION_CODE:
        checks = [_check(values.region_code_ok, "行政区划代码应为 6、9 或 12 位数字 / region code must have 6, 9 or 12 digits"),
                  _check(lambda s: ~values.region_code_ok(s) | _known_county(s),
                         "行政区划代码中的县级代码不存在 / unknown county in region code")]
        if column.name == "village_code":
            checks.append(_check(lambda s: s.str.fullmatch(r"\d{9}(?!000)\d{3}").fillna(False).astype(bool),
                                 "应为 12 位村级代码 / must be a 12-digit village code"))
        return checks
    return []


def _warning_checks(column: Column) -> list[pa.Check]:
    """The checks whose failure is reported but does not reject the row."""
    if column.warn_values:
        return [_check(lambda s, value=value: s.astype(object) != value, reason) for value, reason in column.warn_values]
    if column.free_text:
        return [_check(lambda s: ~values.has_mobile(s), MOBILE_MASKED)]
    if column.type == formats.CREDIT_CODE:
        # Real registered codes exist that fail the check character, so this only warns.
        return [_check(lambda s: ~values.credit_code_format_ok(s) | values.credit_check_char_ok(s),
                       "统一社会信用代码校验位不符（已加载，请核实）/ check character does not match")]
    return []


def neither_given(kind: FileKind, column: Column) -> str:
    """The error of a row that has neither a required value nor any of the columns that may stand in for it."""
    others = [kind.column(name) for name in column.required_unless]
    consequence = "无法定位" if column.type == formats.REGION_CODE else "至少应填写一项"
    return (f"{column.header}与{'、'.join(other.header for other in others)}均为空，{consequence} / neither "
            f"{column.name} nor {' / '.join(other.name for other in others)} given")


def _neither_given_problems(table, file_label: str) -> list[Problem]:
    """An error for each row without a value in a column required unless another is given (Column.required_unless)
    and without a value in any of those (columns the file lacks count as empty); the problem is on the first of
    them the file has. Checked here, on whole columns, rather than as a pandera row check, which would report
    each failing row once per column of the file."""
    kind, frame = table.kind, table.frame
    problems = []
    for column in kind.columns:
        if not (column.required and column.required_unless):
            continue
        names = (column.name, *column.required_unless)
        missing = np.ones(len(frame), dtype=bool)
        for name in names:
            if name in frame.columns:
                missing &= frame[name].isna().to_numpy()
        header = next((table.headers[name] for name in names if name in table.headers), column.header)
        problems += [Problem(file_label, table.sheet, int(row_number), header, "", ERROR, neither_given(kind, column))
                     for row_number in frame.index[missing]]
    return problems


@lru_cache(maxsize=None)
def schemas(kind_name: str) -> tuple[pa.DataFrameSchema, pa.DataFrameSchema]:
    """The (errors, warnings) schemas of a file kind."""
    kind = formats.KINDS[kind_name]
    error_columns, warning_columns = {}, {}
    for column in kind.columns:
        is_key = column.name in kind.key
        # A column another may stand in for is checked row by row with them (_neither_given_problems).
        always_required = column.required and not column.required_unless
        error_columns[column.name] = pa.Column(
            nullable=not always_required,
            required=always_required,
            unique=is_key,
            report_duplicates="exclude_first",
            checks=_error_checks(kind, column),
        )
        warning_columns[column.name] = pa.Column(nullable=True, required=False, checks=_warning_checks(column))
    return (
        pa.DataFrameSchema(error_columns, strict=False, coerce=False, name=kind.name),
        pa.DataFrameSchema(warning_columns, strict=False, coerce=False, name=kind.name),
    )


def _reasons(column: Column, check: str) -> str:
    """Readable reasons for pandera's built-in checks."""
    if check == "not_nullable":
        return f"必填项为空：{column.header} / required value is missing"
    if check == "field_uniqueness":
        return f"{column.header}重复（同一文件中已出现）/ duplicate key in this file"
    return check


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """pandera's failure cases for a frame (empty when it is valid)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return errors.failure_cases
    return pd.DataFrame(columns=["column", "check", "failure_case", "index"])


def check_required_columns(kind: FileKind, columns) -> None:
    """ReadError naming the required columns a table lacks (the whole table is refused). A column another may
    stand in for (Column.required_unless) is missing only when the table has none of them either."""
    columns = set(columns)
    missing = [column.header + (f"（或{'、'.join(kind.column(name).header for name in column.required_unless)}）"
                                if column.required_unless else "")
               for column in kind.columns
               if column.required and column.name not in columns and columns.isdisjoint(column.required_unless)]
    if missing:
        from etl.readers import ReadError

        raise ReadError(f"缺少必填列：{'、'.join(missing)} / required columns missing: {', '.join(missing)}")


def shown_value(column: Column, raw) -> str:
    """A cell as the report shows it: ID numbers masked, other personal values hidden."""
    shown = "" if raw is None or pd.isna(raw) else str(raw)
    if column.personal and shown:
        shown = values.mask_id_number(pd.Series([shown])).iloc[0] if column.type == formats.ID_NUMBER else "***"
    return shown


def duplicate_key_problem(kind: FileKind, table, file_label: str, row_number: int, reason: str | None = None,
                          rule: str | None = None) -> Problem:
    """The error of a row whose key an earlier row of the same file has (or, for a kind whose rule says so
    (etl/rules.py KEY_RULES), an earlier row of the load: then with that rule's reason and id)."""
    column = kind.column(kind.key[0])
    return Problem(file_label, table.sheet, int(row_number), table.headers.get(column.name, column.header),
                   shown_value(column, table.frame.at[row_number, column.name]), ERROR,
                   reason or _reasons(column, "field_uniqueness"), rule)


def validate(table, file_label: str) -> tuple[pd.Index, list[Problem]]:
    """Check a RawTable: the row numbers to reject and every problem found."""
    kind = table.kind
    check_required_columns(kind, table.frame.columns)
    error_schema, warning_schema = schemas(kind.name)
    problems: list[Problem] = []
    rejected: set[int] = set()
    # The checks read Arrow-backed text (etl/values.py): converted once here, not once per check.
    frame = table.frame.astype(values.ARROW_TEXT)
    for schema, severity in ((error_schema, ERROR), (warning_schema, WARNING)):
        cases = _failures(schema, frame)
        broken = cases[cases["index"].isna() & (cases["schema_context"] == "Column")] if len(cases) else cases
        if len(broken):
            from etl.readers import ReadError

            # A check that raised checked nothing: refuse the table rather than load the column unchecked.
            names = "、".join(sorted({kind.column(name).header for name in broken["column"]}))
            raise ReadError(f"校验程序无法检查列：{names} / validation could not check column(s): {names}")
        cases = cases[cases["index"].notna()]
        for case in cases.itertuples(index=False):
            column = kind.column(case.column)
            shown = shown_value(column, table.frame.at[case.index, case.column])
            problems.append(Problem(file_label, table.sheet, int(case.index), table.headers.get(case.column, column.header),
                                    shown, severity, _reasons(column, case.check)))
            if severity == ERROR:
                rejected.add(int(case.index))
    neither = _neither_given_problems(table, file_label)
    problems += neither
    rejected.update(problem.row for problem in neither)
    problems.sort(key=lambda problem: (problem.row, problem.column))
    return pd.Index(sorted(rejected), name="row"), problems
