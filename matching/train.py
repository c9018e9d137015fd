"""Train the learned scorer on the partnerships in the graph and save it as a new version.

Command line: `flask --app wsgi match train [--county CODE ...] [--seed 0]` (cli/); it prints the
version to pass to a run (`flask --app wsgi match run --model VERSION --alpha 0.3`).
"""
from dataclasses import dataclass

import neo4j
import numpy as np
import pandas as pd

from core.settings import Settings
from graph import matching as queries
from matching.features import Enterprises, Households
from matching.model_store import labelled_pairs, save_model, train
from matching.rules import EligibilityRules
from matching.run import neighbour_counties


@dataclass(frozen=True)
class TrainedModel:
    """A saved model version and what it was trained on."""

    version: str
    counties: list[str]
    pairs: int
    positives: int


def train_from_graph(driver: neo4j.Driver, settings: Settings, counties: list[str] | None = None,
                     seed: int = 0) -> TrainedModel:
    """Train on every partnership of the counties (default: every county with households) and save the model."""
    rules, database = EligibilityRules(), settings.neo4j_database
    counties = counties or [row["code"] for row in queries.counties_with_households(driver, database)]
    radius = rules.search_radius_km()
    households = Households.from_records(queries.county_households(driver, counties, database))
    enterprises = Enterprises.from_records(
        queries.county_enterprises(driver, neighbour_counties(counties, radius), database), rules)
    partnerships = pd.DataFrame(queries.partnerships(driver, counties, database),
                                columns=["partnership_id", "household_id", "credit_code", "mechanism", "start_date",
                                         "status"])
    pairs, features, labels = labelled_pairs(households, enterprises, rules, partnerships)
    model = train(features, labels, pairs.mechanism, seed=seed)
    version = save_model(settings, model, {
        "counties": counties, "seed": seed, "pairs": int(len(pairs)), "positives": int(labels.sum()),
        "partnerships": int(len(partnerships)),
        "average_precision_on_training": model.score(features, labels, pairs.mechanism),
        "positive_rate": float(np.mean(labels)),
    })
    return TrainedModel(version=version, counties=counties, pairs=int(len(pairs)), positives=int(labels.sum()))
