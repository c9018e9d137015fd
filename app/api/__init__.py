"""API v1: JSON resources under /api/v1, documented by OpenAPI (served at /openapi.json, docs at /docs).

Each handler parses and validates the request (schemas.py), calls one service function with the
caller's principal, and dumps the response model; service errors become problems in app/problems.py.
"""
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel

from app.api.schemas import Problem

_ERROR_MEANINGS = {400: "请求有误", 401: "未登录或令牌无效", 403: "无权访问", 404: "未找到（或不在您的范围内）",
                   409: "与当前状态冲突", 413: "文件过大", 415: "不支持的文件类型", 422: "参数校验未通过",
                   429: "登录失败次数过多", 503: "图数据库暂不可用"}
# Errors are documented with their real media type, application/problem+json.
ERRORS = {status: {"description": meaning,
                   "content": {"application/problem+json": {"schema": Problem.model_json_schema()}}}
          for status, meaning in _ERROR_MEANINGS.items()}

api = APIBlueprint("api_v1", __name__, url_prefix="/api/v1", abp_security=[{"bearer": []}], abp_responses=ERRORS)


def tag(name: str, description: str) -> list[Tag]:
    """An OpenAPI tag for a group of endpoints."""
    return [Tag(name=name, description=description)]


def dump(model: BaseModel) -> dict:
    """A response model as JSON data; fields the caller may not see are absent, never null placeholders."""
    return model.model_dump(mode="json", exclude_none=True)


def page_of(page_model: type[BaseModel], result: tuple[list[dict], int], query, next_cursor: str | None = None) -> dict:
    """A page response from a service's (items, total), the query's page and page size, and the next cursor."""
    items, total = result
    return dump(page_model(items=items, page=query.page, page_size=query.page_size, total=total,
                           next_cursor=next_cursor))


def register_api(app) -> None:
    """Import the resource modules (they attach their routes to `api`) and register the blueprint."""
    from app.api import (audit, enterprises, followups, households, identity, match_rules, outcomes, queue,  # noqa: F401
                         partnerships, projects, recommendations, regions, runs, uploads)

    app.register_api(api)
