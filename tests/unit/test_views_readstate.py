"""The pages' queries read the stored read state: no per-request counting, index order for the page."""
from graph import views
from graph.model import node_type
from graph.vocabulary import BREAKDOWN_KEYS


def _captured(monkeypatch, **kwargs):
    calls = []
    monkeypatch.setattr(views, "read_page",
                        lambda driver, count, page, params, database: calls.append((count, page, params)) or ([], 0))
    views.search_households(None, **kwargs)
    return calls[0]


def test_a_county_search_orders_by_the_composite_index(monkeypatch):
    count, page, params = _captured(monkeypatch, filters={"county_code": "433123000000"}, labour=None, covered=False,
                                    sort="household_id", skip=0, limit=20)
    assert "ORDER BY h.county_code, h.active, h.covered, h.household_id SKIP $skip LIMIT $limit" in page
    assert "h.covered = $covered" in page and params["covered"] is False
    # Regions and coverage only: the count is the county's stored figures.
    assert count == ("OPTIONAL MATCH (r:Region {code: $figures_code}) "
                     "RETURN coalesce(coalesce(r.households, 0) - coalesce(r.covered, 0), 0) AS total")
    assert params["figures_code"] == "433123000000"
    for query in (count, page):
        assert "EXISTS" not in query and "Member" not in query and "Partnership" not in query


def test_without_a_coverage_filter_the_other_index_gives_the_order(monkeypatch):
    _, page, _ = _captured(monkeypatch, filters={"county_code": "433123000000"}, labour="none", covered=None,
                           sort="household_id", skip=0, limit=20)
    assert "ORDER BY h.county_code, h.active, h.household_id SKIP" in page
    assert "h.labourers = 0" in page and "covered" not in page.split("ORDER BY")[0]


def test_one_more_filter_counts_from_the_breakdown_figures(monkeypatch):
    count, _, params = _captured(monkeypatch, filters={"county_code": "433123000000", "main_cause": "01"},
                                 labour=None, covered=False, sort="household_id", skip=0, limit=20)
    assert count == ("OPTIONAL MATCH (r:Region {code: $figures_code}) RETURN coalesce(coalesce("
                     "r.breakdown_households[$figures_position], 0) - coalesce(r.breakdown_covered[$figures_position], "
                     "0), 0) AS total")
    assert BREAKDOWN_KEYS[params["figures_position"]] == ("main_cause", "01")
    _, _, params = _captured(monkeypatch, filters={"village_code": "433123101001"}, labour="skilled", covered=True,
                             sort="household_id", skip=0, limit=20)
    assert BREAKDOWN_KEYS[params["figures_position"]] == ("labour", "skilled")
    assert params["figures_code"] == "433123101001"
    count, _, params = _captured(monkeypatch, filters={"monitoring_category": "02"}, labour=None, covered=None,
                                 sort="household_id", skip=0, limit=20)
    assert count == ("MATCH (r:Region {level: 'county'}) WHERE r.households > 0 "
                     "RETURN sum(coalesce(r.breakdown_households[$figures_position], 0)) AS total")
    assert BREAKDOWN_KEYS[params["figures_position"]] == ("monitoring_category", "02")


def test_other_filters_count_from_the_index(monkeypatch):
    for filters, labour in (({"county_code": "433123000000", "main_cause": "01", "attribute": "02"}, None),
                            ({"county_code": "433123000000", "main_cause": "01"}, "none"),
                            ({"county_code": "433123000000", "main_cause": "99"}, None)):  # not a code: no figure
        count, _, _ = _captured(monkeypatch, filters=filters, labour=labour, covered=False, sort="household_id",
                                skip=0, limit=20)
        assert count.startswith("MATCH (h:Household) WHERE h.active = true") and count.endswith(
            "RETURN count(h) AS total")
    count, _, _ = _captured(monkeypatch, filters={}, labour=None, covered=True, sort="household_id", skip=0, limit=20)
    assert count == ("MATCH (r:Region {level: 'county'}) WHERE r.households > 0 "
                     "RETURN sum(coalesce(r.covered, 0)) AS total")


def test_a_cursor_continues_after_the_last_row_from_the_index(monkeypatch):
    _, page, params = _captured(monkeypatch, filters={"county_code": "433123000000"}, labour=None, covered=True,
                                sort="income_per_capita", skip=0, limit=20, after=(2500.0, "4331230000000076"))
    assert ("h.income_order >= $after_value AND (h.income_order > $after_value OR "
            "h.household_id > $after_id)") in page
    assert "ORDER BY h.county_code, h.active, h.covered, h.income_order, h.household_id SKIP" in page
    assert params["after_value"] == 2500.0 and params["after_id"] == "4331230000000076"
    assert "_sort_value: sort_value" in page and "WITH h, h.income_order AS sort_value" in page
    _, page, _ = _captured(monkeypatch, filters={}, labour=None, covered=None, sort="household_size", skip=0,
                           limit=20)
    assert "h.size_order IS NOT NULL" in page
    assert "ORDER BY h.size_order, h.household_id SKIP" in page  # no county: no leading index columns


def test_a_county_page_names_the_index_that_gives_its_order(monkeypatch):
    indexes = set(node_type("Household").composite_indexes)
    for covered in (None, True, False):
        for sort in views.HOUSEHOLD_SORT:
            _, page, _ = _captured(monkeypatch, filters={"county_code": "433123000000", "main_cause": "01"},
                                   labour="any", covered=covered, sort=sort, skip=0, limit=20)
            hinted = page[page.index("USING INDEX h:Household(") + len("USING INDEX h:Household("):]
            assert tuple(hinted[:hinted.index(")")].split(", ")) in indexes
            order = page[page.index("ORDER BY ") + len("ORDER BY "):page.index(" SKIP")]
            assert hinted[:hinted.index(")")] == order.replace("h.", "")
    # a village's own index finds its few households: no hint there
    _, page, _ = _captured(monkeypatch, filters={"county_code": "433123000000", "village_code": "433123101001"},
                           labour=None, covered=False, sort="income_per_capita", skip=0, limit=20)
    assert "USING INDEX" not in page
