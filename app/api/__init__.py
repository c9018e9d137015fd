"""API v1: JSON resources under /api/v1, documented by OpenAPI (served at /openapi.json, docs at /docs)."""
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from app.api.schemas import Problem

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 429: Problem,
          503: Problem}

api = APIBlueprint("api_v1", __name__, url_prefix="/api/v1", abp_security=[{"bearer": []}], abp_responses=ERRORS)


def tag(name: str, description: str) -> list[Tag]:
    """An OpenAPI tag for a group of endpoints."""
    return [Tag(name=name, description=description)]


def dump(model: BaseModel) -> dict:
    """A response model as JSON data; fields the caller may not see are absent, never null placeholders."""
    return model.model_dump(mode="json", exclude_none=True)


def register_api(app) -> None:
    """Import the resource modules (they attach their routes to `api`) and register the blueprint."""
    from app.api import (audit, enterprises, households, identity, partnerships, projects,  # noqa: F401
                         recommendations, regions, runs, uploads)

    app.register_api(api)
