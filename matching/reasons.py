"""Reasons in Chinese for recommended pairs — each a true statement of the facts its rule and its score used —
and the score in words (the match level 高 / 中 / 低).

A reason is a claim first: the feature it explains (a FEATURES name, its kind) and the figures it states, read
from the same arrays as matching.rules.eligible and matching.scoring.pair_features; its text names those figures
(`reason_claims` gives both, and the tests check every claim against the data). A pair's reasons are its largest
non-zero score contributions, largest first. A feature that adds nothing to the score gives no reason, nor does one
that does not concern the pair's mechanism (labour: employment and contract purchase; land: contract purchase and
land lease; the fit for equity: equity).

A province run gives reasons to millions of pairs: only the shown claims are built, feature by feature over
arrays, and each distinct figure is formatted once (`_formatted`); texts are joined as object arrays.
"""
from decimal import ROUND_FLOOR, Decimal
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

from core import need
from core.codes import HouseholdAttribute, LabourSkill, Mechanism, MonitoringCategory
from core.match_level import HIGH, HIGH_QUANTILE, LOW, MIDDLE, MIDDLE_QUANTILE
from core.mechanisms import position
from matching.candidates import Pairs
from matching.features import Enterprises, Households, industry_names
from matching.rules import MECHANISMS, EligibilityRules, employment_routes
from matching.scoring import FEATURES

REASONS_PER_PAIR = 3
EMPLOYMENT, CONTRACT, LAND, EQUITY = (position(m) for m in (Mechanism.EMPLOYMENT, Mechanism.CONTRACT_PURCHASE,
                                                           Mechanism.LAND_LEASE, Mechanism.EQUITY))

# The features that concern only some mechanisms; the others explain every mechanism.
_ONLY_FOR = {"labour_fit": (Mechanism.EMPLOYMENT, Mechanism.CONTRACT_PURCHASE),
             "land_fit": (Mechanism.CONTRACT_PURCHASE, Mechanism.LAND_LEASE),
             "equity_fit": (Mechanism.EQUITY,)}
# APPLIES[mechanism, feature]: whether the feature may give a reason for a pair of that mechanism.
APPLIES = np.array([[feature not in _ONLY_FOR or mechanism in _ONLY_FOR[feature] for feature in FEATURES]
                    for mechanism in MECHANISMS])

# The match level of a score among its county's scored candidate pairs (core.match_level).
LEVEL_QUANTILES = (HIGH_QUANTILE, MIDDLE_QUANTILE)


class Claim(NamedTuple):
    """One reason: the feature it explains (a FEATURES name), the figures it states, and its text."""

    kind: str
    figures: dict
    text: str


# What a builder gives for the pairs it explains: their figures (name → one value per pair) and texts.
Built = tuple[dict[str, np.ndarray], np.ndarray]


# --- formatting, vectorised ------------------------------------------------------------------------------

def _formatted(fmt: Callable, *columns: np.ndarray) -> np.ndarray:
    """fmt(*values) of each row of the columns (an object array of texts), each distinct row formatted once:
    rows are told apart by hashing (pandas.factorize), never by sorting texts, and a whole text is made at once."""
    n = len(columns[0])
    if n == 0:
        return np.empty(0, dtype=object)
    key = None
    for column in columns:
        codes, uniques = pd.factorize(np.asarray(column), use_na_sentinel=False)
        # Compacted after each column, so the key stays below n however many columns there are.
        key = codes if key is None else pd.factorize(key * len(uniques) + codes)[0]
    representative = np.empty(int(key.max()) + 1, dtype=np.int64)
    representative[key] = np.arange(n)  # any row of each distinct key: they hold the same values
    values = [np.asarray(column)[representative].tolist() for column in columns]
    return np.array([fmt(*row) for row in zip(*values)], dtype=object)[key]


def _mu(value: float) -> str:
    """An area in 亩 as people write it: 2.4, 3, 0.35 (a positive area never reads as 0: 不足 0.01)."""
    return "不足 0.01" if 0 < value < 0.005 else f"{value:.2f}".rstrip("0").rstrip(".")


def _short_land(mu: float, limit: float) -> str:
    """Land below the lease minimum: cut, not rounded, to hundredths, so 0.499 亩 never reads as 0.5 亩."""
    if mu == 0:
        text = "无耕地、林地或园地"
    elif mu < 0.01:
        text = "土地不到 0.01 亩"
    else:
        # Cut on the decimal digits of the value itself: mu * 100 in binary can round 0.33999… up to 34.
        text = f"土地仅 {_mu(float(Decimal(repr(float(mu))).quantize(Decimal('0.01'), rounding=ROUND_FLOOR)))} 亩"
    return f"{text}，不足 {_mu(limit)} 亩"


def _names(mask: int) -> str:
    return "、".join(industry_names(mask))


def _labour_counts(ordinary: int, skilled: int, weak: int = 0) -> str:
    """'3 名普通劳动力、1 名弱劳动力': the non-zero counts."""
    return "、".join(f"{count} 名{label}" for count, label in
                    ((ordinary, "普通劳动力"), (skilled, "技能劳动力"), (weak, "弱劳动力")) if count)


def _causes(bits: int) -> str:
    """The need causes (core.need: 因病, 因残, 缺劳动力) named by a household's bits."""
    return "、".join(need.need_cause_labels(bits))


def _per_household(pairs: Pairs, build: Callable[[np.ndarray], Built]) -> Built:
    """A builder of household facts run once per household of the pairs (many pairs share a household)."""
    households_of_pairs, inverse = np.unique(pairs.household, return_inverse=True)
    figures, texts = build(households_of_pairs)
    inverse = inverse.reshape(-1)
    return {name: values[inverse] for name, values in figures.items()}, texts[inverse]


# --- one builder per feature: (figures, texts) of the given pairs ----------------------------------------
# Each gets the pairs to explain (already of the mechanisms the feature concerns), the inputs and the rules.


def _proximity(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    """The distance and the limit of the pair's mechanism (employment of a 弱劳动力 at a workshop: its own)."""
    h, e, m, d = pairs.household, pairs.enterprise, pairs.mechanism, pairs.distance_km
    able, _ = employment_routes(rules, households, enterprises, h, e, d)
    workshop = (m == EMPLOYMENT) & ~able
    limits = np.array([np.inf if mechanism == Mechanism.EQUITY else rules.max_km(mechanism) for mechanism in MECHANISMS])
    limit_km = np.where(workshop, rules.workshop_max_km, limits[m])
    limit_texts = [f"{mechanism.label}上限 {rules.max_km(mechanism):g} 公里" for mechanism in MECHANISMS]
    limit_texts[EQUITY] = "入股分红限本县企业" if rules.equity_same_county else "入股分红不限距离"
    limit_texts.append(f"弱劳动力到扶贫车间上限 {rules.workshop_max_km:g} 公里")
    tenths = np.round(d * 10).astype(np.int64)
    texts = _formatted(lambda km10, limit: f"距离 {km10 / 10:.1f} 公里（{limit_texts[limit]}）",
                       tenths, np.where(workshop, len(MECHANISMS), m))
    return {"km": d, "limit_km": limit_km, "workshop": workshop,
            "same_county": households.county_code[h] == enterprises.county_code[e]}, texts


def _industry_fit(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    """The household's industries the enterprise buys, and those it works in without buying them."""
    own, e = households.industry_mask[pairs.household], pairs.enterprise
    bought = own & enterprises.bought_mask[e]
    worked = own & enterprises.industry_mask[e] & ~enterprises.bought_mask[e]

    def text(bought: int, worked: int) -> str:
        parts = [f"企业收购本户的 {_names(bought)}"] * bool(bought) + [f"企业经营本户的 {_names(worked)}"] * bool(worked)
        return "产业对口：" + "；".join(parts)

    return {"bought_mask": bought, "worked_mask": worked}, _formatted(text, bought, worked)


_ABLE, _WORKSHOP, _ORDERS = 0, 1, 2  # labour: employment by the main rule, at a workshop, contract purchase


def _labour_fit(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    """Employment: the labourers and the jobs left (a 弱劳动力 at a workshop: that route); contract purchase: the
    labourers, weak ones included, who would produce."""
    h, e, m = pairs.household, pairs.enterprise, pairs.mechanism
    ordinary, skilled, weak = households.ordinary[h], households.skilled[h], households.weak[h]
    employment = m == EMPLOYMENT
    able, _ = employment_routes(rules, households, enterprises, h, e, pairs.distance_km)
    route = np.where(employment, np.where(able, _ABLE, _WORKSHOP), _ORDERS)
    needs_skill = (route == _ABLE) & (enterprises.skill_required[e] == LabourSkill.SKILLED)
    jobs_left = np.where(employment, enterprises.capacity[Mechanism.EMPLOYMENT][e], -1)
    # Contract purchase: what the household would grow or raise for the enterprise (the rule's overlap).
    bought = np.where(employment, 0, households.industry_mask[h] & enterprises.bought_mask[e])

    def text(ordinary: int, skilled: int, weak: int, route: int, jobs: int, needs_skill: bool, bought: int) -> str:
        if route == _ABLE:
            return f"{_labour_counts(ordinary, skilled)}；企业尚余 {jobs} 个岗位" + "（要求技能劳动力）" * needs_skill
        if route == _WORKSHOP:
            return f"{_labour_counts(ordinary, skilled, weak)}；扶贫车间尚余 {jobs} 个岗位，弱劳动力可就近务工"
        return f"{_labour_counts(ordinary, skilled, weak)}，可按订单种养" + f"企业收购的 {_names(bought)}" * bool(bought)

    return {"ordinary": ordinary, "skilled": skilled, "weak": weak, "workshop": route == _WORKSHOP,
            "needs_skill": needs_skill, "jobs_left": jobs_left, "bought_mask": bought}, \
        _formatted(text, ordinary, skilled, weak, route, jobs_left, needs_skill, bought)


def _land_fit(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    """The household's land by kind (and its sum when of several kinds); a lease: the households the enterprise
    can still take."""
    h, e, m = pairs.household, pairs.enterprise, pairs.mechanism
    arable, forest, orchard = households.arable_mu[h], households.forest_mu[h], households.orchard_mu[h]
    lease = m == LAND
    places_left = np.where(lease, enterprises.capacity[Mechanism.LAND_LEASE][e], -1)

    def text(arable: float, forest: float, orchard: float, places: int) -> str:
        kinds = [f"{name} {_mu(mu)} 亩" for name, mu in (("耕地", arable), ("林地", forest), ("园地", orchard)) if mu > 0]
        total = f"，共 {_mu(arable + forest + orchard)} 亩" if len(kinds) > 1 else ""
        tail = f"；企业尚可流转 {places} 户的土地" if places >= 0 else "，可按订单种养"
        return "、".join(kinds) + total + tail

    return {"land_mu": households.land_mu[h], "arable_mu": arable, "forest_mu": forest, "orchard_mu": orchard,
            "places_left": places_left}, _formatted(text, arable, forest, orchard, places_left)


def _need(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    """The household's need tier (core.need) with every condition of the rule that holds for it."""

    def build(h: np.ndarray) -> Built:
        tier = households.need_tier[h]
        attribute = households.attribute[h]
        protected = np.isin(attribute, need.PROTECTED_CODES)
        monitoring = households.monitoring[h]
        bits = households.need_cause_bits[h]
        no_labour = (households.ordinary[h] + households.skilled[h] + households.weak[h]) == 0
        income = households.known_income[h]
        low_income = income < need.LOW_INCOME_LINE
        shown_income = np.where(low_income, np.floor(np.where(low_income, income, 0)), -1.0)

        def text(tier: int, attribute: str, monitoring: str, bits: int, no_labour: bool, income: float) -> str:
            conditions = [HouseholdAttribute.label_of(attribute, attribute)] * bool(attribute)
            conditions += [f"监测对象（{MonitoringCategory.label_of(monitoring, monitoring)}）"] * bool(monitoring)
            conditions += [f"致贫原因 {_causes(bits)}"] * bool(bits) + ["无劳动力"] * no_labour
            conditions += [f"人均纯收入 {income:.0f} 元，低于 {need.LOW_INCOME_LINE} 元"] * (income >= 0)
            return ("优先保障对象：" if tier >= need.GREATEST else "重点帮扶对象：") + "，".join(conditions)

        shown_attribute = np.where(protected, attribute, "")
        return {"tier": tier, "attribute": shown_attribute, "monitoring": monitoring, "need_cause_bits": bits,
                "no_labour": no_labour, "income": np.where(low_income, income, np.nan)}, \
            _formatted(text, tier, shown_attribute, monitoring, bits, no_labour, shown_income)

    return _per_household(pairs, build)


def _equity_fit(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    """Which of the equity conditions (matching.scoring) holds: no labour, too little land, a need cause."""

    def build(h: np.ndarray) -> Built:
        no_labour = (households.ordinary[h] + households.skilled[h] + households.weak[h]) == 0
        land = households.land_mu[h]
        short = land < rules.min_land_mu
        bits = households.need_cause_bits[h]

        def text(no_labour: bool, land: float, bits: int) -> str:
            conditions = ["无劳动力"] * no_labour + [_short_land(land, rules.min_land_mu)] * (land >= 0)
            return "适合入股分红：" + "；".join(conditions + [f"致贫原因为 {_causes(bits)}"] * bool(bits))

        return {"no_labour": no_labour, "land_mu": np.where(short, land, np.nan), "need_cause_bits": bits}, \
            _formatted(text, no_labour, np.where(short, land, -1.0), bits)

    return _per_household(pairs, build)


def _village_link(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    return {"village_code": households.village_code[pairs.household]}, \
        np.full(len(pairs), "企业已在本村带动农户（有履约中或待确认的利益联结）", dtype=object)


def _cooperative(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    return {"in_cooperative": households.in_cooperative[pairs.household],
            "enterprise_type": enterprises.enterprise_type[pairs.enterprise]}, \
        np.full(len(pairs), "本户已加入农民专业合作社，企业为农民专业合作社", dtype=object)


def _track_record(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    partnerships = enterprises.partner_count[pairs.enterprise].astype(np.int64)
    return {"partnerships": partnerships}, \
        _formatted(lambda count: f"企业现有 {count} 项利益联结（履约中或待确认）", partnerships)


def _project_link(pairs: Pairs, households: Households, enterprises: Enterprises, rules: EligibilityRules) -> Built:
    h, e = pairs.household, pairs.enterprise
    industries = households.industry_mask[h] & enterprises.project_mask[e]
    return {"project_mask": industries, "county_code": households.county_code[h]}, \
        _formatted(lambda mask: f"企业在本县实施 {_names(mask)} 产业扶贫项目", industries)


_BUILDERS = {"proximity": _proximity, "industry_fit": _industry_fit, "labour_fit": _labour_fit, "land_fit": _land_fit,
             "need": _need, "equity_fit": _equity_fit, "village_link": _village_link, "cooperative": _cooperative,
             "track_record": _track_record, "project_link": _project_link}
if tuple(_BUILDERS) != FEATURES:
    raise RuntimeError("a reason builder for every feature, in FEATURES order")


# --- the shown reasons -----------------------------------------------------------------------------------

def _shown(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises,
           rules: EligibilityRules | None):
    """Per feature with a shown reason: (feature, rows, slots, figures, texts) — the pairs (rows) it explains,
    at which place among their reasons (slots, 0 = the largest contribution), and its claims.

    A pair shows its REASONS_PER_PAIR largest positive contributions of the features that concern its mechanism
    (ties: in FEATURES order)."""
    rules = rules or enterprises.rules
    values = np.where(APPLIES[pairs.mechanism], contributions, 0.0)
    order = np.argsort(-values, axis=1, kind="stable")[:, :REASONS_PER_PAIR]
    shown = np.take_along_axis(values, order, axis=1) > 0
    for feature, name in enumerate(FEATURES):
        rows, slots = np.nonzero((order == feature) & shown)
        if len(rows):
            figures, texts = _BUILDERS[name](pairs.take(rows), households, enterprises, rules)
            yield feature, rows, slots, figures, texts


def _shown_texts(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises,
                 rules: EligibilityRules | None) -> np.ndarray:
    """Per pair (row), its reasons' texts in their slots, then None (the shown ones come first)."""
    texts = np.full((len(pairs), min(REASONS_PER_PAIR, len(FEATURES))), None, dtype=object)
    for _, rows, slots, _, feature_texts in _shown(pairs, contributions, households, enterprises, rules):
        texts[rows, slots] = feature_texts
    return texts


def reasons(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises,
            rules: EligibilityRules | None = None) -> list[list[str]]:
    """For each pair, the texts of its largest non-zero contributions, largest first (rules: the enterprises'
    when not given)."""
    if len(pairs) == 0:
        return []
    texts = _shown_texts(pairs, contributions, households, enterprises, rules)
    return [[text for text in row if text is not None] for row in texts.tolist()]


def reason_texts(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises,
                 rules: EligibilityRules | None = None) -> np.ndarray:
    """For each pair, its reasons (see `reasons`) as one text, a reason per line: as they are stored.

    Joined column by column (numpy adds object arrays element-wise in C): a list per pair cost a province
    run more than formatting the texts."""
    if len(pairs) == 0:
        return np.empty(0, dtype=object)
    texts = _shown_texts(pairs, contributions, households, enterprises, rules)
    shown = texts != None  # noqa: E711 (element-wise)
    texts[~shown] = ""
    joined = texts[:, 0]
    for column in range(1, texts.shape[1]):
        joined = joined + np.where(shown[:, column], "\n", "").astype(object) + texts[:, column]
    return joined


def reason_claims(pairs: Pairs, contributions: np.ndarray, households: Households, enterprises: Enterprises,
                  rules: EligibilityRules | None = None) -> list[list[Claim]]:
    """For each pair, its reasons as claims (kind, figures, text), largest contribution first: what `reasons`
    says, with the figures each text states (for tests and analysts; per-pair Python objects, not for a run)."""
    claims = [[None] * REASONS_PER_PAIR for _ in range(len(pairs))]
    for feature, rows, slots, figures, texts in _shown(pairs, contributions, households, enterprises, rules):
        for position_in_rows, (row, slot) in enumerate(zip(rows.tolist(), slots.tolist())):
            stated = {name: values[position_in_rows].item() if hasattr(values[position_in_rows], "item")
                      else values[position_in_rows] for name, values in figures.items()}
            claims[row][slot] = Claim(FEATURES[feature], stated, texts[position_in_rows])
    return [[claim for claim in row if claim is not None] for row in claims]


# --- the score in words ----------------------------------------------------------------------------------

def match_levels(scores: np.ndarray, reference_scores: np.ndarray) -> np.ndarray:
    """高 / 中 / 低 for each score: 高 at or above the 80th percentile of reference_scores (a county's scored
    candidate pairs), 中 at or above their median, 低 below (with no reference, the scores themselves)."""
    scores = np.asarray(scores, dtype=np.float64)
    reference = np.asarray(reference_scores, dtype=np.float64)
    if reference.size == 0:
        reference = scores
    if reference.size == 0:
        return np.empty(0, dtype=object)
    high, middle = np.quantile(reference, LEVEL_QUANTILES)
    return np.where(scores >= high, HIGH, np.where(scores >= middle, MIDDLE, LOW)).astype(object)


def county_match_levels(county_codes: np.ndarray, scored_households: np.ndarray, scores: np.ndarray,
                        shown: np.ndarray) -> np.ndarray:
    """The match level of the scored pairs at positions `shown`, each against the scores of its own county's
    scored pairs (county_codes: per household; scored_households, scores: per scored pair)."""
    county_of_household = np.unique(np.asarray(county_codes, dtype=object).astype(str), return_inverse=True)[1]
    county = county_of_household.reshape(-1)[scored_households]
    scores = np.asarray(scores)
    if len(scores) == 0 or county.min() == county.max():
        return match_levels(scores[shown], scores)
    levels = np.empty(len(scores[shown]), dtype=object)
    shown_county = county[shown]
    for code in np.unique(shown_county):
        levels[shown_county == code] = match_levels(scores[shown][shown_county == code], scores[county == code])
    return levels
