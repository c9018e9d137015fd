"""Cypher for an enterprise's self-service offer (帮扶供给): read it, change it with its history (OfferChange), and
queue the match run of the counties it reaches in the same transaction (services/offers.py decides what).

One managed write transaction per change: the enterprise's write lock (the one accepting a recommendation takes,
so places are judged against one offer at a time), a check that the values the change starts from still hold,
the queued match job (reused when one with exactly the counties is still queued), then `write_offer`: the
Enterprise's properties, its BUYS relationships redrawn from `bought_codes`, the OfferChange node and the
enterprise's `offer_updated_at` / `offer_updated_by`.

The enterprise's `row_hash` is kept on purpose: the ETL skips a file row whose hash a node carries, so loading
the same (unchanged) enterprise row again does not undo a self-service change; a changed row of the file has
another hash and overwrites the offer, as any newer file does. (A row loaded with a warning keeps no hash and is
written again on every load, so it overwrites the offer too; a byte-identical file is skipped whole.)
"""
import json

import neo4j

from core.clock import today_iso
from graph import followups
from graph import jobs as queue
from graph.db import read_page
from graph.model import node_type
from graph.querybuilder import identifier, open_projection

READ = neo4j.RoutingControl.READ
ENTERPRISE = node_type("Enterprise")
# What an offer change may set on an Enterprise (an allow-list: the names are written into SET through $props).
OFFER_PROPERTIES = ("mechanisms", "jobs_offered", "contract_households", "land_wanted_mu", "equity_households",
                    "ecommerce_households", "households_capacity", "skill_required", "products_bought", "bought_codes")
for _name in OFFER_PROPERTIES:
    ENTERPRISE.prop(_name)  # a declared Enterprise property, or ValueError at import
_READ_FIELDS = ("credit_code", "name", "county_code", *OFFER_PROPERTIES, "offer_updated_at", "offer_updated_by")
OFFER_MAP = "e {" + ", ".join(f".{identifier(name)}" for name in _READ_FIELDS) + "}"
CHANGE = open_projection("OfferChange", "c")


class OfferChanged(Exception):
    """The offer no longer holds the values the change was worked out from (someone changed it meanwhile)."""


def current_offer(driver: neo4j.Driver, credit_code: str, database: str | None = None) -> dict | None:
    """The enterprise's offer (OFFER_PROPERTIES), name, county and last self-service change; None when unknown."""
    records, _, _ = driver.execute_query(f"MATCH (e:Enterprise {{credit_code: $credit_code}}) RETURN {OFFER_MAP} AS offer",
                                         credit_code=credit_code, database_=database, routing_=READ)
    return records[0]["offer"] if records else None


def _checked_props(props: dict) -> dict:
    unknown = set(props) - set(OFFER_PROPERTIES)
    if unknown:
        raise ValueError(f"not an offer property: {sorted(unknown)}")
    return props


def write_offer(tx: neo4j.ManagedTransaction, credit_code: str, props: dict, change: dict) -> dict:
    """Inside the caller's transaction: set the offer `props` (names from OFFER_PROPERTIES; None removes one) on
    the enterprise, redraw its BUYS relationships when `bought_codes` is among them, create the OfferChange
    (`change`: its properties, `changes` as a dict) and stamp the enterprise with its time and author.
    Returns the OfferChange as stored (changes parsed).

    The follow-ups of a capacity change belong in the same transaction, after this call."""
    _checked_props(props)
    tx.run(
        """
        MATCH (e:Enterprise {credit_code: $credit_code})
        SET e += $props, e.offer_updated_at = $changed_at, e.offer_updated_by = $changed_by
        """, credit_code=credit_code, props=props, changed_at=change["changed_at"],
        changed_by=change["changed_by"]).consume()
    if "bought_codes" in props:
        tx.run(
            """
            MATCH (e:Enterprise {credit_code: $credit_code})
            CALL (e) { MATCH (e)-[old:BUYS]->(i:Industry) WHERE NOT i.code IN $codes DELETE old }
            CALL (e) { UNWIND $codes AS code MATCH (i:Industry {code: code}) MERGE (e)-[:BUYS]->(i) }
            """, credit_code=credit_code, codes=list(props["bought_codes"] or [])).consume()
    stored = {**change, "credit_code": credit_code,
              "changes": json.dumps(change["changes"], ensure_ascii=False, sort_keys=True)}
    created = tx.run(f"CREATE (c:OfferChange) SET c = $change RETURN {CHANGE} AS change", change=stored).single()
    return _parsed(created["change"])


def _matching_job(tx: neo4j.ManagedTransaction, kind: str, counties: list[str], holder: str) -> str | None:
    """A queued job of `kind` whose params name exactly `counties`, held (see graph.jobs.hold_queued_job)."""
    wanted = sorted(counties)
    for job in queue.queued_jobs(tx, kind):
        params = json.loads(job.get("params") or "{}")
        if sorted(params.get("counties") or []) == wanted and queue.hold_queued_job(tx, job["job_id"], holder):
            return job["job_id"]
    return None


def _record(tx: neo4j.ManagedTransaction, credit_code: str, expected: dict, props: dict, change: dict,
            job: dict | None) -> dict:
    holder = f"offer:{change['change_id']}"
    found = tx.run(f"MATCH (e:Enterprise {{credit_code: $credit_code}}) SET e.lock = $holder RETURN {OFFER_MAP} AS offer",
                   credit_code=credit_code, holder=holder).single()
    if found is None:
        raise OfferChanged(f"{credit_code}: no such enterprise")
    now = found["offer"]
    moved = [name for name, value in expected.items() if now.get(name) != value]
    if moved:
        raise OfferChanged(f"{credit_code}: {', '.join(sorted(moved))} changed meanwhile")
    job_id, reused = None, False
    if job is not None:
        job_id = _matching_job(tx, job["kind"], json.loads(job["params"])["counties"], holder)
        reused = job_id is not None
        if not reused:
            queue.enqueue_job_in(tx, job)
            job_id = job["job_id"]
    stored = write_offer(tx, credit_code, props, {**change, "job_id": job_id})
    # Places cut below the open partnerships, or a mechanism no longer offered, put households back in play
    # (follow-up items), in this transaction, before the lock is released.
    followups.observe_enterprises(tx, [credit_code], today_iso())
    tx.run("MATCH (e:Enterprise {credit_code: $credit_code}) REMOVE e.lock", credit_code=credit_code).consume()
    return {"change": stored, "job_id": job_id, "reused": reused}


def record_offer_change(driver: neo4j.Driver, credit_code: str, expected: dict, props: dict, change: dict,
                        job: dict | None, database: str | None = None) -> dict:
    """In one transaction: lock the enterprise, check that it still holds `expected` (property → value as read
    when the change was worked out; OfferChanged otherwise), queue `job` (a new match job's properties, or None)
    unless a queued job of its kind names exactly its counties (that one is reused), and write_offer.

    Returns {"change": the OfferChange, "job_id": the queued job's id or None, "reused": bool}."""
    _checked_props(props)
    with driver.session(database=database) as session:
        return session.execute_write(_record, credit_code, expected, props, change, job)


def _parsed(change: dict) -> dict:
    return {**change, "changes": json.loads(change.get("changes") or "{}")}


def offer_changes(driver: neo4j.Driver, credit_code: str, skip: int, limit: int,
                  database: str | None = None) -> tuple[list[dict], int]:
    """A page of the enterprise's offer changes, newest first, and their total."""
    where = "MATCH (c:OfferChange {credit_code: $credit_code})"
    items, total = read_page(
        driver, f"{where} RETURN count(c) AS total",
        f"{where} WITH c ORDER BY c.changed_at DESC, c.change_id DESC SKIP $skip LIMIT $limit RETURN {CHANGE} AS item",
        {"credit_code": credit_code, "skip": skip, "limit": limit}, database)
    return [_parsed(item) for item in items], total
