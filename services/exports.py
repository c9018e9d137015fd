"""XLSX downloads for bureau staff (openpyxl write-only mode).

Readable as they open: Chinese headers only, a code-list column (联结方式, 状态, 致贫原因, 户属性, …) written as its
label (a code outside the list stays as it is), the header row frozen, each column as wide as its content (CJK
characters count double, within MIN_WIDTH … MAX_WIDTH), and a file name saying what, where and when
(`帮扶台账-凤凰县-2026-12-01.xlsx`, with an ASCII name beside it for old clients: `export_filename`).

Every text cell is written as text: a stored note `=HYPERLINK(…)` must not become a live formula in
the bureau's Excel (openpyxl writes any string starting with '=' as a formula), and Excel must keep it
text when someone edits the cell (the cell's quotePrefix, what a typed leading apostrophe sets). Characters
XML 1.0 cannot hold (a stored U+0007) are dropped, so what is already in the graph can always be exported.
"""
import io
import re
import unicodedata
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter

from core import codes
from core.clock import today_iso

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MIN_WIDTH, MAX_WIDTH = 6, 60
# The code list of each column that holds codes: the export writes the label.
CODE_COLUMNS = {"mechanism": codes.Mechanism, "status": codes.PartnershipStatus, "main_cause": codes.PovertyCause,
                "attribute": codes.HouseholdAttribute, "monitoring_category": codes.MonitoringCategory,
                "labour_skill": codes.LabourSkill, "skill_required": codes.LabourSkill,
                "enterprise_type": codes.EnterpriseType}

HOUSEHOLD_COLUMNS = [
    ("household_id", "户编号"), ("head_name", "户主姓名"), ("phone", "联系电话"), ("township_name", "乡镇"),
    ("village_name", "行政村"), ("attribute", "贫困户属性"), ("main_cause", "主要致贫原因"),
    ("household_size", "家庭人口数"), ("income_per_capita", "人均纯收入（元）"), ("labour_ordinary", "普通劳动力"),
    ("labour_skilled", "技能劳动力"), ("labour_weak", "弱劳动力"), ("arable_mu", "耕地（亩）"),
    ("products", "主要产业（产品）"), ("covered", "已有履约联结"),
]
LEDGER_COLUMNS = [
    ("household_id", "户编号"), ("head_name", "户主姓名"), ("village_name", "行政村"),
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
    ascii_filename: str | None = None  # for clients that cannot read filename* (RFC 5987)


# Characters an XML 1.0 document cannot contain: C0 controls other than tab, line feed and carriage return,
# lone surrogates, U+FFFE and U+FFFF. Text input refuses these (and the C1 controls) outright.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """text without the characters XML 1.0 cannot hold (a workbook holding one does not open)."""
    return XML_ILLEGAL.sub("", text)


def _value(value, code_list=None):
    if isinstance(value, list):
        return "、".join(str(code_list.label_of(item, str(item)) if code_list else item) for item in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if code_list is not None and value is not None and value != "":
        return code_list.label_of(value, str(value))
    return value


def display_width(value) -> int:
    """How many columns Excel needs for a value: CJK (wide and full-width) characters count double."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _cell(sheet, value):
    """A cell for the write-only sheet: text always as a text cell marked as such, numbers as numbers."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=xml_safe(value))
    cell.data_type = "s"  # openpyxl would take a leading '=' for a formula
    cell.quotePrefix = True  # Excel shows it as text and keeps it text when the cell is edited
    return cell


def xlsx_bytes(sheet_title: str, columns: list[tuple[str, str]], rows: list[dict]) -> bytes:
    """A workbook with one sheet: a frozen Chinese header row, then one row per item (codes as labels), each
    column as wide as its widest value."""
    values = [[_value(row.get(key), CODE_COLUMNS.get(key)) for key, _ in columns] for row in rows]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    for index, (_, title) in enumerate(columns):
        widest = max([display_width(title), *(display_width(line[index]) for line in values)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(widest + 2, MIN_WIDTH), MAX_WIDTH)
    sheet.freeze_panes = "A2"
    sheet.append([title for _, title in columns])
    for line in values:
        sheet.append([_cell(sheet, value) for value in line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


SAFE_NAME = re.compile(r"[\\/:*?\"<>|\x00-\x1f]+")


def export_filename(what: str, place: str | None, ascii_what: str, place_code: str | None,
                    day: str | None = None) -> tuple[str, str]:
    """(file name, ASCII fallback) of an export: `帮扶台账-凤凰县-2026-12-01.xlsx` and
    `ledger-433123000000-2026-12-01.xlsx` (the day: today in China time)."""
    day = day or today_iso()
    name = "-".join(SAFE_NAME.sub("", part) for part in (what, place or "全部", day) if part)
    fallback = "-".join(part for part in (ascii_what, re.sub(r"[^0-9A-Za-z]", "", place_code or "") or "all", day))
    return f"{name}.xlsx", f"{fallback}.xlsx"


def households_workbook(rows: list[dict], place: str | None = None, place_code: str | None = None) -> Download:
    """Households (as presented to the caller) as 贫困户-<place>-<day>.xlsx."""
    name, fallback = export_filename("贫困户", place, "households", place_code)
    return Download(name, XLSX_MIMETYPE, xlsx_bytes("贫困户", HOUSEHOLD_COLUMNS, rows), fallback)


def ledger_workbook(rows: list[dict], place: str | None = None, place_code: str | None = None) -> Download:
    """Ledger rows (as presented to the caller) as 帮扶台账-<place>-<day>.xlsx."""
    name, fallback = export_filename("帮扶台账", place, "ledger", place_code)
    return Download(name, XLSX_MIMETYPE, xlsx_bytes("帮扶台账", LEDGER_COLUMNS, rows), fallback)


def place_name(ctx, code: str | None) -> str | None:
    """The name of a region for a file name (its code when it has no name; None for no region)."""
    if not code:
        return None
    from graph import views

    found = views.regions(ctx.driver, [code], ctx.database)
    return (found[0].get("name") if found else None) or code
