"""Request and response schemas of API v1 (pydantic; the OpenAPI document is generated from them)."""
import copy
from types import MappingProxyType
from typing import Annotated, Generic, Literal, TypeVar

from flask_openapi3 import FileStorage
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel, create_model, model_validator

from core.codes import (Code, CoverageState, EnterpriseType, HouseholdAttribute, LabourSkill, Mechanism, MonitoringCategory,
                        PartnershipStatus, PovertyCause, ProjectStatus, RecommendationStatus)
from core import search
from core.followup import HOUSEHOLD_WARNINGS, FollowUpReason
from core.match_level import EXPLANATION, EXPLANATION_EN, LEVELS
from services import offers
from services.column_mappings import KIND_TITLES
from services.errors import Invalid
from services.followups import STATUS_CHOICES
from services.jobs import KINDS, STATUSES
from services.match_rules import ALL, LIMITS
from services.principal import ROLES
from services.text import calendar_date, plain_text


def _described(code_list: type[Code]) -> str:
    """'01 就业务工 02 订单收购 …': the codes of a list with their labels, for the documentation."""
    return " ".join(f"{code} {label}" for code, label in code_list.labels().items())


def _one_of(code_list: type[Code]) -> str:
    """A pattern accepting exactly the codes of a list."""
    return "^(" + "|".join(code_list.codes()) + ")$"


RegionCode = Annotated[str, Field(pattern=r"^\d{12}$", description="12 位行政区划代码")]
CreditCode = Annotated[str, Field(pattern=r"^[0-9A-HJ-NPQRTUWXY]{18}$", description="统一社会信用代码")]
HouseholdId = Annotated[str, Field(pattern=r"^[0-9A-Za-z_.\-]{1,64}$", description="户编号")]
ObjectId = Annotated[str, Field(pattern=r"^[0-9A-Za-z_.\-]{1,120}$")]
MechanismCode = Annotated[str, Field(pattern=_one_of(Mechanism), description=f"联结方式：{_described(Mechanism)}")]
TwoDigitCode = Annotated[str, Field(pattern=r"^\d{2}$")]
# A recommendation's score in words and its reasons (the same fields on a household's list and an enterprise's).
MatchLevel = Annotated[Literal[LEVELS] | None, Field(
    None, description=f"匹配度（{' / '.join(LEVELS)}）。{EXPLANATION}。早期运行的推荐没有匹配度 / {EXPLANATION_EN}")]
Reasons = Annotated[list[str] | None, Field(
    None, description="推荐理由：得分最主要的因素，每条写明所依据的数字（距离、劳动力、土地、岗位、产业等），最主要的在前 "
                      "/ the score's largest factors with their figures, largest first")]
OtherMechanisms = Annotated[list[Annotated[str, Field(pattern=_one_of(Mechanism))]], Field(
    default_factory=list, description=f"同一企业对该户也可采用的其他联结方式（代码：{_described(Mechanism)}）"
                                      " / the enterprise's other feasible mechanisms for the household")]
PartnershipStatusCode = Literal[tuple(PartnershipStatus.codes())]
RecommendationStatusCode = Literal[tuple(RecommendationStatus.codes())]


def _no_control_characters(text: str) -> str:
    """The services' rule for typed text (services/text.py), as a pydantic validator."""
    try:
        return plain_text(text, "")
    except Invalid as error:
        raise ValueError(error.message) from None


def _calendar_date(text: str) -> str:
    """The services' rule for dates (services/text.py), as a pydantic validator."""
    try:
        return calendar_date(text, "")
    except Invalid as error:
        raise ValueError(error.message) from None


# The same rule for the OpenAPI document (clients and generated tests see what is refused).
NO_CONTROL_CHARACTERS = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ufffe\\uffff]*$"
PlainText = Annotated[str, AfterValidator(_no_control_characters),
                      Field(json_schema_extra={"pattern": NO_CONTROL_CHARACTERS})]
ShortText = Annotated[PlainText, Field(min_length=1, max_length=500)]
IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"}),
                    AfterValidator(_calendar_date)]

T = TypeVar("T")


class Strict(BaseModel):
    """Requests: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def model_json_schema(cls, *args, **kwargs) -> dict:
        """The model's JSON schema, built once per model and arguments.

        flask-openapi3 asks for a query model's schema on every request (without arguments, only to read
        its field types), which cost more than the rest of the request's Python work; a request model
        never changes at run time. That argument-free schema is shared read-only (a change raises
        TypeError); with arguments (the OpenAPI document) a copy is returned."""
        key = (cls, args, tuple(sorted(kwargs.items(), key=lambda item: item[0])))
        cached = _SCHEMAS.get(key)
        if cached is None:
            schema = super().model_json_schema(*args, **kwargs)
            cached = _SCHEMAS.setdefault(key, _read_only(schema) if not args and not kwargs else schema)
        return cached if not args and not kwargs else copy.deepcopy(cached)


def _read_only(value):
    """A deep read-only view of a JSON schema (mappings and tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({key: _read_only(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_read_only(item) for item in value)
    return value


_SCHEMAS: dict[tuple, dict] = {}


class Page(Strict):
    """Pagination (page size bounded at 100)."""

    page: int = Field(1, ge=1, le=100000, description="页码，从 1 开始")
    page_size: int = Field(20, ge=1, le=100, description="每页条数（最多 100）")

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.page_size


class AtLeastOne(Strict):
    """A request whose fields are each optional, but one of them must be given."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})

    @model_validator(mode="after")
    def _one_given(self):
        if not self.model_fields_set:
            raise ValueError("至少给出一项 / give at least one field")
        return self


class PageOut(BaseModel, Generic[T]):
    """A page of a list."""

    items: list[T]
    page: int
    page_size: int
    total: int
    next_cursor: str | None = Field(None, description="下一页的游标（传入 cursor 参数）；最后一页为空 / keyset cursor of the next page")


class Problem(BaseModel):
    """An error (RFC 9457 problem details) with a stable code and a Chinese title."""

    type: str
    status: int
    code: str
    title: str
    detail: str | None = None
    request_id: str | None = None
    errors: list[dict] | None = None


# --- identity ---------------------------------------------------------------------------------

class MeOut(BaseModel):
    token_id: str
    name: str
    role: Literal[ROLES]
    county_code: str | None = None
    credit_code: str | None = None


# --- regions ----------------------------------------------------------------------------------

class Coverage(BaseModel):
    """覆盖情况：每户只属以下一种状态，履约中 + 待确认 + 已规划 + 未覆盖 = 户数。"""

    households: int = 0
    covered: int = Field(0, description="履约中：有履约中利益联结的户数（同 confirmed）")
    confirmed: int = Field(0, description="履约中的户数")
    pending: int = Field(0, description="待确认：无履约中联结、有待确认联结的户数（同 awaiting）")
    awaiting: int = Field(0, description="待确认的户数")
    planned: int = Field(0, description="已规划：无上述联结、本县当前匹配方案已为其安排企业的户数")
    uncovered: int = Field(0, description="未覆盖：户数 − 履约中 − 待确认 − 已规划")
    coverage_rate: float | None = Field(None, description="履约中占比：covered / households")
    awaiting_rate: float | None = Field(None, description="待确认占比")
    planned_rate: float | None = Field(None, description="已规划占比：planned / households")
    uncovered_rate: float | None = Field(None, description="未覆盖占比")


class RegionOut(BaseModel):
    code: str
    name: str | None = None
    level: str | None = None
    parent_code: str | None = None
    lon: float | None = None
    lat: float | None = None
    coverage: Coverage


class RegionDetailOut(RegionOut):
    by_mechanism: dict[str, int] = Field(default_factory=dict, description="履约中联结数，按联结方式")
    children: list[RegionOut] = Field(default_factory=list)


class RegionList(RootModel[list[RegionOut]]):
    """Regions with their coverage."""


class RegionQuery(Strict):
    parent: RegionCode | None = Field(None, description="上级区划；不填则为本账号可见的县")


class RegionPath(Strict):
    code: RegionCode


# --- households -------------------------------------------------------------------------------

SEARCH_DESCRIPTION = ("搜索：4 位数字（或 3 位数字加 X）为证件号码后四位（按带密钥哈希匹配，号码不存储），其他纯数字为户编号前缀，"
                      "其余为户主姓名（中文分词全文检索，单个汉字按姓氏前缀）；分析人员不可用（403）；"
                      "企业账号只在本企业已确认（履约中）的联结中查找")
SearchText = Annotated[str, Field(max_length=search.MAX_LENGTH, pattern=search.QUERY_PATTERN,
                                  description=SEARCH_DESCRIPTION)]
CoverageStateCode = Literal[tuple(state.value for state in CoverageState)]


class HouseholdQuery(Page):
    county: RegionCode | None = None
    township: RegionCode | None = None
    village: RegionCode | None = None
    cause: TwoDigitCode | None = Field(None, description=f"主要致贫原因代码：{_described(PovertyCause)}")
    attribute: TwoDigitCode | None = Field(None, description=f"贫困户属性代码：{_described(HouseholdAttribute)}")
    monitoring: TwoDigitCode | None = Field(None, description=f"监测对象类别代码：{_described(MonitoringCategory)}")
    labour: Literal["none", "weak", "ordinary", "skilled", "any"] | None = Field(
        None, description="劳动力：none 无劳动力，weak 有弱劳动力，ordinary 有普通劳动力，skilled 有技能劳动力，any 有劳动力")
    covered: bool | None = Field(None, description="是否已有履约中的利益联结")
    coverage: CoverageStateCode | None = Field(
        None, description="覆盖状态（每户只属其一，四项相加等于户数）：confirmed 履约中，awaiting 待确认，"
                          "planned 已规划（本县当前匹配方案已安排），uncovered 未覆盖")
    sort: Literal["household_id", "income_per_capita", "household_size"] = Field(
        "household_id", description="排序：household_id 户编号，income_per_capita 人均纯收入，household_size 人口")
    order: Literal["asc", "desc"] = Field("asc", description="顺序：asc 升序，desc 降序")
    q: SearchText | None = None
    cursor: str | None = Field(None, max_length=200, pattern=r"^[A-Za-z0-9_-]+$",
                               description="上一页返回的 next_cursor：从其后继续（忽略 page）/ continue after the previous page")


class HouseholdExportQuery(HouseholdQuery):
    page_size: int = Field(5000, ge=1, le=20000, description="导出条数上限")


class HouseholdOut(BaseModel):
    """A household as the caller may see it; hidden fields are absent."""

    model_config = ConfigDict(extra="forbid")
    household_ref: str = Field(description="稳定的化名编号（不可反推户编号）")
    household_id: str | None = None
    head_name: str | None = None
    head_name_masked: str | None = None
    phone: str | None = None
    county_code: str | None = None
    township_code: str | None = None
    village_code: str | None = None
    village_name: str | None = None
    township_name: str | None = None
    village_lon: float | None = None
    village_lat: float | None = None
    attribute: str | None = None
    main_cause: str | None = None
    other_causes: list[str] | None = None
    household_size: int | None = None
    income_per_capita: float | None = None
    poverty_status: str | None = None
    monitoring_category: str | None = None
    arable_mu: float | None = None
    forest_mu: float | None = None
    orchard_mu: float | None = None
    products: list[str] | None = None
    labour_ordinary: int | None = None
    labour_skilled: int | None = None
    labour_weak: int | None = None
    members: int | None = None
    covered: bool | None = None
    pending: bool | None = None
    coverage_state: CoverageStateCode | None = Field(
        None, description="覆盖状态：confirmed 履约中，awaiting 待确认，planned 已规划，uncovered 未覆盖")
    relocated: bool | None = None
    in_cooperative: bool | None = None
    active: bool | None = None


class MemberOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    member_id: str | None = None
    name: str | None = None
    name_masked: str | None = None
    relation: str | None = None
    sex: str | None = None
    birth_year: int | None = None
    education: str | None = None
    health: str | None = None
    labour_skill: str | None = None
    work_status: str | None = None
    work_months: int | None = None
    work_place: str | None = None


class HouseholdPartnershipOut(BaseModel):
    partnership_id: str
    credit_code: str | None = None
    enterprise_name: str | None = None
    project_id: str | None = None
    mechanism: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    income_gain: float | None = None
    status: str | None = None
    note: str | None = None


class HouseholdRecommendationOut(BaseModel):
    rec_id: str
    credit_code: str
    enterprise_name: str | None = None
    mechanism: str
    rank: int | None = None
    score: float | None = Field(None, description="综合得分（0–1）/ score")
    level: MatchLevel
    distance_km: float | None = None
    reasons: Reasons
    other_mechanisms: OtherMechanisms
    assigned: bool | None = None
    status: str | None = None
    run_id: str | None = None


class HouseholdDetailOut(HouseholdOut):
    member_list: list[MemberOut] = Field(default_factory=list)
    partnership_list: list[HouseholdPartnershipOut] = Field(default_factory=list)
    recommendation_list: list[HouseholdRecommendationOut] = Field(default_factory=list)


class HouseholdPath(Strict):
    household_id: HouseholdId


# --- enterprises ------------------------------------------------------------------------------

class EnterpriseQuery(Page):
    county: RegionCode | None = None
    mechanism: MechanismCode | None = None
    enterprise_type: TwoDigitCode | None = Field(None, description=f"主体类型代码：{_described(EnterpriseType)}")
    q: str | None = Field(None, max_length=60, pattern=search.NAME_WORDS_PATTERN,
                          description="搜索：企业名称中的字词（中文分词全文检索；可含汉字、字母、数字、空格、间隔号、括号与连字符）")


class Offer(BaseModel):
    mechanism: str
    capacity: int = Field(description="容量（户）：企业填报的数量按联结方式折算为户，土地流转每户 3 亩")
    capacity_amount: float = Field(description="企业填报的数量（岗位/户/亩），单位见 unit")
    unit: str = Field(description="填报数量的单位：人、户或亩")
    in_force: int = Field(description="履约中的联结")
    awaiting_confirmation: int = Field(description="待确认的联结")
    assigned_current: int = Field(description="当前匹配方案中分配的户数（未处理）")
    remaining: int = Field(description="剩余容量（户）：容量 − 履约中 − 待确认")


class EnterpriseOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credit_code: str
    name: str | None = None
    enterprise_type: str | None = None
    region_code: str | None = None
    county_code: str | None = None
    address: str | None = None
    lon: float | None = None
    lat: float | None = None
    industries: list[str] | None = None
    products_bought: list[str] | None = None
    mechanisms: list[str] | None = None
    skill_required: str | None = None
    certified_poverty_products: bool | None = None
    contact: str | None = None
    phone: str | None = None


class EnterpriseDetailOut(EnterpriseOut):
    offers: list[Offer] = Field(default_factory=list)


class EnterprisePath(Strict):
    credit_code: CreditCode


# --- an enterprise's offer (帮扶供给), kept by itself ----------------------------------------------

def _offer_number(field) -> tuple:
    kind = int if field.kind == "integer" else float
    return (kind | None, Field(None, ge=field.minimum, le=field.maximum,
                               description=f"{field.title}（{offers.figure(field.minimum)}–{offers.figure(field.maximum)}；null 清除）"))


ProductName = Annotated[PlainText, Field(min_length=1, max_length=offers.MAX_PRODUCT_LENGTH,
                                         description="产品名称（如 猕猴桃；不能含电话号码等长串数字）")]
OfferIn = create_model(
    "OfferIn", __base__=AtLeastOne, __doc__="要修改的帮扶供给字段（未给出的不变）/ the offer fields to change",
    mechanisms=(list[MechanismCode] | None, Field(None, max_length=len(Mechanism), description=(
        f"提供的联结方式（代码）：{_described(Mechanism)}；空列表为不再提供"))),
    **{name: _offer_number(field) for name, field in offers.FIELDS.items() if name in offers.NUMBERS},
    skill_required=(Literal[(*LabourSkill.codes(), "")] | None, Field(None, description=(
        f"用工技能要求（劳动技能代码）：{_described(LabourSkill)}；空或 null 为不限"))),
    products_bought=(list[ProductName] | None, Field(None, max_length=offers.MAX_PRODUCTS, description=(
        "收购产品（名称，按产业词表识别为产业；不在词表中的照原文保存，匹配时用不上）"))),
)


class OfferOut(BaseModel):
    credit_code: str
    name: str | None = None
    county_code: str | None = None
    mechanisms: list[str] = Field(default_factory=list, description=f"联结方式：{_described(Mechanism)}")
    jobs_offered: int | None = Field(None, description="用工需求（人）")
    contract_households: int | None = Field(None, description="订单收购带动户数")
    land_wanted_mu: float | None = Field(None, description="流转土地需求（亩）")
    equity_households: int | None = Field(None, description="入股分红带动户数")
    ecommerce_households: int | None = Field(None, description="电商带动户数")
    households_capacity: int | None = Field(None, description="可带动户数（各联结方式合计）")
    skill_required: str | None = Field(None, description=f"技能要求：{_described(LabourSkill)}")
    products_bought: list[str] = Field(default_factory=list, description="收购产品")
    unrecognised_products: list[str] = Field(default_factory=list, description="不在产业词表中的收购产品（匹配时用不上）")
    offers: list[Offer] = Field(default_factory=list, description="各联结方式的容量（户）、已用与剩余")
    offer_updated_at: str | None = Field(None, description="最近一次由企业或商务局修改的时间")
    offer_updated_by: str | None = Field(None, description="最近一次的修改人（名称与角色）")


class OfferJobOut(BaseModel):
    job_id: str = Field(description="匹配任务（运行）编号")
    status: Literal[STATUSES]
    counties: list[str] = Field(description="重新匹配的县（企业可达、有贫困户）")
    county_names: list[str] = Field(default_factory=list)
    reused: bool = Field(description="已有排队中的同样各县的匹配任务，沿用它而未另建")


class OfferUpdateOut(OfferOut):
    changed: list[str] = Field(description="本次改动的字段；为空则与原值相同，未记录、未排队匹配")
    change_id: str | None = Field(None, description="变更记录编号")
    replans: bool = Field(description="改动了匹配所用的内容（联结方式、容量、技能要求、收购产品的产业）")
    job: OfferJobOut | None = Field(None, description="为此排队的增量匹配；无须重新匹配（只改了合计户数或产品写法）"
                                                      "或没有可达的县时为空")


class OfferChangeOut(BaseModel):
    change_id: str
    credit_code: str
    changed_at: str
    changed_by: str | None = Field(None, description="修改人（名称与角色）")
    changes: dict[str, dict] = Field(description="字段 → {from, to}")
    counties: list[str] = Field(default_factory=list, description="因此重新匹配的县")
    job_id: str | None = Field(None, description="为此排队（或沿用）的匹配任务")


class RecommendationQuery(Page):
    mechanism: MechanismCode | None = None
    status: RecommendationStatusCode | None = None
    assigned: bool | None = Field(None, description="只看匹配方案分配的推荐")
    county: RegionCode | None = None


class RecommendationOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rec_id: str
    run_id: str | None = None
    credit_code: str
    enterprise_name: str | None = None
    county_code: str | None = None
    mechanism: str
    rank: int | None = None
    score: float | None = Field(None, description="综合得分（0–1）/ score")
    level: MatchLevel
    rule_score: float | None = None
    distance_km: float | None = None
    reasons: Reasons
    other_mechanisms: OtherMechanisms
    assigned: bool | None = None
    current: bool | None = None
    status: str | None = None
    decline_reason: str | None = None
    partnership_id: str | None = None
    confirmed: bool = Field(description="商务局已确认该户与该企业的联结")
    household: HouseholdOut


class RecommendationPath(Strict):
    rec_id: ObjectId


class DeclineIn(Strict):
    reason: ShortText = Field(description="拒绝原因（作为模型反馈保存）")


class DecisionOut(BaseModel):
    rec_id: str
    status: str
    partnership_id: str | None = None
    partnership_status: str | None = None


# --- projects ---------------------------------------------------------------------------------

class ProjectQuery(Page):
    county: RegionCode | None = None
    status: TwoDigitCode | None = Field(None, description=f"项目状态代码：{_described(ProjectStatus)}")
    mechanism: MechanismCode | None = None


class ProjectOut(BaseModel):
    project_id: str
    name: str | None = None
    region_code: str | None = None
    county_code: str | None = None
    address: str | None = None
    industries: list[str] | None = None
    fund_source: str | None = None
    budget_wan: float | None = None
    implementer_credit_code: str | None = None
    implementer: str | None = None
    mechanism: str | None = None
    target_households: int | None = None
    start_year: int | None = None
    end_year: int | None = None
    status: str | None = None
    partnerships: int = 0


class ProjectPath(Strict):
    project_id: ObjectId


# --- match runs and jobs ----------------------------------------------------------------------

class MatchRunIn(Strict):
    county_code: RegionCode
    top_k: int = Field(5, ge=1, le=20, description="每户推荐数")
    household_limit: int = Field(1, ge=1, le=3, description="每户最多分配的联结数")
    force: bool = Field(False, description="输入未变也重新计算")


class JobOut(BaseModel):
    job_id: str
    kind: Literal[KINDS]
    status: Literal[STATUSES]
    progress: float | None = None
    message: str | None = None
    county_code: str | None = None
    requested_by: str | None = Field(None, description="提交人（名称与角色）")
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    result: dict | None = None
    report_url: str | None = Field(None, description="校验报告的下载地址（上传完成后）")


class MatchRunOut(JobOut):
    run_id: str
    params: dict | None = None
    metrics: dict | None = None
    timings: dict | None = None
    counties: list[str] | None = None
    unchanged_counties: list[str] | None = None
    rules_versions: dict[str, int | None] | None = Field(
        None, description="各县所用资格规则的版本（null：默认规则）/ each county's match rules version")
    model_version: str | None = Field(None, description="所用学习模型版本（null：仅用规则评分）/ the learned model used")
    alpha: float | None = Field(None, description="规则评分的融合权重（1 = 仅用规则）/ weight of the rule score")
    model_note: str | None = Field(None, description="为何如此评分（自动训练、历史不足仅用规则……）/ why it scored so")


class MatchRunQuery(Page):
    county: RegionCode | None = None


class RunPath(Strict):
    run_id: ObjectId


# --- a match run opened (services/run_page.py) -------------------------------------------------

class RunCountyQuery(Strict):
    county: RegionCode | None = Field(None, description="本次运行重新计算的县（商务局：只能是本县；缺省为第一个）")


class RunPageQuery(Page, RunCountyQuery):
    pass


class RunUnplacedQuery(RunPageQuery):
    binding: Literal["capacity", "distance", "no_market", "no_offer", "no_land", "no_labour"] | None = Field(
        None, description="只看该卡住的约束：capacity 容量已满，distance 距离，no_market 销路，no_offer 无供给，"
                          "no_land 土地，no_labour 劳动力")


class RunChangesQuery(RunPageQuery):
    kind: Literal["newly_planned", "no_longer_planned"] = Field(
        "newly_planned", description="newly_planned 本次新规划的户，no_longer_planned 上一次规划、本次不再规划的户")


class RunTownshipOut(Coverage):
    code: str
    name: str | None = None


class RunCountyOut(BaseModel):
    code: str
    name: str | None = None
    current: bool = Field(description="本次运行是否为该县当前方案")
    sequence: int | None = Field(None, description="该县第几次（已完成的）匹配运行")
    switched_at: str | None = Field(None, description="成为当前方案的时间")
    previous_run: str | None = Field(None, description="此前的当前方案（运行编号）")
    previous_run_at: str | None = None
    coverage: Coverage = Field(description="当前方案时为当前数字，否则为生效时的数字")
    townships: list[RunTownshipOut]
    newly_planned: int = Field(description="与上一次方案相比，本次新规划的户数")
    no_longer_planned: int = Field(description="上一次方案规划、本次不再规划的户数")
    diagnosed: bool = Field(description="是否已诊断无可行联结的户")


class RunParameterOut(BaseModel):
    label: str
    value: str


class RunSummaryOut(BaseModel):
    run: MatchRunOut
    parameters: list[RunParameterOut] = Field(description="参数与模型（中文说明）")
    county: RunCountyOut | None = Field(None, description="该县的覆盖情况；运行未重新计算任何县时为空")


class UnplacedItemOut(BaseModel):
    household: HouseholdOut
    binding: str = Field(description="卡住的约束（最容易解决的一项）")
    binding_label: str
    reasons: dict[str, str] = Field(description="各联结方式不可行的原因")


class BindingCountOut(BaseModel):
    binding: str
    label: str
    households: int


class UnplacedPageOut(BaseModel):
    items: list[UnplacedItemOut]
    page: int
    page_size: int
    total: int
    open_households: int = Field(description="尚无联结（履约中或待确认）的户数")
    diagnosed_at: str | None = None
    counts: list[BindingCountOut] = Field(description="按卡住的约束计的户数")


class CapacityMechanismOut(BaseModel):
    mechanism: str
    mechanism_label: str
    places: int = Field(description="名额（按申报能力折算的户数）")
    in_force: int
    awaiting: int
    assigned: int = Field(description="本次运行安排的户数")
    proposed: int = Field(description="本次安排中尚未接受、确认或拒绝的")
    used: int = Field(description="已用 = 履约中 + 待确认 + 尚未处理的安排")
    left: int
    rate: float | None = Field(None, description="使用率 used / places")


class CapacityOut(BaseModel):
    credit_code: str
    name: str | None = None
    places: int
    used: int
    assigned: int
    rate: float | None = None
    mechanisms: list[CapacityMechanismOut]


class CapacityListOut(BaseModel):
    items: list[CapacityOut]


# --- per-county match rules -------------------------------------------------------------------

RuleField = Literal[tuple(limit.field for limit in LIMITS)]
_RULE_FIELDS = "、".join(f"{limit.field} {limit.title}（{limit.unit}）" for limit in LIMITS)


class CountyPath(Strict):
    code: RegionCode


# One optional number per adjustable limit, bounded by its floor and ceiling (matching/calibrate.py).
MatchRuleValues = create_model(
    "MatchRuleValues", __base__=AtLeastOne,
    **{limit.field: (float, Field(None, ge=limit.floor, le=limit.ceiling,
                                  description=f"{limit.title}（{limit.unit}，{limit.floor:g}–{limit.ceiling:g}）"))
       for limit in LIMITS})


class MatchRulesIn(AtLeastOne):
    """What to change: the suggestions to apply and/or values to set (a value set wins over its suggestion)."""

    apply: Literal[ALL] | Annotated[list[RuleField], Field(min_length=1, max_length=len(LIMITS))] = Field(
        None, description=f"应用这些规则的建议值（{ALL} 为所有有建议的规则）：{_RULE_FIELDS}")
    values: MatchRuleValues = Field(None, description="直接设定的取值（在允许范围内）")


class MatchRuleLimitOut(BaseModel):
    field: str = Field(description=_RULE_FIELDS)
    mechanism: str = Field(description=f"联结方式：{_described(Mechanism)}")
    title: str
    unit: str
    floor: float = Field(description="允许的最小值")
    ceiling: float = Field(description="允许的最大值")
    default: float = Field(description="默认值（未设定本县规则时）")
    current: float = Field(description="本县当前取值")
    suggested: float | None = Field(None, description="按本县台账建议的取值；联结不足时没有")
    evidence: int = Field(description="建议所依据的联结数")
    excluded: int = Field(description="该联结方式未计入的联结数（待确认、由推荐生成、无准确位置）")
    observed: float | None = Field(None, description="分位数本身（取整与限幅之前）")
    reason: str


class MatchRulesVersionOut(BaseModel):
    version: int
    values: dict[str, float] = Field(default_factory=dict, description="本县设定的取值（其余为默认值）")
    changes: dict[str, dict] = Field(default_factory=dict, description="本版本的改动：字段 → {from, to, source}")
    applied_by: str | None = Field(None, description="应用人（名称与角色）")
    applied_at: str | None = None


class MatchRulesOut(BaseModel):
    county_code: str
    county_name: str | None = None
    version: int | None = Field(None, description="当前版本；未设定本县规则时没有（使用默认值）")
    applied_by: str | None = None
    applied_at: str | None = None
    quantile: float = Field(description="建议的距离上限使该比例的联结在其内形成")
    min_partnerships: int = Field(description="某联结方式少于此数的联结时不作建议")
    limits: list[MatchRuleLimitOut]
    history: list[MatchRulesVersionOut] = Field(default_factory=list, description="各版本，最新在前")
    applied: list[str] | None = Field(None, description="本次改动的规则（为空则未建立新版本）")


class ColumnMappingQuery(Strict):
    county: RegionCode | None = Field(None, description="县（管理员必填；商务局账号为本县）")


class ColumnMappingIn(Strict):
    kind: Literal[tuple(KIND_TITLES)] = Field(description="文件类型：" + "、".join(
        f"{name} {title}" for name, title in KIND_TITLES.items()))
    header: PlainText = Field(min_length=1, max_length=100, description="文件中的列名（按原文）")
    field: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$", description="读作的字段（该文件类型声明的字段名）")
    county: RegionCode | None = Field(None, description="县（管理员必填；商务局账号为本县）")


class ColumnMappingOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    mapping_id: str
    county_code: str
    kind: str
    header: str
    field: str
    created_by: str | None = None
    created_at: str | None = None


class ColumnMappingList(BaseModel):
    items: list[ColumnMappingOut]


class ColumnMappingPath(Strict):
    mapping_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


class UploadForm(Strict):
    file: FileStorage = Field(description="CSV / XLSX / XLS 文件（贫困户、成员、企业、项目、村、联结台账）")
    full: bool = Field(False, description="全量户数据：文件所涉县中未列出的户标记为停用")
    confirm_full: bool = Field(False, description="确认全量加载（full 为 true 时必须为 true，否则拒绝）")


class UploadPath(Strict):
    job_id: ObjectId


# --- ledger -----------------------------------------------------------------------------------

class PartnershipQuery(Page):
    county: RegionCode | None = None
    village: RegionCode | None = None
    household_id: HouseholdId | None = None
    credit_code: CreditCode | None = None
    mechanism: MechanismCode | None = None
    status: PartnershipStatusCode | None = None
    q: SearchText | None = None


class PartnershipExportQuery(PartnershipQuery):
    page_size: int = Field(5000, ge=1, le=20000)


class PartnershipOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partnership_id: str
    household_id: str | None = None
    household_ref: str
    head_name: str | None = None
    head_name_masked: str | None = None
    phone: str | None = None
    county_code: str | None = None
    village_code: str | None = None
    village_name: str | None = None
    credit_code: str | None = None
    enterprise_name: str | None = None
    project_id: str | None = None
    mechanism: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    income_gain: float | None = None
    status: str | None = None
    note: str | None = None
    source: str | None = None
    rec_id: str | None = None
    updated_at: str | None = None


class PartnershipPath(Strict):
    partnership_id: ObjectId


class PartnershipUpdateIn(Strict):
    income_gain: float | None = Field(None, ge=0, le=1_000_000, description="年增收（元）")
    status: PartnershipStatusCode | None = Field(None, description=_described(PartnershipStatus))
    note: Annotated[PlainText, Field(max_length=500)] | None = None
    end_date: IsoDate | None = None


class PartnershipChangeOut(BaseModel):
    change_id: str
    partnership_id: str
    changed_at: str
    changed_by: str | None = Field(None, description="修改人（名称与角色；台账文件导入时为“数据导入”）")
    source: str | None = Field(None, description="来源：page（台账页面）、api（接口）、etl（台账文件导入）、recommendation（接受、确认或退回推荐）")
    source_title: str | None = Field(None, description="来源（中文）")
    field: str = Field(description="改动的字段：income_gain、status、note、end_date")
    field_title: str = Field(description="字段名称（中文）")
    from_value: str | None = Field(None, description="原值（状态为代码；原先为空时为 null）")
    to_value: str | None = Field(None, description="新值（状态为代码；改为空时为 null）")
    from_text: str = Field(description="原值（文字：状态为名称，空为 —）")
    to_text: str = Field(description="新值（文字）")


# --- audit ------------------------------------------------------------------------------------

class AuditEventOut(BaseModel):
    event_id: str
    at: str
    token_id: str
    actor: str | None = None
    role: str
    action: str
    path: str | None = None
    method: str | None = None
    household_ids: list[str] = Field(default_factory=list)
    household_count: int = 0
    credit_codes: list[str] = Field(default_factory=list, description="读取了联系人信息的企业")
    part: int | None = Field(None, description="一次读取拆成多条记录时的序号")
    parts: int | None = Field(None, description="一次读取拆成的记录数")
    request_id: str | None = None
    client: str | None = None


# --- follow-up items and early warnings -------------------------------------------------------------

FollowUpReasonCode = Literal[tuple(FollowUpReason.codes())]
HouseholdWarningCode = Literal[tuple(warning.value for warning in HOUSEHOLD_WARNINGS)]


class FollowUpQuery(Page):
    status: Literal[tuple(STATUS_CHOICES)] = Field(
        "unresolved", description="unresolved（待跟进与已列入方案）、open 待跟进、planned 已列入匹配方案、closed 已关闭")
    reason: FollowUpReasonCode | None = Field(None, description=f"跟进原因：{_described(FollowUpReason)}")
    township: RegionCode | None = None
    q: SearchText | None = None


class FollowUpOut(BaseModel):
    """A follow-up item: the household, why, since when, by when, and what became of it."""

    model_config = ConfigDict(extra="forbid")
    followup_id: str | None = Field(None, description="事项编号（户编号:原因:事由）；化名视图没有")
    household_id: str | None = None
    county_code: str | None = None
    township_code: str | None = None
    village_code: str | None = None
    reason: str = Field(description=f"原因代码：{_described(FollowUpReason)}")
    reason_label: str
    subject: str | None = Field(None, description="事由：所涉联结、企业与联结方式、监测或收入年份")
    detail: str | None = None
    since: str | None = Field(None, description="事件发生日期")
    due_date: str | None = Field(None, description="应完成日期（需要程度最高 15 天、较高 30 天、一般 60 天）")
    overdue: bool
    status: str
    status_label: str
    created_at: str | None = None
    run_id: str | None = Field(None, description="将该户列入匹配方案的运行")
    closed_at: str | None = None
    closed_by: str | None = None
    closed_by_label: str | None = None
    closed_by_name: str | None = None
    close_reason: str | None = None
    partnership_id: str | None = Field(None, description="使事项关闭的联结")
    household: HouseholdOut


class FollowUpCount(BaseModel):
    reason: str | None = None
    status: str | None = None
    township_code: str | None = None
    label: str | None = None
    items: int


class FollowUpSummaryOut(BaseModel):
    county_code: str
    unresolved: int
    overdue: int
    by_reason: list[FollowUpCount]
    by_status: list[FollowUpCount]
    by_township: list[FollowUpCount]


class FollowUpPage(PageOut[FollowUpOut]):
    summary: FollowUpSummaryOut


class FollowUpPath(Strict):
    followup_id: Annotated[str, Field(pattern=r"^[^/\x00-\x1f]{1,300}$")]


class FollowUpCloseIn(Strict):
    reason: ShortText = Field(description="关闭理由（如：已外出务工，无需帮扶）")


class AwaitingPairingOut(BaseModel):
    model_config = ConfigDict(extra="ignore")
    partnership_id: str = Field(description="联结编号（确认、退回时使用）")
    mechanism: str
    mechanism_label: str = Field(description="联结方式名称")
    rec_id: str | None = Field(None, description="来源推荐；由文件导入的待确认联结没有")
    credit_code: str
    enterprise_name: str | None = None
    start_date: str | None = None
    updated_at: str | None = Field(None, description="企业接受（最近修改）的时间")


class AwaitingOut(BaseModel):
    """A household with pairings the enterprises accepted, awaiting the bureau's confirmation."""

    model_config = ConfigDict(extra="forbid")
    household: HouseholdOut
    pairings: list[AwaitingPairingOut]


class AwaitingPage(PageOut[AwaitingOut]):
    pass


class ConfirmBatchIn(Strict):
    partnership_ids: list[ObjectId] = Field(min_length=1, max_length=100, description="要确认的待确认联结（最多 100 条）")


class BatchFailureOut(BaseModel):
    id: str
    code: str
    message: str


class ConfirmBatchOut(BaseModel):
    confirmed: list[str] = Field(description="已确认（进入履约中）的联结")
    failed: list[BatchFailureOut] = Field(description="未能确认的联结及原因（其余不受影响）")


class RejectIn(Strict):
    reason: ShortText = Field(description="退回原因（告知企业）")


class NotificationOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    notification_id: str
    kind: Literal["pairing_accepted", "partnership_confirmed", "pairing_rejected", "run_completed"] = Field(
        description="pairing_accepted 企业已接受待确认，partnership_confirmed 商务局已确认，pairing_rejected 商务局已退回，"
                    "run_completed 匹配运行已完成")
    title: str
    text: str = Field(description="通知内容（户名按角色脱敏）")
    created_at: str
    read: bool
    run_id: str | None = None
    household_id: str | None = None
    household_ref: str | None = None
    rec_id: str | None = None


class NotificationPage(PageOut[NotificationOut]):
    unread: int = Field(description="未读条数")


class NotificationReadIn(Strict):
    notification_ids: list[Annotated[str, Field(pattern=r"^[0-9a-f-]{36}$")]] | None = Field(
        None, max_length=100, description="标为已读的通知；不填则全部标为已读")


class NotificationReadOut(BaseModel):
    marked: int


class WarningCountOut(BaseModel):
    warning: str
    label: str
    description: str
    households: int | None = None
    enterprises: int | None = None


class TownshipWarningsOut(BaseModel):
    code: str
    name: str
    counts: dict[str, int]


class FlaggedEnterpriseOut(BaseModel):
    credit_code: str
    name: str | None = None
    enterprise_type_label: str | None = None
    township_code: str | None = None
    decided_count: int | None = None
    declined_count: int | None = None
    partnership_count: int | None = None
    terminated_count: int | None = None
    warnings: list[str]


class WarningsOut(BaseModel):
    """A county's early warnings: counts per warning (county and townships) and the enterprises flagged."""

    county_code: str
    as_of: str = Field(description="预警所依据的日期（中国标准时间）")
    household_warnings: list[WarningCountOut]
    enterprise_warnings: list[WarningCountOut]
    townships: list[TownshipWarningsOut]
    enterprises: list[FlaggedEnterpriseOut]


class WarningPath(Strict):
    code: RegionCode
    warning: HouseholdWarningCode


class WarningQuery(Page):
    township: RegionCode | None = None


class WarnedHouseholdOut(HouseholdOut):
    warning: str
    warning_label: str
    monitoring_label: str | None = None
    labourers: int | None = None


class WarnedHouseholdPage(PageOut[WarnedHouseholdOut]):
    pass


# --- outcomes (帮扶成效) -------------------------------------------------------------------------

class OutcomeComparisonOut(BaseModel):
    """The income change of partnered households against comparable ones (method: the report's `method`)."""

    estimate: float | None = Field(None, description="联结户与对照户每人每年收入变化之差（元），分层后按联结户权重平均；"
                                                     "无可比较的户时没有")
    low: float | None = Field(None, description="95% 区间下限（分层 bootstrap）")
    high: float | None = Field(None, description="95% 区间上限")
    partnered_n: int = Field(description="联结户数（首末收入观测之间开始履约中或已完成的联结）")
    comparable_n: int = Field(description="计入的对照户数（从无联结，同县、同需要程度、同劳动力类别）")
    partnered_mean_change: float | None = Field(None, description="联结户每人每年收入变化（元，按层加权）")
    comparable_mean_change: float | None = Field(None, description="对照户每人每年收入变化（元，按联结户的层权重）")
    strata_used: int = Field(description="计入的层数")
    strata_without_comparables: int = Field(description="没有对照户而未计入的层数")
    partnered_left_out: int = Field(description="因所在层没有对照户而未计入的联结户数")
    small: bool = Field(description="计入的联结户或对照户不足 5 户：照常列出，但样本过少")


class OutcomeFiguresOut(BaseModel):
    formed: int = Field(description="形成的联结数（履约中、已完成、已终止）")
    in_force: int = Field(description="履约中")
    ended: int = Field(description="已结束（已完成、已终止）")
    in_force_share: float | None = Field(None, description="履约中的占比")
    duration_median_days: float | None = Field(None, description="已结束联结的时长中位数（天，开始至结束日期）")
    duration_n: int = Field(description="有时长的已结束联结数")
    elapsed_median_days: float | None = Field(None, description="履约中联结从开始到今天的天数中位数")
    gain_mean: float | None = Field(None, description="台账年增收均值（元/户）")
    gain_median: float | None = Field(None, description="台账年增收中位数（元/户）")
    gain_n: int = Field(description="填有年增收的联结数")
    small: bool = Field(description="联结不足 5 条：照常列出，但样本过少")


class OutcomeRowOut(OutcomeFiguresOut):
    key: str = Field(description="分组的代码（联结方式、企业类型、乡镇代码或年份；未填为“未填”）")
    label: str = Field(description="分组的中文名称")
    comparison: OutcomeComparisonOut


class OutcomeDimensionOut(BaseModel):
    key: Literal["mechanism", "enterprise_type", "township", "start_year"]
    title: str
    rows: list[OutcomeRowOut]


class IncomeHistoryOut(BaseModel):
    households: int = Field(description="本县户数")
    with_history: int = Field(description="有收入观测的户数")
    with_two_observations: int = Field(description="有两次及以上收入观测的户数（计入收入变化）")
    first_dates: list[str] = Field(default_factory=list, description="首次观测的数据日期")
    last_dates: list[str] = Field(default_factory=list, description="末次观测的数据日期")


class OutcomesOut(BaseModel):
    county_code: str
    county_name: str | None = None
    computed_at: str | None = Field(None, description="计算时间；尚未计算时没有（其余数字也没有）")
    seconds: float | None = Field(None, description="计算耗时（秒）")
    as_of: str | None = Field(None, description="计算时的今天（北京时间），履约中联结的时长算到这一天")
    method: str = Field(description="方法说明（中文）")
    small_n: int | None = Field(None, description="少于此数的组标为样本过少")
    bootstrap: int | None = Field(None, description="bootstrap 重抽样次数")
    totals: OutcomeFiguresOut | None = None
    awaiting: int | None = Field(None, description="待确认的联结数（不计入形成的联结）")
    comparison: OutcomeComparisonOut | None = Field(None, description="全县的收入变化对比")
    dimensions: list[OutcomeDimensionOut] = Field(default_factory=list,
                                                  description="按联结方式、企业类型、乡镇、开始年份的表")
    income_history: IncomeHistoryOut | None = None
