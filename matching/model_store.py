"""The model every run uses by default: trained from the graph's history when that history changed, stored in
the graph (graph/models.py), loaded once per process.

`current_choice` is what a run calls first: the current model if it learned the history as it stands, else a
new fit (matching/learning.py) made current. With too little history the choice is the rules alone, recorded
the same way (so the next run does not try again until the history changes) with the reason.
"""
import hashlib
import io
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timezone

import joblib
import neo4j
import numpy as np
import pandas as pd

from core.settings import Settings
from graph import matching as queries
from graph import models as graph_models
from matching.features import Enterprises, Households
from matching.learning import MAX_TRAINING_HOUSEHOLDS, Fit, fit_history
from matching.reach import neighbour_counties
from matching.rules import EligibilityRules
from matching.scoring import LEARNED_FEATURES, BlendedScorer

RULES_ONLY_PREFIX = "rules-"


@dataclass(frozen=True)
class ModelChoice:
    """How a run scores: a model version (None: the rules alone), the blend weight, and why."""

    version: str | None
    alpha: float
    reference: float
    note: str
    trained: bool = False  # True when this call trained it

    @classmethod
    def of_record(cls, record: dict, trained: bool = False) -> "ModelChoice":
        uses = bool(record.get("uses_model"))
        return cls(record["version"] if uses else None, float(record["alpha"]) if uses else 1.0,
                   float(record.get("reference") or 0.0), record.get("note") or "", trained)


def history_digest(driver: neo4j.Driver, database: str | None = None) -> str:
    """A short fingerprint of the partnership history and the decisions on recommendations."""
    parts = graph_models.history_digest_parts(driver, database)
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:20]


def serialise(fit: Fit) -> bytes:
    """What a run needs of a fit: the learned estimator and the side model."""
    buffer = io.BytesIO()
    joblib.dump({"learned": fit.learned, "sides": fit.sides}, buffer)
    return buffer.getvalue()


def training_counties(driver: neo4j.Driver, settings: Settings, counties: list[str] | None, seed: int) -> list[str]:
    """The counties to learn from: the given ones, else counties in a seeded order until they hold enough
    households for a fit (a province's history is learned from a sample of its counties)."""
    database = settings.neo4j_database
    if counties:
        return list(counties)
    every = [row["code"] for row in queries.counties_with_households(driver, database)]
    sizes = queries.county_household_counts(driver, every, database)
    chosen, households = [], 0
    for county in np.random.default_rng(seed).permutation(every):
        if households >= MAX_TRAINING_HOUSEHOLDS:
            break
        chosen.append(str(county))
        households += sizes.get(str(county), 0)
    return sorted(chosen)


def fit_graph(driver: neo4j.Driver, settings: Settings, counties: list[str] | None = None, seed: int = 0,
              progress=lambda message: None) -> tuple[Fit, list[str]]:
    """Fit on the partnership history of the counties (default: a sample of counties, see training_counties)."""
    rules, database = EligibilityRules(), settings.neo4j_database
    counties = training_counties(driver, settings, counties, seed)
    households = Households.from_records(queries.county_households(driver, counties, database))
    enterprises = Enterprises.from_records(
        queries.county_enterprises(driver, neighbour_counties(counties, rules.search_radius_km()), database), rules)
    partnerships = pd.DataFrame(queries.partnerships(driver, counties, database), columns=list(queries.PARTNERSHIP_COLUMNS))
    decisions = pd.DataFrame(queries.decisions(driver, counties, database), columns=list(queries.DECISION_COLUMNS))
    return fit_history(households, enterprises, partnerships, rules, decisions=decisions, seed=seed,
                       progress=progress), counties


def train_current(driver: neo4j.Driver, settings: Settings, counties: list[str] | None = None, seed: int = 0,
                  progress=lambda message: None, digest: str | None = None) -> ModelChoice:
    """Fit on the graph's history and make the result the current model (or the rules alone, with the reason)."""
    database = settings.neo4j_database
    digest = digest or history_digest(driver, database)
    fit, used = fit_graph(driver, settings, counties, seed, progress)
    payload = serialise(fit) if fit.uses_model else None
    version = ("m-" + hashlib.sha256(payload).hexdigest()[:12]) if payload else f"{RULES_ONLY_PREFIX}{digest}"
    note = fit.report.get("reason", "")
    report = {**fit.report, "counties": used, "features": list(LEARNED_FEATURES), "seed": seed}
    graph_models.save_current_model(driver, {
        "version": version, "trained_at": datetime.now(timezone.utc).isoformat(), "uses_model": fit.uses_model,
        "alpha": fit.alpha, "reference": fit.reference, "history_digest": digest, "note": note,
        "report": json.dumps(report, ensure_ascii=False, default=str)}, payload, database)
    progress(f"模型 / model {version}: {note}")
    return ModelChoice(version if fit.uses_model else None, fit.alpha, fit.reference, note, trained=True)


def current_choice(driver: neo4j.Driver, settings: Settings, progress=lambda message: None) -> ModelChoice:
    """The current model if it learned the history as it stands; else train one now (see the module)."""
    database = settings.neo4j_database
    digest = history_digest(driver, database)
    current = graph_models.current_model(driver, database)
    if current is not None and current.get("history_digest") == digest:
        return ModelChoice.of_record(current)
    progress("联结历史有变化，重新训练模型 / the history changed: training the model")
    return train_current(driver, settings, progress=progress, digest=digest)


# ---- loading, once per process and version ----

_LOADED: dict[str, dict] = {}
_LOAD_LOCK = threading.Lock()


def load_fitted(driver: neo4j.Driver, version: str, database: str | None = None) -> dict:
    """A stored model's parts, {"learned": estimator, "sides": SideModel} (kept in this process after the first
    load)."""
    with _LOAD_LOCK:
        if version in _LOADED:
            return _LOADED[version]
    payload = graph_models.model_payload(driver, version, database)
    if payload is None:
        raise LookupError(f"模型版本不存在 / no model {version}")
    fitted = joblib.load(io.BytesIO(payload))
    with _LOAD_LOCK:
        _LOADED.clear()  # one version at a time: a run uses one
        _LOADED[version] = fitted
    return fitted


def scorer_for(driver: neo4j.Driver, version: str | None, alpha: float, reference: float,
               database: str | None = None) -> BlendedScorer:
    """The scorer of a run's model choice (the rules alone when there is no model)."""
    if not version or alpha >= 1:
        return BlendedScorer()
    fitted = load_fitted(driver, version, database)
    return BlendedScorer(learned=fitted["learned"], alpha=alpha, reference=reference, sides=fitted.get("sides"))
