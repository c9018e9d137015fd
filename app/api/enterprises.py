"""Enterprises: list, detail with offers and capacity per mechanism, and their recommended households."""
from app.api import api, dump, tag
from app.api.schemas import (EnterpriseDetailOut, EnterpriseOut, EnterprisePath, EnterpriseQuery, Offer, PageOut,
                             RecommendationOut, RecommendationQuery)
from app.auth import AuthError, current_principal, not_found, requires, scoped_county
from app.extensions import neo4j_ext
from app.privacy import audit_if_personal, household_view, present_household
from graph import views
from graph.ledger import CAPACITY_PROPERTY

TAGS = tag("企业 enterprises", "经营主体、各联结方式的容量与推荐的贫困户")


class EnterprisePage(PageOut[EnterpriseOut]):
    """A page of enterprises."""


class RecommendationPage(PageOut[RecommendationOut]):
    """A page of recommendations."""


def present_enterprise(record: dict) -> dict:
    """An enterprise as the caller may see it (the contact person's phone is personal data)."""
    shown = {key: record.get(key) for key in EnterpriseOut.model_fields}
    if current_principal().role == "analyst":
        shown.update(contact=None, phone=record.get("phone_masked"))
    return shown


def check_enterprise_scope(credit_code: str) -> None:
    """An enterprise sees only itself; a bureau the enterprises in or working with its county."""
    principal = current_principal()
    if principal.role == "enterprise" and credit_code != principal.credit_code:
        raise not_found("企业")
    if principal.role == "bureau" and principal.county_code not in views.enterprise_counties(
            neo4j_ext.driver, credit_code, neo4j_ext.database):
        raise not_found("企业")


def offers_of(record: dict) -> list[Offer]:
    """Capacity, use and what is left per mechanism the enterprise offers."""
    offers = []
    for mechanism in record.get("mechanisms") or []:
        capacity = float(record.get(CAPACITY_PROPERTY.get(mechanism, ""), 0) or 0)
        open_ = [p for p in record["open_partnerships"] if p["mechanism"] == mechanism]
        in_force = sum(1 for p in open_ if p["status"] == "01")
        waiting = len(open_) - in_force
        assigned = sum(1 for m in record["assigned"] if m == mechanism)
        offers.append(Offer(mechanism=mechanism, capacity=capacity, in_force=in_force, awaiting_confirmation=waiting,
                            assigned_current=assigned, remaining=max(capacity - in_force - waiting, 0.0)))
    return offers


@api.get("/enterprises", tags=TAGS, responses={200: EnterprisePage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_enterprises(query: EnterpriseQuery):
    """企业列表（分页）：商务局为本县企业，企业账号只有自己 / enterprises (paginated)."""
    principal = current_principal()
    filters = {"mechanism": query.mechanism, "enterprise_type": query.enterprise_type}
    if principal.role == "enterprise":
        if query.county is not None:
            raise AuthError(403, "forbidden_role", "企业账号只能查看本企业 / enterprises see only themselves")
        filters["credit_codes"] = [principal.credit_code]
    else:
        filters["county_code"] = scoped_county(query.county)
    records, total = views.search_enterprises(neo4j_ext.driver, filters, query.skip, query.page_size,
                                              neo4j_ext.database)
    return dump(EnterprisePage(items=[EnterpriseOut(**present_enterprise(r)) for r in records], page=query.page,
                               page_size=query.page_size, total=total))


@api.get("/enterprises/<credit_code>", tags=TAGS, responses={200: EnterpriseDetailOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_enterprise(path: EnterprisePath):
    """企业详情：各联结方式的容量、已用与剩余 / an enterprise with its offers and capacity."""
    check_enterprise_scope(path.credit_code)
    record = views.enterprise_detail(neo4j_ext.driver, path.credit_code, neo4j_ext.database)
    if record is None:
        raise not_found("企业")
    return dump(EnterpriseDetailOut(**present_enterprise(record), offers=offers_of(record)))


def present_recommendation(record: dict) -> dict:
    """A recommendation with its household shown as the caller may see it."""
    view = household_view(current_principal(), confirmed_partner=record["confirmed"])
    shown = {key: value for key, value in record.items() if key != "household_id"}  # identifies the household
    return {**shown, "household": present_household(record["household"], view)}


@api.get("/enterprises/<credit_code>/recommendations", tags=TAGS, responses={200: RecommendationPage})
@requires("bureau", "enterprise", "analyst", "admin")
def enterprise_recommendations(path: EnterprisePath, query: RecommendationQuery):
    """企业的当前推荐（按得分排序）；企业账号看到的户信息已脱敏，确认联结后才显示姓名与电话。"""
    principal = current_principal()
    check_enterprise_scope(path.credit_code)
    county = scoped_county(query.county) if principal.role == "bureau" else query.county
    filters = {"credit_code": path.credit_code, "county_code": county, "mechanism": query.mechanism,
               "status": query.status, "assigned": query.assigned}
    records, total = views.search_recommendations(neo4j_ext.driver, filters, query.skip, query.page_size,
                                                  neo4j_ext.database)
    items = [present_recommendation(record) for record in records]
    audit_if_personal(principal, "enterprises.recommendations", [item["household"] for item in items])
    return dump(RecommendationPage(items=[RecommendationOut(**item) for item in items], page=query.page,
                                   page_size=query.page_size, total=total))
