"""The Cypher generated from the graph model, asserted as text without a database.

A small sample declaration shows each rule on its own (schema, upsert, create, projections,
the identifier allow-list); the real declarations (graph/model.py) are checked where the
generated text must stay what the ETL and the pages have always sent.
"""
import re

import pytest

from core.codes import LabourSkill, PartnershipStatus, RecommendationStatus
from graph import querybuilder as qb
from graph import views
from graph.model import NodeType, Property, RelationshipType
from graph.vocabulary import VOCABULARY, vocabulary_for, with_vocabulary

SHOP = NodeType(
    "Shop", "shop_id",
    (
        Property("shop_id", "key"),
        Property("name", "indexed", indexed=True),
        Property("owner", "a person", personal=True),
        Property("pin_hash", "never leaves the graph", secret=True),
        Property("tags", "a list", list=True),
        Property("sort_key", "for the ETL only", internal=True),
        Property("opened_at", "written by the app", loaded=False),
    ),
    (
        RelationshipType("SELLS", "Product", "product_ids", "shop → product"),
        RelationshipType("VISITED_BY", "Product", None, "drawn by the app, not the ETL"),
    ),
)
PRODUCT = NodeType("Product", "sku", (Property("sku"), Property("title")))
SAMPLE = {node.label: node for node in (SHOP, PRODUCT)}


def lines(text: str) -> list[str]:
    """The non-empty lines of a query, stripped (layout aside, the text is what is asserted)."""
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


# --- sample declaration ------------------------------------------------------------------------

def test_the_sample_declaration_fills_in_each_relationship_start():
    assert [rel.start for rel in SHOP.relationships] == ["Shop", "Shop"]
    assert [rel.type for rel in SHOP.loaded_relationships] == ["SELLS"]
    assert SHOP.loaded == ("name", "owner", "pin_hash", "tags", "sort_key")
    assert SHOP.indexed == ("name",)


def test_schema_statements_of_the_sample():
    assert qb.schema_statements(SAMPLE.values()) == [
        "CREATE CONSTRAINT shop_shop_id_unique IF NOT EXISTS FOR (n:Shop) REQUIRE n.shop_id IS UNIQUE",
        "CREATE INDEX shop_name IF NOT EXISTS FOR (n:Shop) ON (n.name)",
        "CREATE CONSTRAINT product_sku_unique IF NOT EXISTS FOR (n:Product) REQUIRE n.sku IS UNIQUE",
    ]


def test_upsert_query_of_the_sample():
    assert lines(qb.upsert_query("Shop", SAMPLE)) == [
        "UNWIND $rows AS row",
        "MERGE (n:Shop {shop_id: row.key})",
        "WITH n, row WHERE n.row_hash IS NULL OR row.row_hash IS NULL OR n.row_hash <> row.row_hash",
        "SET n += row.props, n.row_hash = row.row_hash",
        "WITH n, row",
        "CALL (n, row) { MATCH (n)-[old:SELLS]->(o:Product) WHERE NOT o.sku IN row.rels.SELLS DELETE old }",
        "CALL (n, row) { UNWIND row.rels.SELLS AS target_key MATCH (t:Product {sku: target_key}) "
        "MERGE (n)-[:SELLS]->(t) }",
        "RETURN count(*) AS written",
    ]


def test_create_query_of_the_sample():
    assert lines(qb.create_query(SHOP, SAMPLE)) == [
        "UNWIND $rows AS row",
        "CREATE (n:Shop {shop_id: row.key})",
        "SET n += row.props, n.row_hash = row.row_hash",
        "WITH n, row",
        "CALL (n, row) { UNWIND row.rels.SELLS AS target_key MATCH (t:Product {sku: target_key}) "
        "CREATE (n)-[:SELLS]->(t) }",
        "RETURN count(*) AS written",
    ]


def test_a_node_without_relationships_is_merged_and_set_only():
    assert lines(qb.upsert_query(PRODUCT, SAMPLE)) == [
        "UNWIND $rows AS row",
        "MERGE (n:Product {sku: row.key})",
        "WITH n, row WHERE n.row_hash IS NULL OR row.row_hash IS NULL OR n.row_hash <> row.row_hash",
        "SET n += row.props, n.row_hash = row.row_hash",
        "WITH n, row",
        "RETURN count(*) AS written",
    ]


def test_keyed_match_of_the_sample():
    assert qb.keyed_match("Shop", "RETURN k, n.row_hash AS h", SAMPLE) == (
        "UNWIND $keys AS k MATCH (n:Shop {shop_id: k}) RETURN k, n.row_hash AS h")


def test_projection_leaves_out_secret_and_internal_properties():
    assert qb.projection(SHOP, "s", model=SAMPLE) == "s {.shop_id, .name, .owner, .tags, .opened_at}"


def test_projection_without_personal_properties_and_with_computed_entries():
    text = qb.projection(SHOP, "s", {"products": "COUNT { (s)-[:SELLS]->() }"}, personal=False, model=SAMPLE)
    assert text == "s {.shop_id, .name, .tags, .opened_at, products: COUNT { (s)-[:SELLS]->() }}"


def test_projection_may_exclude_properties():
    assert qb.projection(SHOP, "s", exclude=("tags", "opened_at"), model=SAMPLE) == "s {.shop_id, .name, .owner}"


def test_a_computed_entry_may_not_shadow_a_projected_property():
    with pytest.raises(ValueError, match="repeat"):
        qb.projection(SHOP, "s", {"name": "toUpper(s.name)"}, model=SAMPLE)


def test_open_projection_blanks_secret_properties():
    assert qb.open_projection(SHOP, "s", model=SAMPLE) == "s {.*, pin_hash: null}"
    assert qb.open_projection(PRODUCT, "p", {"shop": "s.name"}, model=SAMPLE) == "p {.*, shop: s.name}"


# --- the identifier allow-list ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["Shop`) DETACH DELETE n //", "bad label", "1st", "", "名称", "a-b", None])
def test_unsafe_identifiers_are_refused(name):
    with pytest.raises(ValueError, match="unsafe identifier"):
        qb.identifier(name)


def test_an_unsafe_label_is_never_written_into_a_query():
    evil = NodeType("Shop {x: 1}) DETACH DELETE n //", "shop_id", (Property("shop_id"),))
    for build in (qb.upsert_query, qb.create_query, lambda node: qb.schema_statements([node]),
                  lambda node: qb.keyed_match(node, "RETURN k")):
        with pytest.raises(ValueError, match="unsafe identifier"):
            build(evil)


def test_an_unsafe_property_relationship_or_variable_is_refused():
    bad_property = NodeType("Shop", "shop_id", (Property("shop_id"), Property("name}) SET n.x = 1 //")))
    bad_type = NodeType("Shop", "shop_id", (Property("shop_id"),),
                        (RelationshipType("SELLS]->() DELETE n //", "Product", "product_ids"),))
    with pytest.raises(ValueError, match="unsafe identifier"):
        qb.projection(bad_property, "s")
    with pytest.raises(ValueError, match="unsafe identifier"):
        qb.upsert_query(bad_type, {**SAMPLE, "Shop": bad_type})
    with pytest.raises(ValueError, match="unsafe identifier"):
        qb.projection(SHOP, "s) DETACH DELETE (s", model=SAMPLE)
    with pytest.raises(ValueError, match="unsafe identifier"):
        qb.projection(SHOP, "s", {"x: 1, y": "1"}, model=SAMPLE)


def test_an_undeclared_label_or_target_is_refused():
    with pytest.raises(ValueError, match="unknown node label"):
        qb.upsert_query("Nobody")
    orphan = NodeType("Shop", "shop_id", (Property("shop_id"),), (RelationshipType("SELLS", "Nobody", "ids"),))
    with pytest.raises(ValueError, match="unknown node label"):
        qb.create_query(orphan, {"Shop": orphan})


# --- the real declarations -------------------------------------------------------------------

def test_the_household_upsert_is_what_the_etl_has_always_sent():
    assert lines(qb.upsert_query("Household")) == [
        "UNWIND $rows AS row",
        "MERGE (n:Household {household_id: row.key})",
        "WITH n, row WHERE n.row_hash IS NULL OR row.row_hash IS NULL OR n.row_hash <> row.row_hash",
        "SET n += row.props, n.row_hash = row.row_hash",
        "WITH n, row",
        "CALL (n, row) { MATCH (n)-[old:LIVES_IN]->(o:Region) WHERE NOT o.code IN row.rels.LIVES_IN DELETE old }",
        "CALL (n, row) { UNWIND row.rels.LIVES_IN AS target_key MATCH (t:Region {code: target_key}) "
        "MERGE (n)-[:LIVES_IN]->(t) }",
        "CALL (n, row) { MATCH (n)-[old:PRODUCES]->(o:Industry) WHERE NOT o.code IN row.rels.PRODUCES DELETE old }",
        "CALL (n, row) { UNWIND row.rels.PRODUCES AS target_key MATCH (t:Industry {code: target_key}) "
        "MERGE (n)-[:PRODUCES]->(t) }",
        "RETURN count(*) AS written",
    ]


def test_the_partnership_create_links_household_enterprise_and_project():
    assert lines(qb.create_query("Partnership")) == [
        "UNWIND $rows AS row",
        "CREATE (n:Partnership {partnership_id: row.key})",
        "SET n += row.props, n.row_hash = row.row_hash",
        "WITH n, row",
        "CALL (n, row) { UNWIND row.rels.OF_HOUSEHOLD AS target_key MATCH (t:Household {household_id: target_key}) "
        "CREATE (n)-[:OF_HOUSEHOLD]->(t) }",
        "CALL (n, row) { UNWIND row.rels.WITH_ENTERPRISE AS target_key MATCH (t:Enterprise {credit_code: target_key}) "
        "CREATE (n)-[:WITH_ENTERPRISE]->(t) }",
        "CALL (n, row) { UNWIND row.rels.UNDER_PROJECT AS target_key MATCH (t:Project {project_id: target_key}) "
        "CREATE (n)-[:UNDER_PROJECT]->(t) }",
        "RETURN count(*) AS written",
    ]


def test_relationships_the_application_draws_are_not_in_the_etl_queries():
    upsert = qb.upsert_query("Recommendation")
    assert "FOR_HOUSEHOLD" not in upsert and "FROM_ENTERPRISE" not in upsert


def test_real_schema_statements():
    statements = qb.schema_statements()
    assert ("CREATE CONSTRAINT member_id_hash_unique IF NOT EXISTS FOR (n:Member) REQUIRE n.id_hash IS UNIQUE"
            in statements)
    assert "CREATE INDEX household_county_code IF NOT EXISTS FOR (n:Household) ON (n.county_code)" in statements
    assert "CREATE INDEX apitoken_token_hash IF NOT EXISTS FOR (n:ApiToken) ON (n.token_hash)" in statements
    assert ("CREATE INDEX household_county_code_active_covered_household_id IF NOT EXISTS FOR (n:Household) "
            "ON (n.county_code, n.active, n.covered, n.household_id)" in statements)
    assert ("CREATE INDEX enterpriseshortlist_credit_code_run_id IF NOT EXISTS FOR (n:EnterpriseShortlist) "
            "ON (n.credit_code, n.run_id)" in statements)
    # The source-row hash of each of the 7 ETL-written labels is indexed: unchanged rows are found by it.
    assert "CREATE INDEX household_row_hash IF NOT EXISTS FOR (n:Household) ON (n.row_hash)" in statements
    assert ("CREATE CONSTRAINT countyrules_rules_id_unique IF NOT EXISTS FOR (n:CountyRules) REQUIRE n.rules_id "
            "IS UNIQUE" in statements)
    assert "CREATE INDEX countyrules_county_code IF NOT EXISTS FOR (n:CountyRules) ON (n.county_code)" in statements
    assert ("CREATE INDEX followup_county_code_status_due_date IF NOT EXISTS FOR (n:FollowUp) "
            "ON (n.county_code, n.status, n.due_date)" in statements)
    assert ("CREATE INDEX offerchange_credit_code_changed_at IF NOT EXISTS FOR (n:OfferChange) "
            "ON (n.credit_code, n.changed_at)" in statements)
    assert ("CREATE INDEX partnershipchange_partnership_id_changed_at IF NOT EXISTS FOR (n:PartnershipChange) "
            "ON (n.partnership_id, n.changed_at)" in statements)
    assert ("CREATE INDEX household_county_code_pending_household_id IF NOT EXISTS FOR (n:Household) "
            "ON (n.county_code, n.pending, n.household_id)" in statements)
    assert ("CREATE INDEX notification_audience_read_created_at IF NOT EXISTS FOR (n:Notification) "
            "ON (n.audience, n.read, n.created_at)" in statements)
    # Search (graph/search.py): heads' ID suffix by county, members' ID suffix, names in full text (cjk).
    assert ("CREATE INDEX household_county_code_head_id_suffix_hash IF NOT EXISTS FOR (n:Household) "
            "ON (n.county_code, n.head_id_suffix_hash)" in statements)
    assert "CREATE INDEX member_id_suffix_hash IF NOT EXISTS FOR (n:Member) ON (n.id_suffix_hash)" in statements
    assert ("CREATE FULLTEXT INDEX household_head_name_county_code_fulltext IF NOT EXISTS FOR (n:Household) "
            "ON EACH [n.head_name, n.county_code] OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}" in statements)
    assert ("CREATE FULLTEXT INDEX enterprise_name_county_code_fulltext IF NOT EXISTS FOR (n:Enterprise) "
            "ON EACH [n.name, n.county_code] OPTIONS {indexConfig: {`fulltext.analyzer`: 'cjk'}}" in statements)
    assert ("CREATE INDEX household_county_code_active_coverage_state_household_id IF NOT EXISTS FOR (n:Household) "
            "ON (n.county_code, n.active, n.coverage_state, n.household_id)" in statements)
    # 25 constraints, 46 single, 17 composite and 2 full-text indexes
    assert len(statements) == len(set(statements)) == 90


def test_a_composite_index_names_declared_properties_only():
    from dataclasses import replace

    from graph.model import NODES

    broken = replace(NODES["Household"], composite_indexes=(("county_code", "no_such_property"),))
    with pytest.raises(ValueError):
        qb.schema_statements_for(broken)


def test_the_enterprise_projection_is_the_list_the_pages_always_read():
    assert views.ENTERPRISE_FIELDS == (
        "e {.credit_code, .name, .enterprise_type, .region_code, .county_code, .address, .lon, .lat, .industries, "
        ".products_bought, .mechanisms, .jobs_offered, .skill_required, .contract_households, .land_wanted_mu, "
        ".equity_households, .ecommerce_households, .households_capacity, .certified_poverty_products, .contact, .phone, .phone_masked, "
        ".offer_updated_at, .offer_updated_by}")


def test_the_member_projection_never_carries_the_id_hash():
    assert qb.projection("Member", "m") == (
        "m {.member_id, .household_id, .name, .name_masked, .relation, .sex, .birth_year, .ethnicity, .education, "
        ".school_status, .health, .labour_skill, .work_status, .work_months, .work_place, .medical_insurance, "
        ".critical_illness_insurance, .pension_insurance, .id_type}")


def test_the_household_summary_is_generated_with_its_computed_entries():
    summary = views.HOUSEHOLD_SUMMARY
    assert summary.startswith("h {.household_id, .village_code, .township_code, .county_code, .head_name, ")
    assert ".head_id_hash" not in summary and ".row_hash" not in summary and ".industry_codes" not in summary
    # Labour counts and coverage are the stored read state (graph/readstate.py), not computed per request.
    assert ".labour_ordinary, .labour_skilled, .labour_weak, .members, .covered, .pending, " in summary
    assert "EXISTS" not in summary and "count(" not in summary
    assert summary.endswith("village_name: v.name, township_name: t.name, village_lon: v.lon, village_lat: v.lat}")


def test_tokens_are_read_back_without_their_hash():
    assert qb.open_projection("ApiToken", "t") == "t {.*, token_hash: null}"


# --- vocabulary parameters -------------------------------------------------------------------

def test_vocabulary_values_come_from_the_enums():
    assert VOCABULARY["in_force"] == PartnershipStatus.IN_FORCE.value
    assert VOCABULARY["open_statuses"] == [PartnershipStatus.IN_FORCE.value,
                                           PartnershipStatus.AWAITING_CONFIRMATION.value]
    assert VOCABULARY["labour_skills"] == [LabourSkill.ORDINARY.value, LabourSkill.SKILLED.value,
                                           LabourSkill.WEAK.value]
    assert VOCABULARY["declined"] == RecommendationStatus.DECLINED.value


def test_a_query_gets_exactly_the_vocabulary_it_names():
    query = "MATCH (p:Partnership) WHERE p.status IN $open_statuses AND p.mechanism = $mechanism RETURN p"
    assert vocabulary_for(query) == {"open_statuses": VOCABULARY["open_statuses"]}
    assert with_vocabulary(query, {"mechanism": "m"}) == {"open_statuses": VOCABULARY["open_statuses"],
                                                          "mechanism": "m"}
    assert vocabulary_for("MATCH (n) RETURN n") == {}


def test_a_parameter_may_not_take_a_vocabulary_name():
    with pytest.raises(ValueError, match="reserved"):
        with_vocabulary("RETURN $in_force", {"in_force": "x"})


def test_generated_queries_name_no_code_literal():
    texts = [qb.upsert_query(label) for label in ("Household", "Enterprise", "Partnership")] + [
        views.HOUSEHOLD_SUMMARY, views.RECOMMENDATION_FIELDS, views.PARTNERSHIP_FIELDS, *views.LABOUR_FILTERS.values()]
    for text in texts:
        assert not re.search(r"""['"](0[1-9]|1[0-3]|proposed|accepted|confirmed|declined)['"]""", text), text
