"""The bulk path: a first load into an empty local database through neo4j-admin database import.

It gives the graph, the problems and the figures of an online load of the same files; it is taken only when
the database is empty and no county scope applies; a bulk load stopped at any point and run again gives the
same graph.
"""
import pytest

import etl.bulk
from core.clock import today_iso
import graph.server
from core.settings import Settings
from etl.load import load_files
from graph import readstate, server
from graph.db import create_driver
from graph.maintenance import clear_graph, graph_snapshot
from tests.support import bureau_files as bf
from tests.support import located_files as located
from tests.support.network import free_port


def _files(tmp_path):
    households = [bf.household_row(n) for n in range(1, 31)]
    households[4][7] = "特别贫困户"  # rejected: its member and ledger row are rejected too
    households[6][14] = "猕猴桃、火星土豆"  # a warning
    households[7][0] = households[2][0]  # a duplicate key
    households[9][6] = bf.OTHER_VILLAGE  # a village no villages file lists: created with its township
    enterprises = [bf.enterprise_row(n) for n in range(1, 5)]
    enterprises[3][3] = "433123101299"  # a village that does not exist: placed at its township, with a warning
    enterprises[2][1] = "凤凰县第3猕猴桃\n专业合作社"  # a line break inside a cell
    code = enterprises[0][0]
    return [
        bf.write_table(tmp_path / "villages.csv", bf.VILLAGE_HEADER, [bf.village_row()]),
        bf.write_table(tmp_path / "households.csv", bf.HOUSEHOLD_HEADER, households, title="凤凰县贫困户"),
        bf.write_table(tmp_path / "members.xlsx", bf.MEMBER_HEADER,
                       [bf.member_row(n, p) for n in range(1, 31) for p in (1, 2)]),
        bf.write_table(tmp_path / "enterprises.csv", bf.ENTERPRISE_HEADER, enterprises),
        bf.write_table(tmp_path / "projects.csv", bf.PROJECT_HEADER,
                       [bf.project_row(1, implementer=code), bf.project_row(2, implementer=bf.credit_code("91433123MA4L99999"))]),
        bf.write_table(tmp_path / "ledger.csv", bf.PARTNERSHIP_HEADER,
                       [bf.partnership_row(f"L{n}", n, code, status="履约中" if n % 3 else "已终止") for n in range(1, 12)]
                       + [bf.partnership_row("L99", 99, code)]),
    ]


def _summary(result):
    return ([(f.kind, f.rows_read, f.rows_loaded, f.rows_rejected, f.warnings) for f in result.files],
            sorted((p.file.rsplit("/", 1)[-1], p.row, p.column, p.value, p.severity, p.reason) for p in result.problems))


def _load_runs(driver):
    records, _, _ = driver.execute_query("MATCH (l:LoadRun) RETURN l.kind AS kind, l.status AS status, "
                                         "l.method AS method, l.rows_loaded AS loaded ORDER BY kind")
    return [record.data() for record in records]


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    home = tmp_path_factory.mktemp("bulk")
    settings = Settings(local_neo4j_port=free_port(), local_neo4j_home=home / "neo4j", local_neo4j_heap="512m",
                        local_neo4j_pagecache="64m", id_hash_key="bulk-test", var_dir=home / "var")
    local = server.LocalInstance.from_settings(settings)
    server.start(local)
    yield settings, local
    server.stop(local)


@pytest.fixture(scope="module")
def online(instance, tmp_path_factory):
    """The graph and results of the files loaded online into an empty database (the yardstick)."""
    settings, _ = instance
    files = _files(tmp_path_factory.mktemp("files"))
    with create_driver(settings) as driver:
        clear_graph(driver)
        result = load_files(files, driver, settings, progress=False)
        return files, graph_snapshot(driver), _summary(result)


def _bulk(settings, local, files, **options):
    with create_driver(settings) as driver:
        return load_files(files, driver, settings, progress=False, instance=local, **options), driver


def test_a_bulk_load_gives_the_graph_problems_and_figures_of_an_online_load(instance, online, monkeypatch):
    settings, local = instance
    files, expected, summary = online
    imports, importer = [], graph.server.import_database
    monkeypatch.setattr(graph.server, "import_database", lambda *args, **kwargs: imports.append(args) or importer(*args, **kwargs))
    with create_driver(settings) as driver:
        clear_graph(driver)
        result = load_files(files, driver, settings, progress=False, instance=local)
        assert imports, "the importer wrote the store"
        assert graph_snapshot(driver) == expected
        assert _summary(result) == summary
        runs = _load_runs(driver)
        assert {run["method"] for run in runs} == {"bulk"} and {run["status"] for run in runs} == {"completed"}
        assert not etl.bulk.unfinished(local)
        assert readstate.check(driver) == [], "the read state computed from the import's files is the server's"
        incomes, _, _ = driver.execute_query("MATCH (h:Household) WHERE h.income_per_capita IS NOT NULL "
                                             "RETURN collect([h.income_dates, h.income_values, h.income_per_capita])")
        assert incomes[0][0] and all(dates == [today_iso()] and values == [income]
                                     for dates, values, income in incomes[0][0]), "the first income observation"

        again = load_files(files, driver, settings, progress=False, instance=local)
        assert all(f.skipped for f in again.files), "a bulk load's files are recognised as loaded"


@pytest.mark.parametrize("workers", [1, 2])
def test_chunks_checked_by_worker_processes_give_the_same_graph_and_results(instance, online, workers):
    settings, local = instance
    files, expected, summary = online
    with create_driver(settings) as driver:
        clear_graph(driver)
        result = etl.bulk.load_files_bulk(files, driver, settings, local, progress=False, chunk_rows=4,
                                          workers=workers)
        assert graph_snapshot(driver) == expected
        assert _summary(result) == summary
        assert (result.worker_peak_kb > 0) == (workers > 1)


def test_a_database_that_is_not_empty_or_a_scoped_load_goes_online(instance, online, monkeypatch):
    settings, local = instance
    files, expected, _ = online
    with create_driver(settings) as driver:
        clear_graph(driver)
        load_files(files[:2], driver, settings, progress=False, instance=local)  # bulk: the database is empty
        monkeypatch.setattr(graph.server, "import_database", lambda *args, **kwargs: pytest.fail("not empty"))
        load_files(files[2:], driver, settings, progress=False, instance=local)
        assert graph_snapshot(driver) == expected
        clear_graph(driver)
        load_files(files, driver, settings, progress=False, instance=local, allowed_counties={bf.COUNTY})
        assert graph_snapshot(driver) == expected


class Stop(Exception):
    """Where the load is cut short, as a kill would leave it (nothing after it runs)."""


def _stop_at(monkeypatch, module, name, after: int = 0):
    calls = []
    original = getattr(module, name)

    def cut(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise Stop(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, cut)


@pytest.mark.parametrize("where", ["transform", "import", "restart", "schema", "read state", "load runs"])
def test_a_bulk_load_stopped_at_any_point_and_run_again_gives_the_same_graph(instance, online, monkeypatch, where):
    settings, local = instance
    files, expected, summary = online
    with create_driver(settings) as driver:
        clear_graph(driver)
    with monkeypatch.context() as patch:
        if where == "transform":
            _stop_at(patch, etl.bulk.ImportFiles, "add_nodes", after=6)  # after the households, before the ledger
        elif where == "import":
            _stop_at(patch, graph.server, "import_database")
        elif where == "restart":
            _stop_at(patch, etl.bulk.server, "start")
        elif where == "schema":
            _stop_at(patch, etl.bulk, "apply_schema")
        elif where == "read state":
            _stop_at(patch, etl.bulk, "add_read_state")
        else:
            _stop_at(patch, etl.bulk.loading, "record_load_run", after=2)
        with pytest.raises(Stop):
            _bulk(settings, local, files)
    assert etl.bulk.unfinished(local)
    server.start(local)  # as `make run` would, when the load stopped with the server down
    result, _ = _bulk(settings, local, files)
    with create_driver(settings) as driver:
        assert graph_snapshot(driver) == expected
        assert _summary(result) == summary
        assert {run["status"] for run in _load_runs(driver)} == {"completed"}
    assert not etl.bulk.unfinished(local)


def test_addresses_are_located_among_the_regions_the_bulk_load_itself_wrote(instance, tmp_path):
    """Enterprises and projects without region codes: the bulk path (its workers forked once the villages and
    households are written) locates them as the online path does among the graph's regions."""
    settings, local = instance
    projects = bf.write_table(tmp_path / "projects.csv", ["项目编号", "项目名称", "资金来源", "建设地点"],
                              [["XM1", "项目1", "财政专项扶贫资金", "凤凰县沱江镇南华村"],
                               ["XM2", "项目2", "财政专项扶贫资金", "湖南省长沙市"]])
    files = [*located.region_files(tmp_path),
             bf.write_table(tmp_path / "企业名录.csv", located.BUREAU_HEADER, located.directory_rows(),
                            encoding="gbk", title="企业名录"), projects]
    with create_driver(settings) as driver:
        clear_graph(driver)
        online = load_files(files, driver, settings, progress=False)
        expected = graph_snapshot(driver)
        clear_graph(driver)
        bulk = etl.bulk.load_files_bulk(files, driver, settings, local, progress=False, chunk_rows=4, workers=2)
        assert graph_snapshot(driver) == expected
        assert _summary(bulk) == _summary(online)
        records, _, _ = driver.execute_query(
            "MATCH (e:Enterprise)-[:LOCATED_IN]->(r:Region) RETURN e.credit_code AS code, e.region_code AS region, "
            "e.county_code AS county, e.location_source AS source, r.code AS located_in")
        assert {r["code"]: (r["region"], r["county"], r["source"], r["located_in"]) for r in records} == {
            located.code(row): (*place, place[0]) for row, place in located.PLACES.items()}
        records, _, _ = driver.execute_query("MATCH (p:Project) RETURN p.project_id AS id, p.region_code AS region, "
                                             "p.location_source AS source")
        assert [tuple(r.values()) for r in records] == [("XM1", located.NANHUA, "address-village")]
    assert [(f.kind, f.rows_read, f.rows_loaded, f.rows_rejected) for f in bulk.files] == [
        ("villages", 4, 4, 0), ("households", 1, 1, 0), ("enterprises", 12, 9, 3), ("projects", 2, 1, 1)]
