"""One vocabulary: the code lists live in core/codes.py and nowhere else.

1. No code-list literal outside core/codes.py: the production packages' Python (strings, including the
   Cypher inside them) and the page templates never write a registry code ('01' … '13') or a
   recommendation status ('proposed', 'accepted', 'confirmed', 'declined'); they name the enum member,
   and Cypher gets the value as a $parameter.
2. core.codes itself: every list accepts its codes, the codes without their leading zero, the labels
   and the aliases (the same table the ETL had in etl/codes.py), and names itself.
"""
import ast
import re
from pathlib import Path

import pytest

from core import codes
from core.codes import (
    Education, EnterpriseType, Health, HouseholdAttribute, HouseholdType, LabourSkill, Mechanism,
    MonitoringCategory, PartnershipStatus, PovertyCause, PovertyStatus, ProjectStatus, RecommendationStatus,
    WorkPlace, YesNo,
)
from core.settings import PROJECT_ROOT

PRODUCTION = ("core", "graph", "etl", "matching", "services", "app", "jobs", "cli")
THE_ONE_PLACE = Path("core/codes.py")
TEMPLATES = Path("app/web/templates")

CODE = r"0[1-9]|1[0-3]"
STATUS = "|".join(status.value for status in RecommendationStatus)
QUOTED_CODE = re.compile(rf"""(['"])({CODE})\1""")
QUOTED_STATUS = re.compile(rf"""(['"])({STATUS})\1""")
# Markup attributes whose numbers are sizes and positions, not codes (SVG charts, table layout).
PRESENTATION = {"x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "dx", "dy", "width", "height",
                "font-size", "stroke-width", "colspan", "rowspan", "size", "maxlength", "tabindex", "rows", "cols",
                "class", "id"}
ATTRIBUTE_BEFORE = re.compile(r"([\w-]+)=$")
SUBSCRIPT_BEFORE = re.compile(r"[\w)\]]\[$")  # record["confirmed"]: a field name, not a value


def _is_presentation(text: str, start: int) -> bool:
    """True when the quoted value at `start` is the value of a presentational markup attribute."""
    attribute = ATTRIBUTE_BEFORE.search(text[max(0, start - 40):start])
    return bool(attribute) and attribute.group(1).lower() in PRESENTATION


def _quoted_literals(text: str) -> list[str]:
    """Quoted codes and statuses written inside a text (Cypher in a Python string, a template line)."""
    found = []
    for pattern in (QUOTED_CODE, QUOTED_STATUS):
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 40):match.start()]
            if not _is_presentation(text, match.start()) and not SUBSCRIPT_BEFORE.search(before):
                found.append(match.group(0))
    return found


def _python_literals(path: Path) -> list[tuple[int, str]]:
    """(line, literal) of every code or status a Python file writes, docstrings and comments aside.

    A string that *is* a code or a status counts (a dict key too for codes: a restated table); a status
    used as a field name — a dict key or a subscript, `record["confirmed"]` — does not.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Expr):
            continue  # a docstring (or a bare string): documentation
        in_fstring = isinstance(parent, ast.JoinedStr)
        as_field_name = (isinstance(parent, ast.Dict) and node in parent.keys) or (
            isinstance(parent, ast.Subscript) and parent.slice is node)
        if not in_fstring and re.fullmatch(CODE, node.value):
            found.append((node.lineno, repr(node.value)))
        elif not in_fstring and not as_field_name and re.fullmatch(STATUS, node.value):
            found.append((node.lineno, repr(node.value)))
        else:
            found.extend((node.lineno, literal) for literal in _quoted_literals(node.value))
    return found


def code_literals(root: Path) -> list[str]:
    """`file:line: literal` for every code-list literal outside core/codes.py under root."""
    root = Path(root)
    report = []
    for package in PRODUCTION:
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root)
            if relative == THE_ONE_PLACE:
                continue
            report.extend(f"{relative.as_posix()}:{line}: {literal}" for line, literal in _python_literals(path))
    for path in sorted((root / TEMPLATES).glob("*.html")):
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            report.extend(f"{path.relative_to(root).as_posix()}:{number}: {literal}"
                          for literal in _quoted_literals(text))
    return report


def test_no_code_literal_outside_core_codes():
    found = code_literals(PROJECT_ROOT)
    assert not found, f"{len(found)} code-list literals outside core/codes.py:\n" + "\n".join(found)


def test_the_scan_finds_literals_in_python_cypher_and_templates(tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "ledger.py").write_text(
        '"""Docstrings may say \'01\'."""\n'
        'OPEN = "01"  # a code\n'
        'QUERY = "MATCH (p) WHERE p.status IN [\'01\', \'04\'] SET r.status = \'declined\'"\n'
        'fine = record["confirmed"], {"confirmed": 1}, f"{county}01"\n'
        'SVG = \'<rect width="10" height="12"/>\'\n'
        'status = "accepted"\n', encoding="utf-8")
    (tmp_path / TEMPLATES).mkdir(parents=True)
    (tmp_path / TEMPLATES / "page.html").write_text(
        '<svg><rect x="10" width="12"></rect></svg>\n'
        "{% if r.status == 'proposed' %}<option value=\"03\">{% endif %}\n", encoding="utf-8")
    assert code_literals(tmp_path) == [
        "graph/ledger.py:2: '01'",
        "graph/ledger.py:3: '01'", "graph/ledger.py:3: '04'", "graph/ledger.py:3: 'declined'",
        "graph/ledger.py:6: 'accepted'",
        f"{TEMPLATES.as_posix()}/page.html:2: \"03\"", f"{TEMPLATES.as_posix()}/page.html:2: 'proposed'",
    ]


# --- core.codes ---------------------------------------------------------------------------------

ALL_LISTS = [PovertyCause, HouseholdAttribute, PovertyStatus, HouseholdType, MonitoringCategory, LabourSkill,
             Health, Education, WorkPlace, Mechanism, EnterpriseType, PartnershipStatus, ProjectStatus, YesNo,
             RecommendationStatus]

# (list, spelling, code): codes, unpadded codes, labels and aliases, as the ETL's table had them.
SPELLINGS = [
    (PovertyCause, "01", "01"), (PovertyCause, "1", "01"), (PovertyCause, "因病", "01"), (PovertyCause, "13", "13"),
    (PovertyCause, "缺劳力", "08"), (PovertyCause, "交通落后", "10"), (PovertyCause, "自身发展动力不足的", "11"),
    (HouseholdAttribute, "3", "03"), (HouseholdAttribute, "五保", "03"), (HouseholdAttribute, "低保", "02"),
    (HouseholdAttribute, "一般户", "01"),
    (PovertyStatus, "已标注脱贫", "02"), (PovertyStatus, "贫困", "01"),
    (HouseholdType, "农户", "02"),
    (MonitoringCategory, "边缘户", "02"), (MonitoringCategory, "突发严重困难户", "03"),
    (LabourSkill, "普通", "01"), (LabourSkill, "弱劳动力/半劳动力", "03"), (LabourSkill, "无", "05"),
    (Health, "慢性病", "02"), (Health, "残疾人", "04"),
    (Education, "本科及以上", "05"), (Education, "中专", "04"), (Education, "6", "06"),
    (WorkPlace, "县外", "03"), (WorkPlace, "省外", "04"),
    (Mechanism, "就业帮扶车间", "01"), (Mechanism, "保底收购", "02"), (Mechanism, "土地流转", "03"),
    (Mechanism, "3", "03"), (Mechanism, "土地入股", "04"), (Mechanism, "入股分红/资产收益", "04"),
    (Mechanism, "电商", "05"),
    (EnterpriseType, "国家重点龙头企业", "01"), (EnterpriseType, "合作社", "05"), (EnterpriseType, "电商", "08"),
    (EnterpriseType, "企业", "10"), (EnterpriseType, "10", "10"),
    (PartnershipStatus, "有效", "01"), (PartnershipStatus, "解除", "03"), (PartnershipStatus, "待审核", "04"),
    (ProjectStatus, "竣工", "03"), (ProjectStatus, "运营", "04"),
    (YesNo, "是", "1"), (YesNo, "Y", "1"), (YesNo, "false", "0"), (YesNo, "0", "0"), (YesNo, "有", "1"),
    (RecommendationStatus, "confirmed", "confirmed"), (RecommendationStatus, "已拒绝", "declined"),
]

# Each list's name and number of entries, as in etl/codes.py.
LIST_NAMES = {PovertyCause: ("致贫原因", 13), HouseholdAttribute: ("贫困户属性", 3), PovertyStatus: ("脱贫状态", 3),
              HouseholdType: ("户类型", 2), MonitoringCategory: ("监测对象类别", 3), LabourSkill: ("劳动技能", 5),
              Health: ("健康状况", 4), Education: ("文化程度", 6), WorkPlace: ("务工地", 4),
              Mechanism: ("联结方式", 5), EnterpriseType: ("主体类型", 10), PartnershipStatus: ("联结状态", 4),
              ProjectStatus: ("项目状态", 4), YesNo: ("是否", 2), RecommendationStatus: ("推荐状态", 4)}


@pytest.mark.parametrize("code_list, spelling, code", SPELLINGS,
                         ids=[f"{c.__name__}-{s}" for c, s, _ in SPELLINGS])
def test_lookup_and_parse_accept_codes_unpadded_codes_labels_and_aliases(code_list, spelling, code):
    assert code_list.lookup()[spelling] == code
    assert type(code_list.lookup()[spelling]) is str, "plain strings, as stored in the graph"
    assert code_list.parse(f" {spelling} ") is code_list(code)


@pytest.mark.parametrize("code_list", ALL_LISTS, ids=lambda c: c.__name__)
def test_every_member_is_found_by_its_code_label_and_aliases(code_list):
    table = code_list.lookup()
    for member in code_list:
        assert table[member.value] == table[member.label] == member.value
        assert table[member.value.lstrip("0") or "0"] == member.value
        assert all(table[alias] == member.value for alias in member.aliases)
    assert code_list.parse("不存在的写法") is None


@pytest.mark.parametrize("code_list", ALL_LISTS, ids=lambda c: c.__name__)
def test_list_names_and_sizes(code_list):
    name, size = LIST_NAMES[code_list]
    assert code_list.list_name == name
    assert len(code_list) == len(code_list.labels()) == len(code_list.codes()) == size
    assert list(code_list.labels()) == code_list.codes(), "labels() in code order"


def test_label_of():
    assert PovertyCause.label_of("01") == "因病"
    assert Mechanism.label_of(Mechanism.LAND_LEASE) == "土地流转"
    assert EnterpriseType.label_of("07") == "扶贫车间"
    assert PartnershipStatus.label_of("99") is None
    assert PartnershipStatus.label_of("99", "未知") == "未知"
    assert PovertyCause.label_of(None, "") == ""
    assert RecommendationStatus.label_of("accepted") == "企业已接受"


def test_members_are_their_codes_and_groups_are_members():
    assert Mechanism.LAND_LEASE == "03" and f"{Mechanism.LAND_LEASE}" == "03"
    assert {Mechanism.EQUITY: 1}["04"] == 1, "a member hashes as its code (dicts keyed either way agree)"
    assert Mechanism.codes() == ["01", "02", "03", "04", "05"]
    assert PartnershipStatus.codes(*PartnershipStatus.open()) == ["01", "04"]
    assert set(RecommendationStatus.closed()) == {"declined", "confirmed"}
    assert codes.ABLE_SKILLS == (LabourSkill.ORDINARY, LabourSkill.SKILLED)
    assert codes.NEED_CAUSES == (PovertyCause.ILLNESS, PovertyCause.DISABILITY, PovertyCause.LACK_OF_LABOUR)
    assert [member.value for member in codes.LEADING_ENTERPRISES] == ["01", "02", "03", "04"]
