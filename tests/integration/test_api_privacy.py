"""Masking and the audit log: a masked response never carries a name, ID number or phone."""
import pandas as pd

from graph import views
from services.context import Context
from services.tokens import issue_token, list_tokens, revoke_token

PAGE = "page_size=100"


def _personal_values(world) -> dict[str, set[str]]:
    """Every name, ID number and phone in the world's source files, per household."""
    households = pd.read_csv(world.files["households"], dtype=str)
    members = pd.read_csv(world.files["members"], dtype=str)
    per_household: dict[str, set[str]] = {}
    for row in households.itertuples(index=False):
        row = row._asdict()
        values = {row[c] for c in row if c and any(k in c for k in ("姓名", "证件号码", "电话")) and isinstance(row[c], str)}
        per_household.setdefault(row[next(c for c in row if "户编号" in c)], set()).update(values)
    id_column = next(c for c in members.columns if "户编号" in c)
    personal = [c for c in members.columns if any(k in c for k in ("姓名", "证件号码", "电话"))]
    for row in members[[id_column, *personal]].itertuples(index=False):
        per_household.setdefault(row[0], set()).update(v for v in row[1:] if isinstance(v, str))
    return per_household


def _string_values(value) -> set[str]:
    """Every string anywhere in a JSON body."""
    if isinstance(value, dict):
        return set().union(*(_string_values(item) for item in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_string_values(item) for item in value)) if value else set()
    return {value} if isinstance(value, str) else set()


def _all_pages(api, path, as_):
    items, page = [], 1
    while True:
        body = api.get(f"{path}{'&' if '?' in path else '?'}{PAGE}&page={page}", as_=as_).get_json()
        items.extend(body["items"])
        if page * 100 >= body["total"]:
            return items
        page += 1


def test_masked_recommendations_carry_no_name_id_or_phone(api, world, neo4j_driver):
    personal = _personal_values(world)
    ids_and_phones = {value for values in personal.values() for value in values if any(ch.isdigit() for ch in value)}
    items = _all_pages(api, f"/api/v1/enterprises/{world.own_enterprise}/recommendations", "enterprise_own")
    masked = [item for item in items if not item["confirmed"]]
    assert masked, "the enterprise has unconfirmed recommendations"
    records, _ = views.search_recommendations(neo4j_driver, {"credit_code": world.own_enterprise}, 0, 10000)
    household_of = {record["rec_id"]: record["household_id"] for record in records}
    for item in masked:
        text = repr(item)
        secrets_of_household = personal[household_of[item["rec_id"]]]
        leaked = [value for value in secrets_of_household if value in text]
        assert not leaked, (item["rec_id"], leaked)
        assert set(item["household"]) <= {"household_ref", "head_name_masked", "village_name", "township_name",
                                          "household_size", "arable_mu", "forest_mu", "orchard_mu", "products",
                                          "labour_ordinary", "labour_skilled", "labour_weak", "members"}
    body = repr(masked)
    assert not [value for value in ids_and_phones if value in body], "no ID number or phone of anybody"


def test_analyst_reads_are_pseudonymised_and_not_audited(api, world):
    personal = _personal_values(world)
    everything = {value for values in personal.values() for value in values}
    audit_before = api.get("/api/v1/audit", as_="admin").get_json()["total"]
    households = _all_pages(api, "/api/v1/households", "analyst")
    ledger = _all_pages(api, "/api/v1/partnerships", "analyst")
    recs = _all_pages(api, f"/api/v1/enterprises/{world.own_enterprise}/recommendations", "analyst")
    assert households and ledger and recs
    text = repr(households + ledger + recs)
    assert not [value for value in everything if any(ch.isdigit() for ch in value) and value in text], "IDs, phones"
    # Names are checked as whole field values: a two-character name may occur inside a place name.
    assert not _string_values(households + ledger + recs) & everything
    assert all(item["household_ref"].startswith("H") and "household_id" not in item for item in households)
    refs = {item["household_ref"] for item in households}
    assert len(refs) == len(households), "pseudonyms are distinct"
    again = {item["household_ref"] for item in _all_pages(api, "/api/v1/households", "analyst")}
    assert again == refs, "and stable"
    assert api.get("/api/v1/audit", as_="admin").get_json()["total"] == audit_before


def test_every_unmasked_read_is_audited_with_who_what_when(api, world):
    before = api.get("/api/v1/audit", as_="admin").get_json()["total"]
    detail = api.get(f"/api/v1/households/{world.own_household}", as_="bureau_own")
    assert detail.status_code == 200 and detail.get_json()["head_name"]
    search = api.get("/api/v1/households?page_size=5", as_="bureau_own").get_json()
    events = api.get("/api/v1/audit?page_size=2", as_="admin").get_json()
    assert events["total"] == before + 2
    newest, previous = events["items"]
    assert newest["action"] == "households.search" and newest["household_ids"] == [
        item["household_id"] for item in search["items"]]
    assert previous["action"] == "households.detail" and previous["household_ids"] == [world.own_household]
    assert previous["role"] == "bureau" and previous["actor"] == "test bureau_own" and previous["at"]
    assert previous["request_id"] == detail.headers["X-Request-ID"]


def test_revoked_tokens_and_failed_logins(api, api_app, world, neo4j_driver, test_settings):
    ctx = Context(neo4j_driver, test_settings)
    secret = issue_token(ctx, "bureau", "soon revoked", county_code=world.ids["own_county"])
    api.tokens["temporary"] = secret
    assert api.get("/api/v1/me", as_="temporary").status_code == 200
    token = next(t for t in list_tokens(ctx) if t["name"] == "soon revoked")
    assert "token_hash" not in token or token["token_hash"] is None, "listing never shows hashes"
    assert revoke_token(ctx, token["token_id"])
    assert api.get("/api/v1/me", as_="temporary").status_code == 401

    api_app.extensions["failed_logins"].limiter.storage.reset()  # the revoked token's attempt counted as one
    api.tokens["forged"] = "lj_" + "x" * 43
    statuses = [api.get("/api/v1/me", as_="forged").status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    blocked = api.get("/api/v1/me", as_="admin")  # the same address is now refused even with a valid token
    assert blocked.status_code == 429 and blocked.headers["Retry-After"]
    api_app.extensions["failed_logins"].limiter.storage.reset()
    assert api.get("/api/v1/me", as_="admin").status_code == 200
