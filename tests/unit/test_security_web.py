"""Browser-facing security without a database (issue 12, findings 2, 4 and 5): the safe-redirect rule,
security headers on every response, a deeply nested JSON body, /metrics access, and which client address
is trusted behind a reverse proxy."""
import re
from pathlib import Path

import pytest

from app.web.security import safe_redirect_target, same_site_path
from tests.support.apps import offline_settings
from tests.support.security import HOSTILE_TARGETS, SAME_SITE_TARGETS, browser_lands_on

TEMPLATES = Path(__file__).resolve().parents[2] / "app" / "web" / "templates"


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_hostile_redirect_targets_are_refused(target):
    assert safe_redirect_target(target) is None


@pytest.mark.parametrize("target", SAME_SITE_TARGETS)
def test_same_site_paths_are_kept(target):
    kept = safe_redirect_target(target)
    assert kept == target and browser_lands_on(kept, "http://lianjie.test") == "lianjie.test"


def test_a_referrer_is_followed_only_on_this_site():
    assert same_site_path("http://lianjie.test/ledger?page=2", "lianjie.test") == "/ledger?page=2"
    for referrer in ("https://evil.example/ledger", "http://lianjie.test.evil.example/x", "//evil.example/",
                     "http://lianjie.test@evil.example/", "javascript:alert(1)", "", None,
                     "http://lianjie.test//evil.example/"):
        assert same_site_path(referrer, "lianjie.test") is None, referrer


EVERY_RESPONSE = ("/healthz", "/readyz", "/login", "/no-such-page", "/openapi.json", "/docs/swagger", "/docs/",
                  "/api/v1/me", "/static/web/app.css")


def test_every_response_carries_the_security_headers(make_offline_app):
    client = make_offline_app().test_client()
    for path in EVERY_RESPONSE:
        response = client.get(path)
        headers = response.headers
        policy = headers.get("Content-Security-Policy", "")
        assert headers.get("X-Frame-Options") == "DENY", path
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy and "form-action 'self'" in policy
        assert headers.get("X-Content-Type-Options") == "nosniff", path
        assert headers.get("Referrer-Policy") == "same-origin", path  # CSRF over HTTPS checks a same-site Referer
        if not path.startswith("/static/"):
            assert "no-store" in headers.get("Cache-Control", ""), path


def test_the_pages_need_no_inline_script_or_style():
    # The CSP allows scripts and styles only from the app's own files: templates must not inline any.
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", text, re.IGNORECASE), template.name


def test_the_api_docs_page_needs_no_inline_script_or_style(make_offline_app):
    client = make_offline_app().test_client()
    for path in ("/docs/swagger", "/docs/"):
        response = client.get(path, follow_redirects=True)
        text = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"<style\b|\sstyle=|\son[a-z]+=", text, re.IGNORECASE), path


@pytest.mark.parametrize("path, method", [("/api/v1/match-runs", "post"), ("/api/v1/partnerships/x", "patch"),
                                          ("/api/v1/recommendations/x/decline", "post")])
def test_a_deeply_nested_body_is_a_client_error(make_offline_app, path, method):
    client = make_offline_app().test_client()
    for body in ("[" * 100_000, "{\"a\":" * 100_000, "[" * 100_000 + "]" * 100_000):
        response = getattr(client, method)(path, data=body, content_type="application/json")
        assert response.status_code in (400, 422), (path, response.status_code)
        assert response.mimetype == "application/problem+json"


def test_metrics_are_refused_to_other_hosts(make_offline_app):
    client = make_offline_app().test_client()
    assert client.get("/metrics").status_code == 200, "a scraper on this machine"
    refused = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert b"lianjie_http_requests_total" not in refused.data


def test_metrics_with_the_configured_token(make_offline_app):
    client = make_offline_app(metrics_token="m" * 40).test_client()
    remote = {"REMOTE_ADDR": "203.0.113.5"}
    assert client.get("/metrics", environ_base=remote,
                      headers={"Authorization": "Bearer " + "m" * 40}).status_code == 200
    assert client.get("/metrics", environ_base=remote, headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_forwarded_addresses_are_ignored_without_a_proxy(make_offline_app):
    # Direct service (PROXY_HOPS=0): a client must not choose its own address by sending X-Forwarded-For.
    client = make_offline_app().test_client()
    response = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5", "X-Forwarded-Proto": "https"})
    assert response.status_code == 200, "still the loopback caller"


def test_behind_one_proxy_the_forwarded_client_is_the_client(make_offline_app):
    app = make_offline_app(proxy_hops=1)
    seen = {}

    @app.get("/_test/scheme")
    def _scheme():
        from flask import request

        seen.update(secure=request.is_secure, client=request.remote_addr)
        return "ok"

    client = app.test_client()
    outside = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.5"})
    assert outside.status_code == 403, "an outside client reached through the local proxy"
    spoofed = client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1, 203.0.113.5"})
    assert spoofed.status_code == 403, "only the proxy's own hop is trusted, not what the client prepended"
    client.get("/_test/scheme", headers={"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"})
    assert seen == {"secure": True, "client": "198.51.100.7"}


def test_no_configuration_for_proxies_by_default():
    assert offline_settings().proxy_hops == 0
