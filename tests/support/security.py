"""Attack inputs shared by the security tests (helper E, issue 12): hostile redirect targets and how a browser
resolves a Location header."""
import re
from urllib.parse import urljoin, urlsplit

# Redirect targets an attacker may put in ?next=, a form's back field or a Referer (many encodings).
HOSTILE_TARGETS = [
    "//evil.example/", "///evil.example/", "////evil.example", "/\t/evil.example/", "/\n/evil.example/",
    "/\r/evil.example/", "\t//evil.example/", " //evil.example/", "/ /evil.example", "/\\evil.example/",
    "\\\\evil.example/", "/\\/evil.example/", "\\/evil.example", "https://evil.example/", "http:evil.example",
    "http:/evil.example", "HTTPS://evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>", "/%2F/evil.example/", "%2F%2Fevil.example", "/%09/evil.example",
    "/%5Cevil.example", "/%5C%5Cevil.example", "/\x00/evil.example", "/\x0b/evil.example", "/\x1f/evil.example",
    "/\x7f/evil.example", "/\u3000/evil.example", "/\u2028/evil.example", "/\u00a0/evil.example",
    "\uff0f\uff0fevil.example", "/\uff0fevil.example", "/.//evil.example", "/..//evil.example",
    "/./../evil.example/..//x", "evil.example", "", None, 42, "/" + "a" * 3000,
]
# Paths the app itself puts in ?next= or a back field: they must survive.
SAME_SITE_TARGETS = ["/", "/dashboard", "/households?village=433123101001&covered=false",
                     "/households/4331231010010001", "/ledger?page=2#row-3", "/households?q=%E6%B2%B1"]
# Referer values that name another site (a referrer is a whole URL).
HOSTILE_REFERRERS = ["https://evil.example/ledger", "http://localhost.evil.example/x", "//evil.example/",
                     "http://localhost@evil.example/", "javascript:alert(1)", "http://localhost//evil.example/",
                     "http://localhost/\t/evil.example/"]


def browser_lands_on(location: str, site: str = "http://localhost") -> str:
    """The host a browser goes to for this Location (it drops tabs and newlines and reads \\ as /)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00- ").replace("\\", "/")
    return urlsplit(urljoin(site + "/login", cleaned)).netloc
