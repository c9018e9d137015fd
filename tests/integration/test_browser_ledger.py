"""The ledger (帮扶台账) in Chromium at 1366 px and 820 px: no name, enterprise or date breaks across lines, the
table scrolls inside its frame instead of the page, and 查看 / 编辑 opens the dialog that saves and names the row.
Screenshots go where the other browser tests put theirs (var/screenshots/)."""
import re

from playwright.sync_api import expect

from tests.integration.test_browser import SCREENSHOTS, WIDTHS, browser, live_url, page_for, shoot  # noqa: F401
from tests.support.proxy import deployed_world  # noqa: F401  (fixture: nginx + gunicorn on the world's graph)

# Each text of a cell is measured on its own: more than one line box (distinct tops) means it wrapped.
WRAPPED_CELLS = """() => Array.from(document.querySelectorAll('table.ledger tbody td.nowrap')).flatMap((cell) => {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    const wrapped = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange(); range.selectNodeContents(node);
        const tops = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        if (tops.size > 1) wrapped.push({text: node.textContent.trim(), lines: tops.size});
    }
    return wrapped;
})"""


def test_ledger_cells_never_wrap_and_the_dialog_opens_and_saves(page_for, live_url, world):  # noqa: F811
    page = page_for("bureau_own")
    page.goto(f"{live_url}/ledger")
    expect(page.locator("table.ledger tbody tr").first).to_be_visible()
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        assert page.evaluate(WRAPPED_CELLS) == [], label
        name = page.locator("table.ledger tbody td.name").first
        line = page.evaluate("(cell) => parseFloat(getComputedStyle(cell).lineHeight)", name.element_handle())
        box = name.locator("a").bounding_box()
        assert box["height"] <= line + 1, (label, box, line)  # the name is one line high
        # The page itself never scrolls sideways: a wide table scrolls inside .table-wrap.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), label
        text = page.locator("main").inner_text()
        assert world.ids["own_partnership"] not in text and not re.search(r"\bP-match-", text)
    shoot(page, "ledger")

    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.get_by_role("link", name="查看 / 编辑").first.click()
        dialog = page.locator("dialog#ledger-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading", name=re.compile("变更记录"))).to_be_visible()
        expect(dialog.get_by_label("帮扶措施")).to_be_visible()
        page.screenshot(path=str(SCREENSHOTS / f"ledger-dialog-{label}.png"))
        dialog.get_by_label("帮扶措施").fill(f"浏览器测试：{label} 订单收购与技能培训")
        dialog.get_by_role("button", name="保存").click()
        page.wait_for_load_state()
        expect(page.locator(".flash.ok")).to_contain_text("已保存：")
        expect(page.locator("dialog#ledger-dialog")).not_to_be_visible()
        # The row's own page (what the link opens without JavaScript) shows the change, who made it and when.
        page.goto(live_url + page.locator("table.ledger a[data-ledger-dialog]").first.get_attribute("href"))
        expect(page.locator("table.changes")).to_contain_text(f"浏览器测试：{label}")
        expect(page.locator("table.changes")).to_contain_text("商务局")
        if label == "tablet":
            shoot(page, "ledger-detail")
        page.go_back()
