"""Integration fixtures: the test Neo4j (its own instance), a clean graph per test, and apps built on it.

The instance listens on TEST_NEO4J_PORT (7688) with its data in TEST_NEO4J_HOME (var/neo4j/test).
Set TEST_NEO4J_URI (with NEO4J_USER / NEO4J_PASSWORD) to run against another Neo4j instead; the
tests delete everything in it, so never point it at real data.
"""
import os
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings
from graph.db import create_driver
from graph.maintenance import clear_graph
from graph.schema import apply_schema
from graph.server import ensure_running
from tests.support.apps import app_factory


@pytest.fixture(scope="session")
def test_settings() -> Settings:
    """Settings for the test instance; NEO4J_URI from the environment is ignored on purpose."""
    return Settings(
        neo4j_uri=os.environ.get("TEST_NEO4J_URI") or None,
        local_neo4j_port=int(os.environ.get("TEST_NEO4J_PORT", "7688")),
        local_neo4j_home=Path(os.environ.get("TEST_NEO4J_HOME") or PROJECT_ROOT / "var" / "neo4j" / "test"),
        local_neo4j_heap="1g",
        local_neo4j_pagecache="256m",
        var_dir=PROJECT_ROOT / "var" / "test",
        secret_key="test-secret",
        # Audit events stored before a read returns, so tests see them at once (the batched default has its
        # own tests: tests/unit/test_audit_spool.py, tests/integration/test_audit_spool_graph.py).
        audit_flush_seconds=0,
        # A test's workers run the jobs it queues, not a daily sweep of their own (tests/integration/
        # test_followups_sweep.py runs the sweep).
        daily_sweep=False,
    )


@pytest.fixture(scope="session")
def neo4j_driver(test_settings):
    """A driver to the running test Neo4j with the schema applied."""
    ensure_running(test_settings)
    with create_driver(test_settings) as driver:
        apply_schema(driver, test_settings.neo4j_database)
        yield driver


@pytest.fixture
def graph_db(neo4j_driver, test_settings):
    """The test Neo4j, emptied before the test so tests never see each other's data."""
    clear_graph(neo4j_driver, test_settings.neo4j_database)
    return neo4j_driver


@pytest.fixture
def make_app(test_settings):
    """make_app(settings=None, **overrides) → the app on the test Neo4j (or on `settings`), closed after the test."""
    with app_factory(test_settings) as factory:
        yield factory


@pytest.fixture(scope="module")
def make_module_app(test_settings):
    """make_app for module-scoped apps (shared by one module's tests, closed after it)."""
    with app_factory(test_settings) as factory:
        yield factory


@pytest.fixture
def app(graph_db, make_app):
    """The app on a clean test graph (no background job poller: nothing queues jobs here)."""
    return make_app(job_workers_enabled=False)


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture(scope="module")
def world(neo4j_driver, test_settings, tmp_path_factory):
    """Two counties loaded and matched, with a token per role (shared by one test module)."""
    from tests.integration.api_world import build_world

    return build_world(neo4j_driver, test_settings, tmp_path_factory.mktemp("world"))


@pytest.fixture(scope="module")
def api_app(world, make_module_app):
    """The app on the world's graph, with fast job polling."""
    return make_module_app(job_poll_seconds=0.3, job_stale_seconds=20)


@pytest.fixture
def api(api_app, world):
    """A client whose requests carry a role's token: api.get(path, as_="bureau_own")."""
    from tests.integration.api_client import RoleClient

    return RoleClient(api_app.test_client(), world.tokens)
