"""Request models' JSON schemas are built once: shared read-only for flask-openapi3's per-request reads,
copied for the OpenAPI document."""
import pytest

from app.api.schemas import HouseholdQuery


def test_the_argument_free_schema_is_shared_and_read_only():
    first, second = HouseholdQuery.model_json_schema(), HouseholdQuery.model_json_schema()
    assert first is second
    assert first["properties"]["labour"]["anyOf"][0]["enum"] == ("none", "weak", "ordinary", "skilled", "any")
    with pytest.raises(TypeError):
        first["properties"]["sort"] = {}
    with pytest.raises(TypeError):
        first["properties"]["county"]["title"] = "changed"


def test_a_schema_with_arguments_is_a_fresh_copy():
    document = HouseholdQuery.model_json_schema(ref_template="#/components/schemas/{model}")
    document["properties"]["sort"]["title"] = "changed"
    again = HouseholdQuery.model_json_schema(ref_template="#/components/schemas/{model}")
    assert again["properties"]["sort"]["title"] != "changed"
    assert HouseholdQuery.model_json_schema()["properties"]["sort"]["title"] != "changed"
