"""Every reason is a true statement: each claim (kind, figures, text) checked against the household and enterprise
records it speaks of — over thousands of random households and enterprises — and the score in words.

The checks recompute each fact from the raw records (code lists, areas, counts, positions), not from the
matching arrays, and read the figures back out of the texts."""
import functools
import math
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from core import need
from core.codes import (EnterpriseType, HouseholdAttribute, LabourSkill, Mechanism, MonitoringCategory,
                        PovertyCause)
from core.industries import BY_CODE, INDUSTRIES
from core.mechanisms import LAND_MU_PER_HOUSEHOLD
from matching.candidates import candidate_pairs, haversine_km
from matching.pipeline import Scored, recommendation_rows
from matching.reasons import (HIGH, LOW, MIDDLE, REASONS_PER_PAIR, county_match_levels, match_levels, reason_claims,
                              reason_texts, reasons)
from matching.rules import MECHANISMS, EligibilityRules
from matching.scoring import FEATURES, BlendedScorer, RuleScorer, pair_features
from tests.support.matching_cases import BASE, enterprise, household, inputs

COUNTIES = ("433123000000", "433124000000")
VILLAGES = tuple(f"{county[:6]}101{n:03d}" for county in COUNTIES for n in range(6))
INDUSTRY_CODES = tuple(industry.code for industry in INDUSTRIES[:6])
LABOUR_LABELS = {"普通劳动力": "ordinary", "技能劳动力": "skilled", "弱劳动力": "weak"}
LAND_KINDS = {"耕地": "arable_mu", "林地": "forest_mu", "园地": "orchard_mu"}
NEED_CAUSE_LABELS = {cause.value: cause.label for cause in (PovertyCause.ILLNESS, PovertyCause.DISABILITY,
                                                            PovertyCause.LACK_OF_LABOUR)}
# Words that belong to one mechanism's reasons only.
MECHANISM_WORDS = {"岗位": Mechanism.EMPLOYMENT, "务工": Mechanism.EMPLOYMENT, "订单": Mechanism.CONTRACT_PURCHASE,
                   "流转": Mechanism.LAND_LEASE, "入股": Mechanism.EQUITY, "电商": Mechanism.ECOMMERCE}


def _position(dx_km: float, dy_km: float) -> tuple[float, float]:
    return BASE[0] + dx_km / 98.3, BASE[1] + dy_km / 111.2


def _household_record(hid: str, *, dx, dy, county, village, attribute, main_cause, other_causes, monitoring, income,
                      arable, forest, orchard, industries, in_cooperative, ordinary, skilled, weak) -> dict:
    record = household(hid, county=county, village=village, attribute=attribute, cause=main_cause,
                       monitoring=monitoring, income=income, arable=arable, forest=forest, industries=industries,
                       ordinary=ordinary, skilled=skilled, weak=weak)
    record["lon"], record["lat"] = _position(dx, dy)
    record.update(other_causes=list(other_causes), orchard_mu=orchard, in_cooperative=in_cooperative)
    return record


def _enterprise_record(code: str, *, dx, dy, county, etype, mechanisms, jobs, contract, land_mu, equity, ecommerce,
                       skill, industries, bought, partner_villages, used, project_counties, project_industries) -> dict:
    record = enterprise(code, county=county, etype=etype, mechanisms=mechanisms, jobs=jobs, contract=contract,
                        land_mu=land_mu, equity=equity, ecommerce=ecommerce, skill=skill, industries=industries,
                        bought=bought, partner_villages=partner_villages)
    record["lon"], record["lat"] = _position(dx, dy)
    record.update(used=list(used), project_counties=list(project_counties), project_industries=list(project_industries))
    return record


# --- random worlds (seeded numpy draws) -------------------------------------------------------------------

def _some(rng, items, most: int) -> list:
    return list(rng.choice(items, size=int(rng.integers(0, most + 1)), replace=False))


@functools.lru_cache(maxsize=4)
def random_world(seed: int, households: int, enterprises: int) -> tuple[list[dict], list[dict]]:
    """Households and enterprises spread over two counties some 40 km across, with every kind of fact drawn,
    edge values (land about 0.5 亩, income about 3,000 元, no labour) included."""
    rng = np.random.default_rng(seed)
    causes = [cause.value for cause in PovertyCause]
    house_records = []
    for n in range(households):
        county = COUNTIES[int(rng.integers(0, 2))]
        land_choice = [0.0, 0.0, 0.3, 0.499, 0.5, 2.4, float(rng.uniform(0, 8))]
        house_records.append(_household_record(
            f"H{seed}-{n:05d}", dx=float(rng.uniform(-20, 20)), dy=float(rng.uniform(-20, 20)), county=county,
            village=VILLAGES[int(rng.integers(0, 6)) + (6 if county == COUNTIES[1] else 0)],
            attribute=str(rng.choice([attribute.value for attribute in HouseholdAttribute])),
            main_cause=str(rng.choice(causes)) if rng.random() < 0.9 else None,
            other_causes=_some(rng, causes, 2),
            monitoring=str(rng.choice([category.value for category in MonitoringCategory])) if rng.random() < 0.2 else None,
            income=None if rng.random() < 0.1 else float(rng.choice([2999.6, 3000.0, rng.uniform(1500, 6000)])),
            arable=float(rng.choice(land_choice)), forest=float(rng.choice([0.0, 0.0, rng.uniform(0, 5)])),
            orchard=float(rng.choice([0.0, 0.0, 0.0, rng.uniform(0, 2)])), industries=_some(rng, INDUSTRY_CODES, 2),
            in_cooperative=bool(rng.random() < 0.3), ordinary=int(rng.choice([0, 0, 1, 2, 3])),
            skilled=int(rng.choice([0, 0, 0, 1, 2])), weak=int(rng.choice([0, 0, 1, 2]))))
    enterprise_records = []
    for n in range(enterprises):
        county = COUNTIES[int(rng.integers(0, 2))]
        mechanisms = _some(rng, list(Mechanism), 3) or [Mechanism.EMPLOYMENT]
        enterprise_records.append(_enterprise_record(
            f"E{seed}-{n:04d}", dx=float(rng.uniform(-20, 20)), dy=float(rng.uniform(-20, 20)), county=county,
            etype=rng.choice(list(EnterpriseType)), mechanisms=mechanisms, jobs=int(rng.integers(0, 40)),
            contract=int(rng.integers(0, 30)), land_mu=float(rng.choice([0.0, 10.0, 31.0, 90.0])),
            equity=int(rng.integers(0, 20)), ecommerce=int(rng.integers(0, 20)),
            skill=LabourSkill.SKILLED if rng.random() < 0.2 else None, industries=_some(rng, INDUSTRY_CODES, 2),
            bought=_some(rng, INDUSTRY_CODES, 3), partner_villages=_some(rng, VILLAGES, 2),
            used=[int(rng.choice([0, 0, 1, 3])) for _ in Mechanism],
            project_counties=_some(rng, COUNTIES, 1), project_industries=_some(rng, INDUSTRY_CODES, 2)))
    return house_records, enterprise_records


# --- the facts, recomputed from the records ---------------------------------------------------------------

def _names(codes) -> set[str]:
    return {BY_CODE[code].name for code in codes}


def _need_cause_labels(record: dict) -> set[str]:
    causes = [record["main_cause"], *record["other_causes"]]
    return {NEED_CAUSE_LABELS[code] for code in causes if code in NEED_CAUSE_LABELS}


def _land(record: dict) -> float:
    return record["arable_mu"] + record["forest_mu"] + record["orchard_mu"]


def _places(record: dict, mechanism: Mechanism) -> int:
    """Households the enterprise can still take by the mechanism (its listed capacity less the used places)."""
    if mechanism.value not in record["mechanisms"]:
        return 0
    unit = {Mechanism.EMPLOYMENT: ("jobs_offered", 1), Mechanism.CONTRACT_PURCHASE: ("contract_households", 1),
            Mechanism.LAND_LEASE: ("land_wanted_mu", LAND_MU_PER_HOUSEHOLD),
            Mechanism.EQUITY: ("equity_households", 1), Mechanism.ECOMMERCE: ("ecommerce_households", 1)}[mechanism]
    total = math.floor(record[unit[0]] / unit[1] + 1e-9)
    return max(total - record["used"][MECHANISMS.index(mechanism)], 0)


def _segment(text: str, after: str) -> set[str]:
    """The 、-separated names that follow `after` in text (up to the next ；, ， or the end)."""
    found = re.search(re.escape(after) + r"([^；，]+)", text)
    return set(found.group(1).split("、")) if found else set()


def _counts(text: str) -> dict[str, int]:
    return {LABOUR_LABELS[label]: int(n) for n, label in re.findall(r"(\d+) 名(普通劳动力|技能劳动力|弱劳动力)", text)}


def _expect(problems: list, condition: bool, message: str) -> None:
    if not condition:
        problems.append(message)


def claim_problems(claim, mechanism: Mechanism, km: float, house: dict, firm: dict, rules: EligibilityRules) -> list[str]:
    """What in the claim is not true of the household and enterprise records (empty: it holds)."""
    problems = []
    expect = lambda condition, message: _expect(problems, condition, message)  # noqa: E731
    kind, figures, text = claim
    labourers = house["ordinary"] + house["skilled"]
    land = _land(house)
    if kind == "proximity":
        true_km = float(haversine_km(house["lat"], house["lon"], firm["lat"], firm["lon"]))
        expect(abs(figures["km"] - true_km) < 1e-6, "distance figure")
        shown = float(re.search(r"距离 ([\d.]+) 公里", text).group(1))
        expect(abs(shown - true_km) <= 0.05 + 1e-9, "distance in the text")
        if mechanism == Mechanism.EQUITY:
            if rules.equity_same_county:
                expect("限本县" in text and house["county_code"] == firm["county_code"], "equity inside the county")
            else:
                expect("不限距离" in text, "equity at any distance")
        else:
            limit = float(re.search(r"上限 ([\d.]+) 公里", text).group(1))
            expect(limit == figures["limit_km"] and true_km <= limit + 1e-9, "within the stated limit")
            if mechanism == Mechanism.EMPLOYMENT and figures["workshop"]:
                expect(limit == rules.workshop_max_km and "扶贫车间" in text and house["weak"] > 0
                       and firm["enterprise_type"] == EnterpriseType.WORKSHOP, "the workshop's limit")
            else:
                expect(limit == rules.max_km(mechanism) and mechanism.label in text, "the mechanism's limit")
    elif kind == "industry_fit":
        bought = _names(set(house["industry_codes"]) & set(firm["bought_codes"]))
        worked = _names(set(house["industry_codes"]) & set(firm["industry_codes"])) - bought
        expect(bool(bought | worked), "an industry in common")
        expect(_segment(text, "企业收购本户的 ") == bought, "the industries the enterprise buys")
        expect(_segment(text, "企业经营本户的 ") == worked, "the industries the enterprise works in")
    elif kind == "labour_fit":
        expect(mechanism in (Mechanism.EMPLOYMENT, Mechanism.CONTRACT_PURCHASE), "labour only for 01 and 02")
        expect({name: figures[name] for name in LABOUR_LABELS.values()}
               == {name: house[name] for name in LABOUR_LABELS.values()}, "labour figures")
        counts = _counts(text)
        all_counts = {name: house[name] for name in LABOUR_LABELS.values() if house[name]}
        if mechanism == Mechanism.EMPLOYMENT:
            jobs = int(re.search(r"尚余 (\d+) 个岗位", text).group(1))
            expect(jobs == _places(firm, Mechanism.EMPLOYMENT) > 0, "jobs left")
            if figures["workshop"]:
                expect(counts == all_counts and house["weak"] > 0 and "扶贫车间" in text
                       and firm["enterprise_type"] == EnterpriseType.WORKSHOP and km <= rules.workshop_max_km,
                       "a weak labourer at a workshop")
            else:
                skilled_job = firm["skill_required"] == LabourSkill.SKILLED
                expect(counts == {name: house[name] for name in ("ordinary", "skilled") if house[name]},
                       "ordinary and skilled labourers")
                expect((house["skilled"] > 0 if skilled_job else labourers > 0) and km <= rules.employment_max_km,
                       "a labourer for the job")
                expect(("要求技能劳动力" in text) == skilled_job, "the skill the job needs")
        else:
            expect(counts == all_counts and counts, "the labour, weak included, for contract purchase")
            bought = _names(set(house["industry_codes"]) & set(firm["bought_codes"]))
            expect(bool(bought) and _segment(text, "可按订单种养企业收购的 ") == bought, "what it would produce")
            expect("岗位" not in text and "用工" not in text, "no employment words for contract purchase")
    elif kind == "land_fit":
        expect(mechanism in (Mechanism.CONTRACT_PURCHASE, Mechanism.LAND_LEASE), "land only for 02 and 03")
        kinds = {LAND_KINDS[name]: value for name, value in re.findall(r"(耕地|林地|园地) (不足 0\.01|[\d.]+) 亩", text)}
        expect(set(kinds) == {name for name in LAND_KINDS.values() if house[name] > 0}, "the kinds of land held")
        expect(all(0 < house[name] < 0.01 if value == "不足 0.01" else abs(float(value) - house[name]) <= 0.005 + 1e-9
                   for name, value in kinds.items()), "each area")
        total = re.search(r"共 ([\d.]+) 亩", text)
        expect((total is not None) == (len(kinds) > 1), "a sum only of several kinds")
        expect(total is None or abs(float(total.group(1)) - land) <= 0.005 + 1e-9, "the sum")
        expect(abs(figures["land_mu"] - land) < 1e-9, "land figure")
        if mechanism == Mechanism.LAND_LEASE:
            places = int(re.search(r"尚可流转 (\d+) 户", text).group(1))
            expect(places == _places(firm, Mechanism.LAND_LEASE) > 0 and land >= rules.min_land_mu, "lease places")
        else:
            expect(land > 0 and "流转" not in text, "land to produce on")
    elif kind == "need":
        tier = need.need_tier(house["attribute"], house["monitoring_category"], house["main_cause"],
                              house["other_causes"], labourers + house["weak"], house["income_per_capita"])
        expect(tier == figures["tier"] > 0, "the need tier")
        expect(text.startswith("优先保障对象：" if tier == need.GREATEST else "重点帮扶对象："), "the tier in words")
        protected = house["attribute"] in need.PROTECTED_CODES
        attribute_label = HouseholdAttribute.label_of(house["attribute"])
        expect((attribute_label in text) == protected, "the household attribute")
        monitoring = house["monitoring_category"]
        expect(("监测对象" in text) == bool(monitoring), "monitoring")
        expect(not monitoring or f"（{MonitoringCategory.label_of(monitoring)}）" in text, "the monitoring category")
        expect(_segment(text, "致贫原因 ") == _need_cause_labels(house), "the need causes")
        expect(("无劳动力" in text) == (labourers + house["weak"] == 0), "no labour")
        income = re.search(r"人均纯收入 (\d+) 元", text)
        low = house["income_per_capita"] is not None and house["income_per_capita"] < need.LOW_INCOME_LINE
        expect((income is not None) == low, "low income")
        expect(income is None or int(income.group(1)) == math.floor(house["income_per_capita"]), "the income")
        # The conditions stated suffice for the tier.
        stated_causes = [code for code, label in NEED_CAUSE_LABELS.items() if label in _segment(text, "致贫原因 ")]
        expect(need.need_tier(house["attribute"] if protected else HouseholdAttribute.ORDINARY.value,
                              monitoring, stated_causes[0] if stated_causes else None, stated_causes[1:],
                              0 if "无劳动力" in text else 1,
                              house["income_per_capita"] if low else None) == tier, "the stated conditions give the tier")
    elif kind == "equity_fit":
        expect(mechanism == Mechanism.EQUITY, "the equity fit only for 04")
        no_labour = labourers + house["weak"] == 0
        expect(("无劳动力" in text) == no_labour, "no labour")
        little = re.search(r"土地仅 ([\d.]+) 亩，不足 ([\d.]+) 亩", text)
        expect(("无耕地、林地或园地" in text) == (land == 0), "no land")
        expect(("土地不到 0.01 亩" in text) == (0 < land < 0.01), "next to no land")
        expect((little is not None) == (0.01 <= land < rules.min_land_mu), "too little land")
        expect(little is None or (float(little.group(1)) <= land < float(little.group(1)) + 0.01
                                  and float(little.group(2)) == rules.min_land_mu
                                  and float(little.group(1)) < rules.min_land_mu), "the land figure")
        causes = _segment(text, "致贫原因为 ")
        expect(causes == _need_cause_labels(house), "the need causes")
        expect(no_labour or land < rules.min_land_mu or bool(causes), "some condition holds")
        expect("缺劳力或缺土地" not in text, "no blanket claim")
    elif kind == "village_link":
        expect(house["village_code"] in firm["partner_villages"], "a partner in the village")
    elif kind == "cooperative":
        expect(house["in_cooperative"] and firm["enterprise_type"] == EnterpriseType.COOPERATIVE, "cooperatives")
    elif kind == "track_record":
        partnerships = int(re.search(r"现有 (\d+) 项", text).group(1))
        expect(partnerships == sum(firm["used"]) > 0, "the partnerships kept")
    elif kind == "project_link":
        expect(house["county_code"] in firm["project_counties"], "a project in the county")
        industries = _names(set(house["industry_codes"]) & set(firm["project_industries"]))
        found = re.search(r"本县实施 (\S+) 产业", text)
        expect(bool(industries) and found is not None and set(found.group(1).split("、")) == industries,
               "the project's industries")
    else:
        problems.append(f"unknown kind {kind}")
    for word, only in MECHANISM_WORDS.items():
        if word in text and not (kind == "industry_fit" and word == "电商"):
            expect(mechanism == only, f"{word} only for {only.label}")
    return problems


def check_world(house_records: list[dict], enterprise_records: list[dict], rules: EligibilityRules | None = None):
    """Every claim of every candidate pair: (pairs checked, claims checked, contradictions)."""
    households, enterprises, rules = inputs(house_records, enterprise_records, rules)
    pairs = candidate_pairs(households, enterprises, rules)
    contributions = RuleScorer().fit().contributions(pair_features(pairs, households, enterprises, rules),
                                                    pairs.mechanism)
    claims = reason_claims(pairs, contributions, households, enterprises)
    texts = reasons(pairs, contributions, households, enterprises)
    contradictions, count = [], 0
    for p, pair_claims in enumerate(claims):
        mechanism = MECHANISMS[pairs.mechanism[p]]
        house, firm = house_records[pairs.household[p]], enterprise_records[pairs.enterprise[p]]
        shown = [FEATURES.index(claim.kind) for claim in pair_claims]
        values = contributions[p, shown]
        if len(pair_claims) > REASONS_PER_PAIR or (values <= 0).any() or (np.diff(values) > 1e-12).any():
            contradictions.append((p, "not the largest non-zero contributions in order", pair_claims))
        if [claim.text for claim in pair_claims] != texts[p]:
            contradictions.append((p, "texts differ from reasons()", pair_claims))
        for claim in pair_claims:
            count += 1
            for problem in claim_problems(claim, mechanism, float(pairs.distance_km[p]), house, firm, rules):
                contradictions.append((house["household_id"], firm["credit_code"], mechanism.label, problem, claim))
    return len(pairs), count, contradictions


@pytest.mark.parametrize("seed", [1, 2])
def test_every_claim_of_thousands_of_random_pairs_holds(seed):
    pairs, claims, contradictions = check_world(*random_world(seed, households=1100, enterprises=120))
    assert pairs > 5000 and claims > 3 * pairs - pairs // 10
    assert contradictions == [], contradictions[:5]


def test_random_worlds_give_every_kind_of_reason_on_every_mechanism_it_concerns():
    house_records, enterprise_records = random_world(1, households=1100, enterprises=120)
    households, enterprises, rules = inputs(house_records, enterprise_records)
    pairs = candidate_pairs(households, enterprises, rules)
    contributions = RuleScorer().fit().contributions(pair_features(pairs, households, enterprises, rules),
                                                    pairs.mechanism)
    seen = {(claim.kind, MECHANISMS[pairs.mechanism[p]]) for p, row in
            enumerate(reason_claims(pairs, contributions, households, enterprises)) for claim in row}
    assert {kind for kind, _ in seen} == set(FEATURES)
    assert {mechanism for kind, mechanism in seen if kind == "labour_fit"} == {Mechanism.EMPLOYMENT,
                                                                             Mechanism.CONTRACT_PURCHASE}
    assert {mechanism for kind, mechanism in seen if kind == "land_fit"} == {Mechanism.CONTRACT_PURCHASE,
                                                                           Mechanism.LAND_LEASE}
    assert {mechanism for kind, mechanism in seen if kind == "equity_fit"} == {Mechanism.EQUITY}
    assert {mechanism for kind, mechanism in seen if kind == "proximity"} == set(Mechanism)


# --- small worlds drawn by hypothesis: edge values near every limit ----------------------------------------

_areas = (st.sampled_from([0.0, 0.0, 1e-9, 0.004, 0.0057, 0.3, 0.499, 0.5, 0.501, 2.4, 3.0, 12.35])
          | st.floats(0, 20).map(lambda mu: round(mu, 3)))
_distances = (st.sampled_from([0.0, 9.99, 10.0, 10.01, 14.99, 15.0, 15.01, 29.9, 30.0, 30.1])
              | st.floats(-45, 45).map(lambda km: round(km, 2)))


@st.composite
def _households(draw, n: int) -> dict:
    county = draw(st.sampled_from(COUNTIES))
    causes = [cause.value for cause in PovertyCause]
    return _household_record(
        f"H{n:03d}", dx=draw(_distances), dy=draw(st.sampled_from([0.0, 1.0]) | st.floats(-10, 10)), county=county,
        village=draw(st.sampled_from([v for v in VILLAGES if v.startswith(county[:6])])),
        attribute=draw(st.sampled_from([a.value for a in HouseholdAttribute])),
        main_cause=draw(st.none() | st.sampled_from(causes)),
        other_causes=draw(st.lists(st.sampled_from(causes), max_size=2, unique=True)),
        monitoring=draw(st.none() | st.sampled_from([c.value for c in MonitoringCategory])),
        income=draw(st.none() | st.sampled_from([2999.6, 3000.0]) | st.floats(500, 8000)),
        arable=draw(_areas), forest=draw(_areas), orchard=draw(_areas),
        industries=draw(st.lists(st.sampled_from(INDUSTRY_CODES), max_size=2, unique=True)),
        in_cooperative=draw(st.booleans()), ordinary=draw(st.integers(0, 3)), skilled=draw(st.integers(0, 2)),
        weak=draw(st.integers(0, 2)))


@st.composite
def _enterprises(draw, n: int) -> dict:
    return _enterprise_record(
        f"E{n:03d}", dx=draw(_distances), dy=draw(st.floats(-5, 5)), county=draw(st.sampled_from(COUNTIES)),
        etype=draw(st.sampled_from(list(EnterpriseType))),
        mechanisms=draw(st.lists(st.sampled_from(list(Mechanism)), min_size=1, max_size=5, unique=True)),
        jobs=draw(st.integers(0, 30)), contract=draw(st.integers(0, 30)), land_mu=draw(st.sampled_from([0, 2.9, 3, 40])),
        equity=draw(st.integers(0, 10)), ecommerce=draw(st.integers(0, 10)),
        skill=draw(st.sampled_from([None, LabourSkill.SKILLED, LabourSkill.ORDINARY])),
        industries=draw(st.lists(st.sampled_from(INDUSTRY_CODES), max_size=2, unique=True)),
        bought=draw(st.lists(st.sampled_from(INDUSTRY_CODES), max_size=3, unique=True)),
        partner_villages=draw(st.lists(st.sampled_from(VILLAGES), max_size=3, unique=True)),
        used=draw(st.lists(st.integers(0, 3), min_size=5, max_size=5)),
        project_counties=draw(st.lists(st.sampled_from(COUNTIES), max_size=1)),
        project_industries=draw(st.lists(st.sampled_from(INDUSTRY_CODES), max_size=2, unique=True)))


@st.composite
def _worlds(draw):
    house_count, firm_count = draw(st.integers(1, 15)), draw(st.integers(1, 6))
    return ([draw(_households(n)) for n in range(house_count)], [draw(_enterprises(n)) for n in range(firm_count)],
            EligibilityRules(min_land_mu=draw(st.sampled_from([0.5, 1.0])),
                             equity_same_county=draw(st.booleans())))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_worlds())
def test_every_claim_holds_in_small_worlds_with_edge_values(world):
    house_records, enterprise_records, rules = world
    _, _, contradictions = check_world(house_records, enterprise_records, rules)
    assert contradictions == []


# --- the household a user reported -------------------------------------------------------------------------

def test_a_household_with_labour_and_land_gets_no_lie_for_equity_nor_an_employment_reason_for_contract_purchase():
    """Three 普通劳动力, 2.4 亩 耕地, grows 猕猴桃 (and fell ill): equity is fit only because of 因病, and contract
    purchase says nothing of jobs."""
    house = household("kiwi-family", ordinary=3, arable=2.4, industries=["kiwi"], cause=PovertyCause.ILLNESS)
    firms = [enterprise(f"EQ{n}", dx_km=2 + n, mechanisms=(Mechanism.EQUITY,), equity=10) for n in range(4)]
    firms.append(enterprise("KIWI", dx_km=3.2, mechanisms=(Mechanism.EMPLOYMENT, Mechanism.CONTRACT_PURCHASE),
                            jobs=23, contract=10, bought=["kiwi"]))
    households, enterprises, rules = inputs([house], firms)
    pairs = candidate_pairs(households, enterprises, rules)
    contributions = RuleScorer().fit().contributions(pair_features(pairs, households, enterprises, rules),
                                                    pairs.mechanism)
    texts = reasons(pairs, contributions, households, enterprises)
    by_mechanism = {}
    for p, row in enumerate(texts):
        by_mechanism.setdefault(MECHANISMS[pairs.mechanism[p]], []).append(row)
    assert len(by_mechanism[Mechanism.EQUITY]) == 4
    for row in by_mechanism[Mechanism.EQUITY]:
        assert "适合入股分红：致贫原因为 因病" in row
        assert not any(word in text for text in row for word in ("缺劳力", "缺土地", "无劳动力", "土地仅"))
    [contract] = by_mechanism[Mechanism.CONTRACT_PURCHASE]
    assert "产业对口：企业收购本户的 猕猴桃" in contract and "耕地 2.4 亩，可按订单种养" in contract
    assert "距离 3.2 公里（订单收购上限 50 公里）" in contract
    assert not any("用工" in text or "岗位" in text for text in contract)
    [employment] = by_mechanism[Mechanism.EMPLOYMENT]
    assert "3 名普通劳动力；企业尚余 23 个岗位" in employment
    # Contract purchase's own labour reason, when shown, counts the labour and speaks of orders.
    only_labour = np.zeros_like(contributions)
    only_labour[:, FEATURES.index("labour_fit")] = contributions[:, FEATURES.index("labour_fit")]
    contract_pair = int(np.flatnonzero(pairs.mechanism == MECHANISMS.index(Mechanism.CONTRACT_PURCHASE))[0])
    assert reasons(pairs, only_labour, households, enterprises)[contract_pair] == [
        "3 名普通劳动力，可按订单种养企业收购的 猕猴桃"]
    _, _, contradictions = check_world([house], firms)
    assert contradictions == []


def test_a_zero_contribution_or_a_mechanism_the_feature_does_not_concern_gives_no_reason():
    households, enterprises, rules = inputs([household("h", ordinary=2, arable=3.0, industries=["tea"])],
                                            [enterprise("E", dx_km=2, mechanisms=tuple(Mechanism), jobs=5, contract=5,
                                                        land_mu=30.0, equity=5, ecommerce=5, bought=["tea"])])
    pairs = candidate_pairs(households, enterprises, rules)
    assert set(pairs.mechanism.tolist()) == set(range(len(MECHANISMS)))
    # Every feature contributes to every pair: only those of the pair's mechanism are shown, largest first.
    contributions = np.tile(np.arange(len(FEATURES), 0, -1, dtype=float), (len(pairs), 1))
    kinds = {MECHANISMS[m]: [claim.kind for claim in row] for m, row in
             zip(pairs.mechanism, reason_claims(pairs, contributions, households, enterprises))}
    assert kinds == {Mechanism.EMPLOYMENT: ["proximity", "industry_fit", "labour_fit"],
                     Mechanism.CONTRACT_PURCHASE: ["proximity", "industry_fit", "labour_fit"],
                     Mechanism.LAND_LEASE: ["proximity", "industry_fit", "land_fit"],
                     Mechanism.EQUITY: ["proximity", "industry_fit", "need"],
                     Mechanism.ECOMMERCE: ["proximity", "industry_fit", "need"]}
    contributions[:, :2] = 0.0
    contributions[:, 4] = 0.0
    assert all(claim.kind not in ("proximity", "industry_fit", "need")
               for row in reason_claims(pairs, contributions, households, enterprises) for claim in row)
    assert reason_texts(pairs, np.zeros_like(contributions), households, enterprises).tolist() == [""] * len(pairs)


# --- the score in words ---------------------------------------------------------------------------------

def test_levels_split_at_the_80th_percentile_and_the_median_of_the_reference():
    reference = np.arange(1, 101, dtype=float) / 100  # 0.01 … 1.00: 80th percentile 0.802, median 0.505
    levels = match_levels(np.array([1.0, 0.81, 0.802, 0.80, 0.6, 0.505, 0.5, 0.0]), reference)
    assert levels.tolist() == [HIGH, HIGH, HIGH, MIDDLE, MIDDLE, MIDDLE, LOW, LOW]
    shares = {level: float(np.mean(match_levels(reference, reference) == level)) for level in (HIGH, MIDDLE, LOW)}
    assert shares == {HIGH: 0.2, MIDDLE: 0.3, LOW: 0.5}
    assert match_levels(np.array([0.3, 0.3]), np.array([0.3, 0.3, 0.3])).tolist() == [HIGH, HIGH], "ties are at"
    assert match_levels(np.empty(0), np.empty(0)).tolist() == []


def test_levels_never_fall_as_the_score_rises():
    rng = np.random.default_rng(5)
    reference = rng.random(3000).astype(np.float32)
    scores = np.sort(rng.random(500))
    rank = {HIGH: 2, MIDDLE: 1, LOW: 0}
    assert (np.diff([rank[level] for level in match_levels(scores, reference)]) >= 0).all()


def test_each_county_is_its_own_reference():
    county_codes = np.array(["A", "A", "B", "B"], dtype=object)
    scored_households = np.array([0, 0, 1, 1, 2, 2, 3, 3, 0, 2])
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2, 0.1, 0.05, 0.5, 0.25])
    shown = np.array([0, 3, 4, 7])
    levels = county_match_levels(county_codes, scored_households, scores, shown)
    # County A scored 0.9 … 0.5 (80th percentile 0.82, median 0.7); county B 0.3 … 0.05 (0.26, 0.2).
    assert levels.tolist() == [HIGH, LOW, HIGH, LOW], "0.3 is the best of county B, though low against A"


def test_recommendation_rows_carry_the_level_against_the_county_and_the_other_mechanisms():
    house_records, enterprise_records = random_world(4, households=300, enterprises=40)
    households, enterprises, rules = inputs(house_records, enterprise_records)
    pairs = candidate_pairs(households, enterprises, rules)
    scorer = BlendedScorer()
    scores = scorer.predict(pair_features(pairs, households, enterprises, rules), pairs.mechanism)
    rows = recommendation_rows(Scored(households, enterprises, pairs, scores), np.zeros(len(pairs), bool), rules,
                               scorer, 5)
    assert set(rows["level"]) == {HIGH, MIDDLE, LOW}
    # One row per household and enterprise; the enterprise's other mechanisms listed with it.
    assert not rows.duplicated(["household_id", "credit_code"]).any()
    offered = pd.DataFrame({"household_id": households.ids[pairs.household], "credit_code": enterprises.ids[pairs.enterprise],
                            "mechanism": np.array(MECHANISMS)[pairs.mechanism]})
    every = offered.groupby(["household_id", "credit_code"])["mechanism"].agg(set)
    for row in rows.itertuples():
        others = set(row.other_mechanisms.split(",")) - {""}
        assert others | {row.mechanism} == every[(row.household_id, row.credit_code)] and row.mechanism not in others
    pair_county = households.county_code[pairs.household]
    for county, group in rows.groupby("county_code"):
        reference = scores[pair_county == county]
        high, median = np.quantile(reference, [0.8, 0.5])
        # Stored scores are rounded to 4 decimals: compare away from the thresholds.
        clear = group[(abs(group["score"] - high) > 1e-4) & (abs(group["score"] - median) > 1e-4)]
        expected = np.where(clear["score"] > high, HIGH, np.where(clear["score"] > median, MIDDLE, LOW))
        assert len(clear) > 100 and clear["level"].tolist() == expected.tolist()
