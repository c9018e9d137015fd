"""Train the learned scorer on the partnerships in the graph and save it as a new version.

    python -m matching.train [--county CODE ...] [--seed 0]

Prints the version to pass to a run (`python -m matching.run --model VERSION --alpha 0.3`).
"""
import argparse
import sys

import numpy as np
import pandas as pd

from core.settings import Settings
from graph import matching as queries
from graph.db import create_driver
from matching.features import Enterprises, Households
from matching.model_store import labelled_pairs, save_model, train
from matching.rules import EligibilityRules
from matching.run import neighbour_counties


def main(argv: list[str] | None = None) -> int:
    """Train on every partnership of the chosen counties (default: all) and save the model."""
    parser = argparse.ArgumentParser(prog="python -m matching.train", description="训练匹配模型 / train the model")
    parser.add_argument("--county", action="append")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    settings, rules = Settings(), EligibilityRules()
    with create_driver(settings) as driver:
        database = settings.neo4j_database
        counties = args.county or [row["code"] for row in queries.counties_with_households(driver, database)]
        radius = rules.search_radius_km()
        households = Households.from_records(queries.county_households(driver, counties, database))
        enterprises = Enterprises.from_records(queries.county_enterprises(driver, neighbour_counties(counties, radius), database), rules)
        partnerships = pd.DataFrame(queries.partnerships(driver, counties, database),
                                    columns=["partnership_id", "household_id", "credit_code", "mechanism", "start_date", "status"])
    pairs, features, labels = labelled_pairs(households, enterprises, rules, partnerships)
    model = train(features, labels, pairs.mechanism, seed=args.seed)
    version = save_model(settings, model, {
        "counties": counties, "seed": args.seed, "pairs": int(len(pairs)), "positives": int(labels.sum()),
        "partnerships": int(len(partnerships)), "average_precision_on_training": model.score(features, labels, pairs.mechanism),
        "positive_rate": float(np.mean(labels)),
    })
    print(f"模型版本 / model version: {version}  ({len(pairs):,} pairs, {int(labels.sum()):,} partnerships matched)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
