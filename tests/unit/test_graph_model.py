"""The graph model (graph/model.py) is consistent, the ETL loads exactly what it declares, and no query
reads out a secret property — all without a database.

The read functions of graph/ run against a recording stand-in for the driver: the Cypher they send is
checked for projected secrets and for parameters they name but do not pass.
"""
import re

import pytest

from core.codes import Mechanism
from etl import formats
from etl.readers import read_file
from etl.base_data import reference_tables
from etl.transform import transform
from etl.validate import validate
from graph import access, explore, jobs, matching, offers, querybuilder, views
from graph.model import NODES, RELATIONSHIPS, node_type, relationship_type
from tests.support import bureau_files as bf

SECRETS = {name for node in NODES.values() for name in node.secret}


# --- the declaration itself ----------------------------------------------------------------------

def test_every_relationship_points_at_a_declared_label():
    for node in NODES.values():
        for rel in node.relationships:
            assert rel.start == node.label
            assert rel.target in NODES, f"{node.label}-[:{rel.type}]->{rel.target}"
            assert relationship_type(rel.type, node.label, rel.target) is rel


def test_every_key_is_a_declared_single_valued_property():
    for node in NODES.values():
        assert node.key in node.names, node.label
        assert not node.prop(node.key).list, node.label


def test_names_are_unique_and_safe_to_write_into_cypher():
    types = [rel.type for node in NODES.values() for rel in node.relationships]
    assert len(types) == len(set(types)) == len(RELATIONSHIPS)
    for node in NODES.values():
        assert len(node.names) == len(set(node.names)), node.label
        for name in (node.label, node.key, *node.names, *(rel.type for rel in node.relationships),
                     *(rel.field for rel in node.loaded_relationships)):
            querybuilder.identifier(name)


def test_the_capacity_figures_are_declared_enterprise_properties():
    from core.mechanisms import CAPACITY

    enterprise = node_type("Enterprise")
    for capacity in CAPACITY.values():
        assert enterprise.prop(capacity.field).loaded


def test_secret_properties_are_never_shown():
    for node in NODES.values():
        assert not set(node.secret) & set(node.shown()), node.label
    assert {"head_id_hash", "id_hash", "row_hash", "token_hash"} <= SECRETS


def test_personal_properties_are_left_out_when_asked():
    household = node_type("Household")
    assert {"head_name", "phone", "head_name_masked", "phone_masked"} <= set(household.personal)
    assert not set(household.personal) & set(household.shown(personal=False))


# --- the ETL loads what the model declares -------------------------------------------------------

def _sample_files(tmp_path):
    """One small file per kind, written as bureaus write them."""
    enterprise = bf.credit_code("91433123MA4L00001")
    return {
        "villages": bf.write_table(tmp_path / "villages.csv", bf.VILLAGE_HEADER, [bf.village_row()]),
        "households": bf.write_table(tmp_path / "households.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(1)]),
        "members": bf.write_table(tmp_path / "members.csv", bf.MEMBER_HEADER, [bf.member_row(1, 1)]),
        "enterprises": bf.write_table(tmp_path / "enterprises.csv", bf.ENTERPRISE_HEADER,
                                      [bf.enterprise_row(1, code=enterprise)]),
        "projects": bf.write_table(tmp_path / "projects.csv", bf.PROJECT_HEADER,
                                   [bf.project_row(1, implementer=enterprise)]),
        "partnerships": bf.write_table(tmp_path / "ledger.csv", bf.PARTNERSHIP_HEADER,
                                       [bf.partnership_row("L1", 1, enterprise)]),
    }


def test_every_file_kind_loads_a_declared_node():
    assert set(formats.KINDS) == set(formats.LOAD_ORDER)
    labels = [kind.node for kind in formats.KINDS.values()]
    assert len(labels) == len(set(labels))
    for kind in formats.KINDS.values():
        assert node_type(kind.node).loaded, kind.name


def test_transformed_rows_cover_the_declared_properties_and_relationships(tmp_path):
    for kind_name, path in _sample_files(tmp_path).items():
        (table,) = read_file(path)
        assert table.kind.name == kind_name
        rejected, problems = validate(table, path.name)
        assert list(rejected) == [], (kind_name, problems)
        rows = transform(table.kind, table.frame, b"test-key")
        node = node_type(table.kind.node)
        needed = {node.key, *node.loaded, *(rel.field for rel in node.loaded_relationships)}
        assert needed <= set(rows.columns), f"{kind_name}: missing {sorted(needed - set(rows.columns))}"
        assert rows[node.key].notna().all(), kind_name


def test_every_loaded_property_is_written_by_some_file_or_the_reference_data():
    written = {kind.node for kind in formats.KINDS.values()} | {"Region", "Industry"}
    for node in NODES.values():
        if node.label not in written:
            assert not node.loaded, f"{node.label}: {node.loaded} are marked loaded but no file loads them"


def test_reference_data_writes_declared_properties_and_every_relationship():
    for label, key, props, rels, _ in reference_tables():
        node = node_type(label)
        assert set(props.columns) <= set(node.loaded)
        assert set(rels) == {rel.type for rel in node.loaded_relationships}
        assert key.notna().all()


# --- no query reads out a secret, every parameter named is passed ------------------------------

class _Result:
    def __init__(self, record):
        self.record = record

    def single(self):
        return self.record

    def consume(self):
        return None

    def __iter__(self):
        return iter(())


class RecordingDriver:
    """Stands in for neo4j.Driver: records (query, parameters) and answers with nothing."""

    def __init__(self):
        self.calls: list[tuple[str, dict]] = []

    def execute_query(self, query, parameters_=None, **kwargs):
        params = {name: value for name, value in kwargs.items() if not name.endswith("_")}
        self.calls.append((query, {**(parameters_ or {}), **params}))
        return [], None, None

    def session(self, **_):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False

    def execute_read(self, work, *args):
        return work(self, *args)

    def run(self, query, parameters=None, **kwargs):
        self.calls.append((query, {**(parameters or {}), **kwargs}))
        return _Result({"total": 0})


LAND_LEASE = Mechanism.LAND_LEASE.value
READS = [
    lambda d: views.search_households(d, {"county_code": bf.COUNTY}, "none", True, "household_id", 0, 10),
    lambda d: views.search_households(d, {"village_code": bf.VILLAGE}, "weak", False, "income_per_capita", 0, 10),
    lambda d: views.household_detail(d, "H1"),
    lambda d: views.county_villages(d, bf.COUNTY),
    lambda d: views.county_map(d, bf.COUNTY, 10),
    lambda d: views.regions(d, [bf.COUNTY]),
    lambda d: views.child_regions(d, bf.COUNTY),
    lambda d: views.search_enterprises(d, {"county_code": bf.COUNTY, "mechanism": LAND_LEASE}, 0, 10),
    lambda d: views.enterprise_detail(d, "E1"),
    lambda d: views.enterprise_counties(d, "E1"),
    lambda d: views.search_recommendations(d, {"credit_code": "E1", "assigned": True}, 0, 10),
    lambda d: views.recommendation(d, "run-1-H1-1"),
    lambda d: views.search_projects(d, {"county_code": bf.COUNTY}, 0, 10),
    lambda d: views.project_detail(d, "P1"),
    lambda d: views.search_partnerships(d, {"credit_code": "E1", "mechanism": LAND_LEASE}, 0, 10),
    lambda d: views.partnership(d, "L1"),
    lambda d: views.household_counties(d, ["H1"]),
    lambda d: views.county_run_history(d, bf.COUNTY),
    lambda d: explore.label_counts(d),
    lambda d: explore.relationship_counts(d),
    lambda d: explore.busiest_villages(d, bf.COUNTY),
    lambda d: explore.village_subgraph(d, bf.VILLAGE),
    lambda d: access.token_by_hash(d, "hash"),
    lambda d: access.token_by_id(d, "tok"),
    lambda d: access.list_tokens(d),
    lambda d: access.audit_events(d, 0, 10),
    lambda d: jobs.get_job(d, "match-1"),
    lambda d: jobs.list_jobs(d, "match", [bf.COUNTY], 0, 10),
    lambda d: matching.county_households(d, [bf.COUNTY]),
    lambda d: matching.county_enterprises(d, [bf.COUNTY]),
    lambda d: matching.partnerships(d, [bf.COUNTY]),
    lambda d: matching.counties_with_households(d),
    lambda d: matching.held_outside(d, [bf.COUNTY], [bf.COUNTY]),
    lambda d: matching.latest_county_fingerprints(d, [bf.COUNTY]),
    lambda d: matching.run_recommendations(d, "run-1"),
    lambda d: matching.match_run(d, "run-1"),
    lambda d: offers.current_offer(d, "E1"),
    lambda d: offers.offer_changes(d, "E1", 0, 10),
]
PROJECTED = re.compile(r"[{,]\s*\.(\w+)")  # `.name` entries of map projections
PARAMETER = re.compile(r"\$(\w+)")


def _sent(read) -> list[tuple[str, dict]]:
    driver = RecordingDriver()
    try:
        read(driver)
    except (IndexError, KeyError, TypeError):
        pass  # an empty answer: only the queries sent matter here
    assert driver.calls
    return driver.calls


@pytest.mark.parametrize("read", READS)
def test_no_read_projects_a_secret_property(read):
    for query, _ in _sent(read):
        assert not set(PROJECTED.findall(query)) & SECRETS, query


@pytest.mark.parametrize("read", READS)
def test_every_parameter_a_read_names_is_passed(read):
    for query, params in _sent(read):
        assert set(PARAMETER.findall(query)) <= set(params), (query, sorted(params))
