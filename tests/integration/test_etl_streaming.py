"""Files load in chunks (memory bounded by the chunk, not the file) and re-loads check only the rows that changed.

A chunked load gives the graph and the report a whole-file load gives; a row whose source hash a node carries
is skipped before validation; a row with a warning, a rejected row and a row whose node changed since are
checked again; an unchanged row is still held to the load's county scope.
"""
import pytest

import etl.load
from etl.load import Loader, load_files
from graph.maintenance import clear_graph, graph_snapshot
from tests.support import bureau_files as bf

DUPLICATE = "户编号重复（同一文件中已出现）/ duplicate key in this file"
OUTSIDE = "不属于本账号管辖的县 / outside the county you may load"


def _load(graph_db, settings, *paths, chunk_rows=None, **options):
    loader = None
    if chunk_rows:
        loader = Loader(graph_db, settings, progress=False, allowed_counties=options.pop("allowed_counties", None),
                        chunk_rows=chunk_rows)
    return load_files(list(paths), graph_db, settings, progress=False, loader=loader, **options)


def _problems(result):
    return sorted((p.row, p.column, p.value, p.severity, p.reason) for p in result.problems)


def _messy_households(tmp_path, name="hh.csv"):
    rows = [bf.household_row(n) for n in range(1, 24)]
    rows[19][0] = rows[1][0]  # row 20 repeats row 2's 户编号: three chunks apart at 5 rows a chunk
    rows[20][0] = rows[19][0]  # and row 21 again, in the same chunk as row 20
    rows[8][7] = "特别贫困户"  # not a code of the list: rejected
    return bf.write_table(tmp_path / name, bf.HOUSEHOLD_HEADER, rows, title="凤凰县建档立卡贫困户信息")


def _validated_rows(monkeypatch):
    """The row numbers each validation saw, in order."""
    seen = []
    validate = etl.load.validate

    def spy(table, file_label):
        seen.extend(table.frame.index)
        return validate(table, file_label)

    monkeypatch.setattr(etl.load, "validate", spy)
    return seen


def test_a_chunked_load_gives_the_graph_and_report_of_a_whole_file_load(graph_db, test_settings, tmp_path):
    households = _messy_households(tmp_path)
    members = bf.write_table(tmp_path / "members.csv", bf.MEMBER_HEADER,
                             [bf.member_row(n, 1) for n in range(1, 12)] + [bf.member_row(3, 1)])
    whole = _load(graph_db, test_settings, households, members)
    expected = graph_snapshot(graph_db)
    clear_graph(graph_db)

    chunked = _load(graph_db, test_settings, households, members, chunk_rows=5)

    assert graph_snapshot(graph_db) == expected
    assert _problems(chunked) == _problems(whole)
    assert [(f.kind, f.rows_read, f.rows_loaded, f.rows_rejected) for f in chunked.files] == [
        ("households", 23, 20, 3), ("members", 12, 10, 2)]  # household 9 was rejected: so is its member
    duplicates = [(p.row, p.reason) for p in chunked.problems if "重复" in p.reason]
    # the header is row 2 under the title row: file rows 22 and 23 repeat file row 4
    assert (22, DUPLICATE) in duplicates and (23, DUPLICATE) in duplicates
    assert any(p.row == 13 and p.column == "证件号码" and "重复" in p.reason and "*" in p.value for p in chunked.problems), \
        "a member's repeated ID number, eleven rows and two chunks apart, is found (and masked)"


def test_a_reload_checks_and_writes_only_the_rows_that_changed(graph_db, test_settings, tmp_path, monkeypatch):
    rows = [bf.household_row(n) for n in range(1, 21)]
    first = _load(graph_db, test_settings, bf.write_table(tmp_path / "a.csv", bf.HOUSEHOLD_HEADER, rows))
    assert first.files[0].rows_unchanged == 0
    rows[6][11] = 4100  # 人均纯收入 of household 7
    rows.append(bf.household_row(21))
    changed = bf.write_table(tmp_path / "b.csv", bf.HOUSEHOLD_HEADER, rows)

    seen = _validated_rows(monkeypatch)
    again = _load(graph_db, test_settings, changed, chunk_rows=6)

    assert seen == [8, 22], "only the changed and the new row are validated"
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected, f.rows_unchanged) for f in again.files] == [(21, 21, 0, 19)]
    reloaded = graph_snapshot(graph_db)
    clear_graph(graph_db)
    _load(graph_db, test_settings, changed)
    assert reloaded == graph_snapshot(graph_db), "the same graph as loading the changed file into an empty one"


def test_rejected_rows_rows_with_warnings_and_changed_nodes_are_checked_every_time(graph_db, test_settings, tmp_path,
                                                                                 monkeypatch):
    rows = [bf.household_row(n) for n in range(1, 7)]
    rows[1][7] = "特别贫困户"  # row 3: rejected
    rows[2][8] = "因病"  # row 4: fine
    rows[3][14] = "猕猴桃、火星土豆"  # row 5: loads with a warning (product not in the vocabulary)
    path = bf.write_table(tmp_path / "a.csv", bf.HOUSEHOLD_HEADER, rows)
    first = _load(graph_db, test_settings, path, full=True)
    graph_db.execute_query("MATCH (h:Household {household_id: $id}) SET h.row_hash = null",
                           id=bf.household_id(6))  # as a deactivation leaves it
    rows.append(bf.household_row(7))
    seen = _validated_rows(monkeypatch)
    again = _load(graph_db, test_settings, bf.write_table(tmp_path / "b.csv", bf.HOUSEHOLD_HEADER, rows), full=True)

    assert seen == [3, 5, 7, 8]
    assert _problems(again) == _problems(first), "the same errors and warnings are reported again"
    assert again.files[0].rows_unchanged == 3


def test_a_returning_household_is_rewritten_after_a_full_extract_left_it_out(graph_db, test_settings, tmp_path):
    five = bf.write_table(tmp_path / "five.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(n) for n in range(1, 6)])
    four = bf.write_table(tmp_path / "four.csv", bf.HOUSEHOLD_HEADER, [bf.household_row(n) for n in range(1, 5)])
    _load(graph_db, test_settings, five, full=True)
    assert _load(graph_db, test_settings, four, full=True).files[0].deactivated == 1
    back = _load(graph_db, test_settings, five, full=True)
    assert back.files[0].rows_unchanged == 4 and not back.files[0].skipped
    records, _, _ = graph_db.execute_query("MATCH (h:Household) RETURN collect(h.active) AS active")
    assert records[0]["active"] == [True] * 5


@pytest.mark.parametrize("chunk_rows", [2, 1000])
def test_an_unchanged_row_outside_the_scope_is_still_rejected(graph_db, test_settings, tmp_path, chunk_rows):
    rows = [bf.household_row(1), bf.household_row(2, village=bf.OTHER_COUNTY_VILLAGE), bf.household_row(3)]
    _load(graph_db, test_settings, bf.write_table(tmp_path / "a.csv", bf.HOUSEHOLD_HEADER, rows))
    rows[2][11] = 4100
    scoped = _load(graph_db, test_settings, bf.write_table(tmp_path / "b.csv", bf.HOUSEHOLD_HEADER, rows),
                   allowed_counties={bf.COUNTY}, chunk_rows=chunk_rows)
    assert [(f.rows_read, f.rows_loaded, f.rows_rejected, f.rows_unchanged) for f in scoped.files] == [(3, 2, 1, 1)]
    assert [(p.row, p.column, p.value, p.reason) for p in scoped.problems] == [
        (3, "行政区划代码", bf.OTHER_COUNTY_VILLAGE, OUTSIDE)]
