"""Unit fixtures. Nothing here starts or imports the Neo4j runtime: a unit test that needs a database
is an integration test (tests/integration/conftest.py holds those fixtures).

Any Settings() a unit test builds points at an address where nothing listens, so a test that reaches
for a database by mistake fails at once instead of touching a developer's graph.
"""
import pytest

from tests.support.apps import UNREACHABLE_NEO4J, app_factory, offline_settings


@pytest.fixture(autouse=True)
def _no_database(monkeypatch):
    """Settings read from the environment name an unreachable Neo4j."""
    monkeypatch.setenv("NEO4J_URI", UNREACHABLE_NEO4J)
    monkeypatch.setenv("NEO4J_CONNECTION_TIMEOUT", "1")


@pytest.fixture
def make_offline_app():
    """make_offline_app(**overrides) → the app on an unreachable Neo4j, closed after the test."""
    with app_factory(offline_settings()) as factory:
        yield factory
