"""gunicorn settings: threaded workers, no preload (each worker creates its own Neo4j driver)."""
import os

bind = os.environ.get("LIANJIE_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("LIANJIE_WORKERS", "2"))
threads = int(os.environ.get("LIANJIE_THREADS", "4"))
preload_app = False
timeout = 60
graceful_timeout = 20
pidfile = os.environ.get("LIANJIE_PIDFILE", "var/run/gunicorn.pid")
accesslog = os.environ.get("LIANJIE_ACCESSLOG", "var/log/access.log")
errorlog = os.environ.get("LIANJIE_ERRORLOG", "var/log/gunicorn.log")
