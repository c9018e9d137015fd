"""Cypher for background jobs (match runs, uploads): the queue lives in the graph.

Every worker process can read a job's state, and a job whose worker died (no heartbeat)
is claimed again by another, so a restart loses nothing.
"""
import json

import neo4j

from graph.db import read_page
from graph.querybuilder import open_projection

READ = neo4j.RoutingControl.READ
JOB, RUN = open_projection("Job", "j"), open_projection("MatchRun", "r")
JOB_WITH_RUN = open_projection("Job", "j", {"run": RUN})

# Properties a job update may set; anything else is refused (they are written with SET j += $props).
JOB_PROPERTIES = frozenset({
    "status", "progress", "message", "heartbeat_at", "started_at", "finished_at", "result", "error", "worker",
})


ENQUEUE = "CREATE (j:Job) SET j = $job, j.status = 'queued', j.progress = 0.0"


def enqueue_job(driver: neo4j.Driver, job: dict, database: str | None = None) -> None:
    """Create a queued job."""
    driver.execute_query(ENQUEUE, job=job, database_=database)


def enqueue_job_in(tx: neo4j.ManagedTransaction, job: dict) -> None:
    """Create a queued job inside the caller's transaction (it is queued only if that transaction commits)."""
    tx.run(ENQUEUE, job=job).consume()


def queued_jobs(tx: neo4j.ManagedTransaction, kind: str) -> list[dict]:
    """The queued (not yet claimed) jobs of a kind, oldest first: id and params (JSON text)."""
    return [record.data() for record in tx.run(
        "MATCH (j:Job {kind: $kind}) WHERE j.status = 'queued' "
        "RETURN j.job_id AS job_id, j.params AS params ORDER BY j.created_at", kind=kind)]


def hold_queued_job(tx: neo4j.ManagedTransaction, job_id: str, holder: str) -> bool:
    """Take a queued job's write lock in the caller's transaction; True when it is still queued.

    A worker claiming it meanwhile waits for that transaction (its claim takes the same lock first, as in
    _claim), so the job runs only after what the transaction wrote is committed, and sees it."""
    record = tx.run("MATCH (j:Job {job_id: $job_id}) SET j.claim_lock = $holder "
                    "WITH j WHERE j.status = 'queued' RETURN count(j) AS n", job_id=job_id, holder=holder).single()
    return bool(record and record["n"])


def enqueue_once(driver: neo4j.Driver, job: dict, database: str | None = None) -> bool:
    """Create a queued job unless one with its id exists (any worker may ask, one job results); True if created."""
    records, _, _ = driver.execute_query(
        "OPTIONAL MATCH (existing:Job {job_id: $job.job_id}) WITH existing "
        "MERGE (j:Job {job_id: $job.job_id}) ON CREATE SET j = $job, j.status = 'queued', j.progress = 0.0 "
        "RETURN existing IS NULL AS created", job=job, database_=database)
    return records[0]["created"]


def latest_completed(driver: neo4j.Driver, kind: str, database: str | None = None) -> dict | None:
    """The most recently finished completed job of a kind (its properties), or None."""
    records, _, _ = driver.execute_query(
        f"MATCH (j:Job {{kind: $kind, status: 'completed'}}) RETURN {JOB} AS job ORDER BY j.finished_at DESC LIMIT 1",
        kind=kind, database_=database, routing_=READ)
    return records[0]["job"] if records else None


def queued_match_job(driver: neo4j.Driver, counties: list[str], database: str | None = None) -> str | None:
    """A queued (not yet started) match job for exactly these counties, if there is one."""
    records, _, _ = driver.execute_query(
        "MATCH (j:Job {kind: 'match', status: 'queued'}) RETURN j.job_id AS job_id, j.params AS params "
        "ORDER BY j.created_at", database_=database, routing_=READ)
    wanted = sorted(counties)
    for record in records:
        try:
            params = json.loads(record["params"] or "{}")
        except ValueError:
            continue
        if sorted(params.get("counties") or []) == wanted:
            return record["job_id"]
    return None


def _claim(tx: neo4j.ManagedTransaction, worker: str, now: str, stale_before: str, max_attempts: int):
    # Taking the node's write lock first (SET) and only then re-reading its status makes the
    # claim atomic: a second worker waiting on the lock sees the first one's committed claim.
    record = tx.run(
        f"""
        MATCH (j:Job) WHERE j.status = 'queued' OR (j.status = 'running' AND j.heartbeat_at < $stale_before)
        WITH j ORDER BY j.created_at LIMIT 1
        SET j.claim_lock = $worker
        WITH j WHERE j.status = 'queued' OR (j.status = 'running' AND j.heartbeat_at < $stale_before)
        SET j.attempts = coalesce(j.attempts, 0) + 1
        SET j.status = CASE WHEN j.attempts > $max_attempts THEN 'failed' ELSE 'running' END,
            j.error = CASE WHEN j.attempts > $max_attempts THEN '任务多次中断，已放弃 / abandoned after repeated interruptions'
                      ELSE j.error END,
            j.worker = $worker, j.heartbeat_at = $now, j.started_at = coalesce(j.started_at, $now)
        RETURN {JOB} AS job
        """,
        worker=worker, now=now, stale_before=stale_before, max_attempts=max_attempts,
    ).single()
    return record["job"] if record else None


def claim_next_job(driver: neo4j.Driver, worker: str, now: str, stale_before: str, max_attempts: int = 3,
                   database: str | None = None) -> dict | None:
    """Claim the oldest queued job (or a running one whose heartbeat stopped); None when there is none."""
    with driver.session(database=database) as session:
        return session.execute_write(_claim, worker, now, stale_before, max_attempts)


def update_job(driver: neo4j.Driver, job_id: str, props: dict, database: str | None = None,
               worker: str | None = None) -> bool:
    """Set some of a job's state properties (names from JOB_PROPERTIES only); False when nothing was set.

    With `worker`, only while that worker still runs the job: a child whose job was taken over (its
    heartbeat looked dead) must not beat for it, record its end, or overwrite the new owner's state.
    """
    unknown = set(props) - JOB_PROPERTIES
    if unknown:
        raise ValueError(f"not a job property: {sorted(unknown)}")
    if worker is None:
        records, _, _ = driver.execute_query(
            "MATCH (j:Job {job_id: $job_id}) SET j += $props RETURN count(j) AS n",
            job_id=job_id, props=props, database_=database)
        return records[0]["n"] > 0
    # The write lock first (as in _claim), then the owner is read: a takeover committed meanwhile is seen.
    records, _, _ = driver.execute_query(
        """
        MATCH (j:Job {job_id: $job_id})
        SET j.claim_lock = $worker
        WITH j WHERE j.worker = $worker AND j.status = 'running'
        SET j += $props
        RETURN count(j) AS n
        """,
        job_id=job_id, props=props, worker=worker, database_=database)
    return records[0]["n"] > 0


def get_job(driver: neo4j.Driver, job_id: str, database: str | None = None) -> dict | None:
    """A job's properties, with its match run's when it has one."""
    records, _, _ = driver.execute_query(
        f"""
        MATCH (j:Job {{job_id: $job_id}})
        OPTIONAL MATCH (r:MatchRun {{run_id: j.job_id}})
        RETURN {JOB} AS job, {RUN} AS run
        """,
        job_id=job_id, database_=database, routing_=READ,
    )
    if not records:
        return None
    return {**records[0]["job"], "run": records[0]["run"]}


def list_jobs(driver: neo4j.Driver, kind: str, county_codes: list[str] | None, skip: int, limit: int,
              database: str | None = None) -> tuple[list[dict], int]:
    """A page of jobs of one kind (newest first), restricted to counties when given, and the total."""
    where = "MATCH (j:Job {kind: $kind}) WHERE $counties IS NULL OR j.county_code IN $counties"
    return read_page(
        driver,
        f"{where} RETURN count(j) AS total",
        f"""{where}
        WITH j ORDER BY j.created_at DESC SKIP $skip LIMIT $limit
        OPTIONAL MATCH (r:MatchRun {{run_id: j.job_id}})
        RETURN {JOB_WITH_RUN} AS item""",
        {"kind": kind, "counties": county_codes, "skip": skip, "limit": limit}, database,
    )
