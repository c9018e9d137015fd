"""The analysts' pseudonymised data files (services/analyst_data.py) on a small synthetic county, matched, with a
pairing accepted and confirmed, one declined with a reason and a ledger note written: every table with exactly its
declared columns, references consistent across tables, the funnel readable, and no cell holding a 户编号, a name,
a phone, an ID number, an ID hash or suffix hash (or an 8-character prefix of one), a 人编号 or people's free text;
re-exporting a day replaces it, the reader finds the latest, the command line works."""
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from cli.sample_command import SAMPLE_FILES
from devtools.synth import generate, sample_loads
from etl.load import load_files
from graph.maintenance import clear_graph
from graph import runpage
from graph.matching import run_recommendations
from matching.run import MatchParams, MatchRunner
from services import analyst_data, recommendations, run_page
from services.context import Context
from services.principal import Principal
from services.privacy import pseudonym

COUNTY = "433123000000"
DECLINE_TEXT = "距离太远，交通不便，户主不愿前往（测试专用理由）"
NOTE_TEXT = "每月上门回访并记录增收情况（测试专用措施）"
# Cells of these columns are public names (regions, enterprises, projects) or the registry's product words: a
# person's name is looked for as the whole cell there, and as any part of a cell everywhere else.
PUBLIC_TEXT = {("regions", "name"), ("enterprises", "name"), ("projects", "name"), ("enterprises", "industries"),
               ("enterprises", "products_bought"), ("households", "products"), ("projects", "industries"),
               ("projects", "fund_source")}


@pytest.fixture(scope="module")
def settings(test_settings):
    """The test settings with fixed keys (ID hashes and analyst references are the same on every run)."""
    return test_settings.model_copy(update={"id_hash_key": "analyst-test-id-hash-key-0001",
                                            "analyst_pseudonym_key": "analyst-test-reference-key-0001"})


@pytest.fixture(scope="module")
def county(neo4j_driver, settings, tmp_path_factory):
    """A small county loaded (two household extracts), matched, with decisions on three recommendations."""
    clear_graph(neo4j_driver)
    files = tmp_path_factory.mktemp("county")
    generate(files, households=400, enterprises=20, projects=5, counties=[COUNTY], progress=False, previous_year=True)
    for paths, as_of in sample_loads(files, SAMPLE_FILES):
        assert not load_files(paths, neo4j_driver, settings, progress=False, as_of=as_of).failed_files
    run_id = MatchRunner(neo4j_driver, settings, progress=None).run([COUNTY], MatchParams())["run_id"]
    ctx = Context(neo4j_driver, settings)
    recs = [rec for rec in run_recommendations(neo4j_driver, run_id) if rec["assigned"]]
    by_household = {}
    for rec in recs:
        by_household.setdefault(rec["household_id"], rec)
    confirmed, accepted, declined = list(by_household.values())[:3]
    bureau = Principal("t-bureau", "凤凰县商务局", "bureau", county_code=COUNTY)
    recommendations.confirm(ctx, bureau, confirmed["rec_id"])
    recommendations.accept(ctx, Principal("t-e", "企业", "enterprise", credit_code=accepted["credit_code"]),
                           accepted["rec_id"])
    recommendations.decline(ctx, Principal("t-e2", "企业", "enterprise", credit_code=declined["credit_code"]),
                            declined["rec_id"], DECLINE_TEXT)
    neo4j_driver.execute_query("MATCH (p:Partnership) WITH p LIMIT 5 SET p.note = $note", note=NOTE_TEXT)
    # The run page's diagnosis of unplaced households, as viewing it stores it (one row at least, so that the
    # table's household ids are seen to be replaced).
    run_page._diagnosis(ctx, run_id, COUNTY)
    stored = runpage.unplaced(neo4j_driver, run_id, COUNTY)
    if not stored["rows"]:
        stored["rows"] = [[declined["household_id"], "capacity", {"01": "capacity", "02": "no_market"}]]
        runpage.store_unplaced(neo4j_driver, run_id, COUNTY, {k: v for k, v in stored.items() if k != "at"},
                               stored["at"])
    return {"files": files, "run_id": run_id, "ctx": ctx, "confirmed": confirmed, "accepted": accepted,
            "declined": declined}


@pytest.fixture(scope="module")
def exported(county, tmp_path_factory):
    root = tmp_path_factory.mktemp("analyst")
    seen = []
    folder = analyst_data.export_county(county["ctx"], COUNTY, root=root,
                                        progress=lambda table, rows, done: seen.append((table, rows, done)))
    return {"root": root, "folder": folder, "tables": analyst_data.read_county(COUNTY, root=root), "progress": seen}


def _graph_values(driver) -> dict[str, set[str]]:
    """What must never reach a file, read from the graph."""
    records, _, _ = driver.execute_query("""
        CALL () { MATCH (h:Household) RETURN collect(h.household_id) AS ids,
                  collect(h.head_name) + collect(h.head_name_masked) AS names, collect(h.phone) AS phones,
                  collect(h.head_id_hash) + collect(h.head_id_suffix_hash) AS hashes }
        CALL () { MATCH (m:Member) RETURN collect(m.name) + collect(m.name_masked) AS member_names,
                  collect(m.id_hash) + collect(m.id_suffix_hash) AS member_hashes, collect(m.member_id) AS member_ids }
        CALL () { MATCH (e:Enterprise) RETURN collect(e.contact) AS contacts,
                  collect(e.phone) + collect(e.phone_masked) AS enterprise_phones }
        RETURN ids, names, phones, hashes, member_names, member_hashes, member_ids, contacts, enterprise_phones
        """)
    record = records[0]
    return {name: {str(value) for value in record[name] if value not in (None, "")} for name in record.keys()}


def _file_values(files: Path) -> dict[str, set[str]]:
    """ID numbers, names and phones as the bureau's files had them (ID numbers are never in the graph)."""
    found = {"id_numbers": set(), "names": set(), "phones": set()}
    for path in list(files.glob("*.csv")) + list(files.glob("*/*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            kind = ("id_numbers" if "证件号码" in column else "phones" if "电话" in column else
                    "names" if ("姓名" in column or "联系人" in column) else None)
            if kind:
                found[kind].update(value.strip() for value in frame[column] if value.strip())
    return found


def _cells(tables: dict[str, pd.DataFrame]) -> tuple[list[str], list[str]]:
    """Every text cell (list items one by one) of the files as written: (public-name cells, other cells)."""
    public, other = [], []
    for table, frame in tables.items():
        for column in frame.columns:
            for value in frame[column]:
                items = list(value) if hasattr(value, "__len__") and not isinstance(value, str) else [value]
                for item in items:
                    if item is None or (isinstance(item, float) and item != item) or item is pd.NA:
                        continue
                    (public if (table, column) in PUBLIC_TEXT else other).append(str(item))
    return public, other


def test_every_table_is_written_with_exactly_its_declared_columns(exported):
    folder = exported["folder"]
    assert folder == exported["root"] / COUNTY / date.today().isoformat() or folder.parent == exported["root"] / COUNTY
    manifest = analyst_data.read_manifest(COUNTY, root=exported["root"])
    assert set(manifest["tables"]) == set(analyst_data.TABLES)
    assert manifest["county"] == COUNTY and manifest["as_of"] == folder.name and manifest["created_at"]
    key = "analyst-test-reference-key-0001"
    assert manifest["key_fingerprint"] == analyst_data.key_fingerprint(key) and key not in (folder / "manifest.json").read_text()
    for table, columns in analyst_data.TABLES.items():
        names = [name for name, _ in columns]
        assert pq.read_schema(folder / f"{table}.parquet").names == names, table
        assert list(exported["tables"][table].columns) == names, table
        assert manifest["tables"][table]["rows"] == len(exported["tables"][table]), table
    tables = exported["tables"]
    for table in ("regions", "households", "income_history", "enterprises", "partnerships", "recommendations",
                  "runs", "projects", "unplaced"):
        assert len(tables[table]) > 0, table
    assert len(tables["households"]) == 400
    assert {event[0] for event in exported["progress"] if event[2]} == set(analyst_data.TABLES)


def test_references_are_consistent_and_the_funnel_is_readable(exported, county):
    tables = exported["tables"]
    households = set(tables["households"]["household_ref"])
    assert len(households) == len(tables["households"]) and all(ref.startswith("A") and len(ref) == 15
                                                               for ref in households)
    for table in ("income_history", "partnerships", "recommendations", "followups", "unplaced"):
        assert set(tables[table]["household_ref"]) <= households, table
    key = "analyst-test-reference-key-0001"
    confirmed = county["confirmed"]
    ref = analyst_data.household_ref(key, confirmed["household_id"])
    assert ref in households and ref != pseudonym(county["ctx"].settings.pseudonym_secret(), confirmed["household_id"])
    partnerships = tables["partnerships"].set_index("partnership_ref")
    recs = tables["recommendations"]
    linked = recs[recs["partnership_ref"].notna()]
    assert set(linked["partnership_ref"]) <= set(partnerships.index)
    row = recs[(recs["household_ref"] == ref) & (recs["rank"] == confirmed["rank"])].iloc[0]
    assert row["status"] == "confirmed" and bool(row["current"]) and row["run_id"] == county["run_id"]
    assert partnerships.loc[row["partnership_ref"], "status"] == "01"
    assert partnerships.loc[row["partnership_ref"], "source"] == "recommendation"
    accepted_ref = analyst_data.household_ref(key, county["accepted"]["household_id"])
    accepted = recs[(recs["household_ref"] == accepted_ref) & (recs["rank"] == county["accepted"]["rank"])].iloc[0]
    assert accepted["status"] == "accepted" and partnerships.loc[accepted["partnership_ref"], "status"] == "04"
    declined_ref = analyst_data.household_ref(key, county["declined"]["household_id"])
    declined = recs[(recs["household_ref"] == declined_ref) & (recs["rank"] == county["declined"]["rank"])].iloc[0]
    assert declined["status"] == "declined" and declined["decline_topic"] == "distance"
    assert declined["declined_by_role"] == "enterprise"
    runs = tables["runs"]
    run = runs[runs["run_id"] == county["run_id"]].iloc[0]
    assert bool(run["current"]) and run["households_at_switch"] == 400
    assert (run["confirmed_at_switch"] + run["awaiting_at_switch"] + run["planned_at_switch"]
            + run["uncovered_at_switch"]) == 400
    assert set(tables["enterprises"]["credit_code"]) >= set(tables["partnerships"]["credit_code"].dropna())
    states = tables["households"]["coverage_state"].value_counts()
    assert states.get("confirmed", 0) > 0 and set(states.index) <= {"confirmed", "awaiting", "planned", "uncovered"}


def test_no_cell_holds_personal_data(exported, county, neo4j_driver):
    graph = _graph_values(neo4j_driver)
    files = _file_values(county["files"])
    assert graph["ids"] and graph["hashes"] and graph["member_hashes"] and files["id_numbers"] and files["names"]
    public, other = _cells(exported["tables"])
    text = "\n".join(other)
    everything = text + "\n" + "\n".join(public)
    for token in graph["ids"] | graph["member_ids"] | graph["phones"] | graph["enterprise_phones"] \
            | files["id_numbers"] | files["phones"]:
        assert token not in everything, f"{token!r} is in a file"
    for digest in graph["hashes"] | graph["member_hashes"]:
        assert digest[:8] not in everything, f"a prefix of an ID hash ({digest[:8]}) is in a file"
    public_cells = set(public)
    for name in graph["names"] | graph["member_names"] | graph["contacts"] | files["names"]:
        assert name not in text, f"the name {name!r} is in a file"
        assert name not in public_cells, f"the name {name!r} is a cell"
    for free_text in (DECLINE_TEXT, NOTE_TEXT, "交通不便", "上门回访"):
        assert free_text not in everything
    # identifiers that embed a 户编号 are references, not the ids
    assert not any(cell.startswith("P-") or cell.startswith(county["run_id"] + "-") for cell in other)


def test_a_second_export_of_the_day_replaces_the_first(county, tmp_path):
    first = analyst_data.export_county(county["ctx"], COUNTY, as_of="2024-06-30", root=tmp_path)
    (first / "stale.txt").write_text("from the first export")
    before = analyst_data.read_manifest(COUNTY, "2024-06-30", root=tmp_path)["created_at"]
    second = analyst_data.export_county(county["ctx"], COUNTY, as_of="2024-06-30", root=tmp_path)
    assert second == first and not (second / "stale.txt").exists()
    assert sorted(path.name for path in (tmp_path / COUNTY).iterdir()) == ["2024-06-30"]  # no temporary left
    assert analyst_data.read_manifest(COUNTY, "2024-06-30", root=tmp_path)["created_at"] >= before
    assert analyst_data.available(tmp_path) == [(COUNTY, "2024-06-30")]


def test_read_county_gives_the_latest_and_names_what_is_missing(county, tmp_path):
    analyst_data.export_county(county["ctx"], COUNTY, as_of="2023-12-31", root=tmp_path)
    analyst_data.export_county(county["ctx"], COUNTY, as_of="2024-12-31", root=tmp_path)
    assert analyst_data.available(tmp_path) == [(COUNTY, "2023-12-31"), (COUNTY, "2024-12-31")]
    latest = analyst_data.read_county(COUNTY, root=tmp_path)
    assert latest["households"].attrs["manifest"]["as_of"] == "2024-12-31"
    assert analyst_data.read_county(COUNTY, "2023-12-31", root=tmp_path)["runs"].attrs["manifest"]["as_of"] == "2023-12-31"
    with pytest.raises(analyst_data.NoAnalystData, match="433124000000") as error:
        analyst_data.read_county("433124000000", root=tmp_path)
    assert str(tmp_path / "433124000000") in str(error.value) and "没有县" in str(error.value)
    with pytest.raises(analyst_data.NoAnalystData, match="2022-01-01"):
        analyst_data.read_county(COUNTY, "2022-01-01", root=tmp_path)


def test_the_command_exports_and_lists_its_files(county, settings, make_app, tmp_path):
    app = make_app(settings, job_workers_enabled=False)
    result = app.test_cli_runner().invoke(args=["analyst", "export", "--county", COUNTY, "--as-of", "2025-01-31",
                                                "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    folder = tmp_path / COUNTY / "2025-01-31"
    for table in analyst_data.TABLES:
        assert str(folder / f"{table}.parquet") in result.output
        assert f"{table}:" in result.output
    tables = analyst_data.read_county(COUNTY, root=tmp_path)
    key = "analyst-test-reference-key-0001"
    assert analyst_data.household_ref(key, county["confirmed"]["household_id"]) in set(tables["households"]["household_ref"])
    everything = app.test_cli_runner().invoke(args=["analyst", "export", "--all", "--out", str(tmp_path / "all")])
    assert everything.exit_code == 0, everything.output
    assert [county for county, _ in analyst_data.available(tmp_path / "all")] == [COUNTY]
    missing = app.test_cli_runner().invoke(args=["analyst", "export"])
    assert missing.exit_code != 0 and "--county" in missing.output
