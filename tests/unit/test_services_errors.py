"""The one mapping from service errors to HTTP: every ServiceError subclass has a status, problem+json
carries its code and the Chinese title, and the web shows a Chinese error page with the same status."""
import pytest

from app.problems import CHINESE_TITLES, STATUS_OF, service_problem, status_of
from services import errors
from services.errors import (Conflict, Forbidden, Invalid, NotFound, ServiceError, TooManyAttempts, Unauthenticated,
                             Unsupported)


def all_subclasses(cls) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | all_subclasses(sub)
    return found


def test_every_service_error_has_a_status():
    assert all_subclasses(ServiceError) <= set(STATUS_OF)
    assert set(errors.ALL_ERRORS) == all_subclasses(ServiceError)


@pytest.mark.parametrize("error, status, code", [
    (NotFound.of("企业"), 404, "not_found"),
    (Forbidden("x", "forbidden_role"), 403, "forbidden_role"),
    (Forbidden("x", "outside_jurisdiction"), 403, "outside_jurisdiction"),
    (Conflict("x", "already_partnered"), 409, "already_partnered"),
    (Conflict("x", "no_capacity"), 409, "no_capacity"),
    (Conflict("x", "recommendation_closed"), 409, "recommendation_closed"),
    (Unsupported("x", "unsupported_file_type"), 415, "unsupported_file_type"),
    (Invalid("x", "nothing_to_update"), 422, "nothing_to_update"),
    (Unauthenticated("x", "invalid_token"), 401, "invalid_token"),
    (Unauthenticated("x"), 401, "unauthenticated"),
    (TooManyAttempts("x"), 429, "too_many_failed_logins"),
    (NotFound("x", "county_without_households"), 404, "county_without_households"),
])
def test_status_and_code(error, status, code):
    assert status_of(error) == status and error.code == code


def test_a_new_subclass_takes_its_base_status():
    class Gone(NotFound):
        default_code = "gone"

    assert status_of(Gone("已删除 / gone")) == 404 and Gone("x").code == "gone"


def test_not_found_names_the_thing_in_chinese_and_english():
    error = NotFound.of("企业")
    assert error.message == "未找到该企业 / not found" and str(error) == error.message


def test_problem_json_of_a_service_error(make_offline_app):
    app = make_offline_app()
    with app.test_request_context("/api/v1/me"):
        response = service_problem(Unauthenticated("访问令牌无效或已吊销 / invalid or revoked token", "invalid_token"))
        assert response.status_code == 401 and response.mimetype == "application/problem+json"
        body = response.get_json()
        assert body["code"] == "invalid_token" and body["title"] == CHINESE_TITLES[401]
        assert body["detail"].startswith("访问令牌无效") and response.headers["WWW-Authenticate"]
        limited = service_problem(TooManyAttempts("登录失败次数过多 / too many"))
        assert limited.status_code == 429 and limited.headers["Retry-After"]
        conflict = service_problem(Conflict("企业该联结方式已无剩余容量", "no_capacity"))
        assert conflict.get_json()["title"] == "与当前状态冲突" and conflict.get_json()["status"] == 409


def test_web_error_page_of_a_service_error(make_offline_app):
    from app.web import service_error_page

    app = make_offline_app()
    with app.test_request_context("/households/x"):
        html, status = service_error_page(NotFound.of("户"))
        assert status == 404 and "未找到该户" in html and "<h1>未找到</h1>" in html
        html, status = service_error_page(Conflict("该推荐已处理或已过期", "recommendation_closed"))
        assert status == 409 and "操作冲突" in html
