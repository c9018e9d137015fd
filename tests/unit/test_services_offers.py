"""An enterprise's self-service offer (services/offers.py) without a database: what is accepted, how it is
stored, what counts as a change, whether it re-plans, and how the history reads."""
import pytest

from core.codes import LabourSkill, Mechanism
from services import offers
from services.errors import Invalid

EMPLOYMENT, CONTRACT, LAND = Mechanism.EMPLOYMENT.value, Mechanism.CONTRACT_PURCHASE.value, Mechanism.LAND_LEASE.value
STORED = {"credit_code": "E1", "county_code": "433123000000", "mechanisms": [CONTRACT, EMPLOYMENT],
          "jobs_offered": 12, "contract_households": 30, "land_wanted_mu": 30.0, "equity_households": None,
          "ecommerce_households": None, "households_capacity": 40, "skill_required": None,
          "products_bought": ["猕猴桃", "椪柑"], "bought_codes": ["citrus", "kiwi"]}


def _refused(changes, *words):
    with pytest.raises(Invalid) as refused:
        offers.check_changes(changes)
    for word in words:
        assert word in refused.value.message, refused.value.message
    return refused.value


# --- checks ---------------------------------------------------------------------------------------

def test_values_are_stored_in_their_form():
    checked = offers.check_changes({"mechanisms": [LAND, "就业务工", EMPLOYMENT], "jobs_offered": 12.0,
                                    "land_wanted_mu": 30, "skill_required": "技能劳动力",
                                    "products_bought": ["猕猴桃、椪柑", " 茶叶 ", "猕猴桃"], "equity_households": None})
    assert checked == {"mechanisms": [EMPLOYMENT, LAND], "jobs_offered": 12, "land_wanted_mu": 30.0,
                       "skill_required": LabourSkill.SKILLED.value, "products_bought": ["猕猴桃", "椪柑", "茶叶"],
                       "equity_households": None}
    assert isinstance(checked["jobs_offered"], int) and isinstance(checked["land_wanted_mu"], float)
    assert offers.check_changes({"skill_required": ""}) == {"skill_required": None}
    assert offers.check_changes({"mechanisms": []}) == {"mechanisms": []}


def test_unknown_fields_and_empty_changes_are_refused():
    assert _refused({"name": "新名称"}, "不能修改的字段", "name").code == "unknown_field"
    assert _refused({"row_hash": "x", "jobs_offered": 1}, "row_hash").code == "unknown_field"
    assert _refused({}, "没有要更新的字段").code == "nothing_to_update"


@pytest.mark.parametrize("changes,words", [
    ({"jobs_offered": -1}, ("用工需求（人）", "0 到 100,000", "jobs_offered")),
    ({"jobs_offered": 100_001}, ("用工需求（人）", "jobs_offered")),
    ({"jobs_offered": 2.5}, ("用工需求（人）", "整数")),
    ({"contract_households": "30"}, ("订单收购带动户数", "数字")),
    ({"equity_households": True}, ("入股分红带动户数", "数字")),
    ({"land_wanted_mu": float("nan")}, ("流转土地需求（亩）", "数字")),
    ({"land_wanted_mu": 1_000_001}, ("流转土地需求（亩）", "1,000,000")),
    ({"households_capacity": -3}, ("可带动户数",)),
    ({"mechanisms": ["09"]}, ("联结方式", "“09”", "01 就业务工")),
    ({"mechanisms": "01"}, ("联结方式", "列表")),
    ({"skill_required": "99"}, ("技能要求", "“99”")),
    ({"products_bought": "猕猴桃"}, ("收购产品", "列表")),
    ({"products_bought": ["猕" * 31]}, ("收购产品", "30 个字")),
    ({"products_bought": ["联系 13812345678"]}, ("收购产品", "电话号码")),
    ({"products_bought": [f"产品{n}" for n in range(21)]}, ("收购产品", "最多 20 种")),
    ({"products_bought": ["猕猴桃\x00"]}, ("收购产品", "控制字符")),
])
def test_bad_values_are_refused_naming_the_field(changes, words):
    error = _refused(changes, *words)
    assert " / " in error.message, "中文 / English"


def test_a_form_is_read_as_text():
    checked = offers.form_changes({"mechanisms": [EMPLOYMENT], "jobs_offered": "１,２00", "land_wanted_mu": "",
                                   "skill_required": "", "products_bought": "茶叶，猕猴桃 / 土鸡"})
    assert checked == {"mechanisms": [EMPLOYMENT], "jobs_offered": 1200, "land_wanted_mu": None,
                       "skill_required": None, "products_bought": ["茶叶", "猕猴桃", "土鸡"]}
    with pytest.raises(Invalid, match="用工需求（人）：“十二”不是数字"):
        offers.form_changes({"jobs_offered": "十二"})
    with pytest.raises(Invalid, match="流转土地需求"):
        offers.form_changes({"land_wanted_mu": "inf"})


# --- the change -----------------------------------------------------------------------------------

def test_the_same_values_are_no_change():
    same = {"mechanisms": [EMPLOYMENT, CONTRACT], "jobs_offered": 12, "land_wanted_mu": 30,
            "contract_households": 30.0, "equity_households": None, "skill_required": None,
            "products_bought": ["猕猴桃", "椪柑"]}
    assert offers.offer_diff(STORED, offers.check_changes(same)) == {}


def test_the_diff_names_each_changed_field_with_both_values():
    wanted = offers.check_changes({"mechanisms": [EMPLOYMENT], "jobs_offered": 20, "equity_households": 0,
                                   "skill_required": "02", "products_bought": ["椪柑", "猕猴桃"]})
    assert offers.offer_diff(STORED, wanted) == {
        "mechanisms": {"from": [CONTRACT, EMPLOYMENT], "to": [EMPLOYMENT]},
        "jobs_offered": {"from": 12, "to": 20},
        "equity_households": {"from": None, "to": 0},  # 0 states a figure; none was stated
        "skill_required": {"from": None, "to": "02"},
        "products_bought": {"from": ["猕猴桃", "椪柑"], "to": ["椪柑", "猕猴桃"]},
    }


def test_only_what_matching_reads_re_plans():
    assert offers.replans(STORED, {"jobs_offered": 20})
    assert offers.replans(STORED, {"mechanisms": [EMPLOYMENT]})
    assert offers.replans(STORED, {"skill_required": "02"})
    assert not offers.replans(STORED, {"households_capacity": 50}), "matching reads the capacity per mechanism"
    same_industries = ["椪柑", "猕猴桃", "奇异果"]
    assert not offers.replans(STORED, {"products_bought": same_industries,
                                       "bought_codes": offers.bought_codes(same_industries)})
    assert offers.replans(STORED, {"products_bought": ["茶叶"], "bought_codes": offers.bought_codes(["茶叶"])})


def test_products_map_to_the_industries_the_etl_uses():
    assert offers.bought_codes(["奇异果", "猕猴桃", "黄金茶", "苹果"]) == ["kiwi", "tea"]
    assert offers.unrecognised(["奇异果", "苹果"]) == ["苹果"]


def test_the_history_reads_in_words():
    lines = offers.change_lines({
        "skill_required": {"from": None, "to": LabourSkill.SKILLED.value},
        "mechanisms": {"from": [CONTRACT], "to": [EMPLOYMENT, LAND]},
        "land_wanted_mu": {"from": 30.0, "to": 45.5},
        "jobs_offered": {"from": 1200, "to": 12},
        "products_bought": {"from": ["猕猴桃"], "to": []},
    })
    assert [(line["title"], line["from"], line["to"]) for line in lines] == [
        ("联结方式", "订单收购", "就业务工、土地流转"),
        ("用工需求（人）", "1,200", "12"),
        ("流转土地需求（亩）", "30", "45.5"),
        ("技能要求", "—", "技能劳动力"),
        ("收购产品", "猕猴桃", "—"),
    ]
