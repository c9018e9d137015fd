"""A gunicorn worker killed (SIGKILL) in the middle of a write: the master forks a new worker, later
requests are served, and the ledger write happened entirely or not at all.

The write is caught mid-transaction on purpose: the test holds the write lock of the household, so the
worker's confirm transaction has already created the partnership (uncommitted) and waits to link it to
the household — that is when its process is killed.
"""
import http.client
import os
import signal
import threading

import requests

from core.codes import RecommendationStatus
from graph import matching as matching_queries
from matching.run import MatchParams, MatchRunner
from services.context import Context
from services.tokens import issue_token
from tests.support.faults import (
    blocked_transactions, gunicorn_on, load_small_county, node_locked, pid_holding_connection, wait_until,
)

PORT = 8741  # helper H's HTTP range (8741-8749)
COUNTY = "433123000000"


def _small_county(graph_db, settings, folder) -> dict:
    """Six households and one enterprise, matched; returns an open recommendation to confirm."""
    load_small_county(graph_db, settings, folder)
    run = MatchRunner(graph_db, settings, progress=None).run([COUNTY], MatchParams(household_limit=2))
    return next(r for r in matching_queries.run_recommendations(graph_db, run["run_id"]) if r["assigned"])


def _ledger_of(driver, rec_id: str) -> dict:
    """The recommendation's state and every partnership written for it, with its two links."""
    records, _, _ = driver.execute_query(
        """
        OPTIONAL MATCH (r:Recommendation {rec_id: $rec_id})  // created when first decided on
        OPTIONAL MATCH (p:Partnership) WHERE p.rec_id = $rec_id
        OPTIONAL MATCH (p)-[:OF_HOUSEHOLD]->(h:Household)
        OPTIONAL MATCH (p)-[:WITH_ENTERPRISE]->(e:Enterprise)
        RETURN coalesce(r.status, $proposed) AS status, r.partnership_id AS partnership_id, r.lock AS lock,
               collect({id: p.partnership_id, status: p.status, household: h.household_id,
                        enterprise: e.credit_code}) AS partnerships
        """, rec_id=rec_id, proposed=RecommendationStatus.PROPOSED.value)
    record = records[0].data()
    record["partnerships"] = [p for p in record["partnerships"] if p["id"] is not None]
    return record


def test_a_worker_killed_mid_write_is_replaced_and_the_write_is_all_or_nothing(graph_db, test_settings, tmp_path):
    rec = _small_county(graph_db, test_settings, tmp_path)
    token = issue_token(Context(graph_db, test_settings), "admin", "fault test")
    headers = {"Authorization": f"Bearer {token}"}
    confirm_path = f"/api/v1/recommendations/{rec['rec_id']}/accept"

    with gunicorn_on(test_settings.model_copy(update={"job_workers_enabled": False}), PORT, tmp_path / "gunicorn") as web:
        before = set(web.workers())
        outcome = {}
        with node_locked(graph_db, "Household", "household_id", rec["household_id"]):
            connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
            connection.connect()
            client_port = connection.sock.getsockname()[1]

            def confirm():
                try:
                    connection.request("POST", confirm_path, headers=headers)
                    outcome["status"] = connection.getresponse().status
                except (http.client.HTTPException, OSError) as error:
                    outcome["error"] = error

            request = threading.Thread(target=confirm)
            request.start()
            # The worker's transaction has written the partnership and waits for the household's lock.
            wait_until(lambda: blocked_transactions(graph_db, "MERGE (p:Partnership"), 30, 0.1,
                       "the confirm transaction to block mid-write")
            worker = pid_holding_connection(web.workers(), PORT, client_port)
            assert worker in before, "the worker serving the request was found"
            os.kill(worker, signal.SIGKILL)
            request.join(timeout=30)
            assert "error" in outcome, f"the killed worker cannot have answered: {outcome}"
            # Neo4j rolls the dead connection's transaction back (it no longer waits for the lock).
            wait_until(lambda: not blocked_transactions(graph_db, "MERGE (p:Partnership"), 30, 0.2,
                       "Neo4j to drop the dead worker's transaction")

        nothing = _ledger_of(graph_db, rec["rec_id"])
        assert nothing == {"status": RecommendationStatus.PROPOSED, "partnership_id": None, "lock": None,
                           "partnerships": []}, "no half-written ledger row, no leftover lock flag"

        respawned = wait_until(lambda: len(web.workers()) == 2 and set(web.workers()) != before and web.workers(),
                               30, 0.2, "the master to fork a new worker")
        assert worker not in respawned and len(set(respawned) & before) == 1

        for _ in range(8):  # later requests succeed, whichever worker takes them
            assert requests.get(f"{web.url}/readyz", timeout=10).status_code == 200
            assert requests.get(f"{web.url}/api/v1/recommendations/{rec['rec_id']}", headers=headers,
                                timeout=10).status_code == 200
        retried = requests.post(f"{web.url}{confirm_path}", headers=headers, timeout=30)
        assert retried.status_code == 200, retried.text
        again = requests.post(f"{web.url}{confirm_path}", headers=headers, timeout=30)
        assert again.status_code == 409, "a second confirm is refused, not written twice"

    done = _ledger_of(graph_db, rec["rec_id"])
    assert done["status"] == RecommendationStatus.CONFIRMED and done["lock"] is None
    assert done["partnerships"] == [{"id": done["partnership_id"], "status": retried.json()["partnership_status"],
                                     "household": rec["household_id"], "enterprise": rec["credit_code"]}]
