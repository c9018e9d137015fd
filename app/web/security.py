"""Browser-facing protections of the whole app (pages and API): where a redirect may go, and the security
headers of every response.

Redirects. A target taken from the request (`?next=` after sign-in, a form's `back` field, the Referer)
is followed only when it is a path on this site: ASCII only (anything else is refused, not cleaned),
no scheme or host, starting with one `/`, no backslash, whitespace or control character either as
written or percent-decoded, no empty or dot segment (`//`, `/./`, `/../`) that a browser or proxy could
fold into `//host`. Anything else falls back to a fixed page of the app.

Headers. Every response carries a Content-Security-Policy that allows scripts, styles and everything
else only from the app itself (no inline code: the pages and the API docs use static files), forbids
framing (also X-Frame-Options: DENY), X-Content-Type-Options: nosniff and Referrer-Policy: same-origin
(the browser keeps sending the Referer to this site, which Flask-WTF checks on HTTPS forms, and to no
other). Every response except the static assets is `Cache-Control: no-store`: pages, API answers and
exports carry personal data, and a shared or back-button cache must not keep them.
"""
import re
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, request

MAX_TARGET_LENGTH = 2048
# Characters a URI may carry unencoded (RFC 3986) minus the backslash and quotes: nothing else passes.
_URI_CHARACTERS = re.compile(r"^[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%\[\]]*$")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # Swagger UI's icons are data: URIs in its stylesheet
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _unsafe_character(text: str) -> bool:
    """A backslash, whitespace or a control / format character (as browsers strip or fold them)."""
    return any(char == "\\" or char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Zs")
               for char in text)


def safe_redirect_target(candidate) -> str | None:
    """candidate if it is a path on this site that no browser can read as another site; else None."""
    if not isinstance(candidate, str) or not candidate or len(candidate) > MAX_TARGET_LENGTH:
        return None
    if not _URI_CHARACTERS.match(candidate):
        return None
    decoded = unquote(candidate)
    if _unsafe_character(decoded):
        return None
    written_path = re.split(r"[?#]", candidate, maxsplit=1)[0]  # as written: urlsplit folds "///x" to "/x"
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc or not written_path.startswith("/"):
        return None
    path = unquote(written_path)
    if path.startswith("//") or any(segment in ("", ".", "..") for segment in path.split("/")[1:-1]):
        return None
    if path.rsplit("/", 1)[-1] in (".", ".."):
        return None
    return candidate


def same_site_path(referrer, host: str) -> str | None:
    """The path (and query) of a referrer URL on this host, if it is a safe redirect target; else None."""
    if not isinstance(referrer, str) or not referrer or len(referrer) > MAX_TARGET_LENGTH:
        return None
    if _unsafe_character(referrer):
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.username or parts.password or \
            (parts.netloc or "").lower() != host.lower():
        return None
    return safe_redirect_target(parts.path + (f"?{parts.query}" if parts.query else ""))


def _is_static(endpoint: str | None) -> bool:
    return bool(endpoint) and (endpoint == "static" or endpoint.endswith(".static"))


def init_security_headers(app: Flask) -> None:
    """Add the security headers to every response of the app (pages, API, errors, static files)."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if not _is_static(request.endpoint):
            response.headers["Cache-Control"] = "no-store"
            response.headers.pop("Expires", None)
            response.headers.pop("ETag", None)
        return response
