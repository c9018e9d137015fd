"""The authorisation matrix: every endpoint × every role × own vs other county or enterprise, with no leak.

"own" resources belong to 凤凰县 (the bureau_own county) and to enterprise_own; bureau_other and
enterprise_other hold the same roles for 泸溪县 and another enterprise. Allowed reads are checked
for leaks (every county, enterprise and personal field in the body must be the caller's to see);
refused writes must leave the graph unchanged.
"""
import io

import pytest

from graph import jobs, views
from graph.bulk import count_entities

ROLES = ("anonymous", "admin", "analyst", "bureau_own", "bureau_other", "enterprise_own", "enterprise_other")
EVERYONE = set(ROLES) - {"anonymous"}

# (method, path, allowed roles, whether the call writes) — paths name the world's ids in braces.
READS = [
    ("GET", "/api/v1/me", EVERYONE),
    ("GET", "/api/v1/regions", {"admin", "analyst", "bureau_own", "bureau_other"}),
    ("GET", "/api/v1/regions?parent={own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/regions/{own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/households?county={own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/households", {"admin", "analyst", "bureau_own", "bureau_other"}),
    ("GET", "/api/v1/households/{own_household}", {"admin", "bureau_own"}),
    ("GET", "/api/v1/households/export.xlsx?county={own_county}", {"admin", "bureau_own"}),
    ("GET", "/api/v1/enterprises?county={own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/enterprises", EVERYONE),
    ("GET", "/api/v1/enterprises/{own_enterprise}", {"admin", "analyst", "bureau_own", "enterprise_own"}),
    ("GET", "/api/v1/enterprises/{own_enterprise}/recommendations",
     {"admin", "analyst", "bureau_own", "enterprise_own"}),
    ("GET", "/api/v1/projects?county={own_county}", {"admin", "analyst", "bureau_own", "enterprise_own",
                                                     "enterprise_other"}),
    ("GET", "/api/v1/projects/{own_project}", {"admin", "analyst", "bureau_own", "implementer"}),
    ("GET", "/api/v1/recommendations/{own_rec}", {"admin", "analyst", "bureau_own", "enterprise_own"}),
    ("GET", "/api/v1/partnerships?county={own_county}", EVERYONE - {"bureau_other"}),
    ("GET", "/api/v1/partnerships/{own_partnership}", {"admin", "analyst", "bureau_own", "enterprise_own"}),
    ("GET", "/api/v1/partnerships/export.xlsx?county={own_county}", {"admin", "bureau_own"}),
    ("GET", "/api/v1/partnerships/{own_partnership}/changes", {"admin", "analyst", "bureau_own", "enterprise_own"}),
    ("GET", "/api/v1/match-runs?county={own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/match-runs/{own_run}", {"admin", "analyst", "bureau_own"}),
    # a run opened (its county: the own county; the run computed both counties, a bureau sees its own only)
    ("GET", "/api/v1/match-runs/{own_match_run}/summary?county={own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/match-runs/{own_match_run}/unplaced?county={own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/match-runs/{own_match_run}/changes?county={own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/match-runs/{own_match_run}/capacity?county={own_county}", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/uploads?county={own_county}", {"admin", "bureau_own"}),
    ("GET", "/api/v1/uploads/{own_upload}", {"admin", "bureau_own"}),
    ("GET", "/api/v1/audit", {"admin"}),
    ("GET", "/api/v1/counties/{own_county}/match-rules", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/counties/{own_county}/outcomes", {"admin", "analyst", "bureau_own"}),
    ("GET", "/api/v1/enterprises/{own_enterprise}/offer", {"admin", "analyst", "bureau_own", "enterprise_own"}),
    ("GET", "/api/v1/enterprises/{own_enterprise}/offer-changes", {"admin", "analyst", "bureau_own", "enterprise_own"}),
    ("GET", "/api/v1/counties/{own_county}/awaiting", {"admin", "bureau_own"}),
    ("GET", "/api/v1/notifications", {"bureau_own", "bureau_other", "enterprise_own", "enterprise_other"}),
]
WRITES = [
    ("POST", "/api/v1/recommendations/{own_rec}/accept", None, {"admin", "bureau_own", "enterprise_own"}),
    ("POST", "/api/v1/recommendations/{own_rec}/decline", {"reason": "不合适"},
     {"admin", "bureau_own", "enterprise_own"}),
    ("PATCH", "/api/v1/partnerships/{own_partnership}", {"income_gain": 1.0}, {"admin", "bureau_own"}),
    ("POST", "/api/v1/match-runs", {"county_code": "{own_county}"}, {"admin", "bureau_own"}),
    ("POST", "/api/v1/uploads", "file", {"admin", "bureau_own", "bureau_other"}),
    ("POST", "/api/v1/counties/{own_county}/match-rules", {"values": {"land_max_km": 8.0}}, {"admin", "bureau_own"}),
    ("PATCH", "/api/v1/enterprises/{own_enterprise}/offer", {"jobs_offered": 3},
     {"admin", "bureau_own", "enterprise_own"}),
    ("POST", "/api/v1/partnerships/{own_partnership}/reject", {"reason": "不合适"}, {"admin", "bureau_own"}),
    ("POST", "/api/v1/notifications/read", {}, {"bureau_own", "bureau_other", "enterprise_own", "enterprise_other"}),
]


def _state(driver, world) -> tuple:
    """What a write could change: entity counts, the recommendation, the ledger row and the county's jobs."""
    return (count_entities(driver), views.recommendation(driver, world.ids["own_rec"]),
            views.partnership(driver, world.ids["own_partnership"]),
            jobs.list_jobs(driver, "match", [world.ids["own_county"]], 0, 100),
            jobs.list_jobs(driver, "upload", None, 0, 100))


def _fill(text: str, world) -> str:
    values = {**world.ids, "own_household": world.own_household, "own_enterprise": world.own_enterprise}
    return text.format(**values)


def _allowed(role: str, allowed: set[str], world) -> bool:
    if "implementer" in allowed and role.startswith("enterprise"):
        implementer = world.ids["own_project_implementer"]
        return implementer == (world.own_enterprise if role == "enterprise_own" else world.other_enterprise)
    return role in allowed


def _walk(value, found: dict[str, set]):
    """Collect every value of the fields that tell whose data a body holds."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("county_code", "credit_code", "head_name", "phone", "name", "household_id") and item:
                found.setdefault(key, set()).add(item)
            _walk(item, found)
    elif isinstance(value, list):
        for item in value:
            _walk(item, found)


def _assert_no_leak(role: str, body, world) -> None:
    found: dict[str, set] = {}
    _walk(body, found)
    if role == "bureau_own":
        assert found.get("county_code", set()) <= {world.ids["own_county"]}, found.get("county_code")
    if role == "bureau_other":
        assert found.get("county_code", set()) <= {world.ids["other_county"]}, found.get("county_code")
    if role.startswith("enterprise"):
        own = world.own_enterprise if role == "enterprise_own" else world.other_enterprise
        assert found.get("credit_code", set()) <= {own}, found.get("credit_code")
    if role == "analyst":
        assert "head_name" not in found and "household_id" not in found, "analysts see pseudonyms only"
        assert "phone" not in found or all("*" in phone for phone in found["phone"])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path,allowed", READS, ids=[f"{m} {p}" for m, p, _ in READS])
def test_reads(api, world, role, method, path, allowed):
    response = api.get(_fill(path, world), as_=None if role == "anonymous" else role)
    if role == "anonymous":
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
    elif _allowed(role, allowed, world):
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        if response.mimetype == "application/json":
            _assert_no_leak(role, response.get_json(), world)
    else:
        assert response.status_code in (403, 404), (response.status_code, response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/problem+json"
        assert world.own_household not in response.get_data(as_text=True)


# Allowed writes are exercised by tests/test_api_flow.py; here every refused combination.
REFUSED_WRITES = [(role, method, path, body) for method, path, body, allowed in WRITES for role in ROLES
                  if role not in allowed]


@pytest.mark.parametrize("role,method,path,body", REFUSED_WRITES,
                         ids=[f"{r} {m} {p}" for r, m, p, _ in REFUSED_WRITES])
def test_refused_writes_change_nothing(api, world, neo4j_driver, role, method, path, body):
    before = _state(neo4j_driver, world)
    kwargs = {}
    if body == "file":
        kwargs["data"] = {"file": (io.BytesIO("户编号\n1\n".encode()), "households.csv")}
        kwargs["content_type"] = "multipart/form-data"
    elif body is not None:
        kwargs["json"] = {key: _fill(value, world) if isinstance(value, str) else value for key, value in body.items()}
    as_ = None if role == "anonymous" else role
    response = (api.post if method == "POST" else api.patch)(_fill(path, world), as_=as_, **kwargs)
    assert response.status_code in ((401,) if role == "anonymous" else (403, 404)), response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert _state(neo4j_driver, world) == before
