"""A load stopped at any point (Neo4j killed mid-load) and run again ends in the same graph."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.settings import PROJECT_ROOT, Settings
from etl.load import load_files
from graph import server
from graph.db import create_driver
from graph.maintenance import clear_graph, graph_snapshot
from tests.support import bureau_files as bf
from tests.support.network import free_port


def _count(driver, label):
    records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS n")
    return records[0]["n"]


def test_interrupted_load_rerun_equals_uninterrupted_load(tmp_path):
    settings = Settings(local_neo4j_port=free_port(), local_neo4j_home=tmp_path / "neo4j", local_neo4j_heap="512m",
                        local_neo4j_pagecache="64m", id_hash_key="interrupt-test", etl_batch_size=50,
                        var_dir=tmp_path / "var")
    instance = server.LocalInstance.from_settings(settings)
    rows = [bf.household_row(n) for n in range(1, 6001)]
    households = bf.write_table(tmp_path / "hh.csv", bf.HOUSEHOLD_HEADER, rows)
    enterprises = bf.write_table(tmp_path / "ent.csv", bf.ENTERPRISE_HEADER, [bf.enterprise_row(n) for n in range(1, 50)])
    pid = server.start(instance)
    try:
        with create_driver(settings) as driver:
            load_files([households, enterprises], driver, settings, progress=False)
            expected = graph_snapshot(driver)
            clear_graph(driver)

        env = {**os.environ, "LOCAL_NEO4J_PORT": str(settings.local_neo4j_port), "ID_HASH_KEY": "interrupt-test",
               "ETL_BATCH_SIZE": "50", "VAR_DIR": str(tmp_path / "var")}
        env.pop("NEO4J_URI", None)
        flask = Path(sys.executable).parent / "flask"
        loading = subprocess.Popen([str(flask), "--app", "wsgi", "etl", "load", "--quiet", "--online", str(households), str(enterprises)],
                                   cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        with create_driver(settings) as driver:
            deadline = time.monotonic() + 120
            while _count(driver, "Household") < 200:
                assert loading.poll() is None, loading.stdout.read().decode()
                assert time.monotonic() < deadline
                time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)  # mid-load: some batches committed, the rest not
        output = loading.communicate(timeout=120)[0].decode()
        assert loading.returncode != 0, output

        server.start(instance)
        with create_driver(settings) as driver:
            partial = _count(driver, "Household")
            assert 200 <= partial < 6000, "the kill must have landed mid-load"
            load_files([households, enterprises], driver, settings, progress=False)
            assert graph_snapshot(driver) == expected
    finally:
        server.stop(instance)
