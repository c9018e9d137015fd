"""The deployment `make run` serves (nginx from deploy/ in front of gunicorn): limits, errors, headers, TLS.

Before the proxy, gunicorn answered too-long URIs and headers itself with plain-text 414 / 400 pages
(not problem+json), /metrics was open to anyone who could reach the port, and a client's own
X-Forwarded-For reached the app. Behind nginx each of these is answered as below.
"""
import json
import socket
import subprocess
import time
from urllib.parse import urlsplit

import pytest
import requests

from deploy import nginx
from tests.support.proxy import deployed, start_stack  # noqa: F401  (fixture)

PROBLEM = "application/problem+json"
SECURITY_HEADERS = {"X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"}


def assert_problem(response, status: int, code: str, title: str) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["Content-Type"].split(";")[0] == PROBLEM, response.headers
    body = response.json()
    assert body["status"] == status and body["code"] == code and body["title"] == title, body
    assert body["request_id"] == response.headers["X-Request-ID"], "the id in the body is the one in the header"
    return body


def header_values(response, name: str) -> list[str]:
    """Every value of a header as sent (requests folds repeated headers into one)."""
    return response.raw.headers.getlist(name)


def raw_request(url: str, request: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are, return everything the server answers before closing."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except ConnectionResetError:
            pass  # the server closed with our bytes unread: what came before the reset is the answer
    return b"".join(chunks)


def test_a_too_long_uri_is_refused_as_problem_json(deployed):  # noqa: F811
    response = requests.get(f"{deployed.url}/api/v1/households?q={'x' * 9000}", timeout=10)
    body = assert_problem(response, 414, "request_uri_too_long", "请求地址过长")
    assert "8 KB" in body["detail"]


def test_requests_just_under_the_proxy_limits_reach_the_app(deployed):  # noqa: F811
    """gunicorn's own limits are not lower than nginx's: it never answers first, in plain text."""
    long_uri = requests.get(f"{deployed.url}/healthz?q={'x' * 7900}", timeout=10)
    assert long_uri.status_code == 200, long_uri.text[:300]
    big_header = requests.get(f"{deployed.url}/healthz", headers={"X-Filler": "y" * 7900}, timeout=10)
    assert big_header.status_code == 200, big_header.text[:300]
    many = requests.get(f"{deployed.url}/healthz", headers={f"X-F{i}": "v" for i in range(150)}, timeout=10)
    assert many.status_code == 200, many.text[:300]


def test_a_too_large_header_is_refused_as_problem_json(deployed):  # noqa: F811
    response = requests.get(f"{deployed.url}/healthz", headers={"X-Filler": "y" * 9000}, timeout=10)
    assert_problem(response, 431, "request_header_fields_too_large", "请求头过大")
    cookie = requests.get(f"{deployed.url}/healthz", headers={"Cookie": "session=" + "z" * 9000}, timeout=10)
    assert_problem(cookie, 431, "request_header_fields_too_large", "请求头过大")


def test_a_body_above_max_upload_mb_is_refused_before_it_is_read(deployed, test_settings):  # noqa: F811
    announced = (test_settings.max_upload_mb + 2) * 1024 * 1024
    answer = raw_request(deployed.url, (f"POST /api/v1/uploads HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\n"
                                        f"Content-Length: {announced}\r\n\r\n").encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"Content-Type: application/problem+json" in head
    assert json.loads(body)["code"] == "request_entity_too_large"


def test_a_malformed_request_is_refused_as_problem_json(deployed):  # noqa: F811
    for request in (b"GET /\x01 HTTP/1.1\r\nHost: t\r\n\r\n", b"GARBAGE\r\n\r\n",
                    b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n"):
        head, _, body = raw_request(deployed.url, request).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400"), (request, head)
        assert json.loads(body)["title"] == "请求有误"


def test_security_headers_are_sent_once_on_app_pages_api_and_proxy_errors(deployed):  # noqa: F811
    responses = {
        "page": requests.get(f"{deployed.url}/login", timeout=10),
        "api": requests.get(f"{deployed.url}/api/v1/households", timeout=10),  # 401 from the app
        "health": requests.get(f"{deployed.url}/healthz", timeout=10),
        "proxy error": requests.get(f"{deployed.url}/{'u' * 9000}", timeout=10),
    }
    for name, response in responses.items():
        for header in SECURITY_HEADERS | {"X-Request-ID"}:
            assert len(header_values(response, header)) == 1, (name, header, response.headers)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN")
        assert len(header_values(response, "Cache-Control")) == 1, (name, response.headers)
        assert response.headers["Server"] == "nginx", "no version, and not gunicorn's banner"
    assert "no-store" in responses["proxy error"].headers["Cache-Control"]


def test_request_ids_pass_through_and_forged_forwarding_headers_do_not(deployed):  # noqa: F811
    response = requests.get(f"{deployed.url}/healthz", timeout=10,
                            headers={"X-Request-ID": "probe-proxy-1", "X-Forwarded-For": "203.0.113.66",
                                     "X-Forwarded-Host": "evil.example", "Forwarded": "for=203.0.113.66"})
    assert response.status_code == 200 and header_values(response, "X-Request-ID") == ["probe-proxy-1"]
    forged = requests.get(f"{deployed.url}/healthz", headers={"X-Request-ID": 'bad"id'}, timeout=10)
    assert forged.headers["X-Request-ID"] != 'bad"id' and len(forged.headers["X-Request-ID"]) >= 16
    time.sleep(0.5)  # the app's log line is written after the response
    app_log = (deployed.folder / "gunicorn.log").read_text(errors="replace")
    logged = [json.loads(line) for line in app_log.splitlines() if line.startswith("{")]
    probe = [entry for entry in logged if entry.get("request_id") == "probe-proxy-1"]
    assert probe and all(entry.get("client") in ("127.0.0.1", None) for entry in probe), probe
    assert "203.0.113.66" not in app_log and "evil.example" not in app_log
    proxy_log = [json.loads(line) for line in deployed.proxy.access_log.read_text().splitlines()]
    assert any(entry["request_id"] == "probe-proxy-1" and entry["status"] == 200 for entry in proxy_log)


def test_metrics_answer_on_loopback_through_the_proxy(deployed):  # noqa: F811
    response = requests.get(f"{deployed.url}/metrics", timeout=10)
    assert response.status_code == 200 and "lianjie_http_requests_total" in response.text


@pytest.fixture(scope="module")
def strict(neo4j_driver, test_settings, tmp_path_factory):
    """A stack whose proxy allows /metrics to nobody and limits loopback too (1 request/s, burst 5)."""
    proxy = nginx.ProxyConfig(metrics_allow=(), unlimited=(), rate_per_second=1, burst=5,
                              max_upload_mb=test_settings.max_upload_mb)
    stack = start_stack(test_settings, tmp_path_factory.mktemp("strict"), proxy=proxy, JOB_WORKERS_ENABLED="false")
    yield stack
    stack.stop()


def test_metrics_are_refused_to_addresses_outside_the_allow_list(strict):
    time.sleep(6)  # a full burst again after the readiness probes
    response = requests.get(f"{strict.url}/metrics", timeout=10)
    assert_problem(response, 403, "forbidden", "无权访问")
    assert requests.get(f"{strict.upstream_url}/metrics", timeout=10).status_code == 200, \
        "still readable on the private address, from the server itself"


def test_a_client_above_the_rate_limit_gets_429_problem_json(strict):
    time.sleep(6)
    statuses = []
    for _ in range(20):
        response = requests.get(f"{strict.url}/healthz", timeout=10)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert_problem(response, 429, "too_many_requests", "请求过于频繁")
            assert response.headers["Retry-After"] == "1"
    assert statuses[:5] == [200] * 5 and statuses.count(429) >= 10, statuses


def test_the_app_down_is_a_502_problem_json(neo4j_driver, test_settings, tmp_path):
    stack = start_stack(test_settings, tmp_path / "down", JOB_WORKERS_ENABLED="false")
    try:
        stack.gunicorn.terminate()
        stack.gunicorn.wait(timeout=30)
        response = requests.get(f"{stack.url}/api/v1/households", timeout=10)
        assert_problem(response, 502, "bad_gateway", "服务暂不可用")
        assert response.headers["Retry-After"] == "5"
        assert header_values(response, "X-Frame-Options") == ["DENY"]
    finally:
        stack.stop()


def test_tls_serves_https_with_hsts(neo4j_driver, test_settings, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    proxy = nginx.ProxyConfig(tls_cert=cert, tls_key=key, max_upload_mb=test_settings.max_upload_mb)
    stack = start_stack(test_settings, tmp_path / "tls", proxy=proxy, JOB_WORKERS_ENABLED="false")
    try:
        assert stack.url.startswith("https://")
        response = requests.get(f"{stack.url}/healthz", verify=str(cert), timeout=10)
        assert response.status_code == 200
        assert header_values(response, "Strict-Transport-Security") == ["max-age=31536000"]
        plain = requests.get(stack.url.replace("https://", "http://") + "/healthz", timeout=5, allow_redirects=False)
        assert plain.status_code == 301 and plain.headers["Location"] == f"{stack.url}/healthz"
    finally:
        stack.stop()
