"""The coverage vocabulary (core/coverage.py) and the charts' links (app/web/charts.py)."""
import itertools
import re

from app.web import charts
from core import coverage
from core.codes import CoverageState


def test_each_household_is_in_the_first_state_that_holds():
    for covered, pending, planned in itertools.product((False, True), repeat=3):
        state = coverage.state_of(covered, pending, planned)
        expected = (CoverageState.CONFIRMED if covered else CoverageState.AWAITING if pending
                    else CoverageState.PLANNED if planned else CoverageState.UNCOVERED)
        assert state == expected


def test_the_four_figures_add_up_to_the_households():
    figures = coverage.coverage(10, 3, 2, 4)
    shown = figures.as_dict()
    assert shown["uncovered"] == 1
    assert sum(shown[state.value] for state in CoverageState) == shown["households"] == 10
    assert (shown["covered"], shown["pending"]) == (3, 2), "the old keys stay"
    assert shown["coverage_rate"] == 0.3 and shown["planned_rate"] == 0.4 and shown["uncovered_rate"] == 0.1
    assert coverage.coverage(0, 0, 0, 0).as_dict()["planned_rate"] is None
    assert coverage.coverage(3, 2, 2, 2).uncovered == 0, "never below zero"


def test_the_glossary_names_every_state_in_order():
    positions = [coverage.GLOSSARY.index(state.label) for state in coverage.ORDER]
    assert positions == sorted(positions) and "四项相加等于户数" in coverage.GLOSSARY
    assert not re.search(r"[A-Za-z]", coverage.GLOSSARY), "Chinese only"


ROWS = [{"name": "甲乡", "code": "433123101000", "households": 10, "covered": 3, "pending": 1, "planned": 2,
         "uncovered": 4},
        {"name": "乙乡", "code": "433123102000", "households": 5, "covered": 5, "pending": 0, "planned": 0,
         "uncovered": 0}]


def test_bar_segments_link_to_the_households_behind_them():
    svg = str(charts.coverage_bars(ROWS, "各乡镇", link=lambda row, state: f"/households?township={row['code']}"
                                                                          f"&coverage={state}"))
    links = re.findall(r'<a href="([^"]+)" aria-label="([^"]+)"', svg)
    assert ("/households?township=433123101000&amp;coverage=planned", "甲乡 已规划 2 户") in links
    assert ("/households?township=433123101000&amp;coverage=None", "甲乡 全部 10 户") in links
    # a segment of no households is drawn without a link
    assert not any("433123102000&amp;coverage=awaiting" in href for href, _ in links)
    assert len([href for href, _ in links if "433123102000" in href]) == 2  # the name and 履约中
    assert "<a " not in str(charts.coverage_bars(ROWS, "各乡镇")), "no link without link targets"


def test_map_dots_and_trend_points_link_when_given_targets():
    villages = [{"code": "433123101201", "name": "一村", "lon": 109.5, "lat": 27.9, "households": 8, "covered": 4}]
    svg = str(charts.village_map(villages, [], "地图", link=lambda v: f"/households?village={v['code']}"))
    assert '<a href="/households?village=433123101201"' in svg
    points = [{"label": "2026-01-01 08:00", "confirmed": 0.5, "planned": 0.3, "href": "/runs/a"},
              {"label": "2026-02-01 08:00", "confirmed": 0.6, "planned": 0.2, "href": "/runs/b"}]
    trend = str(charts.trend_line(points, "趋势", series=(("confirmed", "履约中", "#000"), ("planned", "已规划", "#111"))))
    assert trend.count('data-series="') == 2 and trend.count('<a href="/runs/b"') == 2
    assert "履约中：2026-01-01 08:00 50.0%" in trend
    assert "<a " not in str(charts.trend_line([("甲", 0.5)], "趋势")), "the old single line still draws"
