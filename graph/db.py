"""The Neo4j driver: one per process, created from the settings."""
import neo4j

from app.settings import Settings


def create_driver(settings: Settings) -> neo4j.Driver:
    """Create a driver (it connects lazily, so this is cheap and safe before any request)."""
    return neo4j.GraphDatabase.driver(
        settings.bolt_uri,
        auth=settings.neo4j_auth,
        connection_timeout=settings.neo4j_connection_timeout,
        connection_acquisition_timeout=settings.neo4j_connection_timeout * 2,
        # Check idle pooled connections before reuse so a restarted server is noticed at once.
        liveness_check_timeout=0,
        max_transaction_retry_time=10.0,
        user_agent="lianjie",
        # Optional properties are often absent; the server's "unknown property" notes are noise here.
        notifications_min_severity="OFF",
    )


def ping(driver: neo4j.Driver, database: str | None = None) -> None:
    """One Bolt round-trip without retries; raises DriverError or OSError when Neo4j is down."""
    with driver.session(database=database) as session:
        session.run("RETURN 1 AS ok").consume()
