"""The dashboard's drill-down and the run page in a real browser (Chromium at 1366 px and 820 px, served
through nginx and gunicorn as deployed): a township bar opens the households behind it, the runs list opens a
run. Screenshots go to var/screenshots/ (as tests/integration/test_browser.py's)."""
import re
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from tests.integration.test_browser import WIDTHS, browser, live_url, page_for, shoot  # noqa: F401  (fixtures)
from tests.support.proxy import deployed_world  # noqa: F401


def test_a_township_bar_opens_the_households_behind_it(page_for, world):  # noqa: F811
    page = page_for("bureau_own")
    expect(page.get_by_role("heading", level=1)).to_contain_text("县域概览")
    expect(page.locator("#stat-planned")).to_be_visible()
    expect(page.locator("#coverage-glossary")).to_contain_text("四项相加等于户数")
    cards = [int(page.locator(f"#{name}").inner_text()) for name in
             ("stat-covered", "stat-pending", "stat-planned", "stat-uncovered")]
    assert sum(cards) == int(page.locator("#stat-households").inner_text())
    shoot(page, "dashboard-drilldown")
    for width in ("tablet", "desktop"):
        page.set_viewport_size(WIDTHS[width])
        segment = page.locator("#township-coverage svg a.chart-link[href*='coverage=']").first
        href = segment.get_attribute("href")
        label = segment.get_attribute("aria-label")  # "<乡镇> <状态> N 户"
        expected = int(re.search(r"(\d+) 户$", label).group(1))
        segment.click()
        page.wait_for_load_state()
        query = parse_qs(urlparse(page.url).query)
        assert query["township"] and query["coverage"] and urlparse(href).path == "/households"
        expect(page.get_by_role("heading", level=1)).to_contain_text("贫困户")
        assert int(re.search(r"共 ([\d,]+) 户", page.content()).group(1).replace(",", "")) == expected
        expect(page.get_by_label("覆盖状态")).to_have_value(query["coverage"][0])
        if width == "tablet":
            shoot(page, "households-from-township-bar")
        page.go_back()
        page.wait_for_load_state()


def test_the_runs_list_opens_a_run_page(page_for, world):  # noqa: F811
    page = page_for("bureau_own")
    page.get_by_role("link", name="匹配运行").first.click()
    page.wait_for_load_state()
    table = page.locator("#runs-table")
    assert world.ids["own_match_run"] not in table.inner_text(), "no run id shown as text"
    link = table.locator("a.run-link").first
    expect(link).to_have_text(re.compile(r"^第 \d+ 次$"))
    link.click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_contain_text("匹配运行第")
    for section in ("#run-parameters", "#run-coverage", "#run-changes", "#run-unplaced", "#run-capacity"):
        expect(page.locator(section)).to_be_visible()
    shoot(page, "run-page")
    page.locator("#link-newly-planned").click()
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_contain_text("本次新规划")
    shoot(page, "run-changes")
