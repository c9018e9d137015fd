"""XLSX downloads for bureau staff (openpyxl write-only mode: constant memory per row).

Every text cell is written as text: a stored note `=HYPERLINK(…)` must not become a live formula in
the bureau's Excel (openpyxl writes any string starting with '=' as a formula), and Excel must keep it
text when someone edits the cell (the cell's quotePrefix, what a typed leading apostrophe sets). Characters
XML 1.0 cannot hold (a stored U+0007) are dropped, so what is already in the graph can always be exported.
"""
import io
import re
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

HOUSEHOLD_COLUMNS = [
    ("household_id", "户编号"), ("head_name", "户主姓名"), ("phone", "联系电话"), ("township_name", "乡镇"),
    ("village_name", "行政村"), ("attribute", "贫困户属性"), ("main_cause", "主要致贫原因"),
    ("household_size", "家庭人口数"), ("income_per_capita", "人均纯收入（元）"), ("labour_ordinary", "普通劳动力"),
    ("labour_skilled", "技能劳动力"), ("labour_weak", "弱劳动力"), ("arable_mu", "耕地（亩）"),
    ("products", "主要产业（产品）"), ("covered", "已有履约联结"),
]
LEDGER_COLUMNS = [
    ("partnership_id", "联结编号"), ("household_id", "户编号"), ("head_name", "户主姓名"), ("village_name", "行政村"),
    ("credit_code", "统一社会信用代码"), ("enterprise_name", "企业名称"), ("project_id", "项目编号"),
    ("mechanism", "联结方式"), ("start_date", "开始日期"), ("end_date", "结束日期"), ("income_gain", "年增收（元）"),
    ("status", "状态"), ("note", "帮扶措施"),
]


@dataclass(frozen=True)
class Download:
    """A file for the caller to save: its name, media type and content."""

    filename: str
    mimetype: str
    content: bytes


# Characters an XML 1.0 document cannot contain: C0 controls other than tab, line feed and carriage return,
# lone surrogates, U+FFFE and U+FFFF. Text input refuses these (and the C1 controls) outright.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """text without the characters XML 1.0 cannot hold (a workbook holding one does not open)."""
    return XML_ILLEGAL.sub("", text)


def _value(value):
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def _cell(sheet, value):
    """A cell for the write-only sheet: text always as a text cell marked as such, numbers as numbers."""
    value = _value(value)
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=xml_safe(value))
    cell.data_type = "s"  # openpyxl would take a leading '=' for a formula
    cell.quotePrefix = True  # Excel shows it as text and keeps it text when the cell is edited
    return cell


def xlsx_bytes(sheet_title: str, columns: list[tuple[str, str]], rows: list[dict]) -> bytes:
    """A workbook with one sheet: a Chinese header row, then one row per item."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append([title for _, title in columns])
    for row in rows:
        sheet.append([_cell(sheet, row.get(key)) for key, _ in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def households_workbook(rows: list[dict]) -> Download:
    """Households (as presented to the caller) as households.xlsx."""
    return Download("households.xlsx", XLSX_MIMETYPE, xlsx_bytes("贫困户", HOUSEHOLD_COLUMNS, rows))


def ledger_workbook(rows: list[dict]) -> Download:
    """Ledger rows (as presented to the caller) as partnerships.xlsx."""
    return Download("partnerships.xlsx", XLSX_MIMETYPE, xlsx_bytes("帮扶台账", LEDGER_COLUMNS, rows))
