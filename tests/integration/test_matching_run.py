"""Match runs against the real Neo4j: stored with recommendations, incremental, reproducible."""
import json

from core.codes import Mechanism
from etl.load import load_files
from graph import matching as queries
from matching.run import MatchParams, MatchRunner
from tests.support import bureau_files as bf

COUNTY = "433123000000"


def _load_county(graph_db, settings, tmp_path, jobs=2):
    households = [bf.household_row(n) for n in range(1, 7)]
    members = [bf.member_row(n, 1) for n in range(1, 7)]
    # One enterprise employs, another buys on contract: a household is recommended an enterprise once, by one
    # mechanism, so the two mechanisms come from two enterprises.
    enterprise = bf.enterprise_row(1)
    enterprise[8], enterprise[9], enterprise[10] = "就业务工", jobs, 0  # 联结方式, 用工需求（人）, 订单收购带动户数
    buyer = bf.enterprise_row(2)
    buyer[8], buyer[9] = "订单收购", 0
    files = [
        bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, households),
        bf.write_table(tmp_path / "m.csv", bf.MEMBER_HEADER, members),
        bf.write_table(tmp_path / "ent.csv", bf.ENTERPRISE_HEADER, [enterprise, buyer]),
    ]
    result = load_files(files, graph_db, settings, progress=False)
    assert all(f.rows_rejected == 0 for f in result.files)
    return enterprise[0], buyer[0]


def test_a_run_is_stored_with_recommendations_and_respects_capacity(graph_db, test_settings, tmp_path):
    employer, buyer = _load_county(graph_db, test_settings, tmp_path, jobs=2)
    runner = MatchRunner(graph_db, test_settings, progress=None)
    run = runner.run([COUNTY], MatchParams(seed=7, household_limit=2))
    assert run["status"] == "completed" and run["seed"] == 7 and json.loads(run["params"])["household_limit"] == 2
    metrics = json.loads(run["metrics"])
    recommendations = queries.run_recommendations(graph_db, run["run_id"])
    assert recommendations and all(r["current"] for r in recommendations)
    employment = [r for r in recommendations if r["mechanism"] == Mechanism.EMPLOYMENT and r["assigned"]]
    assert len(employment) == 2, "the enterprise has two jobs"
    assert {r["household_id"] for r in recommendations if r["mechanism"] == Mechanism.EMPLOYMENT} == {
        f"4331231012010{n:03d}" for n in range(1, 7)}, "all six are recommended for employment, two get the jobs"
    contract = [r for r in recommendations if r["mechanism"] == Mechanism.CONTRACT_PURCHASE and r["assigned"]]
    assert len(contract) <= 30
    assert metrics["covered"] == 6 and metrics["coverage"] == 1.0
    assert all(r["reasons"] and any("公里" in reason or "产业" in reason for reason in r["reasons"]) for r in recommendations)
    assert {r["credit_code"] for r in recommendations} == {employer, buyer}
    pairs = [(r["household_id"], r["credit_code"]) for r in recommendations]
    assert len(pairs) == len(set(pairs)), "an enterprise once per household"
    assert "仅用规则" in run["model_note"] and run.get("model_version") is None and run["alpha"] == 1.0, \
        "no partnership history: the rules alone, and the run says so"


def test_rerun_recomputes_only_what_changed_and_keeps_older_runs(graph_db, test_settings, tmp_path):
    _load_county(graph_db, test_settings, tmp_path, jobs=2)
    runner = MatchRunner(graph_db, test_settings, progress=None)
    params = MatchParams(household_limit=2)
    first = runner.run([COUNTY], params)
    second = runner.run([COUNTY], params)
    assert second["counties"] == [] and second["unchanged_counties"] == [COUNTY]
    assert all(r["current"] for r in queries.run_recommendations(graph_db, first["run_id"]))

    _load_county(graph_db, test_settings, tmp_path, jobs=4)  # capacity change
    third = runner.run([COUNTY], params)
    assert third["counties"] == [COUNTY]
    old = queries.run_recommendations(graph_db, first["run_id"])
    new = queries.run_recommendations(graph_db, third["run_id"])
    assert old and not any(r["current"] for r in old), "older runs are kept, no longer current"
    assert all(r["current"] for r in new)
    assert sum(r["assigned"] and r["mechanism"] == Mechanism.EMPLOYMENT for r in new) == 4


def test_a_run_is_reproduced_from_its_parameters_and_seed(graph_db, test_settings, tmp_path):
    _load_county(graph_db, test_settings, tmp_path)
    runner = MatchRunner(graph_db, test_settings, progress=None)
    first = runner.run([COUNTY], MatchParams(seed=3))
    again = runner.run([COUNTY], MatchParams(**{**json.loads(first["params"]), "rules": MatchParams().rules}), force=True)

    def essence(run):
        return [(r["household_id"], r["credit_code"], r["mechanism"], r["rank"], r["score"], r["assigned"], r["reasons"])
                for r in queries.run_recommendations(graph_db, run["run_id"])]

    assert essence(first) == essence(again)
