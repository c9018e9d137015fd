"""ETL limited to some counties (a bureau's upload): rows of other counties are rejected and never written."""
import csv

import pytest

from etl.load import load_files
from graph.maintenance import clear_graph, count_nodes, graph_snapshot
from tests.support import bureau_files as bf

OWN, OTHER = bf.COUNTY, bf.OTHER_COUNTY
OUTSIDE = "不属于本账号管辖的县 / outside the county you may load"
HOUSEHOLD_OUTSIDE = "所属户不属于本账号管辖的县 / household is outside the county you may load"
OWNED_ELSEWHERE = "该记录已属于其他县，不能修改 / record already belongs to a county you may not load"
NOT_FOUND = "户编号在户信息中不存在 / household not found"


def _load(graph_db, settings, *paths, **options):
    return load_files(list(paths), graph_db, settings, progress=False, **options)


def _errors(result):
    """(file name, sheet, row, column, value, reason) of every error in the written report."""
    with open(result.report_path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {(r["文件"].rsplit("/", 1)[-1], r["工作表"], int(r["行号"]), r["列"], r["值"],
             r["原因"]) for r in rows if r["级别"] == "错误"}


def _counts(result):
    assert all(f.rows_read == f.rows_loaded + f.rows_rejected for f in result.files), "counts reconcile"
    return {f.kind: (f.rows_read, f.rows_loaded, f.rows_rejected) for f in result.files}


def _query(graph_db, cypher, **params):
    records, _, _ = graph_db.execute_query(cypher, **params)
    return [record.data() for record in records]


def _households(graph_db):
    """household_id → (county_code, village it LIVES_IN, active)."""
    return {r["id"]: (r["county"], r["village"], r["active"]) for r in _query(
        graph_db, "MATCH (h:Household) OPTIONAL MATCH (h)-[:LIVES_IN]->(v:Region) "
                  "RETURN h.household_id AS id, h.county_code AS county, v.code AS village, h.active AS active")}


def _written_in(graph_db, county):
    """Everything the loads wrote in a county: data nodes, townships / villages, links to the county region."""
    prefix = county[:6]
    return {
        "data": _query(graph_db, "MATCH (n) WHERE (n:Household OR n:Enterprise OR n:Project) AND n.county_code = $county "
                                 "RETURN labels(n)[0] AS label, n.county_code AS county", county=county),
        "regions": _query(graph_db, "MATCH (r:Region) WHERE r.code STARTS WITH $prefix AND r.code <> $county "
                                    "RETURN r.code AS code", prefix=prefix, county=county),
        "links": _query(graph_db, "MATCH (n)-[l]->(:Region {code: $county}) RETURN type(l) AS type", county=county),
        "members": _query(graph_db, "MATCH (m:Member)-[:MEMBER_OF]->(h:Household {county_code: $county}) "
                                    "RETURN m.member_id AS id", county=county),
        "partnerships": _query(graph_db, "MATCH (p:Partnership)-[:OF_HOUSEHOLD]->(h:Household {county_code: $county}) "
                                         "RETURN p.partnership_id AS id", county=county),
    }


def _mixed_files(tmp_path):
    """Villages, households, enterprises and projects of both counties, with non-standard headers and title rows."""
    villages = bf.write_table(
        tmp_path / "villages.csv", ["村代码", *bf.VILLAGE_HEADER[1:]],
        [bf.village_row(), bf.village_row(bf.OTHER_COUNTY_VILLAGE, name="排碧村", township="双龙镇", county="花垣县")],
        title="行政村名录")
    household_header = [("所属行政区划代码" if h == "行政区划代码" else h) for h in bf.HOUSEHOLD_HEADER]
    households = bf.write_table(
        tmp_path / "households.xlsx", household_header,
        [bf.household_row(1), bf.household_row(2), bf.household_row(3, village="433124103301"),
         bf.household_row(4, village=bf.OTHER_VILLAGE)],
        title="2020年建档立卡贫困户")
    enterprises = bf.write_table(tmp_path / "enterprises.csv", bf.ENTERPRISE_HEADER,
                                 [bf.enterprise_row(1), bf.enterprise_row(2, region="433124")])
    projects = bf.write_table(tmp_path / "projects.csv", bf.PROJECT_HEADER,
                              [bf.project_row(1), bf.project_row(2, region="433124101")])
    return villages, households, enterprises, projects


def test_rows_of_another_county_are_rejected_with_row_column_and_reason(graph_db, test_settings, tmp_path):
    result = _load(graph_db, test_settings, *_mixed_files(tmp_path), allowed_counties={OWN})
    assert _counts(result) == {"villages": (2, 1, 1), "households": (4, 3, 1), "enterprises": (2, 1, 1),
                               "projects": (2, 1, 1)}
    # Row numbers as the user sees them (title row 1, header row 2), headers as written in the file.
    assert _errors(result) == {
        ("villages.csv", "", 4, "村代码", bf.OTHER_COUNTY_VILLAGE, OUTSIDE),
        ("households.xlsx", "户信息", 5, "所属行政区划代码", "433124103301", OUTSIDE),
        ("enterprises.csv", "", 3, "行政区划代码", "433124", OUTSIDE),
        ("projects.csv", "", 3, "行政区划代码", "433124101", OUTSIDE),
    }
    assert _written_in(graph_db, OTHER) == {"data": [], "regions": [], "links": [], "members": [], "partnerships": []}
    assert _households(graph_db) == {bf.household_id(1): (OWN, bf.VILLAGE, True), bf.household_id(2): (OWN, bf.VILLAGE, True),
                                     bf.household_id(4): (OWN, bf.OTHER_VILLAGE, True)}
    own = _written_in(graph_db, OWN)
    assert sorted(r["label"] for r in own["data"]) == ["Enterprise", "Household", "Household", "Household", "Project"]
    assert {r["code"] for r in own["regions"]} == {"433123101000", bf.VILLAGE, bf.OTHER_VILLAGE}


def test_members_and_partnerships_of_a_household_outside_the_scope_are_rejected(graph_db, test_settings, tmp_path):
    enterprise = bf.enterprise_row(1)
    admin = [bf.write_table(tmp_path / "hh-all.csv", bf.HOUSEHOLD_HEADER,
                            [bf.household_row(1), bf.household_row(2, village=bf.OTHER_COUNTY_VILLAGE)]),
             bf.write_table(tmp_path / "ent.csv", bf.ENTERPRISE_HEADER, [enterprise])]
    assert _load(graph_db, test_settings, *admin).rows_rejected == 0
    upload = [
        bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER,
                       [bf.household_row(5), bf.household_row(6, village=bf.OTHER_COUNTY_VILLAGE)]),
        bf.write_table(tmp_path / "members.csv", bf.MEMBER_HEADER,
                       [bf.member_row(1, 1), bf.member_row(2, 1), bf.member_row(5, 1), bf.member_row(6, 1),
                        bf.member_row(99, 1)]),
        bf.write_table(tmp_path / "ledger.csv", bf.PARTNERSHIP_HEADER,
                       [bf.partnership_row("L1", 1, enterprise[0]), bf.partnership_row("L2", 2, enterprise[0]),
                        bf.partnership_row("L3", 6, enterprise[0])]),
    ]
    result = _load(graph_db, test_settings, *upload, allowed_counties=[OWN])
    assert _counts(result) == {"households": (2, 1, 1), "members": (5, 2, 3), "partnerships": (3, 1, 2)}
    errors = {(name, row, column, value, reason) for name, _, row, column, value, reason in _errors(result)}
    assert errors == {
        ("hh.csv", 3, "行政区划代码", bf.OTHER_COUNTY_VILLAGE, OUTSIDE),
        ("members.csv", 3, "户编号", bf.household_id(2), HOUSEHOLD_OUTSIDE),   # household in the graph, other county
        ("members.csv", 5, "户编号", bf.household_id(6), NOT_FOUND),           # its household was rejected above
        ("members.csv", 6, "户编号", bf.household_id(99), NOT_FOUND),
        ("ledger.csv", 3, "户编号", bf.household_id(2), HOUSEHOLD_OUTSIDE),
        ("ledger.csv", 4, "户编号", bf.household_id(6), NOT_FOUND),
    }
    assert _written_in(graph_db, OTHER)["members"] == [] and _written_in(graph_db, OTHER)["partnerships"] == []
    members = _query(graph_db, "MATCH (m:Member)-[:MEMBER_OF]->(h:Household) RETURN h.household_id AS h ORDER BY h")
    assert [m["h"] for m in members] == [bf.household_id(1), bf.household_id(5)]
    assert [p["id"] for p in _query(graph_db, "MATCH (p:Partnership) RETURN p.partnership_id AS id")] == ["L1"]
    assert bf.household_id(6) not in _households(graph_db)


def test_records_of_another_county_cannot_be_taken_over(graph_db, test_settings, tmp_path):
    """A row naming the key of another county's record (household, enterprise, member, ledger) is rejected."""
    enterprise = bf.enterprise_row(1)
    neighbour = bf.enterprise_row(2, region="433124101000")
    person = bf.member_row(2, 1)
    admin = [
        bf.write_table(tmp_path / "hh-all.csv", bf.HOUSEHOLD_HEADER,
                       [bf.household_row(1), bf.household_row(2, village=bf.OTHER_COUNTY_VILLAGE)]),
        bf.write_table(tmp_path / "ent-all.csv", bf.ENTERPRISE_HEADER, [enterprise, neighbour]),
        bf.write_table(tmp_path / "m-all.csv", bf.MEMBER_HEADER, [person]),
        bf.write_table(tmp_path / "ledger-all.csv", bf.PARTNERSHIP_HEADER, [bf.partnership_row("L9", 2, enterprise[0])]),
    ]
    assert _load(graph_db, test_settings, *admin).rows_rejected == 0
    before = graph_snapshot(graph_db)
    moved_person = bf.member_row(1, 1, id_override=person[3])
    upload = [
        bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(2)]),  # moved into our village
        bf.write_table(tmp_path / "ent.csv", bf.ENTERPRISE_HEADER, [bf.enterprise_row(2, code=neighbour[0])]),
        bf.write_table(tmp_path / "m.csv", bf.MEMBER_HEADER, [moved_person]),
        bf.write_table(tmp_path / "ledger.csv", bf.PARTNERSHIP_HEADER, [bf.partnership_row("L9", 1, enterprise[0])]),
    ]
    result = _load(graph_db, test_settings, *upload, allowed_counties={OWN})
    assert _counts(result) == {"households": (1, 0, 1), "members": (1, 0, 1), "enterprises": (1, 0, 1),
                               "partnerships": (1, 0, 1)}
    errors = {(name, row, column, reason) for name, _, row, column, _, reason in _errors(result)}
    assert errors == {("hh.csv", 2, "户编号", OWNED_ELSEWHERE), ("ent.csv", 2, "统一社会信用代码", OWNED_ELSEWHERE),
                      ("m.csv", 2, "证件号码", OWNED_ELSEWHERE), ("ledger.csv", 2, "联结编号", OWNED_ELSEWHERE)}
    assert person[3] not in result.report_path.read_text(encoding="utf-8-sig"), "ID numbers stay masked"
    assert graph_snapshot(graph_db) == before, "nothing of the other county changed"


def test_full_deactivation_only_touches_the_allowed_counties(graph_db, test_settings, tmp_path):
    everyone = [bf.household_row(n) for n in (1, 2, 3)] + [
        bf.household_row(n, village=bf.OTHER_COUNTY_VILLAGE) for n in (11, 12, 13)]
    _load(graph_db, test_settings, bf.write_table(tmp_path / "all.csv", bf.HOUSEHOLD_HEADER, everyone), full=True)
    mixed = bf.write_table(tmp_path / "mixed.csv", bf.HOUSEHOLD_HEADER,
                           [bf.household_row(1), bf.household_row(11, village=bf.OTHER_COUNTY_VILLAGE)])
    result = _load(graph_db, test_settings, mixed, full=True, allowed_counties={OWN})
    assert result.files[0].deactivated == 2
    active = {household: state[2] for household, state in _households(graph_db).items()}
    assert active == {bf.household_id(1): True, bf.household_id(2): False, bf.household_id(3): False,
                      bf.household_id(11): True, bf.household_id(12): True, bf.household_id(13): True}

    theirs = bf.write_table(tmp_path / "theirs.csv", bf.HOUSEHOLD_HEADER,
                            [bf.household_row(11, village=bf.OTHER_COUNTY_VILLAGE)])
    result = _load(graph_db, test_settings, theirs, full=True, allowed_counties={OWN})
    assert (result.files[0].deactivated, result.files[0].rows_rejected) == (0, 1)
    assert {household: state[2] for household, state in _households(graph_db).items()} == active

    # Without a scope the same extract does deactivate the other county's missing households.
    assert _load(graph_db, test_settings, mixed, full=True).files[0].deactivated == 2
    assert not _households(graph_db)[bf.household_id(12)][2] and not _households(graph_db)[bf.household_id(13)][2]


def test_without_a_scope_every_county_loads_exactly_as_before(graph_db, test_settings, tmp_path):
    enterprise = bf.enterprise_row(1)
    files = [*_mixed_files(tmp_path),
             bf.write_table(tmp_path / "members.csv", bf.MEMBER_HEADER, [bf.member_row(1, 1), bf.member_row(3, 1)]),
             bf.write_table(tmp_path / "ledger.csv", bf.PARTNERSHIP_HEADER,
                            [bf.partnership_row("L1", 1, enterprise[0]), bf.partnership_row("L3", 3, enterprise[0])])]
    snapshots, summaries = [], []
    for options in ({}, {"allowed_counties": None}, {"allowed_counties": {OWN, OTHER}}):
        clear_graph(graph_db, test_settings.neo4j_database)
        result = _load(graph_db, test_settings, *files, **options)
        snapshots.append(graph_snapshot(graph_db))
        summaries.append((_counts(result), sorted(map(repr, result.problems))))
    assert summaries[0][0] == {"villages": (2, 2, 0), "households": (4, 4, 0), "members": (2, 2, 0),
                               "enterprises": (2, 2, 0), "projects": (2, 2, 0), "partnerships": (2, 2, 0)}
    assert snapshots[1] == snapshots[0] and summaries[1] == summaries[0]
    assert snapshots[2] == snapshots[0] and summaries[2] == summaries[0], "a scope covering both counties changes nothing"
    assert _households(graph_db)[bf.household_id(3)] == (OTHER, "433124103301", True)
    assert {r["code"] for r in _written_in(graph_db, OTHER)["regions"]} == {
        "433124102000", bf.OTHER_COUNTY_VILLAGE, "433124103000", "433124103301"}


def test_a_scope_must_name_known_counties(graph_db, test_settings, tmp_path):
    path = bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(1)])
    for scope in (["433100000000"], ["433123101201"], ["4331"], ["999999"]):
        with pytest.raises(ValueError, match="county"):
            _load(graph_db, test_settings, path, allowed_counties=scope)
    assert count_nodes(graph_db) == 0
    result = _load(graph_db, test_settings, path, allowed_counties=set())
    assert _counts(result) == {"households": (1, 0, 1)} and _households(graph_db) == {}, "an empty scope allows nothing"


def test_flask_etl_load_county_option(app, graph_db, tmp_path):
    path = bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER,
                          [bf.household_row(1), bf.household_row(2, village=bf.OTHER_COUNTY_VILLAGE)])
    report = tmp_path / "report.csv"
    runner = app.test_cli_runner()
    own = runner.invoke(args=["etl", "load", "--quiet", "--county", "433123", "--report", str(report), str(path)])
    assert own.exit_code == 0, own.output
    assert "hh.csv" in own.output and "1 个错误" in own.output
    assert "outside the county you may load" in report.read_text(encoding="utf-8-sig")
    assert set(_households(graph_db)) == {bf.household_id(1)}

    strict = runner.invoke(args=["etl", "load", "--quiet", "--strict", "--county", OWN, str(path)])
    assert strict.exit_code == 1, strict.output

    both = runner.invoke(args=["etl", "load", "--quiet", "--strict", "--county", OWN, "--county", OTHER, str(path)])
    assert both.exit_code == 0, both.output
    assert _households(graph_db)[bf.household_id(2)][0] == OTHER

    wrong = runner.invoke(args=["etl", "load", "--quiet", "--county", "433100", str(path)])
    assert wrong.exit_code == 2 and "--county" in wrong.output
