"""Background job records (match runs, uploads): a request only writes a queued Job; the runner does the work."""
import json
import uuid
from datetime import datetime, timezone

from services.principal import ROLE_NAMES, Principal

MATCH, UPLOAD, SWEEP = "match", "upload", "sweep"
KINDS = (MATCH, UPLOAD, SWEEP)
QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"
STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED)


def utc_now() -> str:
    """The current UTC time as ISO 8601 (sorts correctly as text)."""
    return datetime.now(timezone.utc).isoformat()


def requester(principal: Principal) -> str:
    """How a job names who asked for it, to everyone who may list it: the token's name and role, never its id."""
    return f"{principal.name}（{ROLE_NAMES.get(principal.role, principal.role)}）"


def new_job(kind: str, county_code: str | None, requested_by: str, params: dict, *, actor: str | None = None) -> dict:
    """The properties of a new queued job (params are stored as JSON text).

    requested_by is shown with the job (requester(principal)); actor (`role:token_id`) is kept for the audit
    trail only and never shown."""
    job = {"job_id": f"{kind}-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}", "kind": kind,
           "county_code": county_code, "requested_by": requested_by, "created_at": utc_now(),
           "params": json.dumps(params, ensure_ascii=False)}
    if actor:
        job["requested_by_actor"] = actor
    return job


def kind_of(job_id: str) -> str:
    """A job's kind from its id (ids start with the kind)."""
    for kind in (MATCH, SWEEP):
        if job_id.startswith(f"{kind}-"):
            return kind
    return UPLOAD
