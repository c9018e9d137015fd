"""Per-county match rules against the real Neo4j: a county's ledger suggests its limits, applying them writes a
version, and the county's next run is recomputed under them (and records the version); the API and the runs
page show and apply them within the caller's scope."""
import json
import re

import pytest

from core.codes import Mechanism
from devtools import synth
from etl.load import load_files
from graph import match_rules as rule_queries
from graph import matching as queries
from matching.run import MatchParams, MatchRunner
from services import match_rules
from services.context import Context
from services.errors import Conflict, Forbidden, Invalid, NotFound
from services.principal import Principal

COUNTY = "433123000000"  # 凤凰县
NEIGHBOUR = "433122000000"  # 泸溪县
BUREAU = Principal("t-bureau", "凤凰县商务局", "bureau", county_code=COUNTY)
OTHER_BUREAU = Principal("t-other", "泸溪县商务局", "bureau", county_code=NEIGHBOUR)
ANALYST = Principal("t-analyst", "分析员", "analyst")
ADMIN = Principal("t-admin", "管理员", "admin")


@pytest.fixture
def ledger_county(graph_db, test_settings, tmp_path):
    """Two counties with synthetic ledgers (some 800 partnerships each), loaded by the ETL. The history was drawn
    within the default limits, leases mostly near the enterprise: 95 % of 凤凰县's formed within 9 km."""
    paths = synth.generate(tmp_path, households=2000, enterprises=50, projects=6, counties=[COUNTY, NEIGHBOUR],
                           seed=11, progress=False)
    result = load_files(list(paths.values()), graph_db, test_settings, progress=False)
    assert not result.failed_files
    return Context(graph_db, test_settings)


def _by_field(rules: dict) -> dict:
    return {limit["field"]: limit for limit in rules["limits"]}


def _land_lease(driver, run_id: str) -> list[dict]:
    return [r for r in queries.run_recommendations(driver, run_id) if r["mechanism"] == Mechanism.LAND_LEASE]


def test_applied_suggestions_recompute_the_county_and_bound_its_recommendations(ledger_county, graph_db,
                                                                                 test_settings):
    runner = MatchRunner(graph_db, test_settings, progress=None)
    first = runner.run([COUNTY], MatchParams())
    assert json.loads(first["rules_versions"]) == {COUNTY: None}
    fingerprint = queries.latest_county_fingerprints(graph_db, [COUNTY])[COUNTY][0]

    suggested = _by_field(match_rules.county_rules(ledger_county, BUREAU, COUNTY))
    land = suggested["land_max_km"]
    assert land["evidence"] >= 30 and land["current"] == land["default"] == 10.0
    assert land["suggested"] is not None and land["suggested"] < 10.0, land
    assert any(r["distance_km"] > land["suggested"] for r in _land_lease(graph_db, first["run_id"])), \
        "the first run recommends leases beyond the suggested limit, so the limit has something to change"

    applied = match_rules.apply_rules(ledger_county, BUREAU, COUNTY, ["land_max_km"])
    assert applied["applied"] == ["land_max_km"] and applied["version"] == 1
    assert applied["applied_by"] == "凤凰县商务局（商务局）" and applied["history"][0]["changes"] == {
        "land_max_km": {"from": 10.0, "to": land["suggested"], "source": "suggested"}}
    assert _by_field(applied)["land_max_km"]["current"] == land["suggested"]
    stored = rule_queries.current_county_rules(graph_db, [COUNTY])[COUNTY]
    assert stored["values"] == {"land_max_km": land["suggested"]} and stored["applied_by_actor"] is None, \
        "the token id is kept for the audit only, never read out"

    second = runner.run([COUNTY], MatchParams())
    assert second["counties"] == [COUNTY], "a change of the county's rules recomputes it"
    assert queries.latest_county_fingerprints(graph_db, [COUNTY])[COUNTY][0] != fingerprint
    assert json.loads(second["rules_versions"]) == {COUNTY: 1}
    leases = _land_lease(graph_db, second["run_id"])
    assert leases and max(r["distance_km"] for r in leases) <= land["suggested"]

    again = runner.run([COUNTY], MatchParams())
    assert again["counties"] == [] and again["unchanged_counties"] == [COUNTY]


def test_applying_what_already_holds_writes_no_version_and_values_are_versioned(ledger_county, graph_db):
    first = match_rules.apply_rules(ledger_county, ADMIN, COUNTY, match_rules.ALL)
    assert first["version"] == 1 and first["applied"]
    assert all(limit["current"] == limit["suggested"] for limit in first["limits"] if limit["suggested"] is not None)
    assert match_rules.apply_rules(ledger_county, ADMIN, COUNTY, match_rules.ALL)["applied"] == []
    assert len(rule_queries.county_rules_history(graph_db, COUNTY)) == 1

    second = match_rules.apply_rules(ledger_county, BUREAU, COUNTY, values={"min_land_mu": 1.0, "land_max_km": 7.0})
    assert second["version"] == 2 and second["applied"] == ["land_max_km", "min_land_mu"]
    current = _by_field(second)
    assert current["min_land_mu"]["current"] == 1.0 and current["land_max_km"]["current"] == 7.0
    earlier = {limit["field"]: limit["current"] for limit in first["limits"]}
    assert current["employment_max_km"]["current"] == earlier["employment_max_km"], "other values are kept"
    assert [version["version"] for version in second["history"]] == [2, 1]
    with pytest.raises(Invalid):
        match_rules.apply_rules(ledger_county, BUREAU, COUNTY, values={"land_max_km": 31.0})
    with pytest.raises(Invalid):
        match_rules.apply_rules(ledger_county, BUREAU, COUNTY)


def test_too_few_partnerships_give_no_suggestion_to_apply(ledger_county):
    rules = _by_field(match_rules.county_rules(ledger_county, ADMIN, NEIGHBOUR))
    few = [limit for limit in rules.values() if limit["evidence"] < 30]
    assert few and all(limit["suggested"] is None and "少于 30 条" in limit["reason"] for limit in few)
    with pytest.raises(Conflict) as refused:
        match_rules.apply_rules(ledger_county, ADMIN, NEIGHBOUR, [few[0]["field"]])
    assert refused.value.code == "no_suggestion"


def test_scope_bureaus_their_county_analysts_read_only(ledger_county):
    with pytest.raises(NotFound):
        match_rules.county_rules(ledger_county, OTHER_BUREAU, COUNTY)
    with pytest.raises(NotFound):
        match_rules.apply_rules(ledger_county, OTHER_BUREAU, COUNTY, match_rules.ALL)
    assert match_rules.county_rules(ledger_county, ANALYST, COUNTY)["county_code"] == COUNTY
    with pytest.raises(Forbidden):
        match_rules.apply_rules(ledger_county, ANALYST, COUNTY, match_rules.ALL)
    with pytest.raises(Forbidden):
        match_rules.county_rules(ledger_county, Principal("t-e", "企业", "enterprise", credit_code="X"), COUNTY)
    with pytest.raises(NotFound):
        match_rules.county_rules(ledger_county, ADMIN, "433199000000")
