"""Cypher for the learned matching models: versions stored in the graph (so every process and every Dask
worker, on any machine, loads the same one), the current one, and the fingerprint of the history they learned."""
import neo4j

from core.codes import RecommendationStatus
from graph.querybuilder import open_projection

READ = neo4j.RoutingControl.READ
MODEL = open_projection("MatchModel", "m")  # every property but the payload


def history_digest_parts(driver: neo4j.Driver, database: str | None = None) -> dict:
    """What a model learns from, summarised: partnerships by status with their latest start and change, and the
    decided recommendations. A model trained on other figures is stale."""
    records, _, _ = driver.execute_query(
        """
        CALL () {
          MATCH (p:Partnership)
          WITH p.status AS status, count(*) AS n, max(p.start_date) AS started, max(p.updated_at) AS changed
          ORDER BY status
          RETURN collect([status, n, started, changed]) AS partnerships
        }
        CALL () {
          MATCH (r:Recommendation) WHERE r.status IN $decided
          RETURN count(r) AS decisions, max(r.decided_at) AS decided
        }
        RETURN partnerships, decisions, decided
        """,
        decided=RecommendationStatus.codes(RecommendationStatus.ACCEPTED, RecommendationStatus.CONFIRMED,
                                           RecommendationStatus.DECLINED),
        database_=database, routing_=READ)
    return records[0].data()


def current_model(driver: neo4j.Driver, database: str | None = None) -> dict | None:
    """The current model's record (no payload), or None."""
    records, _, _ = driver.execute_query(
        f"MATCH (m:MatchModel {{current: true}}) RETURN {MODEL} AS model ORDER BY m.trained_at DESC LIMIT 1",
        database_=database, routing_=READ)
    return records[0]["model"] if records else None


def model_record(driver: neo4j.Driver, version: str, database: str | None = None) -> dict | None:
    """A model's record (no payload), or None."""
    records, _, _ = driver.execute_query(f"MATCH (m:MatchModel {{version: $version}}) RETURN {MODEL} AS model",
                                         version=version, database_=database, routing_=READ)
    return records[0]["model"] if records else None


def model_payload(driver: neo4j.Driver, version: str, database: str | None = None) -> bytes | None:
    """A model's stored estimator (bytes), or None."""
    records, _, _ = driver.execute_query("MATCH (m:MatchModel {version: $version}) RETURN m.payload AS payload",
                                         version=version, database_=database, routing_=READ)
    return bytes(records[0]["payload"]) if records and records[0]["payload"] is not None else None


def save_current_model(driver: neo4j.Driver, props: dict, payload: bytes | None, database: str | None = None) -> None:
    """Store a model version and make it the current one (one transaction: never two current, never none)."""
    def work(tx: neo4j.ManagedTransaction) -> None:
        tx.run("MATCH (m:MatchModel {current: true}) SET m.current = false").consume()
        tx.run("MERGE (m:MatchModel {version: $props.version}) SET m += $props, m.payload = $payload, m.current = true",
               props=props, payload=payload).consume()

    with driver.session(database=database) as session:
        session.execute_write(work)
