"""The default run learns from the history, never wastes a slot on a pair already partnered or declined, and
trains again only when the history changed."""
import json

from devtools import synth
from etl.load import load_files
from graph import matching as queries
from graph import models as graph_models
from matching.run import MatchParams, MatchRunner
from services.context import Context
from services.principal import Principal
from services import recommendations as service

COUNTY = "433123000000"
BUREAU = Principal("t-bureau", "凤凰县商务局", "bureau", county_code=COUNTY)


def _county_with_history(graph_db, settings, tmp_path):
    paths = synth.generate(tmp_path, households=1500, enterprises=40, projects=4, counties=[COUNTY], seed=5,
                           progress=False)
    load_files(list(paths.values()), graph_db, settings, progress=False)


def _open_pairs(graph_db) -> set[tuple[str, str]]:
    records, _, _ = graph_db.execute_query(
        "MATCH (h:Household)<-[:OF_HOUSEHOLD]-(p:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise) "
        "WHERE p.status IN ['01', '04'] RETURN h.household_id AS h, e.credit_code AS e")
    return {(record["h"], record["e"]) for record in records}


def test_the_default_run_uses_a_model_trained_on_the_history_and_never_recommends_partners(graph_db, test_settings,
                                                                                             tmp_path):
    _county_with_history(graph_db, test_settings, tmp_path)
    runner = MatchRunner(graph_db, test_settings, progress=None)
    run = runner.run([COUNTY], MatchParams())
    assert run["status"] == "completed"
    model = graph_models.current_model(graph_db)
    assert model["uses_model"] and run["model_version"] == model["version"], (model, run["model_note"])
    assert run["alpha"] == model["alpha"] < 1.0 and "融合权重" in run["model_note"]
    assert json.loads(model["report"])["window_positives"][1] >= 30
    recommendations = queries.run_recommendations(graph_db, run["run_id"])
    pairs = [(r["household_id"], r["credit_code"]) for r in recommendations]
    partners = _open_pairs(graph_db)
    assert partners and not set(pairs) & partners, "no slot on a pair in force or awaiting confirmation"
    assert len(pairs) == len(set(pairs)), "an enterprise once per household"

    # Unchanged history: the same model, not trained again.
    again = runner.run([COUNTY], MatchParams(), force=True)
    assert again["model_version"] == run["model_version"]
    assert graph_models.current_model(graph_db)["trained_at"] == model["trained_at"]

    # A new decision changes the history: the next run trains first.
    ctx = Context(graph_db, test_settings)
    first = queries.run_recommendations(graph_db, again["run_id"])[0]
    service.decline(ctx, BUREAU, first["rec_id"], "户主不愿意")
    later = runner.run([COUNTY], MatchParams())
    assert graph_models.current_model(graph_db)["trained_at"] > model["trained_at"]
    assert (first["household_id"], first["credit_code"]) not in {
        (r["household_id"], r["credit_code"]) for r in queries.run_recommendations(graph_db, later["run_id"])}, \
        "a declined pair is not recommended again while neither side changed"


def test_a_declined_pair_returns_when_the_household_changed(graph_db, test_settings, tmp_path):
    _county_with_history(graph_db, test_settings, tmp_path)
    runner = MatchRunner(graph_db, test_settings, progress=None)
    run = runner.run([COUNTY], MatchParams(model_version=None))
    recommendations = queries.run_recommendations(graph_db, run["run_id"])
    declined = next(r for r in recommendations if r["rank"] == 1)
    ctx = Context(graph_db, test_settings)
    service.decline(ctx, BUREAU, declined["rec_id"], "企业暂不需要")
    pair = (declined["household_id"], declined["credit_code"])

    def recommended(run_id):
        return {(r["household_id"], r["credit_code"]) for r in queries.run_recommendations(graph_db, run_id)}

    after_decline = runner.run([COUNTY], MatchParams(model_version=None))
    assert after_decline["counties"] == [COUNTY], "a decline recomputes its county"
    assert pair not in recommended(after_decline["run_id"])
    # The household's inputs change (more land recorded): the pair may be recommended again.
    graph_db.execute_query("MATCH (h:Household {household_id: $id}) SET h.arable_mu = coalesce(h.arable_mu, 0) + 0.5",
                           id=declined["household_id"])
    changed = runner.run([COUNTY], MatchParams(model_version=None))
    assert pair in recommended(changed["run_id"])
