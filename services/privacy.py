"""Who sees which personal data, and the audit log of every unmasked read.

Views of a household:
- full (bureau of its county, admin): names, phone, members — every such read is audited;
- partner (an enterprise whose pairing the bureau confirmed): the head's name and phone, audited;
- masked (an enterprise before confirmation): masked name, village, labour, land, products;
- pseudonymous (analyst): a stable pseudonym instead of the household number, no names or phones.
No view ever carries an ID card number (only its keyed hash is stored) or the hash itself.

A read is audited when anything personal is shown: a head's name or phone, a member's name, an
enterprise contact's name or phone. One read of many households (an export) is written as several
events of at most AUDIT_CHUNK households each, so that every household is named.
The pseudonym key is settings.pseudonym_secret(), never the session key.
"""
import hashlib
import hmac
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone

from graph import access, auditlog
from services.context import Context
from services.principal import STAFF, Principal, Role

FULL, PARTNER, MASKED, PSEUDONYMOUS = "full", "partner", "masked", "pseudonymous"
VIEWS = (FULL, PARTNER, MASKED, PSEUDONYMOUS)

# Fields every view may show (no person is identified by them).
PUBLIC_FIELDS = ("county_code", "township_code", "village_code", "village_name", "township_name", "attribute",
                 "main_cause", "other_causes", "household_size", "income_per_capita", "poverty_status",
                 "monitoring_category", "arable_mu", "forest_mu", "orchard_mu", "products", "labour_ordinary",
                 "labour_skilled", "labour_weak", "members", "covered", "pending", "coverage_state", "relocated",
                 "in_cooperative", "active")
MASKED_FIELDS = ("village_name", "township_name", "household_size", "arable_mu", "forest_mu", "orchard_mu",
                 "products", "labour_ordinary", "labour_skilled", "labour_weak", "members")
MEMBER_FIELDS = ("relation", "sex", "birth_year", "education", "health", "labour_skill", "work_status",
                 "work_months", "work_place")


@dataclass(frozen=True)
class RequestFacts:
    """Where a read came from, for the audit log (the adapter fills it from its request)."""

    path: str | None = None
    method: str | None = None
    request_id: str | None = None
    client: str | None = None


def pseudonym(key: str, household_id: str) -> str:
    """A stable pseudonym of a household: 'H' + 14 hex of HMAC-SHA256(key, id); not reversible without the key."""
    return "H" + hmac.new(key.encode("utf-8"), household_id.encode("utf-8"), hashlib.sha256).hexdigest()[:14]


def household_view(principal: Principal, confirmed_partner: bool = False) -> str:
    """Which view of a household the caller gets."""
    if principal.role in STAFF:
        return FULL
    if principal.role == Role.ENTERPRISE:
        return PARTNER if confirmed_partner else MASKED
    return PSEUDONYMOUS


def present_household(record: dict, view: str, key: str) -> dict:
    """The household summary as the view allows (key: the pseudonym key, settings.pseudonym_secret())."""
    ref = pseudonym(key, record["household_id"])
    if view == FULL:
        shown = {field: record.get(field) for field in PUBLIC_FIELDS}
        shown.update(household_id=record["household_id"], household_ref=ref, head_name=record.get("head_name"),
                     phone=record.get("phone"), village_lon=record.get("village_lon"),
                     village_lat=record.get("village_lat"))
        return shown
    if view == PSEUDONYMOUS:
        shown = {field: record.get(field) for field in PUBLIC_FIELDS}
        shown["household_ref"] = ref
        return shown
    shown = {field: record.get(field) for field in MASKED_FIELDS}
    shown.update(household_ref=ref, head_name_masked=record.get("head_name_masked"))
    if view == PARTNER:
        shown.update(household_id=record["household_id"], head_name=record.get("head_name"), phone=record.get("phone"))
    return shown


def present_member(record: dict, view: str) -> dict:
    """A member as the view allows (only full views list members by name)."""
    shown = {field: record.get(field) for field in MEMBER_FIELDS}
    if view == FULL:
        shown.update(member_id=record.get("member_id"), name=record.get("name"))
    elif view != PSEUDONYMOUS:
        shown["name_masked"] = record.get("name_masked")
    return shown


AUDIT_CHUNK = 1000


def audit_events(principal: Principal, what: str, household_ids: list[str], facts: RequestFacts,
                 credit_codes: list[str] = ()) -> list[dict]:
    """The audit records of one unmasked read (who, what, which households and enterprises, when, from where).

    Households beyond AUDIT_CHUNK go to further records of the same read (part 2 of 3 …), so an export's
    audit names every household; each record's household_count is the households it names."""
    chunks = [household_ids[start:start + AUDIT_CHUNK] for start in range(0, len(household_ids), AUDIT_CHUNK)]
    chunks = chunks or [[]]
    at = datetime.now(timezone.utc).isoformat()
    events = []
    for part, chunk in enumerate(chunks, start=1):
        event = {
            "event_id": uuid.uuid4().hex, "at": at, "token_id": principal.token_id, "actor": principal.name,
            "role": principal.role, "action": what, "path": facts.path, "method": facts.method,
            "household_ids": list(chunk), "household_count": len(chunk), "request_id": facts.request_id,
            "client": facts.client,
        }
        if part == 1 and credit_codes:
            event["credit_codes"] = list(credit_codes)
        if len(chunks) > 1:
            event.update(part=part, parts=len(chunks))
        events.append(event)
    return events


def audit_event(principal: Principal, what: str, household_ids: list[str], facts: RequestFacts) -> dict:
    """The audit record of a read of at most AUDIT_CHUNK households (ValueError for more: use audit_events)."""
    events = audit_events(principal, what, household_ids, facts)
    if len(events) > 1:
        raise ValueError("more households than one audit record names; use audit_events")
    return events[0]


def audit_read(ctx: Context, principal: Principal, what: str, household_ids: list[str], facts: RequestFacts,
               credit_codes: list[str] = ()) -> None:
    """Record that the caller read unmasked personal data of these households and enterprise contacts."""
    if not household_ids and not credit_codes:
        return
    events = [{key: value for key, value in event.items() if value is not None}
              for event in audit_events(principal, what, list(household_ids), facts, list(credit_codes))]
    audit_log(ctx).append(events)


def audit_log(ctx: Context) -> auditlog.AuditSpool:
    """This process's audit log for the context's graph: events spooled locally at once, stored in the graph
    in batches every AUDIT_FLUSH_SECONDS (graph/auditlog.py)."""
    database, settings = ctx.database, ctx.settings
    driver = weakref.ref(ctx.driver)  # the spool must not keep a closed driver alive

    def store(events: list[dict]) -> None:
        live = driver()
        if live is None:
            raise auditlog.WriterGone("the driver of this audit log is gone")
        access.store_audit_events(live, events, database)

    return auditlog.spool_for(
        ctx.driver, (database, str(settings.audit_spool_dir), settings.audit_flush_seconds),
        lambda: auditlog.AuditSpool(store, settings.audit_spool_dir, settings.audit_flush_seconds))


def shows_personal_data(presented: dict) -> bool:
    """True when a presented household carries a head's name or phone, or a member's name."""
    return bool(presented.get("head_name") or presented.get("phone") or any(
        member.get("name") for member in presented.get("member_list") or []))


def personal_ids(presented: list[dict]) -> list[str]:
    """The households whose presented form carries a name (head or member) or a phone."""
    return [item["household_id"] for item in presented if item.get("household_id") and shows_personal_data(item)]


def audit_if_personal(ctx: Context, principal: Principal, what: str, presented: list[dict],
                      facts: RequestFacts) -> None:
    """Audit the households whose presented form carries a name or phone."""
    audit_read(ctx, principal, what, personal_ids(presented), facts)


def audit_contacts(ctx: Context, principal: Principal, what: str, presented: list[dict],
                   facts: RequestFacts) -> None:
    """Audit the enterprises whose presented form carries the contact person's name or phone."""
    shown = [item["credit_code"] for item in presented
             if item.get("credit_code") and (item.get("contact") or item.get("phone"))]
    audit_read(ctx, principal, what, [], facts, shown)
