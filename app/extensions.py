"""Flask extensions. The Neo4j driver is created once per process, on first use.

Creating it lazily means it never exists in the gunicorn master before workers
fork (each worker builds its own), and it is closed when the process exits.
"""
import atexit
import threading

import neo4j
from flask import Flask, current_app

from core.settings import Settings
from services.context import Context, close_driver, create_driver


class _DriverHolder:
    """Holds one app's driver, created on first use under a lock."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._driver: neo4j.Driver | None = None
        self._lock = threading.Lock()

    def get(self) -> neo4j.Driver:
        """The driver, created now if this process has none yet."""
        if self._driver is None:
            with self._lock:
                if self._driver is None:
                    self._driver = create_driver(self.settings)
        return self._driver

    def close(self) -> None:
        """Close the driver if one was created."""
        with self._lock:
            if self._driver is not None:
                close_driver(self._driver)  # its spooled audit events are stored first
                self._driver = None


class Neo4jExtension:
    """Gives views `neo4j_ext.context` (driver and settings, for the services) for the current app."""

    def init_app(self, app: Flask, settings: Settings) -> None:
        """Register the driver holder on the app and close it at process exit."""
        holder = _DriverHolder(settings)
        app.extensions["neo4j"] = holder
        atexit.register(holder.close)

    @property
    def context(self) -> Context:
        """What the service functions run against: this app's driver and settings."""
        holder: _DriverHolder = current_app.extensions["neo4j"]
        return Context(holder.get(), holder.settings)


neo4j_ext = Neo4jExtension()
