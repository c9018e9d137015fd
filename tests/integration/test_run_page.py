"""Coverage in one vocabulary and the run page (issue 19, items 2–4).

One county is loaded and matched twice (a capacity cut between the runs, so the second run changes the plan);
both runs are completed jobs, as runs started from the pages are. Checked against recomputations from the
runs' own lists: the four states add up to the households everywhere; the planned figure is the households
the current run planned and the finder's coverage=planned returns exactly them; a decline un-plans a household
in the same write; unplaced households carry a binding constraint; capacity use and the difference from the
previous run equal a recount; every link of the dashboard and the run page resolves.
"""
import re
from urllib.parse import parse_qs, urlparse

import pytest

from core.codes import CoverageState, RecommendationStatus
from devtools.synth import generate
from etl.load import load_files
from graph import jobs, readstate
from graph import matching as matching_queries
from graph.maintenance import clear_graph
from matching.diagnose import binding_constraints
from matching.features import Enterprises, Households
from matching.run import MatchParams, MatchRunner
from services.context import Context
from services.jobs import new_job
from services.run_page import BINDING_LABELS
from services.tokens import issue_token
from tests.integration.api_client import RoleClient

COUNTY = "433123000000"
STATES = [state.value for state in CoverageState]


def _completed_job(driver, database, run_id: str) -> None:
    job = {**new_job("match", COUNTY, "测试", {"counties": [COUNTY], "top_k": 5}), "job_id": run_id}
    jobs.enqueue_job(driver, job, database)
    jobs.update_job(driver, run_id, {"status": "completed", "progress": 1.0}, database)


def _planned(driver, database, run_id: str) -> set[str]:
    """Households the run assigned a pairing to (its lists), whatever became of the entries."""
    return {r["household_id"] for r in matching_queries.run_recommendations(driver, run_id, database) if r["assigned"]}


@pytest.fixture(scope="module")
def runs(neo4j_driver, test_settings, tmp_path_factory):
    driver, database = neo4j_driver, test_settings.neo4j_database
    clear_graph(driver, database)
    paths = generate(tmp_path_factory.mktemp("runpage"), households=500, enterprises=24, projects=0,
                     counties=[COUNTY], seed=19, progress=False)
    assert not load_files(list(paths.values()), driver, test_settings, progress=False).failed_files
    runner = MatchRunner(driver, test_settings, progress=None)
    first = runner.run([COUNTY], MatchParams(top_k=5, model_version=None))["run_id"]
    _completed_job(driver, database, first)
    # Cut the enterprise with the most assigned places to none and every other to a place per mechanism: the
    # second run plans otherwise, and leaves households that no enterprise has room for.
    assigned = [r for r in matching_queries.run_recommendations(driver, first, database) if r["assigned"]]
    busiest = max({r["credit_code"] for r in assigned}, key=lambda code: sum(r["credit_code"] == code for r in assigned))
    driver.execute_query("MATCH (e:Enterprise {credit_code: $code}) SET e.jobs_offered = 0, e.contract_households = 0, "
                         "e.land_wanted_mu = 0, e.equity_households = 0, e.ecommerce_households = 0",
                         code=busiest, database_=database)
    driver.execute_query("MATCH (e:Enterprise) WHERE e.credit_code <> $code SET e.jobs_offered = 1, "
                         "e.contract_households = 1, e.land_wanted_mu = 3, e.equity_households = 1, "
                         "e.ecommerce_households = 1", code=busiest, database_=database)
    second = runner.run([COUNTY], MatchParams(top_k=5, model_version=None), force=True)["run_id"]
    _completed_job(driver, database, second)
    ctx = Context(driver, test_settings)
    tokens = {name: issue_token(ctx, name=f"测试 {name}", **scope) for name, scope in {
        "bureau_own": dict(role="bureau", county_code=COUNTY), "bureau_other": dict(role="bureau", county_code="433122000000"),
        "admin": dict(role="admin"), "analyst": dict(role="analyst")}.items()}
    return {"first": first, "second": second, "busiest": busiest, "tokens": tokens}


@pytest.fixture(scope="module")
def run_app(runs, make_module_app):
    return make_module_app(job_workers_enabled=False)


@pytest.fixture
def api(run_app, runs):
    return RoleClient(run_app.test_client(), runs["tokens"])


def _login(client, token: str) -> None:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    assert client.post("/login", data={"token": token, "csrf_token": csrf}).status_code == 302


@pytest.fixture
def bureau(run_app, runs):
    client = run_app.test_client()
    _login(client, runs["tokens"]["bureau_own"])
    return client


def _recount(driver, database) -> dict:
    """The four states recounted from scratch: partnerships and the current run's lists."""
    records, _, _ = driver.execute_query("""
        MATCH (county:Region {code: $county})
        MATCH (h:Household) WHERE h.county_code = $county AND h.active
        OPTIONAL MATCH (l:RecommendationList {list_id: county.current_run + '-' + h.household_id})
        RETURN h.household_id AS id,
               EXISTS { (h)<-[:OF_HOUSEHOLD]-(p:Partnership) WHERE p.status = '01' AND p.mechanism IS NOT NULL } AS confirmed,
               EXISTS { (h)<-[:OF_HOUSEHOLD]-(p:Partnership) WHERE p.status = '04' } AS awaiting,
               l IS NOT NULL AND any(i IN range(0, size(l.ranks) - 1)
                                     WHERE l.assigned[i] AND l.statuses[i] IN ['proposed', 'accepted']) AS planned
        """, county=COUNTY, database_=database)
    states = {}
    for r in records:
        state = ("confirmed" if r["confirmed"] else "awaiting" if r["awaiting"] else "planned" if r["planned"]
                 else "uncovered")
        states.setdefault(state, set()).add(r["id"])
    return states


def _finder_ids(api, query: str) -> tuple[set[str], int]:
    ids, page, total = set(), 1, None
    while True:
        body = api.get(f"/api/v1/households?county={COUNTY}&{query}&page_size=100&page={page}", as_="bureau_own").get_json()
        total = body["total"]
        ids |= {item["household_id"] for item in body["items"]}
        if len(body["items"]) < 100:
            return ids, total
        page += 1


def test_the_four_states_add_up_and_equal_a_recount(api, neo4j_driver, test_settings):
    recount = _recount(neo4j_driver, test_settings.neo4j_database)
    coverage = api.get(f"/api/v1/regions/{COUNTY}", as_="bureau_own").get_json()["coverage"]
    assert coverage["confirmed"] + coverage["awaiting"] + coverage["planned"] + coverage["uncovered"] \
        == coverage["households"] == sum(len(ids) for ids in recount.values()) > 0
    for state in STATES:
        assert coverage[state] == len(recount.get(state, ())), state
        ids, total = _finder_ids(api, f"coverage={state}")
        assert ids == recount.get(state, set()) and total == len(ids), state
    assert coverage["planned"] > 0 and coverage["uncovered"] > 0 and coverage["confirmed"] > 0
    assert coverage["planned_rate"] == round(coverage["planned"] / coverage["households"], 4)
    # every township's figures add up, and the townships add up to the county
    townships = api.get(f"/api/v1/regions?parent={COUNTY}", as_="bureau_own").get_json()
    for state in STATES:
        assert sum(t["coverage"][state] for t in townships) == coverage[state]
    assert readstate.check(neo4j_driver, [COUNTY], database=test_settings.neo4j_database) == []


def test_the_planned_figure_is_the_households_the_current_run_planned(api, runs, neo4j_driver, test_settings):
    database = test_settings.neo4j_database
    planned_by_run = _planned(neo4j_driver, database, runs["second"])
    recount = _recount(neo4j_driver, database)
    expected = planned_by_run - recount.get("confirmed", set()) - recount.get("awaiting", set())
    ids, total = _finder_ids(api, "coverage=planned")
    assert ids == expected and total == len(expected) > 0
    # filtered to a township, the count is the township's figure
    township = api.get(f"/api/v1/regions?parent={COUNTY}", as_="bureau_own").get_json()[0]
    body = api.get(f"/api/v1/households?county={COUNTY}&township={township['code']}&coverage=planned&page_size=100",
                   as_="bureau_own").get_json()
    assert body["total"] == township["coverage"]["planned"]
    assert {item["coverage_state"] for item in body["items"]} <= {"planned"}


def test_a_decline_unplans_the_household_in_the_same_write(api, runs, neo4j_driver, test_settings):
    database = test_settings.neo4j_database
    before = api.get(f"/api/v1/regions/{COUNTY}", as_="bureau_own").get_json()["coverage"]
    ids, _ = _finder_ids(api, "coverage=planned")
    household = sorted(ids)[0]
    recs = [r for r in matching_queries.run_recommendations(neo4j_driver, runs["second"], database)
            if r["household_id"] == household and r["assigned"]]
    response = api.post(f"/api/v1/recommendations/{recs[0]['rec_id']}/decline", as_="bureau_own",
                        json={"reason": "测试：不合适"})
    assert response.status_code == 200, response.get_json()
    after = api.get(f"/api/v1/regions/{COUNTY}", as_="bureau_own").get_json()["coverage"]
    assert after["planned"] == before["planned"] - 1 and after["uncovered"] == before["uncovered"] + 1
    assert household in _finder_ids(api, "coverage=uncovered")[0]
    assert readstate.check(neo4j_driver, [COUNTY], database=database) == []


def test_check_finds_and_repair_fixes_a_wrong_coverage_state(neo4j_driver, test_settings):
    database = test_settings.neo4j_database
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (h:Household {county_code: $county, coverage_state: 'planned'}) WITH h LIMIT 1 "
        "SET h.coverage_state = 'uncovered', h.planned = false RETURN h.household_id AS id",
        county=COUNTY, database_=database)
    wrong = records[0]["id"]
    neo4j_driver.execute_query("MATCH (r:Region {code: $county}) SET r.planned = r.planned + 5", county=COUNTY,
                               database_=database)
    report = readstate.check(neo4j_driver, [COUNTY], database=database)
    households = {item["household_id"]: item["differing"] for item in report[0]["households"]}
    assert set(households[wrong]) >= {"coverage_state", "planned"}
    assert any("planned" in region["differing"] for region in report[0]["regions"])
    readstate.check(neo4j_driver, [COUNTY], repair=True, database=database)
    assert readstate.check(neo4j_driver, [COUNTY], database=database) == []


def test_the_run_summary_and_its_change_from_the_previous_run(api, runs, neo4j_driver, test_settings):
    database = test_settings.neo4j_database
    first, second = _planned(neo4j_driver, database, runs["first"]), _planned(neo4j_driver, database, runs["second"])
    body = api.get(f"/api/v1/match-runs/{runs['second']}/summary", as_="bureau_own").get_json()
    county = body["county"]
    assert county["code"] == COUNTY and county["current"] and county["previous_run"] == runs["first"]
    assert county["sequence"] == 2
    assert county["newly_planned"] == len(second - first)
    assert county["no_longer_planned"] == len(first - second) > 0
    cov = county["coverage"]
    assert cov["confirmed"] + cov["awaiting"] + cov["planned"] + cov["uncovered"] == cov["households"]
    assert sum(t["planned"] for t in county["townships"]) == cov["planned"]
    labels = {item["label"] for item in body["parameters"]}
    assert {"模型版本", "规则评分权重", "每户推荐数", "就业务工距离上限"} <= labels
    for kind, expected in (("newly_planned", second - first), ("no_longer_planned", first - second)):
        ids, page = set(), 1
        while True:
            found = api.get(f"/api/v1/match-runs/{runs['second']}/changes?kind={kind}&page_size=100&page={page}",
                            as_="bureau_own").get_json()
            ids |= {item["household_id"] for item in found["items"]}
            if len(found["items"]) < 100:
                break
            page += 1
        assert ids == expected and found["total"] == len(expected)
    # the first run is no longer current: its figures are those recorded when it became current
    earlier = api.get(f"/api/v1/match-runs/{runs['first']}/summary", as_="bureau_own").get_json()["county"]
    assert not earlier["current"] and earlier.get("previous_run") is None and earlier["sequence"] == 1
    assert earlier["newly_planned"] == len(first) and earlier["no_longer_planned"] == 0
    # another county's bureau sees neither the run nor its households
    assert api.get(f"/api/v1/match-runs/{runs['second']}/summary", as_="bureau_other").status_code == 404
    assert api.get(f"/api/v1/match-runs/{runs['second']}/changes", as_="bureau_other").status_code == 404


def test_unplaced_households_carry_their_binding_constraint(api, runs, neo4j_driver, test_settings):
    body = api.get(f"/api/v1/match-runs/{runs['second']}/unplaced?page_size=100", as_="bureau_own").get_json()
    runner = MatchRunner(neo4j_driver, test_settings, progress=None)
    households, enterprises = runner.read_inputs([COUNTY], MatchParams())
    rules = runner.county_rules([COUNTY], MatchParams())[0][COUNTY]
    open_ = [h for h in households if h["active_partnerships"] == 0]
    stuck = binding_constraints(Households.from_records(open_), Enterprises.from_records(enterprises, rules), rules)
    expected = dict(zip(stuck["household_id"], stuck["binding"]))
    assert body["total"] == len(expected) > 0 and body["open_households"] == len(open_)
    assert sum(c["households"] for c in body["counts"]) == body["total"]
    for item in body["items"]:
        assert item["binding"] in BINDING_LABELS and item["binding_label"] == BINDING_LABELS[item["binding"]]
        assert expected[item["household"]["household_id"]] == item["binding"]
        assert set(item["reasons"]) and all(reason for reason in item["reasons"].values())
    binding = body["counts"][0]["binding"]
    only = api.get(f"/api/v1/match-runs/{runs['second']}/unplaced?binding={binding}&page_size=100",
                   as_="bureau_own").get_json()
    assert only["total"] == body["counts"][0]["households"] and {i["binding"] for i in only["items"]} == {binding}
    # stored with the run: a second read gives the same diagnosis time
    again = api.get(f"/api/v1/match-runs/{runs['second']}/unplaced", as_="bureau_own").get_json()
    assert again["diagnosed_at"] == body["diagnosed_at"]


def test_capacity_use_matches_a_recount(api, runs, neo4j_driver, test_settings):
    database = test_settings.neo4j_database
    body = api.get(f"/api/v1/match-runs/{runs['second']}/capacity", as_="bureau_own").get_json()["items"]
    recs = matching_queries.run_recommendations(neo4j_driver, runs["second"], database)
    assigned = {}
    for r in recs:
        if r["assigned"]:
            assigned[(r["credit_code"], r["mechanism"])] = assigned.get((r["credit_code"], r["mechanism"]), 0) + 1
    shown = {(e["credit_code"], m["mechanism"]): m for e in body for m in e["mechanisms"]}
    assert {key: m["assigned"] for key, m in shown.items() if m["assigned"]} == assigned
    for m in shown.values():
        assert m["used"] == m["in_force"] + m["awaiting"] + m["proposed"]
        assert m.get("rate") == (round(m["used"] / m["places"], 4) if m["places"] else None)
    # the enterprise whose places were cut is given nothing by the second run
    assert all(m["places"] == 0 and m["assigned"] == 0 for (code, _), m in shown.items() if code == runs["busiest"])


def test_the_dashboard_figures_link_to_the_households_behind_them(bureau, api):
    page = bureau.get("/dashboard").get_data(as_text=True)
    coverage = api.get(f"/api/v1/regions/{COUNTY}", as_="bureau_own").get_json()["coverage"]
    for state, element in (("confirmed", "stat-covered"), ("awaiting", "stat-pending"), ("planned", "stat-planned"),
                           ("uncovered", "stat-uncovered")):
        assert re.search(rf'id="{element}">{coverage[state]}<', page), state
    assert "已规划" in page and "履约中" in page and "每户只属于以下一种状态" in page
    links = set(re.findall(r'href="(/households\?[^"]+)"', page))
    assert any("coverage=planned" in link and "township=" in link for link in links)
    assert any("village=" in link for link in links)  # the map's dots
    for link in links:
        query = parse_qs(urlparse(link.replace("&amp;", "&")).query)
        response = bureau.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
        text = response.get_data(as_text=True)
        total = int(re.search(r"共 (\d+) 户", text).group(1))
        if "coverage" in query and "township" in query:
            expected = api.get(f"/api/v1/households?county={COUNTY}&township={query['township'][0]}"
                               f"&coverage={query['coverage'][0]}&page_size=1", as_="bureau_own").get_json()["total"]
            assert total == expected
    # the township table sorts by its columns
    ordered = bureau.get("/dashboard?tsort=planned&torder=desc").get_data(as_text=True)
    table = ordered[ordered.index('id="township-table"'):]
    numbers = [int(n) for n in re.findall(r'data-state="planned">(\d+)<', table)]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) > 1


def test_the_runs_list_and_the_run_page(bureau, runs):
    listing = bureau.get("/runs").get_data(as_text=True)
    table = listing[listing.index('id="runs-table"'):listing.index("</table>", listing.index('id="runs-table"'))]
    assert runs["second"] not in re.sub(r'(href|data-[a-z-]+)="[^"]*"', "", table), "no run id shown as text"
    assert "第 2 次" in table and "第 1 次" in table
    assert "含已有联结覆盖率" not in listing and "已规划" in listing
    link = re.search(rf'href="(/runs/{runs["second"]}[^"]*)"', table).group(1).replace("&amp;", "&")
    page = bureau.get(link)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for section in ("run-parameters", "run-coverage", "run-changes", "run-unplaced", "run-capacity"):
        assert f'id="{section}"' in text
    assert "第 2 次" in text and "本次新规划" in text and "卡住的约束" in text
    hrefs = {h.replace("&amp;", "&") for h in re.findall(r'href="(/[^"#]+)', text)}
    targets = [h for h in hrefs if h.startswith(("/households", "/runs/"))]
    assert any(h.startswith("/households/") for h in targets) and any("/changes" in h for h in targets)
    for href in targets:
        assert bureau.get(href).status_code == 200, href
    changes = bureau.get(f"/runs/{runs['second']}/changes?kind=no_longer_planned").get_data(as_text=True)
    assert "本次不再规划" in changes and "共" in changes
