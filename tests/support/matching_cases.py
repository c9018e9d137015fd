"""Hand-built matching inputs (households and enterprises as graph records would give them)."""
from core.codes import EnterpriseType, HouseholdAttribute, Mechanism, PovertyCause
from matching.features import Enterprises, Households
from matching.rules import EligibilityRules

BASE = (109.60, 27.95)  # 凤凰县


def _code(value):
    """A plain code string, as the graph returns it (enum members are accepted for readability)."""
    return None if value is None else str(value)


def household(hid, *, dx_km=0.0, ordinary=0, skilled=0, weak=0, arable=0.0, forest=0.0, industries=(),
              cause=PovertyCause.LACK_OF_FUNDS, attribute=HouseholdAttribute.ORDINARY, county="433123000000",
              village=None, monitoring=None, income=3500.0):
    """A household record dx_km east of BASE."""
    return {"household_id": hid, "county_code": county, "village_code": village or f"{county[:6]}101{int(dx_km):03d}",
            "lon": BASE[0] + dx_km / 98.3, "lat": BASE[1], "attribute": _code(attribute), "main_cause": _code(cause),
            "other_causes": [], "monitoring_category": _code(monitoring), "income_per_capita": income,
            "relocated": False, "arable_mu": arable, "forest_mu": forest, "orchard_mu": 0.0,
            "industry_codes": list(industries), "in_cooperative": False, "ordinary": ordinary, "skilled": skilled,
            "weak": weak, "members": ordinary + skilled + weak}


def enterprise(code, *, dx_km=0.0, mechanisms=(Mechanism.EMPLOYMENT,), jobs=0, contract=0, land_mu=0.0, equity=0,
               ecommerce=0, industries=(), bought=(), etype=EnterpriseType.PROCESSING, skill=None,
               county="433123000000", partner_villages=()):
    """An enterprise record dx_km east of BASE; land_mu is the 流转土地需求（亩）, not a number of households."""
    return {"credit_code": code, "name": f"企业{code}", "county_code": county, "lon": BASE[0] + dx_km / 98.3,
            "lat": BASE[1], "enterprise_type": _code(etype), "mechanisms": [_code(m) for m in mechanisms],
            "jobs_offered": jobs, "contract_households": contract, "land_wanted_mu": land_mu,
            "equity_households": equity, "ecommerce_households": ecommerce, "skill_required": _code(skill),
            "industry_codes": list(industries), "bought_codes": list(bought),
            "partner_villages": list(partner_villages), "used": [0] * len(Mechanism)}


def inputs(household_records, enterprise_records, rules=None):
    """Households, Enterprises and the rules for a case."""
    rules = rules or EligibilityRules()
    return Households.from_records(household_records), Enterprises.from_records(enterprise_records, rules), rules
