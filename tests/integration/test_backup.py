"""Backup and restore (`flask neo4j backup|restore`): Neo4j's own dump and load, plus the keys in var/secrets.

The sample county is loaded into the test instance, matched, one recommendation confirmed (a ledger
row) and two tokens issued; a backup of it is restored into a new, empty instance (its own port and
home, and its own var folder for the keys). The restored graph equals the original node for node and
property for property, and the API on the restored instance serves a household exactly as before —
to an analyst too, whose pseudonyms only match when the keys came back with the graph.
"""
import stat
import tarfile
from pathlib import Path

import pytest

from devtools.synth import PRESETS, generate
from etl.load import load_files
from graph import ledger, server
from graph import matching as matching_queries
from graph.db import create_driver
from graph.maintenance import clear_graph, graph_snapshot
from matching.run import MatchParams, MatchRunner
from services.context import Context
from services.tokens import issue_token
from tests.support.network import free_port

COUNTY = PRESETS["sample"]["counties"][0]
EVERYTHING = ()  # graph_snapshot skips nothing: load runs and audit events must come back too


def _read_as(client, token: str, path: str) -> dict:
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _views(client, tokens: dict, household_id: str) -> dict:
    """What the API shows of one household to an admin, and of the county's first page to an analyst."""
    return {
        "admin": _read_as(client, tokens["admin"], f"/api/v1/households/{household_id}"),
        "analyst": _read_as(client, tokens["analyst"], f"/api/v1/households?county={COUNTY}"),
    }


def _secrets_dir(settings) -> Path:
    return Path(settings.var_dir) / "secrets"


def _key_files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if not path.name.startswith(".")}


def test_a_backup_restores_into_an_empty_instance_as_the_same_graph_served_the_same(
        neo4j_driver, test_settings, make_app, tmp_path):
    if test_settings.neo4j_uri:
        pytest.skip("backup and restore work on a local Neo4j only")
    clear_graph(neo4j_driver, test_settings.neo4j_database)
    paths = generate(tmp_path / "sample", progress=False, **PRESETS["sample"])
    assert not load_files(list(paths.values()), neo4j_driver, test_settings, progress=False).failed_files
    run = MatchRunner(neo4j_driver, test_settings, progress=None).run([COUNTY], MatchParams(top_k=3))
    rec = next(r for r in matching_queries.run_recommendations(neo4j_driver, run["run_id"]) if r["assigned"])
    ledger.accept_recommendation(neo4j_driver, rec["rec_id"], True, "backup-test", "2026-01-02T03:04:05+00:00",
                                 "2026-01-02")
    ctx = Context(neo4j_driver, test_settings)
    tokens = {role: issue_token(ctx, role, f"backup test {role}") for role in ("admin", "analyst")}
    source = make_app(job_workers_enabled=False)
    before = _views(source.test_client(), tokens, rec["household_id"])
    assert before["admin"]["members"] and before["analyst"]["items"]
    snapshot = graph_snapshot(neo4j_driver, skip_labels=EVERYTHING)

    archive = tmp_path / "backups" / "lianjie-test.tar.gz"
    backup = source.test_cli_runner().invoke(args=["neo4j", "backup", "--out", str(archive)])
    assert backup.exit_code == 0, backup.output
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600, "the archive holds personal data and keys"
    with tarfile.open(archive) as stored:
        names = set(stored.getnames())
    keys = _key_files(_secrets_dir(test_settings))
    assert names == {"manifest.json", "neo4j.dump", *(f"secrets/{name}" for name in keys)}
    assert graph_snapshot(neo4j_driver, skip_labels=EVERYTHING) == snapshot, "the source is back, unchanged"

    target = test_settings.model_copy(update={
        "local_neo4j_port": free_port(), "local_neo4j_home": tmp_path / "restored-neo4j",
        "var_dir": tmp_path / "restored-var", "local_neo4j_heap": "512m", "local_neo4j_pagecache": "64m",
    })
    instance = server.LocalInstance.from_settings(target)
    try:
        restored_app = make_app(target, job_workers_enabled=False)
        restore = restored_app.test_cli_runner().invoke(args=["neo4j", "restore", str(archive)])
        assert restore.exit_code == 0, restore.output
        assert _key_files(_secrets_dir(target)) == keys
        assert stat.S_IMODE(_secrets_dir(target).stat().st_mode) == 0o700
        assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in _secrets_dir(target).iterdir())

        server.start(instance)  # the restore leaves the instance as it found it: stopped
        with create_driver(target) as driver:
            assert graph_snapshot(driver, skip_labels=EVERYTHING) == snapshot, "the same graph"
            after = _views(restored_app.test_client(), tokens, rec["household_id"])
            assert after == before, "the API serves the household as before (analysts' pseudonyms too)"

            refused = restored_app.test_cli_runner().invoke(args=["neo4j", "restore", str(archive)])
            assert refused.exit_code == 1 and "--force" in refused.output, "a graph with data is not replaced"
            driver.execute_query("CREATE (:Region {code: 'not-in-the-backup'})")
            forced = restored_app.test_cli_runner().invoke(args=["neo4j", "restore", "--force", str(archive)])
            assert forced.exit_code == 0, forced.output
            assert server.status(instance) is not None, "it ran before the restore, so it runs after"
        # A new driver: the old one remembers (as a bookmark) the write the restore took back, and would
        # wait for the graph to reach it — as every process that talked to the old graph would.
        with create_driver(target) as driver:
            assert graph_snapshot(driver, skip_labels=EVERYTHING) == snapshot
    finally:
        server.stop(instance)


def test_backup_and_restore_refuse_a_neo4j_that_is_not_local(make_app, tmp_path):
    app = make_app(neo4j_uri="bolt://db.example.invalid:7687", job_workers_enabled=False)
    for args in (["neo4j", "backup", "--out", str(tmp_path / "b.tar.gz")],
                 ["neo4j", "restore", __file__]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1
        assert "neo4j-admin" in result.output and "Aura" in result.output
    assert not (tmp_path / "b.tar.gz").exists()
