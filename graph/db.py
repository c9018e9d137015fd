"""The Neo4j driver: one per process, created from the settings."""
import threading
import weakref

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


_HOME_DATABASES: "weakref.WeakKeyDictionary[neo4j.Driver, str]" = weakref.WeakKeyDictionary()
_HOME_LOCK = threading.Lock()


def home_database(driver: neo4j.Driver) -> str | None:
    """The name of the server's default (home) database for this driver's user, asked once per driver.

    A query that names no database makes the driver and server resolve the home database every time —
    on this stack that doubles the cost of a small read — so request paths name it (services.Context)."""
    name = _HOME_DATABASES.get(driver)
    if name is None:
        try:  # one attempt, no retries: when Neo4j is down the caller's own query reports it
            with driver.session(default_access_mode=neo4j.READ_ACCESS) as session:
                name = getattr(session.run("RETURN 1").consume(), "database", None)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError):
            return None
        if not name:
            return None  # the server did not say: let each query resolve it
        with _HOME_LOCK:
            _HOME_DATABASES[driver] = name
    return name


def ping(driver: neo4j.Driver, database: str | None = None) -> None:
    """One Bolt round-trip without retries; raises DriverError or OSError when Neo4j is down."""
    with driver.session(database=database) as session:
        session.run("RETURN 1 AS ok").consume()


def read_page(driver: neo4j.Driver, count_query: str | None, page_query: str, params: dict,
              database: str | None = None) -> tuple[list[dict], int | None]:
    """Run a count query and a page query (returning one column `item`) in one read transaction.

    Without a count query (a caller that reads on from a cursor and has its count) the total is None.
    The vocabulary values the queries name ($in_force …) are added to params.
    """
    params = with_vocabulary((count_query or "") + "\n" + page_query, params)

    def work(tx: neo4j.ManagedTransaction):
        total = tx.run(count_query, params).single()["total"] if count_query else None
        items = [record["item"] for record in tx.run(page_query, params)]
        return items, total

    with driver.session(database=database, default_access_mode=neo4j.READ_ACCESS) as session:
        return session.execute_read(work)
