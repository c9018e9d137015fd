"""Installation keys kept in var/secrets: created once, at random, readable by the owner only.

A key that is not configured is made on first use and kept in a file, so every process of the
installation (gunicorn workers, job children, the CLI, notebooks) reads the same one. Workers start
together: the file is written under a temporary name and linked into place, so whoever links first
wins and every other process reads that key (never a half-written or second one).
"""
import os
import secrets
import threading
from pathlib import Path

# Keys published in code or documentation (the old default among them): an attacker knows them.
KNOWN_DEFAULT_KEYS = frozenset({
    "dev-only-secret-change-me", "change-me", "changeme", "change_me", "secret", "secret-key", "secret_key",
    "dev", "development", "default", "password", "test", "lianjie",
})

_cache: dict[Path, tuple[tuple[int, int], str]] = {}
_lock = threading.Lock()


class InsecureSecret(ValueError):
    """A configured key that must not be used (a published default, empty, or shared between two purposes)."""


def check_configured_key(name: str, value: str) -> str:
    """The configured key; InsecureSecret when it is blank or a published default."""
    if not value.strip() or value.strip().lower() in KNOWN_DEFAULT_KEYS:
        raise InsecureSecret(f"{name} 为空或是公开的默认值，请改为随机值或删除该设置（将自动生成）/ "
                             f"{name} is blank or a published default: set a random value or unset it")
    return value


def installation_key(key_file: Path) -> str:
    """The key kept in key_file, made now (64 hex characters, mode 0600) if the file does not exist yet."""
    key_file = Path(key_file)
    try:
        stat = key_file.stat()
    except FileNotFoundError:
        _create(key_file)
        stat = key_file.stat()
    version = (stat.st_ino, stat.st_mtime_ns)  # a restored key file is a new version: read it again
    with _lock:
        cached = _cache.get(key_file)
        if cached and cached[0] == version:
            return cached[1]
        key = key_file.read_text(encoding="utf-8").strip()
        if not key:
            raise InsecureSecret(f"密钥文件为空 / empty key file: {key_file}")
        _cache[key_file] = (version, key)
        return key


def _create(key_file: Path) -> None:
    """Write a new random key to key_file unless another process has just done so."""
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = key_file.with_name(f".{key_file.name}.{os.getpid()}.{threading.get_ident()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secrets.token_hex(32) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, key_file)  # atomic, and fails if the key exists: the first process wins
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
