"""Read state without Neo4j: the `flask readstate` summary and exit status, the queries' parameters,
and the need-tier rule in its two forms (core.need scalar, matching.features vectorised).

(The stored figures against the real graph, under random writes: tests/integration/test_readstate_consistency.py.)"""
import re
from pathlib import Path

import pandas as pd
import pytest

from cli.readstate_commands import EXAMPLES, progress_line, summary_lines
from core import need
from core.codes import CoverageState, HouseholdAttribute, LabourSkill, MonitoringCategory, PovertyCause
from core.settings import PROJECT_ROOT
from graph import readstate
from graph.model import node_type
from graph.vocabulary import VOCABULARY, with_vocabulary
from matching.features import Households
from tests.support import matching_cases as cases
from tests.unit.test_vocabulary import _python_literals, _quoted_literals

COUNTY = "433123000000"
HOUSEHOLD_FIELDS = {"labour_ordinary", "labour_skilled", "labour_weak", "members", "labourers", "covered", "pending",
                    "active_partnerships", "in_force_counts", "need_tier", "income_order",
                    "size_order", "planned", "coverage_state"}
REGION_FIELDS = {"households", "covered", "pending", "planned", "in_force_counts", "breakdown_households", "breakdown_covered"}


def _region(code, **stored):
    expected = {"households": 3, "covered": 1, "pending": 0, "in_force_counts": [1, 0, 0, 0, 0]}
    stored = {**expected, **stored}
    return {"code": code, "differing": sorted(key for key in expected if stored[key] != expected[key]),
            "stored": stored, "expected": expected}


def _report():
    return [
        {"county": COUNTY,
         "households": [{"household_id": f"43312310120100{n:02d}", "differing": ["covered", "pending"]}
                        for n in range(12, 0, -1)]
                       + [{"household_id": "4331231012010099", "differing": ["need_tier"]}],
         "regions": [_region("433123101201", households=4), _region("433123101000", covered=None)],
         "regions_missing": ["433123101299"]},
        {"county": "433124000000", "households": [], "regions": [], "regions_missing": ["433124102301"]},
    ]


# --- the summary of `flask readstate check|repair` ----------------------------------------------------

def test_a_consistent_read_state_is_said_so():
    assert summary_lines([], 3) == ["已检查县 / counties checked: 3", "读取状态一致 / the read state is consistent"]


def test_the_summary_counts_fields_shows_examples_regions_and_missing_codes():
    lines = summary_lines(_report(), 2)
    text = "\n".join(lines)
    assert lines[0] == "已检查县 / counties checked: 2"
    assert "户 不一致 / differing / households: 13" in lines
    # Each field counted over the households, most frequent first.
    assert lines[lines.index("户 不一致 / differing / households: 13") + 1:][:3] == [
        "  covered: 12", "  pending: 12", "  need_tier: 1"]
    examples = next(line for line in lines if line.startswith("  例如 / e.g.: "))
    shown = re.findall(r"\d{16}", examples)
    assert len(shown) == EXAMPLES == 10 and shown == sorted(shown) and shown[0] == "4331231012010001"
    assert "13 in all" in examples
    assert "区划 不一致 / differing / regions: 2" in lines
    # Regions in code order with stored and expected values of the fields that differ only.
    township = lines.index("  433123101000: covered 存储 stored 无 / none → 应为 expected 1")
    village = lines.index("  433123101201: households 存储 stored 4 → 应为 expected 3")
    assert township < village
    assert lines[-1] == ("户所指但无 Region 节点的区划代码 / region codes households name but no Region has: "
                         "2: 433123101299, 433124102301")
    assert "repair creates no regions" not in text


def test_at_most_ten_regions_are_listed():
    report = [{"county": COUNTY, "households": [], "regions_missing": [],
               "regions": [_region(f"4331231012{n:02d}", pending=5) for n in range(15)]}]
    lines = summary_lines(report, 1)
    listed = [line for line in lines if re.match(r"  \d{12}: ", line)]
    assert len(listed) == 10 and listed[0].startswith("  433123101200: pending 存储 stored 5 → 应为 expected 0")
    assert "  …（另有 5 个 / 5 more）" in lines
    assert "户 不一致 / differing / households: 0" in lines


def test_a_repair_summary_says_repaired_and_that_missing_regions_stay():
    lines = summary_lines(_report(), 2, repaired=True)
    assert "户 已修复 / repaired / households: 13" in lines and "区划 已修复 / repaired / regions: 2" in lines
    assert lines[-1].endswith("repair creates no regions: load a villages file）")


def test_progress_lines_chinese_first():
    clean = {"households": [], "regions": [], "regions_missing": []}
    assert progress_line(1, 2, COUNTY, clean) == f"[1/2] 县 {COUNTY}：一致 / consistent"
    line = progress_line(2, 2, COUNTY, _report()[0])
    assert line.startswith(f"[2/2] 县 {COUNTY}：13 户、2 个区划不一致，1 个区划缺失 / ")
    assert line.endswith("13 households, 2 regions differ, 1 region codes missing")


@pytest.mark.parametrize("command, report, exit_code, repair", [
    ("check", [], 0, False), ("check", _report(), 1, False), ("repair", _report(), 0, True),
])
def test_exit_status_check_1_when_anything_differs_repair_0(make_offline_app, monkeypatch, command, report, exit_code,
                                                            repair):
    calls = []

    def fake_check(driver, counties=None, repair=False, database=None, progress=None):
        calls.append((counties, repair))
        for position, item in enumerate(report or [{"county": COUNTY, "households": [], "regions": [],
                                                     "regions_missing": []}], 1):
            progress(position, max(len(report), 1), item["county"], item)
        return report

    monkeypatch.setattr(readstate, "check", fake_check)
    result = make_offline_app().test_cli_runner().invoke(args=["readstate", command, "--county", COUNTY])
    assert result.exit_code == exit_code, result.output
    assert calls == [([COUNTY], repair)]
    assert result.output.splitlines()[0].startswith("[1/")
    assert f"已检查县 / counties checked: {max(len(report), 1)}" in result.output


# --- the queries take every code-list value as a $parameter ------------------------------------------

def _queries() -> dict[str, str]:
    """The Cypher text graph/readstate.py writes: its module-level query strings."""
    return {name: value for name, value in vars(readstate).items()
            if isinstance(value, str) and re.search(r"\b(MATCH|UNWIND|CALL)\b", value)}


# Parameters the functions pass themselves (keys, ids, codes); every other one is a vocabulary value.
RUNTIME_PARAMETERS = {"ids", "codes", "county", "keys", "rows"}


def test_readstate_writes_no_code_literal():
    assert _python_literals(PROJECT_ROOT / Path("graph/readstate.py")) == []
    queries = _queries()
    assert {"HOUSEHOLD_STATE", "VILLAGE_FIGURES", "CHILD_SUM_FIGURES", "_HOUSEHOLD_DIFFERENCES"} <= set(queries)
    for name, query in queries.items():
        assert _quoted_literals(query) == [], name
        # No vocabulary value written into the query text (a list of codes as a Cypher list literal either).
        for value in VOCABULARY.values():
            for code in value if isinstance(value, list) else [value]:
                if isinstance(code, str):
                    assert f"'{code}'" not in query and f'"{code}"' not in query, (name, code)


def test_every_parameter_is_the_vocabulary_or_passed_by_the_caller():
    for name, query in _queries().items():
        named = set(re.findall(r"\$([A-Za-z_]\w*)", query))
        assert named <= set(VOCABULARY) | RUNTIME_PARAMETERS, (name, named - set(VOCABULARY) - RUNTIME_PARAMETERS)
        supplied = with_vocabulary(query)
        assert named - RUNTIME_PARAMETERS == set(supplied), name


def test_the_need_rule_reaches_cypher_as_core_need_values():
    params = with_vocabulary(readstate.HOUSEHOLD_STATE)
    assert params["need_causes"] == list(need.NEED_CAUSE_CODES) == [
        PovertyCause.ILLNESS, PovertyCause.DISABILITY, PovertyCause.LACK_OF_LABOUR]
    assert params["protected_attributes"] == list(need.PROTECTED_CODES)
    assert params["urgent_monitoring"] == list(need.URGENT_CODES)
    assert params["extreme_poverty"] == HouseholdAttribute.EXTREME_POVERTY
    assert params["low_income_line"] == need.LOW_INCOME_LINE
    # The tiers the CASE yields are core.need's.
    case = readstate.HOUSEHOLD_STATE[readstate.HOUSEHOLD_STATE.index("need_tier: CASE"):]
    case = case[:case.index("END")]
    assert [int(tier) for tier in re.findall(r"(?:THEN|ELSE) (\d+)", case)] == [need.GREATEST, need.HIGH, need.OTHER]


def test_read_state_properties_are_declared_and_never_written_by_the_etl():
    fields = set(re.findall(r"(\w+):", readstate.HOUSEHOLD_STATE[readstate.HOUSEHOLD_STATE.index("WITH h, {"):]))
    assert fields == HOUSEHOLD_FIELDS
    for label, names in (("Household", HOUSEHOLD_FIELDS), ("Region", REGION_FIELDS)):
        node = node_type(label)
        for name in names:
            node.prop(name)  # declared, or ValueError
            assert name not in node.loaded, f"{label}.{name}: an ETL row would overwrite it"


# --- the need tier: one rule, scalar and vectorised -----------------------------------------------------

NEED_CASES = [
    # (attribute, monitoring, main cause, other causes, ordinary, weak, income)
    (HouseholdAttribute.ORDINARY, None, PovertyCause.LACK_OF_FUNDS, [], 1, 0, 3500.0),              # other
    (HouseholdAttribute.ORDINARY, None, PovertyCause.LACK_OF_FUNDS, [], 1, 0, 2999.0),              # low income
    (HouseholdAttribute.ORDINARY, None, PovertyCause.LACK_OF_FUNDS, [], 1, 0, None),                # unknown income
    (HouseholdAttribute.ORDINARY, None, PovertyCause.ILLNESS, [], 1, 0, 3500.0),                    # need cause
    (HouseholdAttribute.ORDINARY, None, PovertyCause.ILLNESS, [], 0, 0, 3500.0),                    # … and no labour
    (HouseholdAttribute.ORDINARY, None, PovertyCause.ILLNESS, [], 0, 1, 3500.0),                    # weak labour counts
    (HouseholdAttribute.ORDINARY, None, PovertyCause.LACK_OF_SKILLS, [PovertyCause.DISABILITY], 2, 0, 3500.0),
    (HouseholdAttribute.ORDINARY, None, None, [PovertyCause.LACK_OF_LABOUR], 0, 0, None),          # other cause
    (HouseholdAttribute.LOW_INCOME, None, PovertyCause.LACK_OF_FUNDS, [], 1, 0, 3500.0),            # protected
    (HouseholdAttribute.LOW_INCOME, None, PovertyCause.DISABILITY, [], 3, 0, 3500.0),               # protected + cause
    (HouseholdAttribute.EXTREME_POVERTY, None, PovertyCause.LACK_OF_FUNDS, [], 2, 0, 9000.0),       # 特困
    (None, None, PovertyCause.LACK_OF_FUNDS, [], 1, 0, 3500.0),                                     # no attribute
    (HouseholdAttribute.ORDINARY, MonitoringCategory.MARGINAL, PovertyCause.LACK_OF_FUNDS, [], 1, 0, 3500.0),
    (HouseholdAttribute.ORDINARY, MonitoringCategory.UNSTABLE, PovertyCause.LACK_OF_FUNDS, [], 1, 0, 3500.0),
    (HouseholdAttribute.ORDINARY, MonitoringCategory.SUDDEN_HARDSHIP, None, [], 0, 0, None),
]
EXPECTED_TIERS = [0, 1, 0, 1, 2, 1, 1, 2, 1, 2, 2, 0, 1, 2, 2]


def test_scalar_and_vectorised_need_tier_agree_on_hand_made_rows():
    records = []
    for number, (attribute, monitoring, cause, others, ordinary, weak, income) in enumerate(NEED_CASES):
        record = cases.household(f"H{number}", ordinary=ordinary, weak=weak, cause=cause, attribute=attribute,
                                 monitoring=monitoring, income=income)
        record["other_causes"] = [str(code) for code in others]
        records.append(record)
    vectorised = Households.from_records(records).need_tier.tolist()
    scalar = [need.need_tier(r["attribute"], r["monitoring_category"], r["main_cause"], r["other_causes"],
                             r["ordinary"] + r["skilled"] + r["weak"], r["income_per_capita"]) for r in records]
    assert scalar == EXPECTED_TIERS
    assert vectorised == scalar


# --- the read state from tables (the bulk import's form) -------------------------------------------------

def _state_tables():
    households, members, partnerships = [], [], []
    for number, (attribute, monitoring, cause, others, ordinary, weak, income) in enumerate(NEED_CASES):
        household_id = f"H{number}"
        households.append({"household_id": household_id, "attribute": attribute and attribute.value,
                           "monitoring_category": monitoring and monitoring.value, "main_cause": cause and cause.value,
                           "other_causes": [code.value for code in others], "income_per_capita": income,
                           "household_size": number or None, "village_code": "433123101201", "active": number != 3})
        members += [{"position": number, "labour_skill": skill, "count": count}
                    for skill, count in ((VOCABULARY["ordinary_skill"], ordinary), (VOCABULARY["weak_skill"], weak),
                                         (LabourSkill.NONE.value, 1)) if count]
    mechanisms = VOCABULARY["mechanism_codes"]
    partnerships = [{"position": 1, "status": VOCABULARY["in_force"], "mechanism": mechanisms[1], "count": 2},
                    {"position": 1, "status": VOCABULARY["awaiting"], "mechanism": mechanisms[0], "count": 1},
                    {"position": 2, "status": VOCABULARY["awaiting"], "mechanism": mechanisms[2], "count": 1},
                    {"position": 3, "status": VOCABULARY["in_force"], "mechanism": None, "count": 1},
                    {"position": 4, "status": VOCABULARY["terminated"], "mechanism": mechanisms[0], "count": 1}]
    return pd.DataFrame(households), pd.DataFrame(members), pd.DataFrame(partnerships)


def test_the_read_state_from_tables_follows_the_same_rules():
    households, members, partnerships = _state_tables()
    states = readstate.household_states(households, members, partnerships)
    listed = {re.sub(r"_\d+$", "", name) for name in states.columns}
    assert listed == HOUSEHOLD_FIELDS
    assert states["need_tier"].tolist() == EXPECTED_TIERS
    assert states.loc["H1", ["covered", "pending", "active_partnerships", "in_force_counts_1"]].tolist() == [True, True, 3, 2]
    assert states.loc["H2", ["covered", "pending"]].tolist() == [False, True]
    # coverage states (core/coverage.py): the first that holds; nothing is planned in a graph being imported
    assert states.loc["H1", "coverage_state"] == CoverageState.CONFIRMED
    assert states.loc["H2", "coverage_state"] == CoverageState.AWAITING
    assert states.loc["H4", "coverage_state"] == CoverageState.UNCOVERED and not states["planned"].any()
    assert not states.loc["H3", "covered"], "an in-force partnership without a mechanism does not cover (as in Cypher)"
    assert states.loc["H4", "active_partnerships"] == 0
    assert states.loc["H0", "members"] == 2 and states.loc["H0", "labourers"] == 1
    assert states.loc["H0", "size_order"] == VOCABULARY["last_in_order"] and states.loc["H5", "size_order"] == 5.0

    regions = ["433123101201", "433123101000", "433123000000", "433123101299"]
    part_of = pd.DataFrame({"child": ["433123101201", "433123101299", "433123101000"],
                            "parent": ["433123101000", "433123101000", "433123000000"]})
    figures = readstate.region_figures(households, states, regions, part_of)
    active = len(NEED_CASES) - 1
    assert figures.loc["433123101201", ["households", "covered", "pending", "planned"]].tolist() == [active, 1, 1, 0]
    assert figures.loc["433123101299", "households"] == 0
    assert (figures.loc["433123000000"] == figures.loc["433123101201"]).all()
