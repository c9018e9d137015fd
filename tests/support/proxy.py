"""The app served as `make run` serves it, for tests: nginx (deploy/nginx.py, the same template) on a public
loopback port in front of gunicorn (gunicorn.conf.py, wsgi:app) on a private one, on the test Neo4j.

    from tests.support.proxy import deployed        # fixture: a Stack for the test module
    stack = start_stack(settings, folder, proxy=…)  # or by hand; stack.stop() ends both processes

Each process is a child of the test process (nginx with `daemon off`), stopped by the fixture.
"""
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests

from core.settings import PROJECT_ROOT, Settings
from deploy import nginx
from tests.support.network import free_port

READY_TIMEOUT_S = 90


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a separate process (gunicorn) build the same Settings as `settings`."""
    env = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    # Unset means "the local Neo4j" for the app; an empty value keeps a NEO4J_URI of .env from applying.
    env["NEO4J_URI"] = settings.neo4j_uri or ""
    return env


@dataclass
class Stack:
    """nginx in front of gunicorn; `url` is the public (proxy) address, `upstream_url` gunicorn's own."""

    folder: Path
    url: str
    upstream_url: str
    proxy: nginx.ProxyConfig
    gunicorn: subprocess.Popen
    nginx: subprocess.Popen | None = None
    extra_env: dict = field(default_factory=dict)

    def stop(self) -> None:
        """nginx first (no new requests), then gunicorn (its workers close their drivers)."""
        for process in (self.nginx, self.gunicorn):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def logs(self) -> str:
        """The tail of every log, for a failing assertion."""
        parts = []
        for path in (self.folder / "gunicorn.log", self.proxy.error_log):
            if path.exists():
                parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)


def _wait_ready(stack: Stack) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            verify = str(stack.proxy.tls_cert) if stack.proxy.tls else True
            if requests.get(f"{stack.url}/readyz", timeout=10, verify=verify).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or a first request slow on a busy machine: ask again until the deadline
        exited = [p.args[0] for p in (stack.gunicorn, stack.nginx) if p is not None and p.poll() is not None]
        if time.monotonic() > deadline or exited:
            stack.stop()
            raise RuntimeError(f"stack not ready (exited: {exited}):\n{stack.logs()}")
        time.sleep(0.3)


def start_stack(settings: Settings, folder: Path, proxy: nginx.ProxyConfig | None = None, **env_overrides) -> Stack:
    """gunicorn on a free private port, nginx on a free public one, both ready; `proxy` overrides the defaults
    of the rendered configuration (ports, home and logs are always the test's own)."""
    folder.mkdir(parents=True, exist_ok=True)
    upstream = f"127.0.0.1:{free_port()}"
    env = {**os.environ, **settings_env(settings),
           "LIANJIE_BIND": upstream,
           "LIANJIE_PIDFILE": str(folder / "gunicorn.pid"),
           "LIANJIE_ERRORLOG": str(folder / "gunicorn.log"),
           "LIANJIE_ACCESSLOG": str(folder / "access.log"),
           "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
           "PROXY_HOPS": "1",  # as `make run`: the app trusts one proxy's X-Forwarded-* headers
           **{key: str(value) for key, value in env_overrides.items()}}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    gunicorn_process = subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=PROJECT_ROOT,
                                        env=env, stdin=subprocess.DEVNULL)
    config = replace(proxy or nginx.ProxyConfig(max_upload_mb=settings.max_upload_mb),
                     listen=f"127.0.0.1:{free_port()}", upstream=upstream, home=folder / "nginx", log_dir=folder)
    config = nginx.write_config(config)
    try:
        nginx.check(config)
    except SystemExit:
        gunicorn_process.terminate()
        gunicorn_process.wait(timeout=30)
        raise
    nginx_process = subprocess.Popen(nginx.command(config, "-g", "daemon off;"), stdin=subprocess.DEVNULL)
    stack = Stack(folder, config.url, f"http://{upstream}", config, gunicorn_process, nginx_process, env_overrides)
    _wait_ready(stack)
    return stack


@pytest.fixture(scope="module")
def deployed(neo4j_driver, test_settings, tmp_path_factory):
    """The app as `make run` serves it (nginx in front of gunicorn), on the test Neo4j, for one test module."""
    stack = start_stack(test_settings, tmp_path_factory.mktemp("stack"))
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def deployed_world(world, test_settings, tmp_path_factory):
    """The same stack on the `world` graph (two counties, tokens per role), with fast job polling."""
    stack = start_stack(test_settings, tmp_path_factory.mktemp("stack"), JOB_POLL_SECONDS=0.3, JOB_STALE_SECONDS=20)
    yield stack
    stack.stop()
