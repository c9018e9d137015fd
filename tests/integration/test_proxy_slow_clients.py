"""Slow clients against the deployment `make run` serves: they must not stall the service.

The attack of issue 12: ten connections that each send one header line every 3 s (slowloris), or a
request body one byte every 3 s, hold gunicorn's threads (2 gthread workers × 4 threads) while they
dribble; a /healthz sent meanwhile waited 9–15 s. Behind the buffering proxy the slow requests wait in
nginx (event loop, no thread each) and reach gunicorn only when complete, so /healthz answers at once.

Measured when gunicorn was still the public server (before deploy/): /healthz under slow headers 0.01 s
then 12.00 s (the probe's time-out), under slow bodies 12.00 s; behind nginx every probe ≤ 0.01 s.
"""
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.proxy import deployed  # noqa: F401  (fixture)

SLOW_CLIENTS = 10
DRIP_INTERVAL_S = 3.0
ATTACK_S = 14.0           # how long the slow clients keep dribbling
HEALTHZ_BUDGET_S = 2.0    # /healthz must answer within this while they do
PROBE_TIMEOUT_S = 12.0


class SlowClients:
    """`count` connections that each keep one request incomplete, sending a little every DRIP_INTERVAL_S."""

    def __init__(self, host: str, port: int, count: int, kind: str):
        self.host, self.port, self.count, self.kind = host, port, count, kind
        self.stop = threading.Event()
        self.sockets: list[socket.socket] = []
        self.thread = threading.Thread(target=self._drip, daemon=True)

    def _opening(self) -> bytes:
        if self.kind == "headers":  # a request line and one header, never the blank line that ends them
            return f"GET / HTTP/1.1\r\nHost: {self.host}\r\n".encode()
        # a complete header announcing a body that then arrives one byte at a time
        return (f"POST /api/v1/partnerships/x HTTP/1.1\r\nHost: {self.host}\r\n"
                f"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n").encode()

    def _drip_bytes(self, n: int) -> bytes:
        return f"X-Slow-{n}: a\r\n".encode() if self.kind == "headers" else b" "

    def __enter__(self):
        for _ in range(self.count):
            sock = socket.create_connection((self.host, self.port), timeout=5)
            sock.sendall(self._opening())
            self.sockets.append(sock)
        self.thread.start()
        return self

    def _drip(self):
        n = 0
        while not self.stop.wait(DRIP_INTERVAL_S):
            n += 1
            for sock in self.sockets:
                try:
                    sock.sendall(self._drip_bytes(n))
                except OSError:
                    pass  # the server gave up on this one: fine

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def _healthz_seconds(url: str) -> float:
    """Latency of GET /healthz (PROBE_TIMEOUT_S when it does not answer in time)."""
    started = time.monotonic()
    try:
        response = requests.get(f"{url}/healthz", timeout=PROBE_TIMEOUT_S)
        assert response.status_code == 200, response.text
    except requests.Timeout:
        return PROBE_TIMEOUT_S
    return time.monotonic() - started


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["headers", "body"])
def test_slow_clients_do_not_stall_healthz(deployed, kind):  # noqa: F811
    parts = urlsplit(deployed.url)
    assert _healthz_seconds(deployed.url) < HEALTHZ_BUDGET_S, "healthy before the attack"
    latencies = []
    with SlowClients(parts.hostname, parts.port, SLOW_CLIENTS, kind):
        time.sleep(1.0)  # the slow requests are accepted and (without the proxy) each holds a thread
        attack_ends = time.monotonic() + ATTACK_S - 1.0
        while time.monotonic() < attack_ends - 1.0 and len(latencies) < 4:
            latencies.append(_healthz_seconds(deployed.url))
            time.sleep(1.0)
    print(f"/healthz latency under {SLOW_CLIENTS} slow clients ({kind}): "
          + ", ".join(f"{seconds:.2f} s" for seconds in latencies))
    assert max(latencies) < HEALTHZ_BUDGET_S, latencies
    assert _healthz_seconds(deployed.url) < HEALTHZ_BUDGET_S, "healthy after the attack"
