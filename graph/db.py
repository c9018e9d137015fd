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
        # A connection idle this long is checked (one RESET round trip) before reuse, so a restarted
        # server is noticed; checking every reuse doubled the round trips of a request under load.
        liveness_check_timeout=settings.neo4j_liveness_check_seconds,
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
    """Run a count query and a page query (returning one column `item`) as one query: one round trip.

    Without a count query (a caller that reads on from a cursor and has its count) the total is None.
    The vocabulary values the queries name ($in_force …) are added to params.
    """
    params = with_vocabulary((count_query or "") + "\n" + page_query, params)
    # The page is collected in a subquery of its own, so an empty page still gives the one row with the total.
    page = f"CALL () {{ CALL () {{ {page_query} }} RETURN collect(item) AS items }}"
    if count_query is None:
        query = f"{page} RETURN null AS total, items"
    else:  # a second query in the same transaction cost as much as a transaction of its own
        query = f"CALL () {{ {count_query} }} {page} RETURN total, items"
    records, _, _ = driver.execute_query(query, params, database_=database, routing_=neo4j.RoutingControl.READ)
    return records[0]["items"], records[0]["total"]


def forget_bookmarks(driver: neo4j.Driver, database: str | None = None) -> None:
    """Replace the causal-consistency bookmarks execute_query keeps by one of the current store: after the store
    was replaced (an import, a restored dump) they name transactions of the old one, which the new one would
    wait for in vain."""
    with driver.session(database=database) as session:
        session.run("RETURN 1").consume()
        fresh = session.last_bookmarks().raw_values
    if not fresh:
        raise RuntimeError("Neo4j returned no bookmark")
    manager = driver.execute_query_bookmark_manager
    manager.update_bookmarks(manager.get_bookmarks(), fresh)
