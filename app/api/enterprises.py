"""Enterprises: list, detail with offers and capacity per mechanism, their recommended households, and the offer
an enterprise keeps itself (帮扶供给): read, change (recorded, and re-matched where it reaches), its history."""
from app.api import api, dump, page_of, tag
from app.api.schemas import (EnterpriseDetailOut, EnterpriseOut, EnterprisePath, EnterpriseQuery, OfferChangeOut,
                             OfferIn, OfferOut, OfferUpdateOut, Page, PageOut, RecommendationOut, RecommendationQuery)
from app.auth import current_principal, request_facts, requires
from app.extensions import neo4j_ext
from services import enterprises, offers
from services.enterprises import EnterpriseFilter, RecommendationFilter

TAGS = tag("企业 enterprises", "经营主体、各联结方式的容量与推荐的贫困户")


class EnterprisePage(PageOut[EnterpriseOut]):
    """A page of enterprises."""


class RecommendationPage(PageOut[RecommendationOut]):
    """A page of recommendations."""


class OfferChangePage(PageOut[OfferChangeOut]):
    """A page of an enterprise's offer changes."""


@api.get("/enterprises", tags=TAGS, responses={200: EnterprisePage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_enterprises(query: EnterpriseQuery):
    """企业列表（分页）：商务局为本县企业，企业账号只有自己 / enterprises (paginated)."""
    filters = EnterpriseFilter(county=query.county, mechanism=query.mechanism, enterprise_type=query.enterprise_type,
                               q=query.q)
    return page_of(EnterprisePage, enterprises.search(neo4j_ext.context, current_principal(), filters, query.skip,
                                                      query.page_size, facts=request_facts()), query)


@api.get("/enterprises/<credit_code>", tags=TAGS, responses={200: EnterpriseDetailOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_enterprise(path: EnterprisePath):
    """企业详情：各联结方式的容量（折算为户）、已用与剩余 / an enterprise with its offers and capacity in households."""
    return dump(EnterpriseDetailOut(**enterprises.get(neo4j_ext.context, current_principal(), path.credit_code,
                                                                   facts=request_facts())))


@api.get("/enterprises/<credit_code>/recommendations", tags=TAGS, responses={200: RecommendationPage})
@requires("bureau", "enterprise", "analyst", "admin")
def enterprise_recommendations(path: EnterprisePath, query: RecommendationQuery):
    """企业的当前推荐（按得分排序）；企业账号看到的户信息已脱敏，确认联结后才显示姓名与电话。"""
    filters = RecommendationFilter.from_mapping(query.model_dump())
    result = enterprises.recommendations(neo4j_ext.context, current_principal(), path.credit_code, filters,
                                         query.skip, query.page_size, facts=request_facts())
    return page_of(RecommendationPage, result, query)


@api.get("/enterprises/<credit_code>/offer", tags=TAGS, responses={200: OfferOut})
@requires("bureau", "enterprise", "analyst", "admin")
def get_offer(path: EnterprisePath):
    """企业的帮扶供给：联结方式、各方式的容量、技能要求、收购产品 / the enterprise's offer as it stands."""
    return dump(OfferOut(**offers.get_offer(neo4j_ext.context, current_principal(), path.credit_code)))


@api.patch("/enterprises/<credit_code>/offer", tags=TAGS, responses={200: OfferUpdateOut})
@requires("bureau", "enterprise", "admin")
def update_offer(path: EnterprisePath, body: OfferIn):
    """修改帮扶供给（企业本身、本县商务局或管理员）/ change the offer (the enterprise, its county's bureau, admin).

    只改给出的字段；改动记入变更记录（修改人、时间、原值与新值）。改了匹配所用的内容（联结方式、容量、技能要求、
    收购产品的产业）时，为企业可达、有贫困户的各县排队一次增量匹配（已有同样各县的排队任务则沿用），job 给出任务。
    与原值相同则不记录、不排队（changed 为空）。"""
    changes = body.model_dump(exclude_unset=True)
    return dump(OfferUpdateOut(**offers.update_offer(neo4j_ext.context, current_principal(), path.credit_code,
                                                     changes, facts=request_facts())))


@api.get("/enterprises/<credit_code>/offer-changes", tags=TAGS, responses={200: OfferChangePage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_offer_changes(path: EnterprisePath, query: Page):
    """帮扶供给的变更记录（分页，最新在前）/ the offer's changes, newest first."""
    return page_of(OfferChangePage, offers.offer_changes(neo4j_ext.context, current_principal(), path.credit_code,
                                                         query.skip, query.page_size), query)
