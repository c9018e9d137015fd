"""The households page's search box in a real browser (Chromium, as test_browser.py drives it), at desktop and
tablet width: a bureau types a head's name and sees the household; an analyst has no box."""
import csv

from playwright.sync_api import expect

from tests.integration.api_world import OWN_COUNTY
from tests.integration.test_browser import SCREENSHOTS, WIDTHS, browser, live_url, page_for  # noqa: F401 (fixtures)
from tests.support.proxy import deployed_world  # noqa: F401  (fixture: nginx + gunicorn on the world's graph)


def _own_household(world) -> dict:
    with open(world.files["households"], encoding="utf-8-sig", newline="") as handle:
        return next(row for row in csv.DictReader(handle)
                    if row["户编号"].startswith(OWN_COUNTY[:6]) and len(row["户主姓名"]) == 3)


def test_a_bureau_finds_a_household_by_typing_the_heads_name(page_for, world):  # noqa: F811
    own = _own_household(world)
    page = page_for("bureau_own")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.get_by_role("link", name="贫困户").first.click()
        box = page.get_by_role("searchbox", name="搜索：户主姓名 / 户编号 / 证件号后四位")
        expect(box).to_be_visible()
        box.fill(own["户主姓名"])
        box.press("Enter")
        page.wait_for_load_state()
        row = page.locator("tbody tr", has_text=own["户编号"])
        expect(row).to_have_count(1)
        expect(row).to_contain_text(own["户主姓名"])
        expect(box).to_have_value(own["户主姓名"])
        # Every row found is a namesake (the name stands in the head's name).
        for head in page.locator("tbody tr td:nth-child(2)").all_inner_texts():
            assert own["户主姓名"] in head
        page.screenshot(path=str(SCREENSHOTS / f"search-households-{label}.png"), full_page=True)
        # A refused text: a Chinese message and no rows.
        box = page.get_by_role("searchbox", name="搜索：户主姓名 / 户编号 / 证件号后四位")
        box.fill("a;b")
        box.press("Enter")
        page.wait_for_load_state()
        expect(page.get_by_role("alert")).to_contain_text("有误")
        expect(page.get_by_text("共 0 户")).to_be_visible()


def test_an_analyst_has_no_search_box(page_for):  # noqa: F811
    page = page_for("analyst")
    page.get_by_role("link", name="贫困户").first.click()
    expect(page.locator("#search-refused")).to_be_visible()
    expect(page.get_by_role("searchbox")).to_have_count(0)
