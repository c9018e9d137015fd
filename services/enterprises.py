"""Enterprises: list, detail with offers per mechanism (capacity in households), recommended households."""
import math
from dataclasses import asdict, dataclass, fields

from core.codes import Mechanism, PartnershipStatus, RecommendationStatus
from core.mechanisms import CAPACITY
from graph import views
from services import ledger
from services import search as searching
from services.context import Context
from services.errors import Forbidden, NotFound
from services.principal import EVERYONE, Principal, Role, require_role, scoped_county
from services.privacy import RequestFacts, audit_contacts, audit_if_personal, household_view, present_household

# What anyone allowed to see an enterprise sees (the contact's name and phone are hidden from analysts).
PUBLIC_FIELDS = ("credit_code", "name", "enterprise_type", "region_code", "county_code", "address", "lon", "lat",
                 "industries", "products_bought", "mechanisms", "skill_required", "certified_poverty_products",
                 "contact", "phone")
CONTACT_FIELDS = ("contact", "phone", "phone_masked")


@dataclass(frozen=True)
class Offer:
    """One mechanism an enterprise offers: its capacity in places (households) and what is used and left.

    `capacity_amount` and `unit` are the figure as the enterprise stated it (30 亩); `capacity` is the
    households that figure gives room for (10 at 3 亩 per household).
    """

    mechanism: str
    capacity: int
    capacity_amount: float
    unit: str
    in_force: int
    awaiting_confirmation: int
    assigned_current: int
    remaining: int


@dataclass(frozen=True)
class EnterpriseFilter:
    county: str | None = None
    mechanism: str | None = None
    enterprise_type: str | None = None
    q: str | None = None  # words of the enterprise's name (full-text)


@dataclass(frozen=True)
class RecommendationFilter:
    county: str | None = None
    mechanism: str | None = None
    status: str | None = None
    assigned: bool | None = None

    @classmethod
    def from_mapping(cls, values: dict) -> "RecommendationFilter":
        return cls(**{field.name: values[field.name] for field in fields(cls) if field.name in values})


def _amount(value) -> float:
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(amount) else amount


def offers_of(record: dict) -> list[Offer]:
    """Capacity (in households, per core.mechanisms), use and what is left per mechanism the enterprise offers."""
    offers = []
    for code in record.get("mechanisms") or []:
        try:
            rule = CAPACITY[Mechanism(code)]
        except ValueError:  # not a mechanism of the code list: nothing can be offered by it
            rule = None
        amount = _amount(record.get(rule.field)) if rule else 0.0
        places = rule.places(amount) if rule else 0
        open_ = [p for p in record.get("open_partnerships") or []
                 if p.get("mechanism") == code and p.get("status") in PartnershipStatus.open()]
        in_force = sum(1 for p in open_ if p["status"] == PartnershipStatus.IN_FORCE)
        waiting = len(open_) - in_force
        assigned = sum(1 for mechanism in record.get("assigned") or [] if mechanism == code)
        offers.append(Offer(mechanism=code, capacity=places, capacity_amount=amount, unit=rule.unit if rule else "",
                            in_force=in_force, awaiting_confirmation=waiting, assigned_current=assigned,
                            remaining=max(places - in_force - waiting, 0)))
    return offers


def present_enterprise(principal: Principal, record: dict) -> dict:
    """An enterprise as the caller may see it (the contact person's name and phone are personal data)."""
    shown = {field: record.get(field) for field in PUBLIC_FIELDS}
    if not shows_contact(principal):
        shown.update(contact=None, phone=record.get("phone_masked"))
    return shown


def shows_contact(principal: Principal) -> bool:
    """Whether the caller sees enterprise contacts unmasked (everyone allowed to see the enterprise but analysts)."""
    return principal.role != Role.ANALYST


def _audit_contacts(ctx: Context, principal: Principal, action: str, shown: list[dict],
                    facts: RequestFacts | None) -> None:
    if shows_contact(principal):
        audit_contacts(ctx, principal, action, shown, facts or RequestFacts())


def check_scope(ctx: Context, principal: Principal, credit_code: str) -> None:
    """An enterprise sees only itself; a bureau the enterprises in or working with its county (NotFound)."""
    if principal.role == Role.ENTERPRISE and credit_code != principal.credit_code:
        raise NotFound.of("企业")
    if principal.role == Role.BUREAU and principal.county_code not in views.enterprise_counties(
            ctx.driver, credit_code, ctx.database):
        raise NotFound.of("企业")


def search(ctx: Context, principal: Principal, filters: EnterpriseFilter, skip: int, limit: int, *,
           facts: RequestFacts | None = None, action: str = "enterprises.search") -> tuple[list[dict], int]:
    """A page of enterprises: a bureau's county's, an enterprise only itself; shown contacts are audited."""
    require_role(principal, *EVERYONE)
    graph_filters = {"mechanism": filters.mechanism, "enterprise_type": filters.enterprise_type}
    if principal.role == Role.ENTERPRISE:
        if filters.county is not None:
            raise Forbidden("企业账号只能查看本企业 / enterprises see only themselves", "forbidden_role")
        graph_filters["credit_codes"] = [principal.credit_code]
    else:
        graph_filters["county_code"] = scoped_county(principal, filters.county)
    name_query = searching.enterprise_name_query(filters.q, graph_filters.get("county_code"))
    records, total = views.search_enterprises(ctx.driver, graph_filters, skip, limit, ctx.database,
                                              name_query=name_query)
    items = [present_enterprise(principal, record) for record in records]
    _audit_contacts(ctx, principal, action, items, facts)
    return items, total


def get(ctx: Context, principal: Principal, credit_code: str, *, facts: RequestFacts | None = None,
        action: str = "enterprises.detail") -> dict:
    """An enterprise with its offers (list of Offer as dicts); a shown contact is audited."""
    require_role(principal, *EVERYONE)
    check_scope(ctx, principal, credit_code)
    record = views.enterprise_detail(ctx.driver, credit_code, ctx.database)
    if record is None:
        raise NotFound.of("企业")
    shown = present_enterprise(principal, record)
    _audit_contacts(ctx, principal, action, [shown], facts)
    return {**shown, "offers": [asdict(offer) for offer in offers_of(record)]}


def present_recommendation(principal: Principal, record: dict, key: str) -> dict:
    """A recommendation with its household shown as the caller may see it (key: the pseudonym key)."""
    view = household_view(principal, confirmed_partner=record["confirmed"])
    shown = {name: value for name, value in record.items() if name != "household_id"}  # identifies the household
    return {**shown, "household": present_household(record["household"], view, key)}


def recommendations(ctx: Context, principal: Principal, credit_code: str, filters: RecommendationFilter, skip: int,
                    limit: int, *, facts: RequestFacts,
                    action: str = "enterprises.recommendations") -> tuple[list[dict], int]:
    """An enterprise's current recommendations, best first; households masked until the bureau confirms."""
    require_role(principal, *EVERYONE)
    check_scope(ctx, principal, credit_code)
    county = scoped_county(principal, filters.county) if principal.role == Role.BUREAU else filters.county
    graph_filters = {"credit_code": credit_code, "county_code": county, "mechanism": filters.mechanism,
                     "status": filters.status, "assigned": filters.assigned}
    records, total = views.search_recommendations(ctx.driver, graph_filters, skip, limit, ctx.database)
    key = ctx.settings.pseudonym_secret()
    items = [present_recommendation(principal, record, key) for record in records]
    audit_if_personal(ctx, principal, action, [item["household"] for item in items], facts)
    return items, total


PAGE_SIZES = (20, 50, 100)  # what the enterprise page offers; the first is the default
MAX_PAGE = 100_000  # a page number beyond it is answered with the last page (keeps SKIP bounded)


@dataclass(frozen=True)
class PageInfo:
    """Where one list of a page stands: the page shown (1-based), of how many, and the page asked for."""

    page: int
    pages: int
    page_size: int
    total: int
    requested: int

    @property
    def clamped(self) -> bool:
        """The page asked for was beyond the last one: the last page is shown instead."""
        return self.requested != self.page


def page_size_of(value) -> int:
    """A page size the page offers (20, 50 or 100); anything else is the default."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value in PAGE_SIZES else PAGE_SIZES[0]


def _read_page(fetch, page, page_size: int) -> tuple[list[dict], PageInfo]:
    """fetch(skip, limit) → (rows, total) for the page asked for; beyond the last page, the last page.

    One read for a page in range; a page beyond the end costs a second read (of the last page)."""
    requested = page if isinstance(page, int) and not isinstance(page, bool) and page >= 1 else 1
    number = min(requested, MAX_PAGE)
    rows, total = fetch((number - 1) * page_size, page_size)
    pages = max(-(-total // page_size), 1)
    if number > pages:
        number = pages
        if total:  # an empty list has nothing to re-read
            rows, total = fetch((number - 1) * page_size, page_size)
            pages = max(-(-total // page_size), 1)
            number = min(number, pages)
    return rows, PageInfo(page=number, pages=pages, page_size=page_size, total=total, requested=requested)


def overview(ctx: Context, principal: Principal, status: str = RecommendationStatus.PROPOSED, *,
             facts: RequestFacts, rec_page: int = 1, partner_page: int = 1, page_size: int = PAGE_SIZES[0],
             action_prefix: str = "web.enterprise", q: str | None = None) -> dict:
    """The signed-in enterprise's own page: its record, offers, and one page each of its recommendations
    (by status, best first) and partnerships (newest first), paged independently; `q` searches the partnerships
    (by name only those in force, whose households the enterprise may know: services/ledger.py).

    Reads and audits only the rows of the pages shown (page_size of PAGE_SIZES; a page number below 1 is
    the first page, one beyond the end the last). `rec_page` / `partner_page` in the answer are PageInfo.
    """
    require_role(principal, Role.ENTERPRISE)
    code = principal.credit_code
    record = views.enterprise_detail(ctx.driver, code, ctx.database)
    if record is None:
        raise NotFound("未找到本企业的数据。/ no data for this enterprise")
    size = page_size_of(page_size)
    recs, rec_info = _read_page(
        lambda skip, limit: views.search_recommendations(ctx.driver, {"credit_code": code, "status": str(status)},
                                                         skip, limit, ctx.database), rec_page, size)
    key = ctx.settings.pseudonym_secret()
    shown = [present_recommendation(principal, rec, key) for rec in recs]
    audit_if_personal(ctx, principal, f"{action_prefix}.recommendations", [item["household"] for item in shown], facts)
    partnerships, partner_info = _read_page(
        lambda skip, limit: ledger.visible_records(ctx, principal, ledger.PartnershipFilter(credit_code=code, q=q),
                                                   skip, limit),
        partner_page, size)
    rows = [ledger.present_partnership(principal, row, key) for row in partnerships]
    audit_if_personal(ctx, principal, f"{action_prefix}.partnerships", rows, facts)
    # The page does not show the contact person: leave them out, so no unaudited personal data reaches it.
    own = {name: value for name, value in record.items() if name not in CONTACT_FIELDS}
    return {"enterprise": own, "offers": offers_of(record), "recommendations": shown, "rec_total": rec_info.total,
            "partnerships": rows, "rec_page": rec_info, "partner_page": partner_info}
