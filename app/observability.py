"""Operations: a request id on every request and log line, JSON logs, Prometheus metrics at /metrics.

Under gunicorn, PROMETHEUS_MULTIPROC_DIR (set in gunicorn.conf.py) makes every worker
write its samples to files that /metrics aggregates, whichever worker answers.

/metrics answers only a caller on the loopback address (a Prometheus on this machine; behind the
proxy, PROXY_HOPS makes the address the real client's, so outside callers are refused) or one that
presents `Authorization: Bearer <METRICS_TOKEN>` when that setting is made; others get 403.
"""
import hmac
import ipaddress
import logging
import os
import re
import sys
import time
import uuid

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from pythonjsonlogger.json import JsonFormatter

from app.problems import problem
from core.settings import Settings

REQUESTS = Counter("lianjie_http_requests_total", "HTTP requests", ["method", "endpoint", "status"])
LATENCY = Histogram("lianjie_http_request_duration_seconds", "HTTP request latency", ["method", "endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
access_log = logging.getLogger("lianjie.access")


class RequestIdFilter(logging.Filter):
    """Adds the current request's id (if any) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.request_id = g.get("request_id")
        except RuntimeError:  # outside a request
            record.request_id = None
        return True


def configure_logging(settings: Settings) -> None:
    """JSON lines on stderr for the `lianjie` loggers (gunicorn sends stderr to its error log)."""
    logger = logging.getLogger("lianjie")
    if any(getattr(handler, "lianjie", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.lianjie = True
    if settings.log_json:
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                           json_ensure_ascii=False))
    handler.addFilter(RequestIdFilter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _loopback(address: str | None) -> bool:
    try:
        return ipaddress.ip_address(address or "").is_loopback
    except ValueError:
        return False


def metrics_allowed(settings: Settings) -> bool:
    """A local caller, or one presenting the configured METRICS_TOKEN."""
    if settings.metrics_token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode("utf-8"),
                                                              settings.metrics_token.encode("utf-8")):
            return True
    return _loopback(request.remote_addr)


def metrics_response() -> Response:
    """The Prometheus exposition of this process, or of every worker in multiprocess mode."""
    if not metrics_allowed(current_app.config["LIANJIE_SETTINGS"]):
        return problem(403, "metrics_forbidden", "无权访问",
                       "指标只对本机或持有 METRICS_TOKEN 的调用者开放 / metrics: loopback or METRICS_TOKEN only")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, mimetype=CONTENT_TYPE_LATEST)


def init_observability(app: Flask, settings: Settings) -> None:
    """Request ids, access log lines and metrics for every request."""
    configure_logging(settings)

    @app.before_request
    def _start_request():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish_request(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        LATENCY.labels(request.method, endpoint).observe(elapsed)
        response.headers["X-Request-ID"] = g.get("request_id", "")
        principal = g.get("principal")
        access_log.info("request", extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round(elapsed * 1000, 2), "role": principal.role if principal else None,
            "token_id": principal.token_id if principal else None, "client": request.remote_addr})
        return response

    app.add_url_rule("/metrics", "metrics", metrics_response)
