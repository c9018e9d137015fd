"""Early warnings: the stored flags and counts match a recomputation in Python from the raw graph; a day passing
changes exactly the warnings it should; the API and the pages serve them within the caller's scope, and the
Excel export holds labels. On the two-county world of the API tests (synthetic files, one match run)."""
import io
import re
from collections import defaultdict

from openpyxl import load_workbook

from core.clock import days_after, today_iso
from core.codes import Mechanism, PartnershipStatus, RecommendationStatus
from core.followup import (DECLINED_MIN_DECIDED, DECLINED_SHARE, EARLY_END_MIN_PARTNERSHIPS, EARLY_END_SHARE,
                           HOUSEHOLD_WARNINGS, EarlyWarning)
from graph import ledger, readstate, warnings

IN_FORCE, EQUITY = PartnershipStatus.IN_FORCE.value, Mechanism.EQUITY.value


def _raw(driver, county: str) -> tuple[dict, dict, dict]:
    """Households, their partnerships and the county's enterprises' decisions, read as plain rows."""
    households, _, _ = driver.execute_query(
        "MATCH (h:Household {county_code: $county}) RETURN h.household_id AS id, h.active AS active, "
        "h.village_code AS village, h.township_code AS township, h.monitoring_category AS category, "
        "h.risk_removed AS removed", county=county)
    partnerships, _, _ = driver.execute_query(
        "MATCH (p:Partnership)-[:OF_HOUSEHOLD]->(h:Household {county_code: $county}) "
        "OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise) "
        "RETURN h.household_id AS household, e.credit_code AS enterprise, p.status AS status, "
        "p.mechanism AS mechanism, p.start_date AS start, p.end_date AS end, p.income_gain AS gain", county=county)
    decisions, _, _ = driver.execute_query(
        "MATCH (e:Enterprise {county_code: $county}) OPTIONAL MATCH (r:Recommendation {credit_code: e.credit_code}) "
        "RETURN e.credit_code AS enterprise, collect(r.status) AS statuses", county=county)
    return ({row["id"]: row.data() for row in households}, [row.data() for row in partnerships],
            {row["enterprise"]: row["statuses"] for row in decisions})


def expected_household_flags(households: dict, partnerships: list, today: str) -> dict[str, list[int]]:
    """The four household warnings, recomputed in Python from the rule's text (core/followup.py)."""
    of = defaultdict(list)
    for p in partnerships:
        if p["status"] == IN_FORCE:
            of[p["household"]].append(p)
    flags = {}
    for household_id, h in households.items():
        if not h["active"]:
            flags[household_id] = [0, 0, 0, 0]
            continue
        mine = of[household_id]
        with_mechanism = [p for p in mine if p["mechanism"]]
        monitored = bool(h["category"]) and not h["removed"]
        ending = any(p["end"] and today <= p["end"] <= days_after(today, 30) for p in mine)
        no_gain = any(p["start"] and p["start"] <= days_after(today, -365) and not p["gain"] for p in mine)
        equity_starts = [p["start"] for p in mine if p["mechanism"] == EQUITY and p["start"]]
        equity_only = bool(with_mechanism) and all(p["mechanism"] == EQUITY for p in mine) and bool(equity_starts) \
            and min(equity_starts) <= days_after(today, -730)
        flags[household_id] = [int(monitored and not with_mechanism), int(ending), int(no_gain), int(equity_only)]
    return flags


def expected_enterprise_flags(partnerships: list, decisions: dict) -> dict[str, list[int]]:
    decided = {RecommendationStatus.ACCEPTED.value, RecommendationStatus.CONFIRMED.value,
               RecommendationStatus.DECLINED.value}
    flags = {}
    for code, statuses in decisions.items():
        made = [status for status in statuses if status in decided]
        declined = sum(status == RecommendationStatus.DECLINED.value for status in made)
        ended = [p for p in partnerships if p["enterprise"] == code and p["status"]
                 and p["status"] != PartnershipStatus.AWAITING_CONFIRMATION.value]
        terminated = sum(p["status"] == PartnershipStatus.TERMINATED.value for p in ended)
        flags[code] = [int(len(made) >= DECLINED_MIN_DECIDED and declined > len(made) * DECLINED_SHARE),
                       int(len(ended) >= EARLY_END_MIN_PARTNERSHIPS and terminated >= len(ended) * EARLY_END_SHARE)]
    return flags


def _stored(driver, county: str):
    households, _, _ = driver.execute_query(
        "MATCH (h:Household {county_code: $county}) RETURN h.household_id AS id, h.warning_flags AS flags",
        county=county)
    regions, _, _ = driver.execute_query(
        "MATCH (r:Region) WHERE r.code = $county OR r.county_code = $county "
        "RETURN r.code AS code, r.warning_counts AS counts", county=county)
    enterprises, _, _ = driver.execute_query(
        "MATCH (e:Enterprise {county_code: $county}) RETURN e.credit_code AS code, e.warning_flags AS flags",
        county=county)
    return ({row["id"]: row["flags"] for row in households}, {row["code"]: row["counts"] for row in regions},
            {row["code"]: row["flags"] for row in enterprises})


def _region_sums(households: dict, flags: dict) -> dict[str, list[int]]:
    sums = defaultdict(lambda: [0, 0, 0, 0])
    for household_id, h in households.items():
        if not h["active"]:
            continue
        for code in {h["village"], h["township"], household_id[:6] + "000000"}:
            sums[code] = [a + b for a, b in zip(sums[code], flags[household_id])]
    return sums


def test_stored_warnings_match_a_recomputation(world, neo4j_driver):
    county, today = world.ids["own_county"], today_iso()
    households, partnerships, decisions = _raw(neo4j_driver, county)
    stored_households, stored_regions, stored_enterprises = _stored(neo4j_driver, county)
    expected = expected_household_flags(households, partnerships, today)
    assert stored_households == expected
    assert sum(flag for flags in expected.values() for flag in flags) > 0, "the world has warnings to compare"
    sums = _region_sums(households, expected)
    for code, counts in stored_regions.items():
        assert (counts or [0, 0, 0, 0]) == sums.get(code, [0, 0, 0, 0]), code
    assert stored_enterprises == expected_enterprise_flags(partnerships, decisions)
    assert readstate.check(neo4j_driver, [county]) == []


def test_check_reports_and_repairs_a_wrong_warning(world, neo4j_driver):
    county = world.ids["own_county"]
    neo4j_driver.execute_query("MATCH (h:Household {household_id: $id}) SET h.warning_flags = [1, 1, 1, 1]",
                               id=world.own_household)
    [report] = readstate.check(neo4j_driver, [county])
    assert {"household_id": world.own_household, "differing": ["warning_flags"]} in report["households"]
    readstate.check(neo4j_driver, [county], repair=True)
    assert readstate.check(neo4j_driver, [county]) == []


def test_a_day_passing_changes_the_dated_warnings_it_should(world, neo4j_driver):
    """Seen from 40 days on, the partnerships ending then enter the 30-day window; refresh_dated finds them."""
    county, today = world.ids["own_county"], today_iso()
    later = days_after(today, 40)
    records, _, _ = neo4j_driver.execute_query(
        "MATCH (p:Partnership {status: $in_force})-[:OF_HOUSEHOLD]->(h:Household {county_code: $county}) "
        "RETURN p.partnership_id AS id, h.household_id AS household ORDER BY id LIMIT 1",
        in_force=IN_FORCE, county=county)
    ledger.update_partnership(neo4j_driver, records[0]["id"], {"end_date": days_after(today, 50)}, "bureau:t", today)
    position = [w.value for w in HOUSEHOLD_WARNINGS].index(EarlyWarning.ENDING_SOON.value)
    assert _stored(neo4j_driver, county)[0][records[0]["household"]][position] == 0, "50 days away today"
    households, partnerships, _ = _raw(neo4j_driver, county)
    refreshed = warnings.refresh_dated(neo4j_driver, later, today, counties=[county])
    assert refreshed > 0
    stored, _, _ = _stored(neo4j_driver, county)
    assert stored[records[0]["household"]][position] == 1, "10 days away 40 days on"
    assert stored == expected_household_flags(households, partnerships, later)
    warnings.refresh_dated(neo4j_driver, today, None, counties=[county])  # back to today for the other tests
    stored, _, _ = _stored(neo4j_driver, county)
    assert stored == expected_household_flags(households, partnerships, today)


def test_the_api_serves_warnings_in_scope_with_the_households_behind_them(api, world, neo4j_driver):
    county = world.ids["own_county"]
    body = api.get(f"/api/v1/counties/{county}/warnings", as_="bureau_own").get_json()
    households, partnerships, _ = _raw(neo4j_driver, county)
    expected = expected_household_flags(households, partnerships, today_iso())
    totals = {item["warning"]: item["households"] for item in body["household_warnings"]}
    assert totals == {warning.value: sum(flags[i] for flags in expected.values())
                      for i, warning in enumerate(HOUSEHOLD_WARNINGS)}
    assert sum(t["counts"][w] for t in body["townships"] for w in totals) == sum(totals.values())
    chosen = max(totals, key=totals.get)
    page = api.get(f"/api/v1/counties/{county}/warnings/{chosen}/households?page_size=100", as_="bureau_own")
    listed = page.get_json()
    assert listed["total"] == totals[chosen]
    position = [w.value for w in HOUSEHOLD_WARNINGS].index(chosen)
    assert {item["household_id"] for item in listed["items"]} <= {h for h, f in expected.items() if f[position]}
    assert all(item["warning_label"] == EarlyWarning(chosen).label for item in listed["items"])
    pseudonymous = api.get(f"/api/v1/counties/{county}/warnings/{chosen}/households", as_="analyst").get_json()
    assert pseudonymous["items"] and all("household_id" not in item and "head_name" not in item
                                         for item in pseudonymous["items"])
    assert api.get(f"/api/v1/counties/{county}/warnings", as_="bureau_other").status_code == 404
    assert api.get(f"/api/v1/counties/{county}/warnings", as_="enterprise_own").status_code == 403
    assert api.get(f"/api/v1/counties/{county}/warnings/nonsense/households", as_="bureau_own").status_code == 422

    export = api.get(f"/api/v1/counties/{county}/warnings/{chosen}/export.xlsx", as_="bureau_own")
    assert export.status_code == 200
    assert "attachment" in export.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("户编号", "户主姓名", "联系电话") and len(rows) == totals[chosen] + 1
    assert all(row[5] == EarlyWarning(chosen).label for row in rows[1:])
    assert api.get(f"/api/v1/counties/{county}/warnings/{chosen}/export.xlsx", as_="analyst").status_code == 403


def _login(api_app, token: str):
    client = api_app.test_client()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"token": token, "csrf_token": csrf})
    return client


def test_the_warnings_page_and_the_dashboard_link_to_the_households(api_app, world):
    client = _login(api_app, world.tokens["bureau_own"])
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'id="dashboard-warnings"' in dashboard and "监测对象无履约中的联结" in dashboard
    page = client.get("/warnings").get_data(as_text=True)
    assert 'id="warning-counts"' in page and 'id="warned-households"' in page and 'id="warned-enterprises"' in page
    assert "全县" in page and "导出 Excel" in page
