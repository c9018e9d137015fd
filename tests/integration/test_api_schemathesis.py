"""Property-based tests of every operation generated from the app's own OpenAPI document (schemathesis):
no 5xx, and every response conforms to its documented status, content type and schema.

Each operation runs as the admin (everything is reachable) and as a county bureau (answers are scoped
or refused), with valid data and with data that breaks the schema (out of range, over-long, wrong
types, missing fields). The operations are listed from the document itself, so a new endpoint is
tested without touching this file. (schemathesis' own pytest loader does not run on pytest 9 yet,
so the cases are drawn from its strategies with hypothesis directly.)"""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.support.apps import api_document

# Listing the operations needs only the document, not a database.
OPERATIONS = sorted((path, method.upper()) for path, item in api_document()["paths"].items() for method in item)
SETTINGS = settings(max_examples=10, deadline=None, derandomize=True, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api_app(world, make_module_app):
    """The app under test; negative cases send no token, so the failed-login limit is set out of reach."""
    return make_module_app(failed_login_limit="1000000/minute")


@pytest.fixture
def api_schema(api_app, world):
    """The OpenAPI document, read from the app under test."""
    return schemathesis.openapi.from_wsgi("/openapi.json", api_app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("role", ["admin", "bureau_own"])
@pytest.mark.parametrize("path,method", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_operation_conforms(api_schema, world, path, method, role, mode):
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    # A schema-valid upload may still be a PNG: the file's format is judged from its content (415),
    # and a schema-valid household cursor is opaque: only one the API issued is accepted (422 otherwise);
    # neither can a schema express. Every other check applies.
    # Likewise a schema-valid column mapping may name a field of another file kind or a header already recognised,
    # or (an administrator) no county: refused with 422 and the reason.
    excluded = [positive_data_acceptance] if path in ("/api/v1/uploads", "/api/v1/column-mappings") and method == "POST" \
        else []

    @given(case=operation.as_strategy(generation_mode=mode))
    @SETTINGS
    def check(case):
        opaque_cursor = path == "/api/v1/households" and "cursor" in (case.query or {})
        case.call_and_validate(headers=headers,
                               excluded_checks=excluded + ([positive_data_acceptance] if opaque_cursor else []))

    check()
