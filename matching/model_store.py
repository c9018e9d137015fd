"""The learned scorer: training data from past partnerships, versioned files in var/models."""
import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from core.settings import Settings
from matching.candidates import candidate_pairs
from matching.features import Enterprises, Households
from matching.rules import MECHANISMS, EligibilityRules
from matching.scoring import FEATURES, LearnedScorer, pair_features


def labelled_pairs(households: Households, enterprises: Enterprises, rules: EligibilityRules,
                   partnerships: pd.DataFrame, per_mechanism: int = 8):
    """Eligible candidate pairs with y = 1 where a partnership (household, enterprise, mechanism) exists.

    Capacity is taken whole (not less current partnerships) so that the pairs that did form are candidates.
    """
    full = enterprises.with_full_capacity()
    pairs = candidate_pairs(households, full, rules, per_mechanism=per_mechanism)
    X = pair_features(pairs, households, full, rules)
    y = pair_labels(pairs, households, full, partnerships)
    return pairs, X, y


def pair_labels(pairs, households: Households, enterprises: Enterprises, partnerships: pd.DataFrame) -> np.ndarray:
    """1 where the pair appears in the partnerships table, else 0 (vectorised key match)."""
    h_index = pd.Series(np.arange(len(households)), index=households.ids)
    e_index = pd.Series(np.arange(len(enterprises)), index=enterprises.ids)
    known = partnerships[partnerships["household_id"].isin(h_index.index) & partnerships["credit_code"].isin(e_index.index)]
    m_index = {code: position for position, code in enumerate(MECHANISMS)}
    keys = ((h_index[known["household_id"]].to_numpy() * len(enterprises) + e_index[known["credit_code"]].to_numpy())
            * len(MECHANISMS) + known["mechanism"].map(m_index).to_numpy())
    pair_keys = (pairs.household.astype(np.int64) * len(enterprises) + pairs.enterprise) * len(MECHANISMS) + pairs.mechanism
    return np.isin(pair_keys, keys).astype(int)


def train(X: np.ndarray, y: np.ndarray, mechanisms: np.ndarray, seed: int = 0) -> LearnedScorer:
    """Fit the learned scorer."""
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError("训练数据需要同时包含已结成与未结成的联结 / need both positive and negative pairs")
    return LearnedScorer(random_state=seed).fit(X, y, mechanisms)


def _model_dir(settings: Settings) -> Path:
    return Path(settings.var_dir) / "models"


def save_model(settings: Settings, model: LearnedScorer, metadata: dict) -> str:
    """Save the model with its metadata; returns its version (content hash)."""
    directory = _model_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    temporary = directory / "incoming.joblib"
    joblib.dump(model, temporary)
    version = "m-" + hashlib.sha256(temporary.read_bytes()).hexdigest()[:12]
    temporary.replace(directory / f"{version}.joblib")
    info = {"version": version, "trained_at": datetime.now(timezone.utc).isoformat(), "features": list(FEATURES), **metadata}
    (directory / f"{version}.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    return version


def load_model(settings: Settings, version: str) -> LearnedScorer:
    """Load a saved model by version."""
    path = _model_dir(settings) / f"{version}.joblib"
    if not path.exists():
        raise FileNotFoundError(f"模型版本不存在 / no model {version} in {path.parent}")
    return joblib.load(path)


def model_info(settings: Settings, version: str) -> dict:
    """The metadata saved with a model."""
    return json.loads((_model_dir(settings) / f"{version}.json").read_text(encoding="utf-8"))
