"""Sessions, sign-in and redirects under attack (issue 12, findings 1, 2, 4 and 5), on the test Neo4j.

Each test plays the attack that the probe of issue 12 played against `make run`: a cookie forged with the
published default key, a cookie copied before sign-out, off-site redirects after sign-in and after a form,
failed logins spread over two workers, and a client choosing its own address with X-Forwarded-For."""
import html
import re
import threading
from datetime import timedelta

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from core.codes import RecommendationStatus
from core.settings import Settings
from graph import access, views
from services import sessions
from services.context import Context
from services.tokens import issue_token, list_tokens, revoke_token
from tests.support.security import HOSTILE_REFERRERS, HOSTILE_TARGETS, SAME_SITE_TARGETS, browser_lands_on

OLD_DEFAULT_KEY = "dev-only-secret-change-me"
COOKIE = "lianjie_session"
WRONG = {"Authorization": "Bearer lj_wrong"}


def _csrf(client, path="/login") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def _login(client, token: str, **form):
    return client.post("/login", data={"token": token, "csrf_token": _csrf(client), **form})


def _signed(key: str, data: dict) -> str:
    """A session cookie as Flask would sign it with this key (what a forger does)."""
    forger = Flask("forger")
    forger.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(data)


def _cookie(client) -> str:
    return client.get_cookie(COOKIE).value


def _token_id(ctx: Context, name: str) -> str:
    return next(token["token_id"] for token in list_tokens(ctx) if token["name"] == name)


def _signed_in(client) -> bool:
    response = client.get("/dashboard")
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.fixture
def ctx(neo4j_driver, test_settings):
    return Context(neo4j_driver, test_settings)


@pytest.fixture
def limiter(api_app):
    """The failed-login count, empty before and after the test."""
    storage = api_app.extensions["failed_logins"].limiter.storage
    storage.reset()
    yield storage
    storage.reset()


# Finding 1: session forgery.

def test_a_cookie_forged_for_an_admin_token_id_signs_nobody_in(world, make_app, ctx):
    admin = _token_id(ctx, "test admin")
    # The app as `make run` built it: SECRET_KEY not configured.
    app = make_app(job_workers_enabled=False, secret_key=Settings.model_fields["secret_key"].default)
    for key in (OLD_DEFAULT_KEY, app.secret_key):  # the published key, and even the installation's own key
        for forged in ({"token_id": admin, "_permanent": True}, {"sid": admin, "_permanent": True}):
            client = app.test_client()
            client.set_cookie(COOKIE, _signed(key, forged))
            response = client.get("/dashboard")
            assert response.status_code == 302 and response.headers["Location"].startswith("/login"), (key, forged)
            assert client.get("/api/v1/households").status_code == 401


def test_the_cookie_holds_a_random_session_id_and_no_token_id(api_app, world, ctx):
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])
    content = SecureCookieSessionInterface().get_signing_serializer(api_app).loads(_cookie(client))
    assert "token_id" not in content and _token_id(ctx, "test bureau_own") not in repr(content)
    assert len(content["sid"]) >= 43, "256 random bits"
    first = content["sid"]
    _login(client, world.tokens["bureau_own"])
    assert SecureCookieSessionInterface().get_signing_serializer(api_app).loads(_cookie(client))["sid"] != first, \
        "a new session id at every sign-in"


def test_a_copied_cookie_stops_working_at_sign_out(api_app, world):
    victim = api_app.test_client()
    _login(victim, world.tokens["bureau_own"])
    thief = api_app.test_client()
    thief.set_cookie(COOKIE, _cookie(victim))
    assert _signed_in(thief), "a copied cookie is the session while it lasts"
    victim.post("/logout", data={"csrf_token": _csrf(victim, "/dashboard")})
    assert not _signed_in(thief) and not _signed_in(victim)


def test_signing_in_again_ends_the_previous_session(api_app, world):
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])
    earlier = _cookie(client)
    _login(client, world.tokens["bureau_own"])
    replay = api_app.test_client()
    replay.set_cookie(COOKIE, earlier)
    assert not _signed_in(replay)


def test_revoking_a_token_ends_its_sessions_on_the_server(api_app, world, ctx):
    secret = issue_token(ctx, "bureau", "revoked mid-session", county_code=world.ids["own_county"])
    client = api_app.test_client()
    _login(client, secret)
    token_id = _token_id(ctx, "revoked mid-session")
    assert _signed_in(client) and access.open_web_sessions(ctx.driver, token_id, ctx.database) == 1
    revoke_token(ctx, token_id)
    assert access.open_web_sessions(ctx.driver, token_id, ctx.database) == 0
    assert not _signed_in(client)


def test_sessions_end_when_idle_and_at_their_lifetime(api_app, world, monkeypatch):
    settings = api_app.config["LIANJIE_SETTINGS"]
    idle, lifetime = timedelta(minutes=settings.web_session_idle_minutes), timedelta(hours=settings.web_session_hours)
    started = sessions.now()
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])
    monkeypatch.setattr(sessions, "now", lambda: started + idle + timedelta(minutes=1))
    assert not _signed_in(client), "idle too long"

    monkeypatch.setattr(sessions, "now", lambda: started)
    _login(client, world.tokens["bureau_own"])
    moment = started
    while moment + idle - timedelta(minutes=2) < started + lifetime:  # active all day: never idle
        moment += idle - timedelta(minutes=2)
        monkeypatch.setattr(sessions, "now", lambda at=moment: at)
        assert _signed_in(client), moment - started
    monkeypatch.setattr(sessions, "now", lambda: started + lifetime + timedelta(minutes=1))
    assert not _signed_in(client), "past the absolute lifetime, however active"


# Finding 2: open redirects.

def _hidden_next(page: str) -> str:
    return html.unescape(re.search(r'name="next" value="([^"]*)"', page).group(1))


def test_the_reported_sign_in_redirect_stays_on_site(api_app, world):
    client = api_app.test_client()
    page = client.get("/login?next=%2F%09%2Fevil.example%2F").get_data(as_text=True)
    response = _login(client, world.tokens["bureau_own"], next=_hidden_next(page))
    assert response.status_code == 302 and browser_lands_on(response.headers["Location"]) == "localhost"
    assert response.headers["Location"] == "/dashboard"


@pytest.mark.parametrize("target", [t for t in HOSTILE_TARGETS if isinstance(t, str)])
def test_sign_in_never_redirects_off_site(api_app, world, target):
    client = api_app.test_client()
    page = client.get("/login", query_string={"next": target}).get_data(as_text=True)
    response = _login(client, world.tokens["bureau_own"], next=_hidden_next(page))
    assert response.status_code == 302
    location = response.headers["Location"]
    assert browser_lands_on(location) == "localhost" and location == "/dashboard", location


@pytest.mark.parametrize("target", SAME_SITE_TARGETS)
def test_sign_in_returns_to_the_page_asked_for(api_app, world, target):
    client = api_app.test_client()
    response = _login(client, world.tokens["bureau_own"], next=target)
    assert response.headers["Location"] == target


@pytest.fixture(scope="module")
def bureau(api_app, world):
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])
    return client


@pytest.mark.parametrize("target", [t for t in HOSTILE_TARGETS if isinstance(t, str)])
def test_a_form_back_field_never_redirects_off_site(bureau, world, target):
    token = _csrf(bureau, "/dashboard")
    # Declining without a reason changes nothing and goes back; a ledger edit saves and goes back.
    declined = bureau.post(f"/recommendations/{world.ids['own_rec']}/decline",
                           data={"csrf_token": token, "reason": "", "back": target})
    saved = bureau.post(f"/ledger/{world.ids['own_partnership']}",
                        data={"csrf_token": token, "income_gain": "1200", "back": target})
    for response in (declined, saved):
        assert response.status_code == 302 and browser_lands_on(response.headers["Location"]) == "localhost"


def test_confirming_never_redirects_off_site(api_app, world, neo4j_driver):
    recs, _ = views.search_recommendations(neo4j_driver, {"county_code": world.ids["own_county"]}, 0, 500)
    rec = next(r for r in recs if not r["confirmed"] and r["rec_id"] != world.ids["own_rec"]
               and r["status"] == RecommendationStatus.PROPOSED)
    client = api_app.test_client()
    _login(client, world.tokens["bureau_own"])
    response = client.post(f"/recommendations/{rec['rec_id']}/confirm",
                           data={"csrf_token": _csrf(client, "/dashboard"), "back": "/\t/evil.example/"})
    assert response.status_code == 302 and browser_lands_on(response.headers["Location"]) == "localhost"


@pytest.mark.parametrize("referrer", HOSTILE_REFERRERS)
def test_a_referrer_never_redirects_off_site(bureau, world, referrer):
    response = bureau.post(f"/ledger/{world.ids['own_partnership']}", headers={"Referer": referrer},
                           data={"csrf_token": _csrf(bureau, "/dashboard"), "income_gain": "not a number"})
    assert response.status_code == 302 and browser_lands_on(response.headers["Location"]) == "localhost"


# Finding 4: the failed-login limit, and finding 5: whose address counts.

def test_failed_logins_are_counted_across_workers(make_app, world, limiter):
    # Two app instances on one graph stand for two gunicorn workers (or two servers).
    workers = [make_app(job_workers_enabled=False).test_client() for _ in range(2)]
    statuses = [workers[attempt % 2].get("/api/v1/me", headers=WRONG).status_code for attempt in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    assert _login(workers[0], world.tokens["admin"]).status_code == 429, "the web sign-in shares the count"


def test_forwarded_for_is_not_trusted_without_a_proxy(api_app, world, limiter):
    client = api_app.test_client()
    statuses = [client.get("/api/v1/me", headers={**WRONG, "X-Forwarded-For": f"198.51.100.{attempt}"}).status_code
                for attempt in range(11)]
    assert statuses[-1] == 429, "a client cannot reset its count by naming another address"


def test_behind_a_proxy_the_forwarded_client_is_counted_and_audited(make_app, world, limiter, neo4j_driver):
    proxied = make_app(job_workers_enabled=False, proxy_hops=1).test_client()
    one, other = {"X-Forwarded-For": "198.51.100.1"}, {"X-Forwarded-For": "198.51.100.2"}
    assert [proxied.get("/api/v1/me", headers={**WRONG, **one}).status_code for _ in range(11)][-1] == 429
    assert proxied.get("/api/v1/me", headers={**WRONG, **other}).status_code == 401, "another client is not blocked"
    read = proxied.get(f"/api/v1/households/{world.own_household}",
                       headers={"Authorization": f"Bearer {world.tokens['bureau_own']}", **other})
    assert read.status_code == 200
    events, _ = access.audit_events(neo4j_driver, 0, 50)
    event = next(e for e in events if e.get("request_id") == read.headers["X-Request-ID"])
    assert event["client"] == "198.51.100.2"


def test_behind_a_tls_proxy_the_sign_in_keeps_its_secure_cookie_and_referrer_check(make_app, world):
    # X-Forwarded-Proto https makes the request secure: Flask-WTF then also wants a same-site Referer, which
    # Referrer-Policy: same-origin lets the browser send.
    client = make_app(job_workers_enabled=False, proxy_hops=1).test_client()
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.9"}
    page = client.get("/login", headers=https).get_data(as_text=True)
    form = {"token": world.tokens["bureau_own"],
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}
    assert client.post("/login", headers=https, data=form).status_code == 400, "no Referer over HTTPS"
    response = client.post("/login", headers={**https, "Referer": "https://localhost/login"}, data=form)
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# Finding 4: headers of signed-in pages and personal data; the pages satisfy the policy in a real browser.

def test_personal_data_is_never_cached(api_app, world, bureau):
    token = {"Authorization": f"Bearer {world.tokens['bureau_own']}"}
    client = api_app.test_client()
    responses = [bureau.get(path) for path in ("/dashboard", "/households", f"/households/{world.own_household}",
                                               "/ledger", "/households/export.xlsx")]
    responses += [client.get(path, headers=token) for path in (
        "/api/v1/households", f"/api/v1/households/{world.own_household}", "/api/v1/partnerships/export.xlsx")]
    for response in responses:
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"] and response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.fixture(scope="module")
def live_url(api_app):
    server = make_server("127.0.0.1", 0, api_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


RECORD_VIOLATIONS = """window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));"""


def test_every_page_satisfies_the_content_security_policy_in_chromium(live_url, world):
    paths = ["/dashboard", "/households", f"/households/{world.own_household}", "/runs", "/uploads", "/ledger",
             "/docs/swagger", "/docs/"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.add_init_script(RECORD_VIOLATIONS)
            console = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"{live_url}/login")
            page.get_by_label("访问令牌").fill(world.tokens["bureau_own"])
            page.get_by_role("button", name="登录").click()
            page.wait_for_load_state()
            assert page.url.endswith("/dashboard")
            for path in paths:
                page.goto(live_url + path)
                page.wait_for_load_state("networkidle")
                if path == "/docs/swagger":
                    page.wait_for_selector(".opblock", timeout=15000)  # Swagger UI rendered the operations
                violations = page.evaluate("window.__violations")
                assert not violations, (path, violations)
            enterprise = browser.new_context(locale="zh-CN").new_page()
            enterprise.add_init_script(RECORD_VIOLATIONS)
            enterprise.on("console", lambda message: console.append(message.text))
            enterprise.goto(f"{live_url}/login")
            enterprise.get_by_label("访问令牌").fill(world.tokens["enterprise_own"])
            enterprise.get_by_role("button", name="登录").click()
            enterprise.wait_for_load_state("networkidle")
            assert enterprise.url.endswith("/enterprise") and not enterprise.evaluate("window.__violations")
            assert not [text for text in console if "Content Security Policy" in text], console
        finally:
            browser.close()
