"""What a use case runs against: the Neo4j driver and the settings."""
from dataclasses import dataclass

import neo4j

from core.settings import Settings
from graph import auditlog, db


@dataclass(frozen=True)
class Context:
    """The graph and the configuration a service function works with."""

    driver: neo4j.Driver
    settings: Settings

    @property
    def database(self) -> str | None:
        """The Neo4j database to use: the configured one, else the server's default, by name (resolved once
        per driver: naming it spares every query the server's home-database resolution)."""
        return self.settings.neo4j_database or db.home_database(self.driver)


def create_driver(settings: Settings) -> neo4j.Driver:
    """A driver for the configured Neo4j (it connects lazily: cheap, and safe before a fork)."""
    return db.create_driver(settings)


def close_driver(driver: neo4j.Driver) -> None:
    """Store this process's spooled audit events for the driver's graph, then close the driver."""
    auditlog.close_owner(driver)
    driver.close()
