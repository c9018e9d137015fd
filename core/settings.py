"""One settings object for the app, the ETL, matching and the notebooks.

Values come from the environment and an optional `.env` file in the working
directory. When NEO4J_URI is unset, Lianjie runs its own local Neo4j
(see graph/server.py) on LOCAL_NEO4J_PORT.
"""
import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration read from the environment (names are the upper-case field names)."""

    model_config = SettingsConfigDict(env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore")

    neo4j_uri: str | None = Field(default=None, description="An existing Neo4j; unset → the local one")
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str | None = None
    neo4j_connection_timeout: float = 5.0

    local_neo4j_port: int = 7687
    local_neo4j_home: Path = PROJECT_ROOT / "var" / "neo4j" / "dev"
    local_neo4j_heap: str = "1g"
    local_neo4j_pagecache: str = "512m"

    secret_key: str = "dev-only-secret-change-me"
    # Key of the HMAC that replaces ID card numbers; unset → a random key kept in var/secrets.
    id_hash_key: str | None = None
    var_dir: Path = PROJECT_ROOT / "var"
    etl_batch_size: int = 5000

    # Failed logins per client address; storage "memory://" is per process, a redis:// URI shares it.
    failed_login_limit: str = "10/minute"
    ratelimit_storage_uri: str = "memory://"
    # Background jobs (match runs, uploads): how often a worker looks for queued jobs, and when a
    # running job whose heartbeat stopped is taken over by another worker.
    job_poll_seconds: float = 2.0
    job_stale_seconds: float = 60.0
    job_workers_enabled: bool = True
    max_upload_mb: int = 50
    log_json: bool = True
    # Browsers keep Secure cookies on http://localhost too; switch off only behind plain-HTTP proxies.
    session_cookie_secure: bool = True

    def id_hash_secret(self) -> bytes:
        """The ID-number hashing key (created once per installation when not configured)."""
        if self.id_hash_key:
            return self.id_hash_key.encode("utf-8")
        key_file = Path(self.var_dir) / "secrets" / "id_hash.key"
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.touch(mode=0o600)
            key_file.write_text(secrets.token_hex(32))
        return key_file.read_text().strip().encode("utf-8")

    @property
    def uses_local_neo4j(self) -> bool:
        """True when Lianjie must run its own Neo4j (no NEO4J_URI given)."""
        return not self.neo4j_uri

    @property
    def bolt_uri(self) -> str:
        """The Neo4j address the driver connects to."""
        return self.neo4j_uri or f"bolt://127.0.0.1:{self.local_neo4j_port}"

    @property
    def neo4j_auth(self) -> tuple[str, str] | None:
        """Driver credentials; the local server runs without authentication."""
        if self.uses_local_neo4j and not self.neo4j_password:
            return None
        return (self.neo4j_user, self.neo4j_password)
