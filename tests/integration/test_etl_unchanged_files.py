"""A file byte-identical to the latest load of its kind (same conditions) is skipped unread; anything else loads."""
import pytest

from etl.load import load_files
from graph.maintenance import graph_snapshot
from tests.support import bureau_files as bf


def _load(graph_db, settings, *paths, **options):
    return load_files(list(paths), graph_db, settings, progress=False, **options)


def _households_file(tmp_path, name, count, title="凤凰县建档立卡贫困户信息（2020年）"):
    return bf.write_table(tmp_path / name, bf.HOUSEHOLD_HEADER, [bf.household_row(n) for n in range(1, count + 1)],
                          title=title)


def _active(graph_db):
    records, _, _ = graph_db.execute_query("MATCH (h:Household) WHERE h.active RETURN count(h) AS n")
    return records[0]["n"]


def test_an_identical_file_is_skipped_with_the_figures_of_its_load(graph_db, test_settings, tmp_path, monkeypatch):
    path = _households_file(tmp_path, "hh.csv", 5)
    first = _load(graph_db, test_settings, path)
    assert [(f.rows_read, f.rows_loaded, f.skipped) for f in first.files] == [(5, 5, False)]
    before = graph_snapshot(graph_db)

    import etl.load

    def never_read(*args, **kwargs):
        raise AssertionError("an unchanged file is not read")

    monkeypatch.setattr(etl.load, "open_tables", never_read)
    again = _load(graph_db, test_settings, path)
    assert [(f.kind, f.rows_read, f.rows_loaded, f.rows_rejected, f.skipped) for f in again.files] == \
        [("households", 5, 5, 0, True)]
    assert again.files[0].same_as.startswith("hh.csv，20") and again.files[0].same_as.endswith(" UTC")
    assert graph_snapshot(graph_db) == before


def test_a_file_is_loaded_again_after_another_file_of_its_kind_or_under_other_conditions(graph_db, test_settings,
                                                                                          tmp_path):
    whole = _households_file(tmp_path, "whole.csv", 5)
    part = _households_file(tmp_path, "part.csv", 3)
    assert not _load(graph_db, test_settings, whole, full=True).files[0].skipped
    assert _load(graph_db, test_settings, part, full=True).files[0].deactivated == 2
    again = _load(graph_db, test_settings, whole, full=True)
    assert not again.files[0].skipped, "a later file of the same kind was loaded since"
    assert _active(graph_db) == 5, "loading it again restored what the other file changed"
    assert _load(graph_db, test_settings, whole, full=True).files[0].skipped
    assert not _load(graph_db, test_settings, whole).files[0].skipped, "not a full extract this time"
    assert not _load(graph_db, test_settings, whole, allowed_counties=["433123000000"]).files[0].skipped, \
        "another scope"


@pytest.mark.parametrize("status", ["started", "failed"])
def test_a_load_that_did_not_complete_is_never_taken_as_done(graph_db, test_settings, tmp_path, status):
    path = _households_file(tmp_path, "hh.csv", 4)
    _load(graph_db, test_settings, path)
    graph_db.execute_query("MATCH (l:LoadRun {kind: 'households'}) SET l.status = $status", status=status)
    result = _load(graph_db, test_settings, path)
    assert not result.files[0].skipped and result.files[0].rows_loaded == 4
