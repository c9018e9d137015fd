"""Probes without a database: /healthz answers, /readyz is a Chinese 503 problem (Neo4j unreachable),
an unknown path a Chinese 404 problem. (/readyz on the test Neo4j: tests/integration/test_health.py.)"""


def test_healthz_answers_without_a_database(make_offline_app):
    response = make_offline_app().test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_is_503_problem_when_neo4j_is_unreachable(make_offline_app):
    response = make_offline_app().test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["code"] == "database_unavailable"
    assert "不可用" in body["title"]
    assert response.headers["Retry-After"]


def test_unknown_path_is_a_chinese_problem(make_offline_app):
    response = make_offline_app().test_client().get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["title"] == "未找到"
