"""Errors as RFC 9457 problem details (application/problem+json) with a Chinese title.

The one table from service errors to HTTP statuses is here (STATUS_OF); the web pages use it too.
"""
from flask import Flask, Response, g, jsonify
from flask.json.provider import DefaultJSONProvider
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from services import errors
from services.health import DATABASE_UNAVAILABLE

PROBLEM_MIMETYPE = "application/problem+json"

# Service error class → HTTP status (a subclass not listed takes its nearest listed base's status).
STATUS_OF: dict[type[errors.ServiceError], int] = {
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.Unsupported: 415,
    errors.Invalid: 422,
    errors.TooManyAttempts: 429,
    errors.ServiceError: 400,
}

CHINESE_TITLES = {
    400: "请求有误",
    401: "未登录或凭据无效",
    403: "无权访问",
    404: "未找到",
    405: "不支持该请求方法",
    409: "与当前状态冲突",
    413: "内容过大",
    415: "不支持的内容类型",
    422: "内容校验未通过",
    429: "请求过于频繁",
    500: "服务器内部错误",
}
# Extra headers per status: how to authenticate, when to try again.
_HEADERS = {401: {"WWW-Authenticate": 'Bearer realm="lianjie"'}, 429: {"Retry-After": "60"}}


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, where a body nested too deeply to parse is malformed input (ValueError), not a crash.

    Python's parser recurses once per `[` or `{`: 100,000 of them raise RecursionError, which Flask does not
    expect from a parser. As a ValueError it is what any malformed body is: request.get_json() answers 400
    (a problem, by the HTTPException handler below) and the API's body validation 422 (no body)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON 嵌套过深 / JSON nested too deeply") from None


def status_of(error: errors.ServiceError) -> int:
    """The HTTP status of a service error."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def problem(status: int, code: str, title: str, detail: str | None = None, **extra) -> Response:
    """A problem response: stable `code`, Chinese `title`, optional `detail` and extra members."""
    body = {"type": f"about:blank#{code}", "status": status, "code": code, "title": title}
    if detail:
        body["detail"] = detail
    body.update(extra)
    request_id = g.get("request_id") if g else None
    if request_id:
        body["request_id"] = request_id
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    return response


def service_problem(error: errors.ServiceError) -> Response:
    """The problem response of a service error."""
    status = status_of(error)
    response = problem(status, error.code, CHINESE_TITLES.get(status, "请求有误"), error.message)
    response.headers.update(_HEADERS.get(status, {}))
    return response


def database_unavailable() -> Response:
    """503 when Neo4j cannot be reached; the driver reconnects by itself once it is back."""
    response = problem(503, "database_unavailable", "图数据库暂不可用，请稍后重试", "Neo4j is unavailable")
    response.headers["Retry-After"] = "5"
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn service errors, Neo4j outages and HTTP errors into problem responses."""

    for unavailable in DATABASE_UNAVAILABLE:
        app.register_error_handler(unavailable, lambda _error: database_unavailable())
    app.register_error_handler(errors.ServiceError, service_problem)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return problem(error.code or 500, (error.name or "error").lower().replace(" ", "_"),
                       CHINESE_TITLES.get(error.code, error.name), error.description)


def validation_problem(error: ValidationError) -> Response:
    """422 for a request that breaks its schema, naming each bad field in Chinese and English."""
    errors_ = [{"field": ".".join(str(part) for part in item["loc"]) or "(body)", "message": item["msg"],
                "type": item["type"]} for item in error.errors(include_url=False, include_input=False)]
    fields = "、".join(item["field"] for item in errors_[:5])
    return problem(422, "validation_error", CHINESE_TITLES[422], f"参数不合法 / invalid parameters: {fields}",
                   errors=errors_)
