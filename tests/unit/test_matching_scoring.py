"""Scores are explainable: contributions add up to the score and become Chinese reasons."""
import numpy as np
import pytest

from core.codes import Mechanism
from matching.candidates import candidate_pairs
from matching.reasons import APPLIES, REASONS_PER_PAIR, reason_claims, reason_texts, reasons
from matching.scoring import FEATURES, RuleScorer, pair_features
from tests.support.matching_cases import enterprise, household, inputs


def _scored(household_records, enterprise_records):
    households, enterprises, rules = inputs(household_records, enterprise_records)
    pairs = candidate_pairs(households, enterprises, rules)
    features = pair_features(pairs, households, enterprises, rules)
    scorer = RuleScorer().fit()
    return households, enterprises, pairs, features, scorer


def test_contributions_sum_to_the_score_and_reasons_name_the_figures():
    records = enterprise("KIWI", dx_km=6.3, mechanisms=(Mechanism.EMPLOYMENT, Mechanism.CONTRACT_PURCHASE), jobs=15, contract=10, bought=["kiwi"],
                         partner_villages=["433123101000"])
    records["project_counties"], records["project_industries"] = ["433123000000"], ["kiwi"]
    households, enterprises, pairs, features, scorer = _scored(
        [household("h", ordinary=2, arable=3, industries=["kiwi"], village="433123101000")], [records])
    contributions = scorer.contributions(features, pairs.mechanism)
    np.testing.assert_allclose(contributions.sum(axis=1), scorer.predict(features, pairs.mechanism))
    assert features[:, FEATURES.index("village_link")].all() and features[:, FEATURES.index("project_link")].all()
    texts = [text for row in reasons(pairs, contributions, households, enterprises) for text in row]
    assert "距离 6.3 公里（就业务工上限 30 公里）" in texts and "距离 6.3 公里（订单收购上限 50 公里）" in texts
    assert "2 名普通劳动力；企业尚余 15 个岗位" in texts
    assert "产业对口：企业收购本户的 猕猴桃" in texts


def test_closer_and_better_fitting_pairs_score_higher():
    households, enterprises, pairs, features, scorer = _scored(
        [household("h", ordinary=1)], [enterprise("NEAR", dx_km=2, jobs=5), enterprise("FAR", dx_km=25, jobs=5)])
    scores = dict(zip(enterprises.ids[pairs.enterprise], scorer.predict(features, pairs.mechanism)))
    assert scores["NEAR"] > scores["FAR"]


def test_weights_are_validated():
    with pytest.raises(ValueError):
        RuleScorer(weights=np.ones((5, 2))).fit()
    with pytest.raises(ValueError):
        RuleScorer(weights=-np.ones((5, len(FEATURES)))).fit()


def test_reasons_are_the_texts_of_the_largest_positive_contributions_of_every_pair():
    rng = np.random.default_rng(7)
    all_mechanisms = tuple(Mechanism)
    households = [household(f"h{n}", dx_km=float(rng.uniform(0, 30)), ordinary=int(rng.integers(0, 3)),
                            skilled=int(rng.integers(0, 2)), weak=int(rng.integers(0, 2)),
                            arable=float(rng.uniform(0, 6)), industries=["kiwi"] if n % 2 else ["tea"],
                            village="433123101000" if n % 3 == 0 else None) for n in range(40)]
    enterprises = [enterprise(f"E{n}", dx_km=float(rng.uniform(0, 30)), mechanisms=all_mechanisms, jobs=5, contract=5,
                              land_mu=30.0, equity=5, ecommerce=5, bought=["kiwi", "tea"],
                              partner_villages=["433123101000"] if n % 2 else []) for n in range(6)]
    households, enterprises, pairs, features, scorer = _scored(households, enterprises)
    contributions = scorer.contributions(features, pairs.mechanism)
    expected = []
    for row_values, mechanism in zip(contributions, pairs.mechanism):
        values = np.where(APPLIES[mechanism], row_values, 0.0)
        order = np.argsort(-values, kind="stable")[:REASONS_PER_PAIR]
        expected.append([FEATURES[k] for k in order if values[k] > 0])
    claims = reason_claims(pairs, contributions, households, enterprises)
    assert len(pairs) > 100 and [[claim.kind for claim in row] for row in claims] == expected
    assert {len(row) for row in expected} >= {REASONS_PER_PAIR}
    texts = [[claim.text for claim in row] for row in claims]
    assert reasons(pairs, contributions, households, enterprises) == texts
    assert reason_texts(pairs, contributions, households, enterprises).tolist() == ["\n".join(row) for row in texts]
