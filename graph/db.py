"""The Neo4j driver: one per process, created from the settings."""
import neo4j

from core.settings import Settings
from graph.vocabulary import with_vocabulary


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


def read_page(driver: neo4j.Driver, count_query: str, page_query: str, params: dict,
              database: str | None = None) -> tuple[list[dict], int]:
    """Run a count query and a page query (returning one column `item`) in one read transaction.

    The vocabulary values the queries name ($in_force …) are added to params.
    """
    params = with_vocabulary(count_query + "\n" + page_query, params)

    def work(tx: neo4j.ManagedTransaction):
        total = tx.run(count_query, params).single()["total"]
        items = [record["item"] for record in tx.run(page_query, params)]
        return items, total

    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        return session.execute_read(work)
