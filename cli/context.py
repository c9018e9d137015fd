"""What a command works with, taken from the app the `flask` command loaded (never imported from `app`)."""
import neo4j
from flask import current_app

from core.settings import Settings


def settings() -> Settings:
    """The app's settings (environment and .env)."""
    return current_app.config["LIANJIE_SETTINGS"]


def driver() -> neo4j.Driver:
    """The app's Neo4j driver, created on first use (commands that need no database never create it)."""
    return current_app.extensions["neo4j"].get()


def service_context():
    """A services Context (driver and settings) for the use cases."""
    from services.context import Context

    return Context(driver(), settings())
