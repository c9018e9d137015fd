"""The synthetic history loads into Neo4j without a reject, and every past partnership obeys the matching rules."""
import numpy as np
import pandas as pd

from core.mechanisms import MECHANISMS
from devtools import synth
from etl.load import load_files
from graph import matching as queries
from matching.candidates import Pairs, filter_eligible, haversine_km
from matching.features import Enterprises, Households
from matching.rules import EligibilityRules

COUNTIES = ["433123000000", "433124000000"]


def test_the_history_loads_without_rejects_and_respects_the_rules(graph_db, test_settings, tmp_path):
    paths = synth.generate(tmp_path, households=600, enterprises=30, projects=6, counties=COUNTIES, seed=5,
                           progress=False)
    frames = {kind: pd.read_csv(path, dtype=str) for kind, path in paths.items()}
    result = load_files(list(paths.values()), graph_db, test_settings, progress=False)
    assert sum(f.rows_rejected for f in result.files) == 0
    assert sum(f.rows_loaded for f in result.files) == sum(len(frame) for frame in frames.values())
    rules = EligibilityRules()
    households = Households.from_records(queries.county_households(graph_db, COUNTIES))
    enterprises = Enterprises.from_records(queries.county_enterprises(graph_db, COUNTIES), rules).with_full_capacity()
    history = pd.DataFrame(queries.partnerships(graph_db, COUNTIES))
    h = history["household_id"].map({hid: i for i, hid in enumerate(households.ids)}).to_numpy()
    e = history["credit_code"].map({code: j for j, code in enumerate(enterprises.ids)}).to_numpy()
    m = history["mechanism"].map({code: i for i, code in enumerate(MECHANISMS)}).to_numpy().astype(np.int8)
    d = haversine_km(households.lat[h], households.lon[h], enterprises.lat[e], enterprises.lon[e])
    pairs = Pairs(h, e, m, d)
    assert len(filter_eligible(pairs, households, enterprises, rules)) == len(pairs)
