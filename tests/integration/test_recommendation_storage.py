"""Recommendations stored as household lists and enterprise shortlists: what the pages read of them, and a
graph from before (a node per recommendation, flagged current) adopted by applying the schema."""
from core.codes import RecommendationStatus
from graph import ledger, views
from graph import matching as queries
from graph.schema import apply_schema
from matching.run import MatchParams, MatchRunner
from tests.support import bureau_files as bf
from tests.support.faults import load_small_county

COUNTY = "433123000000"
NOW, TODAY = "2026-01-01T00:00:00+00:00", "2026-01-01"


def _labels(driver) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) WHERE n:Recommendation OR n:RecommendationList OR n:EnterpriseShortlist "
        "RETURN labels(n)[0] AS label, count(*) AS n")
    return {record["label"]: record["n"] for record in records}


def test_a_run_is_stored_as_lists_and_a_decision_as_its_own_node(graph_db, test_settings, tmp_path):
    load_small_county(graph_db, test_settings, tmp_path)
    run = MatchRunner(graph_db, test_settings, progress=None).run([COUNTY], MatchParams(household_limit=2))
    recommendations = queries.run_recommendations(graph_db, run["run_id"])
    households = {r["household_id"] for r in recommendations}
    enterprises = {r["credit_code"] for r in recommendations}
    assert _labels(graph_db) == {"RecommendationList": len(households), "EnterpriseShortlist": len(enterprises)}
    assert run["written_total"] == len(recommendations) == queries.run_recommendation_count(graph_db, run["run_id"])

    # Each has its score in words, against the county's scored pairs: a higher score never has a lower level.
    assert {r["level"] for r in recommendations} <= {"高", "中", "低"} and all(r["level"] for r in recommendations)
    rank = {"高": 2, "中": 1, "低": 0}
    by_score = sorted(recommendations, key=lambda r: r["score"])
    assert all(rank[a["level"]] <= rank[b["level"]] for a, b in zip(by_score, by_score[1:]) if a["score"] < b["score"])
    # An enterprise once per household; its other mechanisms for the household listed with it.
    assert len({(r["household_id"], r["credit_code"]) for r in recommendations}) == len(recommendations)
    assert any(r["other_mechanisms"] for r in recommendations)
    assert all(r["mechanism"] not in r["other_mechanisms"] and set(r["other_mechanisms"]) <= {"01", "02", "03", "04", "05"}
               for r in recommendations)
    rec = next(r for r in recommendations if r["assigned"])
    assert rec["rec_id"] == f"{run['run_id']}-{rec['household_id']}-{rec['rank']}"
    shown = views.recommendation(graph_db, rec["rec_id"])
    assert {key: shown[key] for key in rec} == rec
    detail = views.household_detail(graph_db, rec["household_id"])
    assert [r["rec_id"] for r in detail["recommendation_list"]] == [
        r["rec_id"] for r in recommendations if r["household_id"] == rec["household_id"]]

    ledger.decline_recommendation(graph_db, rec["rec_id"], "岗位已满", "test", "enterprise", NOW)
    assert _labels(graph_db)["Recommendation"] == 1, "only the entry decided on has a node"
    declined = views.recommendation(graph_db, rec["rec_id"])
    assert declined["status"] == RecommendationStatus.DECLINED and declined["decline_reason"] == "岗位已满"
    assert declined["level"] == rec["level"] and declined["reasons"] == rec["reasons"]
    page, total = views.search_recommendations(graph_db, {"credit_code": rec["credit_code"],
                                                          "status": RecommendationStatus.DECLINED.value}, 0, 10)
    assert total == 1 and page[0]["rec_id"] == rec["rec_id"], "the shortlist's status follows the decision"
    assert ledger.declined_pairs(graph_db, [COUNTY])[0]["reason"] == "岗位已满"


def test_an_unknown_or_malformed_recommendation_is_not_found_and_creates_nothing(graph_db, test_settings, tmp_path):
    load_small_county(graph_db, test_settings, tmp_path)
    run = MatchRunner(graph_db, test_settings, progress=None).run([COUNTY], MatchParams())
    for rec_id in ("nonsense", f"{run['run_id']}-{bf.household_id(1)}-99", f"{run['run_id']}-9999-1"):
        assert views.recommendation(graph_db, rec_id) is None
        try:
            ledger.accept_recommendation(graph_db, rec_id, False, "test", NOW, TODAY)
        except ledger.LedgerConflict as error:
            assert error.code == "not_found"
        else:
            raise AssertionError(f"{rec_id} accepted")
    assert "Recommendation" not in _labels(graph_db)


def test_a_graph_with_a_node_per_recommendation_is_adopted_by_applying_the_schema(graph_db, test_settings, tmp_path):
    load_small_county(graph_db, test_settings, tmp_path)
    run = MatchRunner(graph_db, test_settings, progress=None).run([COUNTY], MatchParams(household_limit=2))
    recommendations = queries.run_recommendations(graph_db, run["run_id"])
    # The graph as an earlier version wrote it: a node per recommendation, linked and flagged current.
    graph_db.execute_query("MATCH (n) WHERE n:RecommendationList OR n:EnterpriseShortlist DETACH DELETE n")
    graph_db.execute_query("MATCH (county:Region {code: $county}) REMOVE county.current_run", county=COUNTY)
    graph_db.execute_query("""
        UNWIND $rows AS row
        MATCH (h:Household {household_id: row.household_id}) MATCH (e:Enterprise {credit_code: row.credit_code})
        CREATE (r:Recommendation) SET r = row, r.rec_id = $run_id + '-' + $county + '-' + toString(row.n),
               r.current = true, r.attempt = 'old'
        CREATE (r)-[:FOR_HOUSEHOLD]->(h) CREATE (r)-[:FROM_ENTERPRISE]->(e)""",
        run_id=run["run_id"], county=COUNTY,
        rows=[{**{key: rec[key] for key in ("run_id", "household_id", "credit_code", "county_code", "mechanism",
                                             "rank", "score", "rule_score", "distance_km", "reasons", "assigned",
                                             "status")}, "n": n} for n, rec in enumerate(recommendations)])
    graph_db.execute_query("MATCH (r:Recommendation {rec_id: $rec_id}) SET r.status = $declined, "
                           "r.decline_reason = '不合适'", rec_id=f"{run['run_id']}-{COUNTY}-0",
                           declined=RecommendationStatus.DECLINED.value)

    apply_schema(graph_db)
    adopted = queries.run_recommendations(graph_db, run["run_id"])
    # An earlier version stored no match level (nor other mechanisms): the adopted ones have none.
    earlier = [{**rec, "level": None, "other_mechanisms": []} for rec in recommendations]
    first = {**earlier[0], "status": RecommendationStatus.DECLINED.value, "decline_reason": "不合适"}
    assert adopted == [first] + earlier[1:], "the same recommendations, current, the decision kept"
    assert _labels(graph_db)["Recommendation"] == 1, "only the decided one keeps a node"
    records, _, _ = graph_db.execute_query("MATCH ()-[link:FOR_HOUSEHOLD|FROM_ENTERPRISE]->() RETURN count(link) AS n")
    assert records[0]["n"] == 0
    apply_schema(graph_db)  # nothing left to adopt
    assert queries.run_recommendations(graph_db, run["run_id"]) == adopted
