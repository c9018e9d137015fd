"""Shared by both suites: only the run order. Fixtures live in tests/unit/conftest.py (no Neo4j) and
tests/integration/conftest.py (the test Neo4j and the apps built on it); nothing here imports either."""
from pathlib import Path

UNIT = Path(__file__).parent / "unit"


def pytest_collection_modifyitems(items):
    """Unit tests first (seconds, no database): a broken rule fails before the slow suites start.

    The sort is stable, so each suite keeps its own order (module-scoped fixtures stay together).
    """
    items.sort(key=lambda item: 0 if UNIT in Path(item.path).parents else 1)
