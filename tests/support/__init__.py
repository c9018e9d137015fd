"""Helpers shared by the unit and integration tests (no fixtures here: those live in each suite's conftest)."""
