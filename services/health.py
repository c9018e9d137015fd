"""Is the graph reachable (the readiness probe)."""
import neo4j

from graph import db
from services.context import Context

# Errors that mean Neo4j cannot be reached right now (the driver reconnects by itself once it is back).
DATABASE_UNAVAILABLE = (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired)


def database_ready(ctx: Context) -> bool:
    """True when one Bolt round-trip to Neo4j succeeds (no retries)."""
    try:
        db.ping(ctx.driver, ctx.database)
    except (neo4j.exceptions.DriverError, OSError):
        return False
    return True
