"""Who sees which personal data, and the audit log of every unmasked read.

Views of a household:
- full (bureau of its county, admin): names, phone, members — every such read is audited;
- partner (an enterprise whose pairing the bureau confirmed): the head's name and phone, audited;
- masked (an enterprise before confirmation): masked name, village, labour, land, products;
- pseudonymous (analyst): a stable pseudonym instead of the household number, no names or phones.
No view ever carries an ID card number (only its keyed hash is stored) or the hash itself.
"""
import hashlib
import hmac
import uuid
from datetime import datetime, timezone

from flask import current_app, g, request

from app.auth import Principal
from app.extensions import neo4j_ext
from graph import access

FULL, PARTNER, MASKED, PSEUDONYMOUS = "full", "partner", "masked", "pseudonymous"

# Fields every view may show (no person is identified by them).
_PUBLIC_FIELDS = ("county_code", "township_code", "village_code", "village_name", "township_name", "attribute",
                  "main_cause", "other_causes", "household_size", "income_per_capita", "poverty_status",
                  "monitoring_category", "arable_mu", "forest_mu", "orchard_mu", "products", "labour_ordinary",
                  "labour_skilled", "labour_weak", "members", "covered", "pending", "relocated", "in_cooperative",
                  "active")
_MASKED_FIELDS = ("village_name", "township_name", "household_size", "arable_mu", "forest_mu", "orchard_mu",
                  "products", "labour_ordinary", "labour_skilled", "labour_weak", "members")


def pseudonym(household_id: str) -> str:
    """A stable pseudonym of a household for analysts and enterprises (keyed, not reversible without the key)."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return "H" + hmac.new(key, household_id.encode("utf-8"), hashlib.sha256).hexdigest()[:14]


def household_view(principal: Principal, confirmed_partner: bool = False) -> str:
    """Which view of a household the caller gets."""
    if principal.role in ("bureau", "admin"):
        return FULL
    if principal.role == "enterprise":
        return PARTNER if confirmed_partner else MASKED
    return PSEUDONYMOUS


def present_household(record: dict, view: str) -> dict:
    """The household summary as the view allows."""
    ref = pseudonym(record["household_id"])
    if view == FULL:
        shown = {key: record.get(key) for key in _PUBLIC_FIELDS}
        shown.update(household_id=record["household_id"], household_ref=ref, head_name=record.get("head_name"),
                     phone=record.get("phone"), village_lon=record.get("village_lon"),
                     village_lat=record.get("village_lat"))
        return shown
    if view == PSEUDONYMOUS:
        shown = {key: record.get(key) for key in _PUBLIC_FIELDS}
        shown["household_ref"] = ref
        return shown
    shown = {key: record.get(key) for key in _MASKED_FIELDS}
    shown.update(household_ref=ref, head_name_masked=record.get("head_name_masked"))
    if view == PARTNER:
        shown.update(household_id=record["household_id"], head_name=record.get("head_name"), phone=record.get("phone"))
    return shown


def present_member(record: dict, view: str) -> dict:
    """A member as the view allows (only full views list members by name)."""
    shown = {key: record.get(key) for key in ("relation", "sex", "birth_year", "education", "health", "labour_skill",
                                              "work_status", "work_months", "work_place")}
    if view == FULL:
        shown.update(member_id=record.get("member_id"), name=record.get("name"))
    elif view != PSEUDONYMOUS:
        shown["name_masked"] = record.get("name_masked")
    return shown


def audit_read(principal: Principal, what: str, household_ids: list[str]) -> None:
    """Record that the caller read unmasked personal data of these households (who, what, when)."""
    if not household_ids:
        return
    event = {
        "event_id": uuid.uuid4().hex, "at": datetime.now(timezone.utc).isoformat(), "token_id": principal.token_id,
        "actor": principal.name, "role": principal.role, "action": what, "path": request.path,
        "method": request.method, "household_ids": household_ids[:1000], "household_count": len(household_ids),
        "request_id": getattr(g, "request_id", None), "client": request.remote_addr,
    }
    access.write_audit_event(neo4j_ext.driver, event, neo4j_ext.database)


def audit_if_personal(principal: Principal, what: str, presented: list[dict]) -> None:
    """Audit the households whose presented form carries a name or phone."""
    ids = [item["household_id"] for item in presented
           if item.get("household_id") and (item.get("head_name") or item.get("phone"))]
    audit_read(principal, what, ids)
