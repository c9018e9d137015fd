"""Evaluation on synthetic data: the model beats both baselines and never breaks a rule."""
import pandas as pd

from devtools import synth
from etl.load import load_files
from graph import matching as queries
from matching.evaluate import evaluate, format_results
from matching.features import Enterprises, Households
from matching.rules import EligibilityRules

COUNTIES = ["433123000000", "433124000000", "433125000000"]


def test_model_beats_nearest_and_random_baselines(graph_db, test_settings, tmp_path):
    paths = synth.generate(tmp_path, households=6000, enterprises=120, projects=12, counties=COUNTIES, seed=11,
                           progress=False)
    load_files(list(paths.values()), graph_db, test_settings, progress=False)
    rules = EligibilityRules()
    households = Households.from_records(queries.county_households(graph_db, COUNTIES))
    enterprises = Enterprises.from_records(queries.county_enterprises(graph_db, COUNTIES), rules)
    partnerships = pd.DataFrame(queries.partnerships(graph_db, COUNTIES))
    results = evaluate(households, enterprises, partnerships, rules, k=5, seed=0)
    print(format_results(results, 5))
    model = results["model (blended)"]
    for baseline in ("baseline: nearest eligible", "baseline: random eligible"):
        assert model["recall@5"] > results[baseline]["recall@5"]
        assert model["ndcg@5"] > results[baseline]["ndcg@5"]
    assert all(figures["rule_breaking_share"] == 0 for name, figures in results.items() if not name.startswith("_"))
    assert model["households_evaluated"] > 300
