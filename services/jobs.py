"""Background job records (match runs, uploads): a request only writes a queued Job; the runner does the work."""
import json
import uuid
from datetime import datetime, timezone

MATCH, UPLOAD = "match", "upload"
KINDS = (MATCH, UPLOAD)
QUEUED, RUNNING, COMPLETED, FAILED = "queued", "running", "completed", "failed"
STATUSES = (QUEUED, RUNNING, COMPLETED, FAILED)


def utc_now() -> str:
    """The current UTC time as ISO 8601 (sorts correctly as text)."""
    return datetime.now(timezone.utc).isoformat()


def new_job(kind: str, county_code: str | None, requested_by: str, params: dict) -> dict:
    """The properties of a new queued job (params are stored as JSON text)."""
    return {"job_id": f"{kind}-{datetime.now(timezone.utc):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}", "kind": kind,
            "county_code": county_code, "requested_by": requested_by, "created_at": utc_now(),
            "params": json.dumps(params, ensure_ascii=False)}


def kind_of(job_id: str) -> str:
    """A job's kind from its id (ids start with the kind)."""
    return MATCH if job_id.startswith(f"{MATCH}-") else UPLOAD
