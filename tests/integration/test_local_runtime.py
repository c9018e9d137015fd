"""The local Neo4j runtime: reuse, stop by pid, and an app that survives a Neo4j restart."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from core.settings import PROJECT_ROOT, Settings
from graph import server
from graph.db import create_driver
from graph.schema import apply_schema
from services.context import Context
from services.tokens import issue_token
from tests.support.network import free_port


@pytest.fixture
def own_instance(tmp_path):
    """A throw-away local Neo4j (own port and data folder), stopped after the test."""
    settings = Settings(
        local_neo4j_port=free_port(),
        local_neo4j_home=tmp_path / "neo4j",
        local_neo4j_heap="512m",
        local_neo4j_pagecache="64m",
    )
    instance = server.LocalInstance.from_settings(settings)
    yield settings, instance
    server.stop(instance)


def _wait_for_status(client, path, status, timeout_s=90):
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get(path)
        if response.status_code == status or time.monotonic() > deadline:
            return response
        time.sleep(0.5)


def test_start_reuses_a_running_server_and_stop_ends_it(own_instance):
    settings, instance = own_instance
    first_pid = server.start(instance)
    assert server.start(instance) == first_pid
    assert instance.pid_file.read_text() == str(first_pid)
    assert server.stop(instance) is True
    assert not Path(f"/proc/{first_pid}").exists() or server._is_zombie(first_pid)
    assert not instance.pid_file.exists()
    assert server.stop(instance) is False


def test_readyz_and_the_api_turn_503_when_neo4j_dies_and_recover_after_restart(own_instance, make_app):
    settings, instance = own_instance
    pid = server.start(instance)
    app = make_app(settings, job_workers_enabled=False)
    with create_driver(settings) as driver:
        apply_schema(driver)
        token = issue_token(Context(driver, settings), "admin", "runtime test")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/readyz").status_code == 200
    assert client.get("/api/v1/households", headers=headers).status_code == 200

    os.kill(pid, signal.SIGKILL)
    down = _wait_for_status(client, "/readyz", 503)
    assert down.status_code == 503
    assert down.mimetype == "application/problem+json"
    api_down = client.get("/api/v1/households", headers=headers)
    assert api_down.status_code == 503 and api_down.mimetype == "application/problem+json"
    assert api_down.get_json()["code"] == "database_unavailable" and api_down.headers["Retry-After"]

    server.start(instance)  # same app, same driver: no app restart
    assert _wait_for_status(client, "/readyz", 200).status_code == 200
    assert client.get("/api/v1/households", headers=headers).status_code == 200


def test_gunicorn_serves_wsgi_app_on_the_test_neo4j(neo4j_driver, test_settings, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "LIANJIE_BIND": f"127.0.0.1:{port}",
        "LIANJIE_PIDFILE": str(tmp_path / "gunicorn.pid"),
        "LIANJIE_ERRORLOG": str(tmp_path / "gunicorn.log"),
        "LIANJIE_ACCESSLOG": str(tmp_path / "access.log"),
        "LOCAL_NEO4J_PORT": str(test_settings.local_neo4j_port),
        "LOCAL_NEO4J_HOME": str(test_settings.local_neo4j_home),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
    }
    env.pop("NEO4J_URI", None)
    if test_settings.neo4j_uri:
        env["NEO4J_URI"] = test_settings.neo4j_uri
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=PROJECT_ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.3)
        assert response.status_code == 200
        health = requests.get(f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "probe-42"}, timeout=5)
        assert health.json() == {"status": "ok"} and health.headers["X-Request-ID"] == "probe-42"
        for _ in range(6):  # spread over both workers
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        served = sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
                     if line.startswith("lianjie_http_requests_total{") and 'endpoint="/healthz"' in line)
        assert served == 7, "requests counted across every worker"
        logged = [json.loads(line) for line in (tmp_path / "gunicorn.log").read_text().splitlines()
                  if line.startswith("{")]
        assert any(entry.get("request_id") == "probe-42" and entry.get("path") == "/healthz" for entry in logged)
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
