"""Learning from the history without looking ahead; both sides' rates; pairs never recommended; fair exposure."""
import numpy as np
import pandas as pd
import pytest

from core.codes import Mechanism
from matching.candidates import Pairs
from matching.exclusions import blocked_keys, enterprise_digest, household_digest, household_digests, leave_out
from matching.learning import MIN_PARTNERSHIPS, by_start_date, decided_before, fit_history, history_window
from matching.pipeline import one_per_enterprise
from matching.province import exposure_metrics
from matching.scoring import LEARNED_FEATURES, blend, learning_features
from matching.sides import SideModel, decline_topic
from tests.support.matching_cases import enterprise, household, inputs

EMPLOYMENT, CONTRACT = Mechanism.EMPLOYMENT.value, Mechanism.CONTRACT_PURCHASE.value


def _county(n_households=60, n_enterprises=6, seed=0):
    rng = np.random.default_rng(seed)
    houses = [household(f"h{n:03d}", dx_km=float(rng.uniform(0, 20)), ordinary=int(rng.integers(0, 3)),
                        arable=float(rng.uniform(0, 5)), industries=["kiwi"]) for n in range(n_households)]
    firms = [enterprise(f"E{n}", dx_km=float(rng.uniform(0, 20)), mechanisms=(Mechanism.EMPLOYMENT,
                                                                               Mechanism.CONTRACT_PURCHASE),
                        jobs=40, contract=40, bought=["kiwi"]) for n in range(n_enterprises)]
    return inputs(houses, firms)


def test_a_window_sees_only_the_history_before_it_and_leaves_out_earlier_partners():
    households, enterprises, rules = _county()
    before = pd.DataFrame({"household_id": ["h000", "h001"], "credit_code": ["E0", "E0"],
                           "mechanism": [EMPLOYMENT, CONTRACT], "start_date": ["2018-01-01", "2018-02-01"]})
    after = pd.DataFrame({"household_id": ["h002"], "credit_code": ["E1"], "mechanism": [EMPLOYMENT],
                          "start_date": ["2020-01-01"]})
    window = history_window(households, enterprises, rules, before, after)
    assert window.features.shape == (len(window.pairs), len(LEARNED_FEATURES))
    assert window.state.history[0].tolist() == [1, 1, 0, 0, 0], "E0's track record: the two earlier partnerships"
    assert window.state.history[1].sum() == 0, "E1's later partnership is not in the features"
    partnered = {(households.ids[h], window.state.ids[e]) for h, e in zip(window.pairs.household, window.pairs.enterprise)}
    assert ("h000", "E0") not in partnered and ("h001", "E0") not in partnered
    labelled = {(households.ids[h], window.state.ids[e], m) for h, e, m, y in zip(
        window.pairs.household, window.pairs.enterprise, window.pairs.mechanism, window.labels) if y}
    assert labelled <= {("h002", "E1", 0)}


def test_too_little_history_means_the_rules_alone_and_says_why():
    households, enterprises, rules = _county()
    history = pd.DataFrame({"household_id": ["h000"], "credit_code": ["E0"], "mechanism": [EMPLOYMENT],
                            "start_date": ["2018-01-01"], "status": ["01"]})
    fit = fit_history(households, enterprises, history, rules)
    assert not fit.uses_model and fit.alpha == 1.0 and str(MIN_PARTNERSHIPS) in fit.report["reason"]


def test_the_oldest_come_first_and_undated_records_count_as_oldest():
    frame = pd.DataFrame({"start_date": ["2020-01-01", None, "2018-05-01"], "partnership_id": ["a", "b", "c"]})
    assert by_start_date(frame)["partnership_id"].tolist() == ["b", "c", "a"]
    decisions = pd.DataFrame({"decided_at": ["2019-01-01T00:00:00", "2021-01-01T00:00:00"]})
    assert len(decided_before(decisions, "2020-01-01")) == 1


def test_the_blend_is_a_weighted_geometric_mean_that_keeps_order():
    rule, probability = np.array([0.5, 0.5, 0.9]), np.array([0.1, 0.2, 0.1])
    pure_model = blend(rule, probability, 0.0, 1.0)
    assert pure_model[1] > pure_model[0] and pure_model[0] == pytest.approx(pure_model[2])
    assert np.all(np.diff(blend(rule, probability, 1.0, 1.0)[[0, 2]]) > 0), "alpha 1: the rules alone decide"
    assert blend(np.array([0.4]), np.array([0.4]), 0.5, 0.4)[0] == pytest.approx(0.5), "the reference is an even chance"


def test_learning_features_rank_each_households_enterprises_by_distance():
    households, enterprises, rules = _county(n_households=5)
    from matching.candidates import candidate_pairs
    pairs = candidate_pairs(households, enterprises, rules)
    features = learning_features(pairs, households, enterprises, rules)
    rank = features[:, LEARNED_FEATURES.index("distance_rank")]
    for h in range(len(households)):
        for m in np.unique(pairs.mechanism):
            mine = (pairs.household == h) & (pairs.mechanism == m)
            order = np.argsort(pairs.distance_km[mine], kind="stable")
            assert rank[mine][order].tolist() == list(range(1, mine.sum() + 1))


def test_side_rates_are_smoothed_towards_the_mechanism():
    ledger = pd.DataFrame({"household_id": [f"h{n}" for n in range(20)], "credit_code": ["E0"] * 10 + ["E1"] * 10,
                           "mechanism": [EMPLOYMENT] * 20, "status": ["03"] * 5 + ["01"] * 15,
                           "income_gain": [12000] * 20})
    decisions = pd.DataFrame({"credit_code": ["E0"] * 4 + ["E1"] * 4, "mechanism": [EMPLOYMENT] * 8,
                              "status": ["declined"] * 4 + ["accepted"] * 4,
                              "role": ["enterprise"] * 8, "reason": ["路程太远"] * 4 + [None] * 4,
                              "distance_km": [12.0, 15.0, 20.0, 25.0, 3.0, 4.0, 5.0, 6.0]})
    sides = SideModel.fit(ledger, decisions)
    assert 0.5 < sides.keep_prior[EMPLOYMENT] < 1
    assert sides.keep[("E0", EMPLOYMENT)] < sides.keep_prior[EMPLOYMENT] < sides.keep[("E1", EMPLOYMENT)]
    assert sides.accept[("E0", EMPLOYMENT)] < 0.5 < sides.accept[("E1", EMPLOYMENT)]
    assert sides.distance_limit == {"E0": 12.0}
    assert sides.gain[EMPLOYMENT] == 12000
    households, enterprises, _ = _county(n_households=2, n_enterprises=2)
    pairs = Pairs(np.array([0, 0]), np.array([0, 0]), np.array([0, 0], dtype=np.int8), np.array([2.0, 14.0]))
    factors = sides.factors(pairs, households, enterprises)
    assert factors["accept"][1] <= factors["accept"][0], "past the distance it declined for, less likely"
    assert decline_topic("企业用工已满") == "capacity" and decline_topic("户主不愿意外出") == "household"
    assert decline_topic("其他") is None


def test_digests_are_the_same_however_the_inputs_were_read():
    record = household("h1", ordinary=2, arable=2.5, industries=["kiwi", "tea"])
    columns = {name: [value] for name, value in record.items()}
    columns["industry_codes"] = [["tea", "kiwi"]]
    columns["ordinary"] = [np.int64(2)]
    assert household_digests(columns, np.arange(1))[0] == household_digest(record)
    assert household_digest({**record, "arable_mu": 3.0}) != household_digest(record)
    firm = enterprise("E1", jobs=5)
    assert enterprise_digest({**firm, "jobs_offered": 5.0}) == enterprise_digest(firm)
    assert enterprise_digest({**firm, "jobs_offered": 6}) != enterprise_digest(firm)
    assert enterprise_digest({**firm, "used": [3, 0, 0, 0, 0]}) == enterprise_digest(firm), "its partnerships are not its offer"


def test_partners_and_unchanged_declines_are_left_out():
    records = [household("h1", ordinary=1), household("h2", ordinary=1)]
    firms = [enterprise("E1"), enterprise("E2")]
    households, enterprises, _ = inputs(records, firms)
    columns = {name: [record[name] for record in records] for name in records[0]}
    declines = [{"household_id": "h2", "credit_code": "E2", "household_inputs": household_digest(records[1]),
                 "enterprise_inputs": enterprise_digest(firms[1])},
                {"household_id": "h1", "credit_code": "E2", "household_inputs": "changed since",
                 "enterprise_inputs": enterprise_digest(firms[1])}]
    keys = blocked_keys(households, enterprises, [["E1"], []], declines, columns)
    assert sorted(keys.tolist()) == [0 * 2 + 0, 1 * 2 + 1]
    pairs = Pairs(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.zeros(4, np.int8), np.ones(4))
    kept = leave_out(pairs, keys, len(enterprises))
    assert list(zip(kept.household.tolist(), kept.enterprise.tolist())) == [(0, 1), (1, 0)]


def test_an_enterprise_is_shown_once_per_household_by_its_assigned_or_best_mechanism():
    pairs = Pairs(np.array([0, 0, 0, 1]), np.array([0, 0, 1, 0]), np.array([0, 1, 0, 3], dtype=np.int8), np.ones(4))
    scores = np.array([0.9, 0.5, 0.4, 0.3])
    shown, others = one_per_enterprise(pairs, scores, np.zeros(4, bool))
    assert dict(zip(shown.tolist(), others.tolist())) == {0: "02", 2: "", 3: ""}
    shown, others = one_per_enterprise(pairs, scores, np.array([False, True, False, False]))
    assert dict(zip(shown.tolist(), others.tolist())) == {1: "01", 2: "", 3: ""}, "the assigned mechanism is shown"


def test_exposure_figures():
    counts = [{"exposure": {"E1": 8, "E2": 1}, "unlisted": []}, {"exposure": {"E1": 1, "E3": 0}, "unlisted": ["h9"]}]
    figures = exposure_metrics(counts)
    assert figures["enterprises_listed"] == 3 and figures["most_listed"] == 9
    assert figures["eligible_unlisted"] == 1 and figures["eligible_unlisted_households"] == ["h9"]
    assert 0 < figures["exposure_gini"] < 1 and figures["top_tenth_share"] == 0.9
