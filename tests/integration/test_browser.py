"""The web UI in a real browser: Debian's Chromium driven by Playwright, against the app served as `make run`
serves it — nginx (deploy/) in front of gunicorn, on loopback ports of its own.

Screenshots of every main page at desktop and tablet width go to var/screenshots/."""
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from core.settings import PROJECT_ROOT
from graph import views
from tests.support import bureau_files as bf
from tests.support.proxy import deployed_world  # noqa: F401  (fixture: nginx + gunicorn on the world's graph)

SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# Without the background-networking switches Chromium keeps calling Google services this closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = {"desktop": {"width": 1366, "height": 900}, "tablet": {"width": 820, "height": 1180}}


@pytest.fixture(scope="module")
def live_url(deployed_world):  # noqa: F811
    """The public (nginx) address of the deployment; gunicorn behind it is not reached directly."""
    return deployed_world.url


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page_for(browser, live_url, world):
    """page_for(role) → a page of a fresh browser context signed in with that role's token."""
    contexts = []

    def sign_in(role: str):
        context = browser.new_context(viewport=WIDTHS["desktop"], locale="zh-CN")
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{live_url}/login")
        page.get_by_label("访问令牌").fill(world.tokens[role])
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        return page

    yield sign_in
    for context in contexts:
        context.close()


def shoot(page, name: str) -> None:
    """Full-page screenshots at desktop and tablet width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(WIDTHS["desktop"])


def _covered(page) -> int:
    return int(page.locator("#stat-covered").inner_text())


def test_bureau_finds_an_uncovered_household_confirms_a_pairing_and_sees_coverage_rise(
        browser, live_url, page_for, world, neo4j_driver, tmp_path):
    login = browser.new_page(viewport=WIDTHS["desktop"])
    answer = login.goto(f"{live_url}/login")
    assert answer.headers["server"] == "nginx", "served through the proxy, as deployed"
    shoot(login, "login")
    login.close()

    page = page_for("bureau_own")
    expect(page.get_by_role("heading", level=1)).to_contain_text("县域概览")
    before = _covered(page)
    assert page.locator("svg.chart").count() == 4, "township, mechanism, trend charts and the map"
    shoot(page, "dashboard")

    page.get_by_role("link", name="贫困户").first.click()
    page.locator('select[name="covered"]').select_option("false")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("table tbody tr").first).to_contain_text(re.compile("未覆盖|已规划|待确认"))
    shoot(page, "households")
    listed = [link.inner_text() for link in page.locator("table tbody tr td:first-child a").all()]
    proposals, _ = views.search_recommendations(neo4j_driver, {"county_code": world.ids["own_county"],
                                                               "status": "proposed"}, 0, 100000)
    with_proposals = {p["household_id"] for p in proposals if not p["household"]["covered"]
                      and not p["household"]["pending"]}
    chosen = next(household for household in listed if household in with_proposals)
    page.get_by_role("link", name=chosen).click()
    expect(page.locator("#coverage-state")).to_have_text(re.compile("^(未覆盖|已规划)$"))
    shoot(page, "household")

    page.get_by_role("button", name="确认联结").first.click()
    expect(page.locator(".flash.ok")).to_contain_text("已确认联结")
    expect(page.locator("#coverage-state")).to_have_text("履约中")

    page.locator("header nav").get_by_role("link", name="县域概览").click()
    assert _covered(page) == before + 1

    page.get_by_role("link", name="帮扶台账").click()
    page.locator("input[name=q]").fill(chosen)
    page.get_by_role("button", name="查询").click()
    page.locator("table.ledger tbody tr").first.get_by_role("link", name="查看 / 编辑").click()
    dialog = page.locator("dialog#ledger-dialog")
    dialog.get_by_label("年增收（元）").fill("4800")
    dialog.get_by_role("button", name="保存").click()
    expect(page.locator(".flash.ok")).to_contain_text("已保存：")
    expect(page.locator(".flash.ok")).to_contain_text(chosen)
    expect(page.locator("table.ledger tbody tr").first).to_contain_text("4,800")
    shoot(page, "ledger")


def test_bureau_starts_a_match_run_and_uploads_a_file(page_for, tmp_path):
    page = page_for("bureau_own")
    page.get_by_role("link", name="匹配运行").click()
    page.get_by_role("button", name="为本县运行匹配").click()
    expect(page.locator(".flash.ok")).to_contain_text("匹配已排队")
    expect(page.locator("table tbody tr").first.locator(".job-status")).to_have_text("已完成", timeout=180_000)
    expect(page.locator("table tbody tr").first.locator(".job-result")).to_contain_text(re.compile("已规划|沿用此前的方案"))
    shoot(page, "runs")

    rows = [bf.household_row(951, name="孙七"), bf.household_row(952, village="433122101201", name="周八")]
    path = bf.write_table(tmp_path / "新增贫困户.xlsx", bf.HOUSEHOLD_HEADER, rows)
    page.get_by_role("link", name="数据上传").click()
    page.get_by_label(re.compile("数据文件")).set_input_files(str(path))
    page.get_by_role("button", name="上传并校验").click()
    expect(page.locator(".flash.ok")).to_contain_text("文件已上传")
    first = page.locator("table tbody tr").first
    expect(first.locator(".job-status")).to_have_text("已完成", timeout=120_000)
    expect(first.locator(".job-result")).to_contain_text("2 / 1 / 1 / 0")
    with page.expect_download() as download:
        first.get_by_role("link", name="下载报告").click()
    report = download.value.path().read_text("utf-8-sig")
    assert "新增贫困户.xlsx" in report and "不属于本账号管辖的县" in report
    shoot(page, "uploads")


def test_an_enterprise_sees_only_its_own_matches_masked(page_for, world, neo4j_driver):
    page = page_for("enterprise_own")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    own_recs, _ = views.search_recommendations(neo4j_driver, {"credit_code": world.own_enterprise}, 0, 100000)
    confirmed = {rec["rec_id"] for rec in own_recs if rec["confirmed"]}  # partners the bureau confirmed: named
    rows = page.locator("tr.rec").all()
    names = [row.locator("td.head-name").inner_text() for row in rows if row.get_attribute("data-rec") not in confirmed]
    assert names and all("*" in name for name in names), names
    real_names = {rec["household"]["head_name"] for rec in own_recs if not rec["confirmed"]}
    text = page.locator("main").inner_text()
    assert not [name for name in real_names if name in text]
    other = views.enterprise_detail(neo4j_driver, world.other_enterprise)
    assert other["name"] not in page.content()
    shoot(page, "enterprise")

    # The recommendations come 20 to a page; 下一页 shows the rest, with the status kept.
    proposed = [rec["rec_id"] for rec in own_recs if rec["status"] == "proposed"]
    assert len(proposed) > 20, "the world gives the enterprise more than a page of proposals"
    pager = page.locator("#recommendations nav.pager")
    expect(pager).to_contain_text(f"共 {len(proposed)} 条")
    assert [row.get_attribute("data-rec") for row in page.locator("tr.rec").all()] == proposed[:20]
    pager.get_by_role("link", name="下一页").click()
    expect(page).to_have_url(re.compile(r"rec_page=2"))
    assert "status=proposed" in page.url
    expect(pager).to_contain_text("第 2 / ")
    assert [row.get_attribute("data-rec") for row in page.locator("tr.rec").all()] == proposed[20:40]
    pager.get_by_role("link", name="上一页").click()
    expect(page).to_have_url(re.compile(r"rec_page=1"))

    actionable = page.locator("tr.rec").filter(has=page.get_by_role("button", name="接受"))
    first = actionable.first
    rec_id = first.get_attribute("data-rec")
    assert rec_id in {rec["rec_id"] for rec in own_recs}, "only the enterprise's own recommendations are listed"
    first.get_by_role("button", name="接受").click()
    expect(page.locator(".flash.ok")).to_contain_text("等待商务局确认")
    second = actionable.first
    second.get_by_label("拒绝原因").fill("用工岗位已满")
    second.get_by_role("button", name="拒绝").click()
    expect(page.locator(".flash.ok")).to_contain_text("已拒绝")
    assert views.recommendation(neo4j_driver, rec_id)["status"] == "accepted"

    page.goto(page.url.split("/enterprise")[0] + "/dashboard")
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")
    page.goto(page.url.split("/dashboard")[0] + f"/households/{world.own_household}")
    expect(page.get_by_role("heading", level=1)).to_have_text("无权访问")


def test_a_forged_form_without_csrf_token_is_refused(page_for, live_url, world, neo4j_driver):
    page = page_for("bureau_own")
    rec_id = world.ids["other_rec"]  # any recommendation: the request must fail before it is looked at
    status_before = views.recommendation(neo4j_driver, world.ids["own_rec"])["status"]
    page.set_content(f"""<form id="forged" method="post" action="{live_url}/recommendations/{world.ids['own_rec']}/confirm">
                         <input name="back" value="/dashboard"></form>""")
    with page.expect_navigation():
        page.evaluate("document.getElementById('forged').submit()")
    expect(page.locator("main")).to_contain_text("CSRF 校验失败")
    assert views.recommendation(neo4j_driver, world.ids["own_rec"])["status"] == status_before
    response = page.request.post(f"{live_url}/recommendations/{rec_id}/decline", form={"reason": "forged"})
    assert response.status == 400


def test_bureau_recomputes_and_reads_the_outcomes(page_for):
    page = page_for("bureau_own")
    page.get_by_role("link", name="帮扶成效").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("帮扶成效")
    page.get_by_role("button", name="重新计算").click()
    expect(page.locator(".flash.ok")).to_contain_text("帮扶成效已重新计算")
    expect(page.locator("#by-mechanism table tbody tr").first).to_be_visible()
    expect(page.locator("#method")).to_contain_text("分层")
    shoot(page, "outcomes")


def test_an_enterprise_updates_its_offer_on_its_page(page_for, world, neo4j_driver):
    page = page_for("enterprise_own")
    form = page.get_by_role("form", name="更新帮扶供给")
    expect(form).to_be_visible()
    jobs = views.enterprise_detail(neo4j_driver, world.own_enterprise).get("jobs_offered")
    expect(form.get_by_label("用工需求（人）")).to_have_value("" if jobs is None else str(jobs))
    form.get_by_label("用工需求（人）").fill(str((jobs or 0) + 3))
    form.get_by_label("就业务工").check()
    form.get_by_label("技能要求").select_option(label="技能劳动力")
    form.get_by_label(re.compile("收购产品")).fill("猕猴桃、黄金茶")
    form.get_by_role("button", name="保存帮扶供给").click()
    expect(page.locator(".flash.ok")).to_contain_text("帮扶供给已更新")
    expect(page.locator(".flash.ok")).to_contain_text("将重新匹配：泸溪县、凤凰县")
    history = page.locator("table.offer-changes")
    expect(history).to_contain_text("用工需求（人）")
    expect(history).to_contain_text(f"→ {(jobs or 0) + 3}")
    expect(history).to_contain_text("技能劳动力")
    expect(page.get_by_role("form", name="更新帮扶供给").get_by_label("用工需求（人）")).to_have_value(str((jobs or 0) + 3))
    shoot(page, "enterprise-offer")
    detail = views.enterprise_detail(neo4j_driver, world.own_enterprise)
    assert detail["jobs_offered"] == (jobs or 0) + 3 and detail["products_bought"] == ["猕猴桃", "黄金茶"]


def _no_sideways_scroll(page) -> None:
    """The page itself never scrolls sideways (wide tables scroll inside their own box)."""
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_the_working_day_in_the_queue_and_notifications(page_for, world, neo4j_driver):
    """An enterprise accepts; the bureau sees it counted in the navigation, confirms it from 待办 with 批量确认;
    the enterprise reads the confirmation in 通知. At desktop and tablet width."""
    enterprise = page_for("enterprise_own")
    actionable = enterprise.locator("tr.rec").filter(has=enterprise.get_by_role("button", name="接受"))
    accepted = [actionable.nth(index).get_attribute("data-rec") for index in range(2)]
    for _ in accepted:
        actionable.first.get_by_role("button", name="接受").click()
        expect(enterprise.locator(".flash.ok")).to_contain_text("等待商务局确认")

    bureau = page_for("bureau_own")
    waiting = bureau.locator("header nav a", has_text="待办").locator(".nav-count")
    expect(waiting).to_be_visible()
    assert int(waiting.inner_text()) >= 2
    bureau.locator("header nav a", has_text="待办").click()
    expect(bureau.locator('header nav a[aria-current="page"]')).to_contain_text("待办")
    rows = bureau.locator("tr.awaiting")
    assert rows.count() >= 2
    for label, size in WIDTHS.items():
        bureau.set_viewport_size(size)
        _no_sideways_scroll(bureau)
    bureau.set_viewport_size(WIDTHS["desktop"])
    shoot(bureau, "queue")
    before = rows.count()
    bureau.get_by_label("全选本页").check()
    bureau.get_by_role("button", name="批量确认所选").click()
    expect(bureau.locator(".flash.ok")).to_contain_text(f"已确认 {before} 条联结")
    expect(bureau.locator("tr.awaiting")).to_have_count(0)
    for rec_id in accepted:
        assert views.recommendation(neo4j_driver, rec_id)["status"] == "confirmed"

    enterprise.reload()
    notices = enterprise.locator("header nav a", has_text="通知")
    expect(notices.locator(".nav-count")).to_be_visible()
    notices.click()
    expect(enterprise.locator("#notices li.unread").first).to_contain_text("商务局已确认")
    shoot(enterprise, "notifications")
    enterprise.get_by_role("button", name="全部标为已读").click()
    expect(enterprise.locator("#notices li.unread")).to_have_count(0)


def test_households_sort_both_ways_and_jump_to_a_page(page_for):
    page = page_for("bureau_own")
    page.locator("header nav a", has_text="贫困户").click()
    page.get_by_role("link", name="人均纯收入（元）").click()
    expect(page.locator('th[aria-sort="ascending"]')).to_contain_text("人均纯收入")
    page.get_by_role("link", name="人均纯收入（元）").click()
    expect(page.locator('th[aria-sort="descending"]')).to_contain_text("人均纯收入")
    incomes = [float(text.replace(",", "")) for text in page.locator("table tbody tr td:nth-child(6)").all_inner_texts()
               if text.strip()]
    assert len(incomes) > 5 and incomes == sorted(incomes, reverse=True)
    pager = page.locator("nav.pager")
    pager.get_by_label("前往").fill("3")
    pager.get_by_role("button", name="确定").click()
    expect(pager).to_contain_text("第 3 / ")
    assert "order=desc" in page.url and "sort=income_per_capita" in page.url
    page.set_viewport_size(WIDTHS["tablet"])
    _no_sideways_scroll(page)
    page.set_viewport_size(WIDTHS["desktop"])
    shoot(page, "households-sorted")


def test_the_analyst_overview(page_for):
    page = page_for("analyst")
    expect(page.get_by_role("heading", level=1)).to_have_text("数据概览（只读）")
    expect(page.locator("#notebooks")).to_contain_text("make notebook")
    page.locator("#analyst-townships a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("贫困户")
    page.go_back()
    for label, size in WIDTHS.items():
        page.set_viewport_size(size)
        _no_sideways_scroll(page)
    shoot(page, "analyst")
