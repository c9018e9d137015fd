"""gunicorn behind the project's nginx as child processes of the caller — what `make run` serves — for the
tests and the benchmarks (the Makefile starts the same two daemonised).

    stack = start_stack(settings, folder, public="127.0.0.1:8731", upstream="127.0.0.1:8732")
    …  stack.url  …
    stack.stop()                      # nginx first (no new requests), then gunicorn

gunicorn alone: `start_gunicorn(settings, folder, bind)` and `stop_process(process)`.
"""
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import requests

from core.settings import PROJECT_ROOT, Settings
from deploy import nginx


def gunicorn_environment(settings: Settings, folder: Path, bind: str, **overrides) -> dict[str, str]:
    """The environment of a gunicorn serving these settings on bind, its pid file, logs and metrics in folder."""
    env = settings.environment()
    env.update({
        "LIANJIE_BIND": bind, "LIANJIE_PIDFILE": str(folder / "gunicorn.pid"),
        "LIANJIE_ERRORLOG": str(folder / "gunicorn.log"), "LIANJIE_ACCESSLOG": str(folder / "access.log"),
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "prometheus"),
    })
    env.update({name: str(value) for name, value in overrides.items()})
    return env


def start_gunicorn(settings: Settings, folder: Path, bind: str, output: IO | None = None,
                   **env_overrides) -> subprocess.Popen:
    """gunicorn (gunicorn.conf.py, wsgi:app) as a child process; env_overrides are extra variables
    (LIANJIE_WORKERS, PROXY_HOPS, JOB_WORKERS_ENABLED …)."""
    folder.mkdir(parents=True, exist_ok=True)
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen([str(gunicorn), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=PROJECT_ROOT,
                            env=gunicorn_environment(settings, folder, bind, **env_overrides),
                            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT if output else None)


def stop_process(process: subprocess.Popen | None, timeout: float = 30) -> None:
    """SIGTERM (gunicorn's workers close their drivers, nginx finishes its requests), SIGKILL if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class Stack:
    """nginx in front of gunicorn; `url` is the public (proxy) address, `upstream_url` gunicorn's own."""

    folder: Path
    proxy: nginx.ProxyConfig
    gunicorn: subprocess.Popen
    nginx: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return self.proxy.url

    @property
    def upstream_url(self) -> str:
        return f"http://{self.proxy.upstream}"

    def stop(self, timeout: float = 30) -> None:
        """nginx first (no new requests), then gunicorn."""
        stop_process(self.nginx, timeout)
        stop_process(self.gunicorn, timeout)

    def logs(self) -> str:
        """The tail of every log, for a failing assertion or a start that did not come up."""
        parts = []
        for path in (self.folder / "gunicorn.log", self.proxy.error_log):
            if path.exists():
                parts.append(f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    def wait_ready(self, timeout_s: float) -> None:
        """Until /readyz answers 200 through the proxy; RuntimeError (both stopped) if a process exits or time runs out."""
        deadline = time.monotonic() + timeout_s
        verify = str(self.proxy.tls_cert) if self.proxy.tls else True
        while True:
            try:
                if requests.get(f"{self.url}/readyz", timeout=10, verify=verify).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet, or a first request slow on a busy machine: ask again until the deadline
            exited = [p.args[0] for p in (self.gunicorn, self.nginx) if p is not None and p.poll() is not None]
            if time.monotonic() > deadline or exited:
                self.stop()
                raise RuntimeError(f"stack not ready (exited: {exited}):\n{self.logs()}")
            time.sleep(0.3)


def start_stack(settings: Settings, folder: Path, public: str, upstream: str, proxy: nginx.ProxyConfig | None = None,
                ready_timeout_s: float = 90, output: IO | None = None, **env_overrides) -> Stack:
    """gunicorn on upstream and nginx on public (proxy: other settings of the rendered configuration; its home and
    logs are folder's), both children of this process and ready. gunicorn trusts one proxy (PROXY_HOPS=1)."""
    folder.mkdir(parents=True, exist_ok=True)
    gunicorn_process = start_gunicorn(settings, folder, upstream, output, **{"PROXY_HOPS": "1", **env_overrides})
    config = replace(proxy or nginx.ProxyConfig(max_upload_mb=settings.max_upload_mb),
                     listen=public, upstream=upstream, home=folder / "nginx", log_dir=folder)
    config = nginx.write_config(config)
    try:
        nginx.check(config)
    except SystemExit:
        stop_process(gunicorn_process)
        raise
    nginx_process = subprocess.Popen(nginx.command(config, "-g", "daemon off;"), stdin=subprocess.DEVNULL)
    stack = Stack(folder, config, gunicorn_process, nginx_process)
    stack.wait_ready(ready_timeout_s)
    return stack
