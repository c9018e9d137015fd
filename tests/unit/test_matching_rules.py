"""No recommendation ever breaks an eligibility rule, on adversarial cases built to tempt it."""
import numpy as np
import pytest

from core.codes import EnterpriseType, LabourSkill, Mechanism, PovertyCause
from matching.candidates import Pairs, candidate_pairs, filter_eligible, haversine_km
from matching.pipeline import make_plan
from core.mechanisms import MECHANISMS
from matching.rules import EligibilityRules
from matching.scoring import BlendedScorer
from tests.support.matching_cases import enterprise, household, inputs


def _recommended(households, enterprises, rules):
    plan = make_plan(households, enterprises, rules, BlendedScorer(), top_k=10)
    return {(r.household_id, r.credit_code, r.mechanism) for r in plan.recommendations.itertuples()}, plan


def test_employment_needs_ordinary_or_skilled_labour_within_commuting_distance():
    households, enterprises, rules = inputs(
        [household("no-labour"), household("near", ordinary=1, dx_km=5), household("far", ordinary=2, dx_km=80),
         household("weak-only", weak=1, dx_km=3)],
        [enterprise("FACTORY", jobs=100)])
    recommended, _ = _recommended(households, enterprises, rules)
    assert recommended == {("near", "FACTORY", Mechanism.EMPLOYMENT)}


def test_weak_labour_only_in_a_nearby_workshop():
    households, enterprises, rules = inputs(
        [household("weak-near", weak=1, dx_km=5), household("weak-far", weak=1, dx_km=25)],
        [enterprise("WORKSHOP", jobs=13, etype=EnterpriseType.WORKSHOP),
         enterprise("FACTORY", jobs=50, etype=EnterpriseType.PROCESSING)])
    recommended, _ = _recommended(households, enterprises, rules)
    assert recommended == {("weak-near", "WORKSHOP", Mechanism.EMPLOYMENT)}


def test_skilled_jobs_need_a_skilled_member():
    households, enterprises, rules = inputs(
        [household("ordinary", ordinary=2), household("skilled", skilled=1)],
        [enterprise("TECH", jobs=10, skill=LabourSkill.SKILLED)])
    recommended, _ = _recommended(households, enterprises, rules)
    assert recommended == {("skilled", "TECH", Mechanism.EMPLOYMENT)}


def test_land_lease_needs_land_near_the_base():
    households, enterprises, rules = inputs(
        [household("land-near", arable=3, dx_km=4), household("land-far", arable=8, dx_km=30),
         household("no-land", ordinary=1, dx_km=1)],
        [enterprise("FARM", mechanisms=(Mechanism.LAND_LEASE,), land_mu=300)])
    recommended, _ = _recommended(households, enterprises, rules)
    assert recommended == {("land-near", "FARM", Mechanism.LAND_LEASE)}


def test_contract_purchase_needs_the_product_land_and_labour():
    households, enterprises, rules = inputs(
        [household("kiwi", ordinary=1, arable=2, industries=["kiwi"]), household("tea", ordinary=1, arable=2, industries=["tea"]),
         household("kiwi-no-land", ordinary=1, industries=["kiwi"]), household("kiwi-no-labour", arable=2, industries=["kiwi"])],
        [enterprise("KIWI-BUYER", mechanisms=(Mechanism.CONTRACT_PURCHASE,), contract=50, bought=["kiwi"])])
    recommended, _ = _recommended(households, enterprises, rules)
    assert recommended == {("kiwi", "KIWI-BUYER", Mechanism.CONTRACT_PURCHASE)}


def test_equity_stays_inside_the_county_and_favours_households_without_labour():
    households, enterprises, rules = inputs(
        [household("sick", cause=PovertyCause.ILLNESS), household("able", ordinary=2, arable=3),
         household("other-county", cause=PovertyCause.ILLNESS, county="433124000000", dx_km=2)],
        [enterprise("FUND", mechanisms=(Mechanism.EQUITY,), equity=1)])
    recommended, plan = _recommended(households, enterprises, rules)
    assert {r for r in recommended} == {("sick", "FUND", Mechanism.EQUITY), ("able", "FUND", Mechanism.EQUITY)}
    assigned = plan.recommendations[plan.recommendations.assigned]
    assert assigned.household_id.tolist() == ["sick"], "the single equity place goes to the household in need"


def test_ecommerce_needs_a_product_the_enterprise_trades():
    households, enterprises, rules = inputs(
        [household("tea", industries=["tea"], dx_km=60), household("nothing", dx_km=1)],
        [enterprise("SHOP", mechanisms=(Mechanism.ECOMMERCE,), ecommerce=100, industries=["ecommerce"], bought=["tea"], etype=EnterpriseType.ECOMMERCE)])
    recommended, _ = _recommended(households, enterprises, rules)
    assert recommended == {("tea", "SHOP", Mechanism.ECOMMERCE)}


def test_mechanism_not_offered_or_full_is_never_recommended():
    households, enterprises, rules = inputs(
        [household("worker", ordinary=2, arable=4, industries=["kiwi"])],
        [enterprise("NO-JOBS", mechanisms=(Mechanism.CONTRACT_PURCHASE,), jobs=100, contract=0, bought=["kiwi"])])
    recommended, _ = _recommended(households, enterprises, rules)
    assert recommended == set()


def test_rules_are_configurable():
    records = ([household("h", ordinary=1, dx_km=20)], [enterprise("E", jobs=5)])
    assert _recommended(*inputs(*records))[0] == {("h", "E", Mechanism.EMPLOYMENT)}
    strict = EligibilityRules(employment_max_km=10)
    assert _recommended(*inputs(*records, rules=strict))[0] == set()


CAUSES = PovertyCause.codes(PovertyCause.ILLNESS, PovertyCause.DISABILITY, PovertyCause.LACK_OF_SKILLS,
                            PovertyCause.LACK_OF_FUNDS)
TYPES = EnterpriseType.codes(EnterpriseType.COOPERATIVE, EnterpriseType.WORKSHOP, EnterpriseType.PROCESSING)
COUNTIES = ["433123000000", "433124000000"]


@pytest.mark.parametrize("seed", range(5))
def test_random_instances_never_break_a_rule(seed):
    rng = np.random.default_rng(seed)
    industries = ["kiwi", "tea", "citrus", "pig"]
    houses = [household(f"h{i}", dx_km=float(rng.uniform(0, 120)), ordinary=int(rng.integers(0, 3)),
                        skilled=int(rng.integers(0, 2)), weak=int(rng.integers(0, 2)), arable=float(rng.choice([0, 1, 3])),
                        industries=list(rng.choice(industries, int(rng.integers(0, 3)), replace=False)),
                        cause=str(rng.choice(CAUSES)), county=str(rng.choice(COUNTIES)))
              for i in range(300)]
    firms = [enterprise(f"e{j}", dx_km=float(rng.uniform(0, 120)), mechanisms=list(rng.choice(MECHANISMS, 3, replace=False)),
                        jobs=int(rng.integers(0, 20)), contract=int(rng.integers(0, 20)), land_mu=float(rng.integers(0, 60)),
                        equity=int(rng.integers(0, 10)), ecommerce=int(rng.integers(0, 20)),
                        industries=list(rng.choice(industries, 1)), bought=list(rng.choice(industries, 2, replace=False)),
                        etype=str(rng.choice(TYPES)), skill=rng.choice([None, LabourSkill.SKILLED.value]),
                        county=str(rng.choice(COUNTIES)))
             for j in range(25)]
    households, enterprises, rules = inputs(houses, firms)
    plan = make_plan(households, enterprises, rules, BlendedScorer(), top_k=10)
    recs = plan.recommendations
    assert len(recs) > 100
    h_index = {hid: i for i, hid in enumerate(households.ids)}
    e_index = {code: j for j, code in enumerate(enterprises.ids)}
    h = recs.household_id.map(h_index).to_numpy()
    e = recs.credit_code.map(e_index).to_numpy()
    m = recs.mechanism.map({code: i for i, code in enumerate(MECHANISMS)}).to_numpy()
    d = haversine_km(households.lat[h], households.lon[h], enterprises.lat[e], enterprises.lon[e])
    pairs = Pairs(h, e, m.astype(np.int8), d)
    assert len(filter_eligible(pairs, households, enterprises, rules)) == len(recs), "every recommendation obeys the rules"
    assert len(candidate_pairs(households, enterprises, rules)) >= len(recs)
