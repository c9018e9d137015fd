"""Every page speaks Chinese: signed in as each role, the pages reachable by links are crawled and their visible
text (outside elements marked lang="en", offered as a second language, and <code>) must hold none of the
internal keys and English words that leaked before (完成 / done, writing recommendations, 筛选条件有误：page,
run ids, partnership ids, None). The analyst's overview and the navigation's current page are checked too."""
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.support.web import signed_in

FORBIDDEN_WORDS = {
    "done", "writing", "recommendation", "recommendations", "superseded", "closed", "already", "page", "file",
    "status", "household_id", "credit_code", "partnership_id", "run_id", "rec_id", "job_id", "pending", "covered",
    "planned", "uncovered", "awaiting", "None", "null", "undefined", "True", "False", "nan", "NaN", "error",
    "invalid", "Traceback", "county", "township", "village", "mechanism",
}
INTERNAL_IDS = re.compile(r"\bP-(?:match|run|rec|LZ)|\brun-\d|\bmatch-\d{8}|\bupload-\d{8}")
SKIPPED = (".xlsx", ".csv", "/logout", "/static/", "/api/")
PAGES_PER_ROLE = 80
QUERIES_PER_PATH = 3


class VisibleText(HTMLParser):
    """The text a reader sees: no script or style, nothing inside lang="en" or <code>."""

    HIDDEN = {"script", "style", "code", "title"}
    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "col", "embed", "param", "track"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: whether its text is hidden
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag in self.VOID:
            return
        hidden = (tag in self.HIDDEN or (attrs.get("lang") or "").startswith("en")
                  or bool(self.stack and self.stack[-1]))
        self.stack.append(hidden)

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def _read(body: str) -> tuple[str, list[str]]:
    parser = VisibleText()
    parser.feed(body)
    return " ".join(parser.parts), parser.links


def _leaks(text: str) -> set[str]:
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)) & FORBIDDEN_WORDS
    return words | set(INTERNAL_IDS.findall(text))




def _crawl(client, start: str) -> dict[str, set[str]]:
    """Breadth-first over the site's links from start; {url: leaked words} of every page with a leak."""
    seen, per_path, leaks = {start}, {}, {}
    queue = deque([start])
    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        url = queue.popleft()
        response = client.get(url, follow_redirects=True)
        visited += 1
        if response.mimetype != "text/html":
            continue
        assert response.status_code < 500, (url, response.status_code)
        text, links = _read(response.get_data(as_text=True))
        found = _leaks(text)
        if found:
            leaks[url] = found
        for link in links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or not parts.path.startswith("/") or any(s in link for s in SKIPPED):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen or per_path.get(parts.path, 0) >= QUERIES_PER_PATH:
                continue
            per_path[parts.path] = per_path.get(parts.path, 0) + 1
            seen.add(target)
            queue.append(target)
    assert visited > 3, "the crawl found the site's pages"
    return leaks


@pytest.mark.parametrize("role,start", [("bureau_own", "/dashboard"), ("enterprise_own", "/enterprise"),
                                        ("analyst", "/analyst"), ("admin", "/dashboard")])
def test_no_internal_keys_or_english_in_the_pages(api_app, world, role, start):
    client = signed_in(api_app, world.tokens[role])
    assert _crawl(client, start) == {}


def test_the_leaks_the_check_exists_for_are_caught():
    """The check itself: the messages reported before are found."""
    for leaked in ("完成 / done", "写入 7553 条推荐 / writing recommendations", "筛选条件有误：page",
                   "recommendation already closed or superseded", "P-match-20241201-376", "文件 file"):
        assert _leaks(leaked), leaked
    assert not _leaks('联结 Lianjie · 第 2 / 5 页 · 共 1,064 条')
    text, _ = _read('<p>已完成<span lang="en">done</span><code>make notebook</code></p>')
    assert not _leaks(text)


def test_the_analyst_starts_on_a_read_only_overview(api_app, world):
    client = signed_in(api_app, world.tokens["analyst"])
    landing = client.get("/", follow_redirects=True)
    body = landing.get_data(as_text=True)
    assert landing.request.path == "/analyst"
    assert "数据概览（只读）" in body and 'aria-current="page">数据概览' in body
    assert "04-outcomes-and-risk.ipynb" in body and "make notebook" in body
    townships = re.findall(r'<a href="(/households\?county=\d+&amp;township=\d+)">', body)
    assert townships, "each township links to its pseudonymised households"
    assert client.get(townships[0].replace("&amp;", "&")).status_code == 200
    assert world.own_household not in body
