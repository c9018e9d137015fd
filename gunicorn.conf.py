"""gunicorn settings: threaded workers, no preload (each worker creates its own Neo4j driver after fork,
on first use, and closes it at exit); Prometheus samples shared across workers through files.

gunicorn is not the public server: `make run` binds it to a private loopback address (GUNICORN_BIND,
127.0.0.1:8001) behind nginx (deploy/), which reads each request whole before passing it on. Exposed
directly, a gthread worker gives every connection a thread while it sends its request, so a few slow
clients hold all 2 × 4 threads (issue 12; tests/integration/test_proxy_slow_clients.py)."""
import os
import shutil
from pathlib import Path

bind = os.environ.get("LIANJIE_BIND", "127.0.0.1:8001")
worker_class = "gthread"
workers = int(os.environ.get("LIANJIE_WORKERS", "2"))
threads = int(os.environ.get("LIANJIE_THREADS", "4"))
preload_app = False
timeout = 60
graceful_timeout = 20
# nginx in front already bounds the request line and each header line to 8 KB and answers 414 / 431 itself
# (problem+json); gunicorn's own limits are set at least as high so they never answer first in plain text.
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 32768
# X-Forwarded-Proto (→ wsgi.url_scheme) is believed from the local proxy only.
forwarded_allow_ips = "127.0.0.1,::1"
pidfile = os.environ.get("LIANJIE_PIDFILE", "var/run/gunicorn.pid")
accesslog = os.environ.get("LIANJIE_ACCESSLOG", "var/log/access.log")
errorlog = os.environ.get("LIANJIE_ERRORLOG", "var/log/gunicorn.log")
# The app's JSON log lines (stderr of the workers) go to the error log too.
capture_output = True
# Set before workers import prometheus_client, so each writes its samples where /metrics aggregates them.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR",
                      os.path.join(os.path.dirname(pidfile) or ".", f"prometheus-{bind.replace(':', '-')}"))


def on_starting(server):
    """Start with an empty metrics directory (samples of a previous run's workers would be counted again)."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the aggregate."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """Close this worker's Neo4j driver and stop its job poller."""
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        app.extensions["jobs"].stop()
        app.extensions["neo4j"].close()
