"""Evaluation on synthetic data read from the graph: the default run (model + rules) beats the rules alone by the
issue's margin and both baselines, never recommends a pair already partnered, and never breaks a rule."""
import pandas as pd

from devtools import synth
from etl.load import load_files
from graph import matching as queries
from matching.evaluate import DEFAULT, FORMER, NEAREST, RANDOM, RULES, evaluate, format_results, relative_gain
from matching.features import Enterprises, Households
from matching.rules import EligibilityRules

COUNTIES = ["433123000000", "433124000000", "433125000000"]


def test_default_run_beats_rules_and_baselines(graph_db, test_settings, tmp_path):
    paths = synth.generate(tmp_path, households=6000, enterprises=120, projects=12, counties=COUNTIES, seed=11,
                           progress=False)
    load_files(list(paths.values()), graph_db, test_settings, progress=False)
    rules = EligibilityRules()
    households = Households.from_records(queries.county_households(graph_db, COUNTIES))
    enterprises = Enterprises.from_records(queries.county_enterprises(graph_db, COUNTIES), rules)
    partnerships = pd.DataFrame(queries.partnerships(graph_db, COUNTIES))
    results = evaluate(households, enterprises, partnerships, rules, seed=0)
    print(format_results(results))
    assert results["_fit"]["uses_model"], results["_fit"]
    default = results[DEFAULT]
    for metric in ("recall@5", "recall@10"):
        assert relative_gain(results, metric) >= 0.10, (metric, results[DEFAULT], results[RULES])
    for baseline in (NEAREST, RANDOM):
        assert default["recall@5"] > results[baseline]["recall@5"]
        assert default["ndcg@5"] > results[baseline]["ndcg@5"]
    methods = [name for name in results if not name.startswith("_")]
    assert all(results[name]["rule_breaking_share"] == 0 for name in methods)
    assert all(results[name]["slots_on_partners"] == 0 for name in methods if name != FORMER)
    assert results[FORMER]["slots_on_partners"] > 0, "the former default did spend slots on partners"
    assert default["households_evaluated"] > 300
    assert set(results["_by_county"]) == set(COUNTIES)
