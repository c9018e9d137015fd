"""Outcomes on a real Neo4j: the households' income history kept by every load (appended only when the income
changed, dated with the load's data date), the synthetic county's two extracts measured, the report stored per
county and served by role, and the 帮扶成效 page."""
import re
from datetime import date

import pytest

from devtools import synth
from etl.load import load_files
from graph import outcomes as outcome_queries
from services import outcomes
from services.context import Context
from tests.support import bureau_files as bf

INCOME = bf.HOUSEHOLD_HEADER.index("人均纯收入（元）")
SIZE = bf.HOUSEHOLD_HEADER.index("家庭人口数")


def _history(driver) -> dict:
    records, _, _ = driver.execute_query(
        "MATCH (h:Household) RETURN h.household_id AS id, h.income_dates AS dates, h.income_values AS values")
    return {record["id"]: (record["dates"], record["values"]) for record in records}


def _households(tmp_path, name, incomes: dict[int, int], sizes: dict[int, int] | None = None):
    rows = []
    for number, income in incomes.items():
        row = bf.household_row(number)
        row[INCOME] = income
        row[SIZE] = (sizes or {}).get(number, 3)
        rows.append(row)
    return bf.write_table(tmp_path / name, bf.HOUSEHOLD_HEADER, rows)


def test_income_history_is_appended_on_change_with_the_loads_data_date(graph_db, test_settings, tmp_path):
    villages = bf.write_table(tmp_path / "villages.csv", bf.VILLAGE_HEADER, [bf.village_row()])
    first = _households(tmp_path, "h2020.csv", {1: 3000, 2: 4000, 3: 5000})
    result = load_files([villages, first], graph_db, test_settings, progress=False, as_of=date(2020, 12, 31))
    assert not result.failed_files and not result.rows_rejected
    ids = {number: bf.household_row(number)[0] for number in (1, 2, 3)}
    history = _history(graph_db)
    assert history[ids[1]] == (["2020-12-31"], [3000.0]), "the first observation, on the data date"
    records, _, _ = graph_db.execute_query("MATCH (l:LoadRun {kind: 'households'}) RETURN l.as_of AS as_of")
    assert [record["as_of"] for record in records] == ["2020-12-31"]

    # A year on: household 1's income changed; household 2's size changed, not its income; 3 is unchanged.
    second = _households(tmp_path, "h2021.csv", {1: 3600, 2: 4000, 3: 5000}, sizes={2: 4})
    load_files([second], graph_db, test_settings, progress=False, as_of=date(2021, 12, 31))
    history = _history(graph_db)
    assert history[ids[1]] == (["2020-12-31", "2021-12-31"], [3000.0, 3600.0])
    assert history[ids[2]] == (["2020-12-31"], [4000.0]), "a row rewritten with the same income adds nothing"
    assert history[ids[3]] == (["2020-12-31"], [5000.0])

    # The same extract again (any date) changes nothing; the older one loaded late takes its place by date.
    load_files([second], graph_db, test_settings, progress=False, as_of=date(2022, 6, 30))
    assert _history(graph_db)[ids[1]] == (["2020-12-31", "2021-12-31"], [3000.0, 3600.0])
    third = _households(tmp_path, "h2019.csv", {1: 2500, 2: 4000, 3: 5000})
    load_files([third], graph_db, test_settings, progress=False, as_of=date(2019, 12, 31))
    history = _history(graph_db)
    assert history[ids[1]] == (["2019-12-31", "2020-12-31", "2021-12-31"], [2500.0, 3000.0, 3600.0])
    assert history[ids[2]] == (["2019-12-31"], [4000.0]), "first seen at the earlier date"


def test_without_a_date_the_observation_is_today_in_china(graph_db, test_settings, tmp_path):
    from core.clock import today_iso

    load_files([_households(tmp_path, "h.csv", {1: 3000})], graph_db, test_settings, progress=False)
    assert _history(graph_db)[bf.household_row(1)[0]] == ([today_iso()], [3000.0])


def test_the_cli_loads_with_a_data_date(graph_db, make_app, tmp_path):
    path = _households(tmp_path, "h.csv", {1: 3000})
    runner = make_app(job_workers_enabled=False).test_cli_runner()
    bad = runner.invoke(args=["etl", "load", str(path), "--as-of", "2020-13-01", "--quiet", "--online"])
    assert bad.exit_code == 2 and "--as-of" in bad.output
    done = runner.invoke(args=["etl", "load", str(path), "--as-of", "2020-12-31", "--quiet", "--online"])
    assert done.exit_code == 0, done.output
    assert _history(graph_db)[bf.household_row(1)[0]] == (["2020-12-31"], [3000.0])


@pytest.fixture(scope="module")
def two_years(neo4j_driver, test_settings, tmp_path_factory):
    """A synthetic county loaded as `flask sample` does: last year's households, then the current files."""
    from graph.maintenance import clear_graph

    clear_graph(neo4j_driver, test_settings.neo4j_database)
    out = tmp_path_factory.mktemp("two-years")
    synth.generate(out, households=900, enterprises=25, projects=5, counties=["433123000000"], seed=3,
                   progress=False, previous_year=True)
    loads = synth.sample_loads(out, ("villages", "households", "members", "enterprises", "projects", "partnerships"))
    assert [as_of for _, as_of in loads] == [synth.PREVIOUS_EXTRACT_DATE, synth.EXTRACT_DATE]
    for paths, as_of in loads:
        result = load_files(paths, neo4j_driver, test_settings, progress=False, as_of=as_of)
        assert not result.failed_files and not result.rows_rejected
    return Context(neo4j_driver, test_settings)


def test_the_synthetic_county_shows_the_gain_of_partnered_households(two_years):
    report = outcomes.refresh(two_years, "433123000000")
    assert report["income_history"]["first_dates"] == ["2020-12-31"]
    assert report["income_history"]["last_dates"] == ["2021-12-31"]
    comparison = report["comparison"]
    assert comparison["partnered_n"] >= 30 and comparison["comparable_n"] >= 100
    assert comparison["low"] > 0, "partnerships of 2021 raised incomes beyond the general growth"
    years = {row["key"]: row for row in next(d for d in report["dimensions"] if d["key"] == "start_year")["rows"]}
    assert years["2021"]["comparison"]["estimate"] is not None
    assert years["2019"]["comparison"]["estimate"] is None and years["2019"]["comparison"]["partnered_n"] == 0
    mechanisms = next(d for d in report["dimensions"] if d["key"] == "mechanism")["rows"]
    assert {row["label"] for row in mechanisms} <= {"就业务工", "订单收购", "土地流转", "入股分红", "电商销售"}
    stored = outcome_queries.stored_report(two_years.driver, "433123000000")
    assert stored["computed_at"] == report["computed_at"] and stored["comparison"] == comparison


def test_flask_outcomes_refresh_stores_each_countys_report(two_years, make_app):
    before = outcome_queries.stored_report(two_years.driver, "433123000000")
    runner = make_app(job_workers_enabled=False).test_cli_runner()
    result = runner.invoke(args=["outcomes", "refresh", "--county", "433123000000"])
    assert result.exit_code == 0, result.output
    assert "433123000000 凤凰县" in result.output and "收入变化差" in result.output and "95% 区间" in result.output
    after = outcome_queries.stored_report(two_years.driver, "433123000000")
    assert after["computed_at"] > (before or {}).get("computed_at", "")
    assert runner.invoke(args=["outcomes", "refresh"]).exit_code == 0, "every county with households"


@pytest.fixture
def stored_world(world, neo4j_driver, test_settings):
    ctx = Context(neo4j_driver, test_settings)
    outcomes.refresh(ctx, world.ids["own_county"])
    return world


def test_the_stored_report_is_served_by_role(api, stored_world, neo4j_driver, monkeypatch):
    world = stored_world
    path = f"/api/v1/counties/{world.ids['own_county']}/outcomes"
    # Served from the stored node: reading never recomputes.
    monkeypatch.setattr(outcomes, "compute", lambda *args: pytest.fail("a read recomputed the county"))
    for role in ("bureau_own", "analyst", "admin"):
        response = api.get(path, as_=role)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert body["county_code"] == world.ids["own_county"] and body["computed_at"] and "分层" in body["method"]
        assert {dimension["key"] for dimension in body["dimensions"]} == {"mechanism", "enterprise_type", "township",
                                                                         "start_year"}
        assert body["totals"]["formed"] > 0
    assert api.get(path, as_="bureau_other").status_code == 404
    assert api.get(path, as_="enterprise_own").status_code == 403
    assert api.get(path).status_code == 401
    other = api.get(f"/api/v1/counties/{world.ids['other_county']}/outcomes", as_="admin").get_json()
    assert "computed_at" not in other and other["method"], "not computed yet: the county and the method"


def _csrf(client, path) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _signed_in(api_app, token):
    client = api_app.test_client()
    client.post("/login", data={"token": token, "csrf_token": _csrf(client, "/login")})
    return client


def test_the_outcomes_page_shows_the_tables_and_staff_recompute(api_app, stored_world):
    world = stored_world
    client = _signed_in(api_app, world.tokens["bureau_own"])
    page = client.get("/outcomes").get_data(as_text=True)
    assert "<title>帮扶成效" in page and 'href="/outcomes"' in page
    for text in ("按联结方式", "按企业类型", "按乡镇", "按开始年份", "方法说明", "计算时间", "重新计算", "已结束联结的时长中位数"):
        assert text in page, text
    assert "就业务工" in page and ">01<" not in page, "labels, not codes"
    assert client.post("/outcomes", data={"county": world.ids["own_county"]}).status_code == 400, "CSRF"
    done = client.post("/outcomes", data={"county": world.ids["own_county"], "csrf_token": _csrf(client, "/outcomes")},
                       follow_redirects=True).get_data(as_text=True)
    assert "帮扶成效已重新计算" in done

    analyst = _signed_in(api_app, world.tokens["analyst"])
    shown = analyst.get(f"/outcomes?county={world.ids['own_county']}").get_data(as_text=True)
    assert "按联结方式" in shown and "重新计算</button>" not in shown, "analysts read, staff recompute"
    assert analyst.post("/outcomes", data={"csrf_token": _csrf(analyst, "/outcomes")}).status_code == 403
    enterprise = _signed_in(api_app, world.tokens["enterprise_own"])
    assert enterprise.get("/outcomes").status_code == 403
