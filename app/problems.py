"""Errors as RFC 9457 problem details (application/problem+json) with a Chinese message."""
import neo4j
from flask import Flask, Response, g, jsonify
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from app.auth import AuthError

PROBLEM_MIMETYPE = "application/problem+json"


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


def database_unavailable() -> Response:
    """503 when Neo4j cannot be reached; the driver reconnects by itself once it is back."""
    response = problem(503, "database_unavailable", "图数据库暂不可用，请稍后重试", "Neo4j is unavailable")
    response.headers["Retry-After"] = "5"
    return response


def register_error_handlers(app: Flask) -> None:
    """Turn Neo4j outages and HTTP errors into problem responses."""

    @app.errorhandler(neo4j.exceptions.ServiceUnavailable)
    @app.errorhandler(neo4j.exceptions.SessionExpired)
    def _neo4j_down(_error):
        return database_unavailable()

    @app.errorhandler(AuthError)
    def _auth_error(error: AuthError):
        response = problem(error.status, error.code, _CHINESE_TITLES.get(error.status, "请求有误"), error.message)
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="lianjie"'
        if error.status == 429:
            response.headers["Retry-After"] = "60"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        return problem(error.code or 500, (error.name or "error").lower().replace(" ", "_"),
                       _CHINESE_TITLES.get(error.code, error.name), error.description)


_CHINESE_TITLES = {
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


def validation_problem(error: ValidationError) -> Response:
    """422 for a request that breaks its schema, naming each bad field in Chinese and English."""
    errors = [{"field": ".".join(str(part) for part in item["loc"]) or "(body)", "message": item["msg"],
               "type": item["type"]} for item in error.errors(include_url=False, include_input=False)]
    fields = "、".join(item["field"] for item in errors[:5])
    return problem(422, "validation_error", _CHINESE_TITLES[422], f"参数不合法 / invalid parameters: {fields}",
                   errors=errors)
