"""The analysts' data files without a database: the household reference (stable, keyed, not the web's), the key
(apart from every web key), the declared tables (no personal or secret column of the graph model), the writer
refusing an undeclared column, and the reader naming what is missing."""
import re

import pytest

from core.secrets import InsecureSecret
from core.settings import Settings
from graph.model import NODES
from services import analyst_data
from services.privacy import pseudonym

HOUSEHOLD = "4331231012010001"

# Identifiers that embed a 户编号 or a person, and people's free text: never a column of any table.
NEVER = {"household_id", "member_id", "partnership_id", "rec_id", "list_id", "followup_id", "shortlist_id",
         "id_hash", "id_suffix_hash", "head_id_hash", "head_id_suffix_hash", "head_name", "name_masked", "phone",
         "phone_masked", "contact", "address", "note", "decline_reason", "close_reason", "detail", "subject",
         "closed_by_name", "closed_by_actor", "decided_by", "updated_by", "requested_by", "household_ids",
         "eligible_unlisted_households", "newly_planned_households"}


def _settings(tmp_path, **keys) -> Settings:
    return Settings(var_dir=tmp_path, **keys)


def test_the_household_reference_is_stable_keyed_and_not_the_web_pseudonym(tmp_path):
    settings = _settings(tmp_path)
    analyst = analyst_data.household_ref(settings.analyst_pseudonym_secret(), HOUSEHOLD)
    web = pseudonym(settings.pseudonym_secret(), HOUSEHOLD)
    assert analyst.startswith("A") and web.startswith("H") and analyst[1:] != web[1:]
    ref = analyst_data.household_ref("key-one", HOUSEHOLD)
    assert ref == analyst_data.household_ref("key-one", HOUSEHOLD)  # stable
    assert re.fullmatch(r"A[0-9a-f]{14}", ref)
    assert analyst_data.household_ref("key-two", HOUSEHOLD) != ref  # keyed
    assert analyst_data.household_ref("key-one", "4331231012010002") != ref
    assert HOUSEHOLD not in ref
    partnership = analyst_data.partnership_ref("key-one", f"P-run-1-{HOUSEHOLD}-1")
    assert re.fullmatch(r"P[0-9a-f]{14}", partnership) and HOUSEHOLD not in partnership
    assert partnership[1:] != analyst_data.household_ref("key-one", f"P-run-1-{HOUSEHOLD}-1")[1:]
    assert analyst_data.partnership_ref("key-one", None) is None
    assert analyst_data.key_fingerprint("key-one") != analyst_data.key_fingerprint("key-two")
    assert "key-one" not in analyst_data.key_fingerprint("key-one")


def test_the_analyst_key_is_generated_once_and_apart_from_the_web_keys(tmp_path):
    settings = _settings(tmp_path)
    key = settings.analyst_pseudonym_secret()
    assert (tmp_path / "secrets" / "analyst_pseudonym.key").read_text().strip() == key
    assert key == _settings(tmp_path).analyst_pseudonym_secret()  # kept, not made again
    assert key not in (settings.session_secret(), settings.pseudonym_secret(), settings.id_hash_secret().decode())
    assert _settings(tmp_path, analyst_pseudonym_key="a" * 40).analyst_pseudonym_secret() == "a" * 40
    with pytest.raises(InsecureSecret):
        _settings(tmp_path, analyst_pseudonym_key="changeme").analyst_pseudonym_secret()
    with pytest.raises(InsecureSecret):
        _settings(tmp_path, analyst_pseudonym_key="p" * 40, pseudonym_key="p" * 40).analyst_pseudonym_secret()
    with pytest.raises(InsecureSecret):
        _settings(tmp_path, analyst_pseudonym_key="s" * 40, secret_key="s" * 40).analyst_pseudonym_secret()


def test_no_table_declares_a_personal_or_secret_column():
    assert set(analyst_data.TABLE_SOURCES) == set(analyst_data.TABLES) == set(analyst_data.TABLE_DESCRIPTIONS)
    for table, columns in analyst_data.TABLES.items():
        sources = [NODES[label] for label in analyst_data.TABLE_SOURCES[table]]
        own_public = {prop.name for node in sources for prop in node.properties if not prop.personal and not prop.secret}
        forbidden = {name for node in [*sources, NODES["Household"], NODES["Member"], NODES["Enterprise"]]
                     for name in (*node.personal, *node.secret)} - own_public
        names = [name for name, _ in columns]
        assert len(names) == len(set(names)), table
        assert not set(names) & forbidden, (table, set(names) & forbidden)
        assert not set(names) & NEVER, (table, set(names) & NEVER)
        assert all(description and re.search(r"[\u4e00-\u9fff]", description) for _, description in columns), table
    # names of households and members are personal in the model; a region's, an enterprise's, a project's are not
    assert "name" in NODES["Member"].personal and "head_name" in NODES["Household"].personal
    assert "household_ref" in dict(analyst_data.TABLES["households"])


def test_the_writer_refuses_a_column_that_is_not_declared():
    with pytest.raises(ValueError, match="undeclared"):
        analyst_data._arrow_table("households", [{"household_ref": "A0", "head_name": "张三"}])
    table = analyst_data._arrow_table("income_history", [{"household_ref": "A0", "as_of": "2021-12-31",
                                                          "income_per_capita": "3200"}])
    assert table.column_names == ["household_ref", "as_of", "income_per_capita"]
    assert table.to_pylist()[0]["income_per_capita"] == 3200.0


def test_the_reader_names_the_county_and_the_folder_when_there_is_no_export(tmp_path):
    assert analyst_data.available(tmp_path) == []
    with pytest.raises(analyst_data.NoAnalystData) as error:
        analyst_data.read_county("433123000000", root=tmp_path)
    assert "433123000000" in str(error.value) and str(tmp_path / "433123000000") in str(error.value)
    assert "没有县" in str(error.value)
