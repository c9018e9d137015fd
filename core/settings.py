"""One settings object for the app, the ETL, matching and the notebooks.

Values come from the environment and an optional `.env` file in the working
directory. When NEO4J_URI is unset, Lianjie runs its own local Neo4j
(see graph/server.py) on LOCAL_NEO4J_PORT.
"""
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.secrets import InsecureSecret, check_configured_key, installation_key

__all__ = ["PROJECT_ROOT", "InsecureSecret", "Settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration read from the environment (names are the upper-case field names)."""

    model_config = SettingsConfigDict(env_file=PROJECT_ROOT / ".env", env_file_encoding="utf-8", extra="ignore")

    neo4j_uri: str | None = Field(default=None, description="An existing Neo4j; unset → the local one")
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str | None = None
    neo4j_connection_timeout: float = 5.0
    # A pooled connection idle longer than this is checked before reuse (a restarted server is noticed);
    # a busy one is not (a lost connection is retried by the driver's managed transactions).
    neo4j_liveness_check_seconds: float = Field(default=10.0, ge=0)

    local_neo4j_port: int = 7687
    local_neo4j_home: Path = PROJECT_ROOT / "var" / "neo4j" / "dev"
    local_neo4j_heap: str = "1g"
    local_neo4j_pagecache: str = "512m"

    # Signs the web session cookie (which holds only a random session id). Unset → a random key made once
    # and kept in var/secrets/session.key; a published default is refused at start.
    secret_key: str | None = None
    # Keys the analysts' household pseudonyms; never the session key. Unset → var/secrets/pseudonym.key.
    pseudonym_key: str | None = None
    # Keys the household references (household_ref "A…") of the analysts' pseudonymised data files
    # (services/analyst_data.py); apart from every web key, so a leaked file ties to no page or API answer.
    # Unset → var/secrets/analyst_pseudonym.key.
    analyst_pseudonym_key: str | None = None
    # Key of the HMAC that replaces ID card numbers; unset → a random key kept in var/secrets.
    id_hash_key: str | None = None
    var_dir: Path = PROJECT_ROOT / "var"
    etl_batch_size: int = 5000

    # Failed logins per client address, counted where every worker and server sees them: "graph" (the
    # default) counts in Neo4j; a `limits` storage URI (redis://…, memory:// = this process only) instead.
    failed_login_limit: str = "10/minute"
    ratelimit_storage_uri: str = "graph"
    # Web sessions (server side, in the graph): ended after this much inactivity, and at the latest this
    # long after sign-in.
    web_session_idle_minutes: int = Field(default=60, ge=1)
    web_session_hours: int = Field(default=8, ge=1)
    # Reverse proxies in front of the app whose X-Forwarded-For / -Proto / -Host are trusted (0: none,
    # served directly; 1: one nginx). Never more than there are, or clients choose their own address.
    proxy_hops: int = Field(default=0, ge=0)
    # /metrics answers the loopback address (a local Prometheus, or the proxy's own checks) and, when set,
    # a caller presenting `Authorization: Bearer <METRICS_TOKEN>`.
    metrics_token: str | None = None
    # Background jobs (match runs, uploads): how often a worker looks for queued jobs, and when a
    # running job whose heartbeat stopped is taken over by another worker.
    job_poll_seconds: float = 2.0
    job_stale_seconds: float = 60.0
    job_workers_enabled: bool = True
    # Once a day (China time) a worker queues the sweep job: partnerships past their end date raise follow-up
    # items, warnings that a passing day changes are refreshed, counties with new items get a run.
    daily_sweep: bool = True
    # Audit events of unmasked reads are spooled to a local file at once and stored in the graph in batches
    # this often (graph/auditlog.py); 0 stores them before the read returns.
    audit_flush_seconds: float = Field(default=0.2, ge=0, le=10)
    # Match runs (matching/province.py): county tasks on Dask. Unset address: a LocalCluster of match_workers
    # processes (default: one per core) for runs of several counties; a run of one county runs in its own process.
    dask_scheduler_address: str | None = Field(default=None, description="An existing Dask scheduler, tcp:// or tls://")
    # "inprocess": every run's county tasks one after another in the run's own process (no Dask).
    match_cluster: Literal["local", "inprocess"] = "local"
    match_workers: int | None = Field(default=None, ge=1)
    # Each LocalCluster worker spills to disk above 60 % of this and pauses at 80 % (Dask's own memory management).
    match_worker_memory: str = "2GiB"
    match_task_retries: int = Field(default=2, ge=0)
    # Counties contesting the same enterprises are solved together up to this many households (the optimum of
    # the group; memory grows with it); beyond it the contested places are shared out (matching/partition.py).
    match_max_group_households: int = Field(default=100_000, ge=1)
    # Rounds of solving groups again (a bound: 1,000,000 households converge in 15); the slots still over-used
    # after them are shared out and the plans cut.
    match_coordination_rounds: int = Field(default=20, ge=1)
    # Start the coordination from the groups and shares of contested capacity the latest province-wide run
    # ended with (off: every county starts alone, with no share).
    match_warm_start: bool = True
    max_upload_mb: int = 50
    # Uploaded workbooks: what their parts may inflate to in total (an .xls: its file size), and the largest
    # compression ratio of a part over 1 MB (zip bombs are refused before they are read).
    max_uncompressed_mb: int = Field(default=512, ge=1)
    max_compression_ratio: float = Field(default=100, gt=1)
    log_json: bool = True
    # Browsers keep Secure cookies on http://localhost too; switch off only behind plain-HTTP proxies.
    session_cookie_secure: bool = True

    @property
    def audit_spool_dir(self) -> Path:
        """Where audit events wait to be stored in the graph (one locked file per process)."""
        return Path(self.var_dir) / "audit-spool"

    @property
    def secrets_dir(self) -> Path:
        """Where the installation's generated keys live (back it up with the graph)."""
        return Path(self.var_dir) / "secrets"

    def id_hash_secret(self) -> bytes:
        """The ID-number hashing key (created once per installation when not configured)."""
        if self.id_hash_key:
            return self.id_hash_key.encode("utf-8")
        return installation_key(self.secrets_dir / "id_hash.key").encode("utf-8")

    def session_secret(self) -> str:
        """The key that signs session cookies: SECRET_KEY, else the installation's own random key.

        InsecureSecret for a published default or a blank value, so the app refuses to start with one."""
        if self.secret_key is not None:
            return check_configured_key("SECRET_KEY", self.secret_key)
        return installation_key(self.secrets_dir / "session.key")

    def pseudonym_secret(self) -> str:
        """The key of the analysts' household pseudonyms: PSEUDONYM_KEY, else the installation's own key.

        Never the session key: whoever learns one must not be able to reverse the pseudonyms."""
        if self.pseudonym_key is not None:
            key = check_configured_key("PSEUDONYM_KEY", self.pseudonym_key)
        else:
            key = installation_key(self.secrets_dir / "pseudonym.key")
        if key == self.session_secret():
            raise InsecureSecret("PSEUDONYM_KEY 不得与 SECRET_KEY 相同 / PSEUDONYM_KEY must differ from SECRET_KEY")
        return key

    def analyst_pseudonym_secret(self) -> str:
        """The key of the household references in the analysts' data files (services/analyst_data.py):
        ANALYST_PSEUDONYM_KEY, else the installation's own key (var/secrets/analyst_pseudonym.key).

        Apart from SECRET_KEY, the session key and the web pseudonym key (PSEUDONYM_KEY): the files leave the
        application, so whoever holds them must not be able to recompute the web's pseudonyms, nor the reverse."""
        if self.analyst_pseudonym_key is not None:
            key = check_configured_key("ANALYST_PSEUDONYM_KEY", self.analyst_pseudonym_key)
        else:
            key = installation_key(self.secrets_dir / "analyst_pseudonym.key")
        if key in (self.session_secret(), self.pseudonym_secret()):
            raise InsecureSecret("ANALYST_PSEUDONYM_KEY 不得与 SECRET_KEY 或 PSEUDONYM_KEY 相同 / "
                                 "ANALYST_PSEUDONYM_KEY must differ from SECRET_KEY and PSEUDONYM_KEY")
        return key

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) with these settings as variables, so that a child
        process (a job, gunicorn) builds the same Settings. An unset setting is removed rather than left to
        `.env`; NEO4J_URI unset is written empty, so a NEO4J_URI in `.env` cannot redirect the child."""
        env = dict(os.environ if base is None else base)
        for name, value in self.model_dump().items():
            if value is None:
                env.pop(name.upper(), None)
            else:
                env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
        env["NEO4J_URI"] = self.neo4j_uri or ""
        return env

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
