"""The project's nginx in front of gunicorn: render its configuration, start, reload, stop.

    python -m deploy.nginx start  [--listen 127.0.0.1:8000] [--upstream 127.0.0.1:8001] [--tls-cert C --tls-key K]
    python -m deploy.nginx stop | status | render | url

nginx is Debian's binary (`make nginx` installs it) run as a project process: its configuration
(rendered from deploy/nginx.conf.j2), pid file and temporary files are under var/nginx/, its logs under
var/log/. Nothing of the system's nginx (/etc/nginx, the nginx service) is used or touched. It works as
root (workers then drop to `nobody` when var/ is reachable by others, else stay root) and as a normal user.

Why a proxy at all: gunicorn's gthread workers give each connection a thread while it sends its request,
so ten slow clients hold every thread (2 workers × 4 threads) and the service stops answering. nginx reads
whole requests (and buffers whole responses) in its event loop and hands gunicorn only complete ones.
"""
import argparse
import grp
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = "nginx.conf.j2"
STOP_WAIT_S = 15


@dataclass(frozen=True)
class ProxyError:
    """One status nginx answers itself, with the body the app would give (same `code` as the app's)."""

    status: int
    code: str
    title: str
    detail: str
    statuses: tuple[int, ...] = ()  # nginx's internal codes routed to it (494 → 431)


def proxy_errors(max_upload_mb: int) -> list[ProxyError]:
    """Every error nginx may produce itself (its codes match the app's werkzeug-derived ones)."""
    return [
        ProxyError(400, "bad_request", "请求有误", "请求格式不正确 / malformed request"),
        ProxyError(403, "forbidden", "无权访问", "只允许从服务器本机访问 / only from the server itself"),
        ProxyError(404, "not_found", "未找到", "未找到该地址 / not found"),
        ProxyError(408, "request_timeout", "请求超时", "请求发送过慢 / the request was sent too slowly"),
        ProxyError(413, "request_entity_too_large", "内容过大",
                   f"请求内容超过 {max_upload_mb} MB / the request body exceeds {max_upload_mb} MB"),
        ProxyError(414, "request_uri_too_long", "请求地址过长", "请求地址超过 8 KB / the request URI exceeds 8 KB"),
        ProxyError(429, "too_many_requests", "请求过于频繁", "请稍后重试 / too many requests, retry later"),
        ProxyError(431, "request_header_fields_too_large", "请求头过大",
                   "请求头超过 8 KB / a request header exceeds 8 KB", statuses=(494,)),
        ProxyError(500, "internal_server_error", "服务器内部错误", "代理出错 / the proxy failed"),
        ProxyError(502, "bad_gateway", "服务暂不可用",
                   "应用服务未响应，请稍后重试 / the application server did not answer"),
        ProxyError(503, "service_unavailable", "服务暂不可用", "请稍后重试 / the service is unavailable"),
        ProxyError(504, "gateway_timeout", "服务响应超时",
                   "应用服务响应超时 / the application server took too long"),
    ]


@dataclass(frozen=True)
class ProxyConfig:
    """Everything the template needs; `for_project` fills it from the settings and the environment."""

    listen: str = "127.0.0.1:8000"          # the public address (BIND)
    upstream: str = "127.0.0.1:8001"        # gunicorn's private address (GUNICORN_BIND) or unix:/path
    home: Path = PROJECT_ROOT / "var" / "nginx"      # nginx.conf, nginx.pid, tmp/
    log_dir: Path = PROJECT_ROOT / "var" / "log"
    max_upload_mb: int = 50
    tls_cert: Path | None = None
    tls_key: Path | None = None
    hsts_max_age: int = 31536000
    rate_per_second: int = 20               # requests per second per client address …
    burst: int = 100                        # … with this many at once
    conn_per_address: int = 64
    login_per_minute: int = 60
    login_burst: int = 30
    read_timeout: int = 90                  # > gunicorn's 60 s worker timeout: the app answers first
    worker_connections: int = 1024
    unlimited: tuple[str, ...] = ("127.0.0.1", "::1")
    metrics_allow: tuple[str, ...] = ("127.0.0.1", "::1")
    worker_user: str | None = field(default=None)

    @property
    def conf_file(self) -> Path:
        return self.home / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.home / "nginx.pid"

    @property
    def temp_dir(self) -> Path:
        return self.home / "tmp"

    @property
    def error_log(self) -> Path:
        return self.log_dir / "nginx-error.log"

    @property
    def access_log(self) -> Path:
        return self.log_dir / "nginx-access.log"

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None and self.tls_key is not None

    @property
    def url(self) -> str:
        """The address a browser opens."""
        host, _, port = self.listen.rpartition(":")
        host = host if host and host not in ("0.0.0.0", "*", "[::]") else "127.0.0.1"
        return f"{'https' if self.tls else 'http'}://{host}:{port or self.listen}"

    @classmethod
    def for_project(cls, listen: str | None = None, upstream: str | None = None, tls_cert: str | None = None,
                    tls_key: str | None = None) -> "ProxyConfig":
        """The configuration `make run` uses: arguments, else the environment (BIND, GUNICORN_BIND, TLS_*, PROXY_*)."""
        sys.path.insert(0, str(PROJECT_ROOT))
        from core.settings import Settings

        env = os.environ
        settings = Settings()
        cert, key = tls_cert or env.get("TLS_CERT") or None, tls_key or env.get("TLS_KEY") or None
        if bool(cert) != bool(key):
            raise SystemExit("TLS_CERT 与 TLS_KEY 须同时设置 / set both TLS_CERT and TLS_KEY")
        config = cls(listen=listen or env.get("BIND") or cls.listen,
                     upstream=upstream or env.get("GUNICORN_BIND") or cls.upstream,
                     home=Path(settings.var_dir) / "nginx", log_dir=Path(settings.var_dir) / "log",
                     max_upload_mb=settings.max_upload_mb,
                     tls_cert=Path(cert).resolve() if cert else None, tls_key=Path(key).resolve() if key else None)
        numbers = {"PROXY_RATE": "rate_per_second", "PROXY_BURST": "burst", "PROXY_CONN_PER_ADDRESS": "conn_per_address",
                   "PROXY_LOGIN_PER_MINUTE": "login_per_minute", "PROXY_READ_TIMEOUT": "read_timeout"}
        changes = {name: int(env[var]) for var, name in numbers.items() if env.get(var)}
        for var, name in (("PROXY_UNLIMITED", "unlimited"), ("PROXY_METRICS_ALLOW", "metrics_allow")):
            if var in env:
                changes[name] = tuple(env[var].replace(",", " ").split())
        return replace(config, **changes)


def _others_can_reach(path: Path) -> bool:
    """True when every folder from / down to `path` lets other users through (so `nobody` can use it)."""
    for folder in [path, *path.parents]:
        if not folder.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def worker_user_for(config: ProxyConfig) -> str | None:
    """The `user` directive: none for a normal user (workers keep it); as root, an unprivileged one if possible."""
    if os.geteuid() != 0:
        return None
    if _others_can_reach(config.temp_dir):
        nobody = pwd.getpwnam("nobody")
        return f"nobody {grp.getgrgid(nobody.pw_gid).gr_name}"
    # Workers write request bodies into temp_dir; when `nobody` cannot reach it they stay root (as gunicorn does).
    return "root root"


def render(config: ProxyConfig) -> str:
    """The nginx.conf text for this configuration."""
    environment = Environment(loader=FileSystemLoader(Path(__file__).parent), undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    values = {name: getattr(config, name) for name in (
        "listen", "upstream", "tls", "tls_cert", "tls_key", "hsts_max_age", "rate_per_second", "burst",
        "conn_per_address", "login_per_minute", "login_burst", "read_timeout", "worker_connections", "unlimited",
        "metrics_allow", "worker_user", "pid_file", "temp_dir", "error_log", "access_log")}
    errors = [{"status": e.status, "code": e.code, "title": e.title, "detail": e.detail,
               "statuses": e.statuses or (e.status,)} for e in proxy_errors(config.max_upload_mb)]
    return environment.get_template(TEMPLATE).render(**values, max_body_mb=config.max_upload_mb + 1, errors=errors)


def write_config(config: ProxyConfig) -> ProxyConfig:
    """Create the folders, decide the worker user, write nginx.conf; the configuration as written."""
    for folder in (config.home, config.temp_dir, config.log_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for folder in (config.home, config.temp_dir):
        folder.chmod(0o755)  # nginx's workers (maybe `nobody`) reach their temp folders through these
    if config.worker_user is None:
        config = replace(config, worker_user=worker_user_for(config))
    config.conf_file.write_text(render(config), encoding="utf-8")
    return config


def nginx_binary() -> str:
    """Debian's nginx (in /usr/sbin, which a normal user's PATH often lacks)."""
    found = shutil.which("nginx") or next((path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
                                          if os.access(path, os.X_OK)), None)
    if not found:
        raise SystemExit("未找到 nginx：请运行 make nginx / nginx not found: run `make nginx`")
    return found


def command(config: ProxyConfig, *extra: str) -> list[str]:
    """nginx with the project's prefix, configuration and error log (nothing of /etc/nginx)."""
    return [nginx_binary(), "-p", f"{config.home}/", "-c", str(config.conf_file), "-e", str(config.error_log), *extra]


def check(config: ProxyConfig) -> None:
    """`nginx -t`: a clear message instead of a proxy that does not start."""
    result = subprocess.run(command(config, "-q", "-t"), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"nginx 配置无效 / invalid nginx configuration ({config.conf_file}):\n{result.stderr}")


def running_pid(config: ProxyConfig) -> int | None:
    """The master's pid when it is alive."""
    try:
        pid = int(config.pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start(config: ProxyConfig) -> ProxyConfig:
    """Write the configuration and start nginx in the background, or reload a running one (new settings apply)."""
    config = write_config(config)
    check(config)
    pid = running_pid(config)
    if pid is not None:
        os.kill(pid, signal.SIGHUP)  # re-reads nginx.conf: a changed BIND or TLS setting takes effect
        print(f"nginx 已在运行，已重新加载配置 / already running, configuration reloaded (pid {pid})")
        return config
    # nginx daemonises once it listens and has written its pid file; a taken port fails here, with its reason.
    result = subprocess.run(command(config), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"nginx 未能启动 / nginx did not start:\n{result.stderr}(see {config.error_log})")
    print(f"nginx 已启动 / started (pid {running_pid(config)}) on {config.listen} → gunicorn {config.upstream}")
    return config


def stop(config: ProxyConfig) -> bool:
    """Graceful stop (SIGQUIT: open requests finish), SIGTERM if it takes too long. False when not running."""
    pid = running_pid(config)
    if pid is None:
        return False
    os.kill(pid, signal.SIGQUIT)
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGTERM)
    config.pid_file.unlink(missing_ok=True)
    print(f"nginx 已停止 / stopped (pid {pid})")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="联结 Lianjie 的 nginx 反向代理 / the project's nginx reverse proxy")
    parser.add_argument("action", choices=["start", "stop", "status", "render", "url"])
    parser.add_argument("--listen", help="public address (default: BIND or 127.0.0.1:8000)")
    parser.add_argument("--upstream", help="gunicorn's address (default: GUNICORN_BIND or 127.0.0.1:8001)")
    parser.add_argument("--tls-cert", help="PEM certificate (default: TLS_CERT)")
    parser.add_argument("--tls-key", help="PEM private key (default: TLS_KEY)")
    args = parser.parse_args(argv)
    config = ProxyConfig.for_project(args.listen, args.upstream, args.tls_cert, args.tls_key)
    if args.action == "start":
        start(config)
    elif args.action == "stop":
        stop(config)
    elif args.action == "render":
        print(write_config(config).conf_file)
    elif args.action == "url":
        print(config.url)
    else:
        pid = running_pid(config)
        print(f"nginx {'运行中 / running (pid ' + str(pid) + ')' if pid else '未运行 / stopped'}")
        return 0 if pid else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
