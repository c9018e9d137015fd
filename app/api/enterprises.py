"""Enterprises: list, detail with offers and capacity per mechanism, and their recommended households."""
from app.api import api, dump, page_of, tag
from app.api.schemas import (EnterpriseDetailOut, EnterpriseOut, EnterprisePath, EnterpriseQuery, PageOut,
                             RecommendationOut, RecommendationQuery)
from app.auth import current_principal, request_facts, requires
from app.extensions import neo4j_ext
from services import enterprises
from services.enterprises import EnterpriseFilter, RecommendationFilter

TAGS = tag("企业 enterprises", "经营主体、各联结方式的容量与推荐的贫困户")


class EnterprisePage(PageOut[EnterpriseOut]):
    """A page of enterprises."""


class RecommendationPage(PageOut[RecommendationOut]):
    """A page of recommendations."""


@api.get("/enterprises", tags=TAGS, responses={200: EnterprisePage})
@requires("bureau", "enterprise", "analyst", "admin")
def list_enterprises(query: EnterpriseQuery):
    """企业列表（分页）：商务局为本县企业，企业账号只有自己 / enterprises (paginated)."""
    filters = EnterpriseFilter(county=query.county, mechanism=query.mechanism, enterprise_type=query.enterprise_type)
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
