"""Probes on the test Neo4j: /readyz does a Bolt round-trip; the driver is made on first use.

(The probes without a database: tests/unit/test_health.py.)"""


def test_readyz_is_200_on_the_test_neo4j(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["neo4j"] == "ok"


def test_driver_is_not_created_by_the_factory(make_app):
    # No job poller here: it would share the driver this test closes.
    app = make_app(job_workers_enabled=False)
    holder = app.extensions["neo4j"]
    assert holder._driver is None, "the driver must be created after gunicorn forks, on first use"
    app.test_client().get("/readyz")
    assert holder._driver is not None
    holder.close()

