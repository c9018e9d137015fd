"""Probes: /healthz needs no database, /readyz does a Bolt round-trip."""
from app import create_app
from core.settings import Settings


def test_healthz_answers_without_a_database():
    app = create_app(Settings(neo4j_uri="bolt://127.0.0.1:9", neo4j_connection_timeout=1, job_workers_enabled=False))
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_503_problem_when_neo4j_is_unreachable():
    app = create_app(Settings(neo4j_uri="bolt://127.0.0.1:9", neo4j_connection_timeout=1, job_workers_enabled=False))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "database_unavailable"
    assert "不可用" in body["title"]
    assert response.headers["Retry-After"]


def test_readyz_is_200_on_the_test_neo4j(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["neo4j"] == "ok"


def test_driver_is_not_created_by_the_factory(test_settings):
    # No job poller here: it would share the driver this test closes.
    app = create_app(test_settings.model_copy(update={"job_workers_enabled": False}))
    holder = app.extensions["neo4j"]
    assert holder._driver is None, "the driver must be created after gunicorn forks, on first use"
    app.test_client().get("/readyz")
    assert holder._driver is not None
    holder.close()


def test_unknown_path_is_a_chinese_problem(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "未找到"
