"""The graph model, declared once as data (in the manner of cartography's node schemas).

Every node label is one `NodeType`: its key, its properties with their flags, and its
outgoing relationships. Everything else is generated from these declarations by
graph/querybuilder.py: the uniqueness constraints and indexes (graph/schema.py), the ETL's
upsert and create queries, and the read projections of graph/views.py. The ETL only says
which label a file kind loads (etl/formats.py); the properties it writes and the
relationships it draws come from here.

Property flags:
- indexed: an index is created (the key always has a uniqueness constraint);
- personal: about an identifiable person (names, phones and their masked forms, contact): the API and
  pages show it by role, analysts' views never;
- secret: never leaves the graph (ID-number and token hashes, row_hash): never projected;
- list: holds a list of values;
- internal: kept for the ETL and matching (industry codes, position source …), not projected;
- loaded: a column of the ETL's rows; False for what the application writes (ledger, runs …).

Read state (graph/readstate.py): the figures pages filter, sort and count on — a household's labour
counts, coverage, open partnerships, current recommendations and need tier; a region's household and
coverage counts — are stored on the nodes and refreshed in the transaction of every write that changes them.
"""
from collections.abc import Mapping
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Property:
    """A node property and what may be done with it."""

    name: str
    description: str = ""
    indexed: bool = False
    personal: bool = False
    secret: bool = False
    internal: bool = False
    loaded: bool = True
    list: bool = False


@dataclass(frozen=True)
class RelationshipType:
    """An outgoing relationship of the declaring node (`start`) to nodes of `target`.

    `field` names the row field that lists the target keys when the ETL draws the relationship;
    None when the application draws it (match runs, recommendations).
    """

    type: str
    target: str
    field: str | None = None
    description: str = ""
    properties: tuple[str, ...] = ()
    start: str = ""  # filled in by the declaring NodeType

    @property
    def end(self) -> str:
        """The target label (the relationship points start → end)."""
        return self.target


@dataclass(frozen=True)
class NodeType:
    """A node label: its unique key, its properties and its outgoing relationships."""

    label: str
    key: str
    properties: tuple[Property, ...]
    relationships: tuple[RelationshipType, ...] = field(default=())
    description: str = ""
    # Composite (range) indexes, each a tuple of property names: equality on the leading ones and
    # order on the last one let a page be read from the index (graph/views.py).
    composite_indexes: tuple[tuple[str, ...], ...] = ()
    # Full-text indexes (Lucene, `cjk` analyser: Chinese text in character pairs), each a tuple of property
    # names; the search (graph/search.py) names a field per property in its query (the county's code among them,
    # so the index itself keeps a county's matches apart from the nation's).
    fulltext_indexes: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self):
        # Relationships are declared inside their start node, so the start is known here.
        object.__setattr__(self, "relationships",
                           tuple(replace(rel, start=self.label) for rel in self.relationships))

    def prop(self, name: str) -> Property:
        """The declared property `name`; ValueError when it is not declared."""
        for prop in self.properties:
            if prop.name == name:
                return prop
        raise ValueError(f"{self.label} has no declared property {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        """Every declared property name, in declaration order."""
        return tuple(prop.name for prop in self.properties)

    @property
    def indexed(self) -> tuple[str, ...]:
        """Properties with an index (the key has its uniqueness constraint instead)."""
        return tuple(prop.name for prop in self.properties if prop.indexed and prop.name != self.key)

    @property
    def loaded(self) -> tuple[str, ...]:
        """Properties the ETL writes from its rows (the key is written by the MERGE, not among them)."""
        return tuple(prop.name for prop in self.properties if prop.loaded and prop.name != self.key)

    @property
    def loaded_relationships(self) -> tuple[RelationshipType, ...]:
        """Relationships the ETL draws from its rows (those with a field)."""
        return tuple(rel for rel in self.relationships if rel.field)

    @property
    def secret(self) -> tuple[str, ...]:
        """Properties that never leave the graph."""
        return tuple(prop.name for prop in self.properties if prop.secret)

    @property
    def personal(self) -> tuple[str, ...]:
        """Properties that identify a person."""
        return tuple(prop.name for prop in self.properties if prop.personal)

    def shown(self, personal: bool = True) -> tuple[str, ...]:
        """Properties the read projections carry: neither secret nor internal (nor personal, if not wanted)."""
        return tuple(prop.name for prop in self.properties
                     if not prop.secret and not prop.internal and (personal or not prop.personal))

    def relationship(self, type_name: str) -> RelationshipType:
        """The declared outgoing relationship of this type; ValueError when there is none."""
        for rel in self.relationships:
            if rel.type == type_name:
                return rel
        raise ValueError(f"{self.label} declares no relationship {type_name!r}")


def app_property(name: str, description: str = "", **flags) -> Property:
    """A property the application writes (not a column of the ETL's rows)."""
    return Property(name, description, loaded=False, **flags)


# The hash of the source row (its cells as read, under the load's conditions) on every ETL-written node: a row
# whose hash a node already carries is skipped on re-load before any validation (indexed for that look-up).
ROW_HASH = Property("row_hash", "源数据行的哈希（未变的行再次加载时不再校验、不再写入）", secret=True, loaded=False,
                    indexed=True)

_LAND = tuple(
    Property(name, f"{title}（亩）")
    for name, title in (("arable_mu", "耕地面积"), ("irrigated_mu", "有效灌溉面积"), ("forest_mu", "林地面积"),
                        ("orchard_mu", "林果面积"), ("water_mu", "水面面积"), ("pasture_mu", "牧草地面积"))
)

_DECLARED: tuple[NodeType, ...] = (
    NodeType(
        "Region", "code",
        (
            Property("code", "GB/T 2260 12 位区划代码（乡镇 = 9 位 + 000）"),
            Property("name", "名称", indexed=True),
            Property("level", "层级：province / prefecture / county / township / village", indexed=True),
            Property("township_code", "所属乡镇代码（村）"),
            Property("county_code", "所属县代码（乡镇、村）"),
            Property("lon", "经度"),
            Property("lat", "纬度"),
            Property("position_source", "坐标来源：cpca、data（文件）或 county（取县的坐标）", internal=True),
            Property("is_poor_village", "是否贫困村"),
            Property("relocation_site", "是否易地搬迁安置点"),
            ROW_HASH,
            # Read state of villages, townships and counties (graph/readstate.py): active households in it.
            app_property("households", "在册户数（仍有效）", internal=True),
            app_property("covered", "已覆盖户数（有履约中的联结）", internal=True),
            app_property("pending", "待确认户数（未覆盖、有待确认的联结）", internal=True),
            app_property("planned", "已规划户数（无履约中、待确认的联结，本县当前匹配方案已安排；core/coverage.py）",
                         internal=True),
            app_property("in_force_counts", "履约中的联结数，按联结方式代码顺序", list=True, internal=True),
            app_property("breakdown_households", "查找条件的户数（按致贫原因、属性、监测类别各代码与劳动力类别，"
                         "顺序见 graph/vocabulary.py BREAKDOWN_KEYS）", list=True, internal=True),
            app_property("breakdown_covered", "同上，已覆盖的户数", list=True, internal=True),
            app_property("warning_counts", "有各项户预警的户数（按 core/followup.py HOUSEHOLD_WARNINGS 顺序；graph/warnings.py）",
                         list=True, internal=True),
            # A county's recommendations are those of this run: switching runs is one write per county.
            app_property("current_run", "该县当前推荐所属的匹配运行（县）", indexed=True),
        ),
        (RelationshipType("PART_OF", "Region", "parent_codes", "下级区划 → 上级区划"),),
        "行政区划：省/市/县/乡镇/村，GB/T 2260 12 位代码",
    ),
    NodeType(
        "Household", "household_id",
        (
            Property("household_id", "户编号"),
            Property("village_code", "行政村代码", indexed=True),
            Property("township_code", "乡镇代码", indexed=True),
            Property("county_code", "县代码", indexed=True),
            Property("head_name", "户主姓名", personal=True),
            Property("head_name_masked", "户主姓名（脱敏）", personal=True),
            Property("head_id_hash", "户主证件号码的带密钥哈希", secret=True),
            Property("head_id_suffix_hash", "户主证件号码后四位的带密钥哈希（按后四位查找；号码不存储）", secret=True),
            Property("phone", "联系电话", personal=True),
            Property("phone_masked", "联系电话（脱敏）", personal=True),
            Property("attribute", "贫困户属性（代码）"),
            Property("main_cause", "主要致贫原因（代码）"),
            Property("other_causes", "其他致贫原因（代码）", list=True),
            Property("household_size", "家庭人口数"),
            Property("income_per_capita", "人均纯收入（元）"),
            Property("poverty_status", "脱贫状态（代码）"),
            Property("exit_year", "脱贫年度"),
            Property("identification_year", "识别（建档立卡）年度"),
            Property("household_type", "户类型（代码）"),
            Property("monitoring_category", "监测对象类别（代码）"),
            Property("risk_causes", "风险类型（代码，最多 5 项）", list=True),
            Property("monitoring_since", "纳入监测时间"),
            Property("risk_removed", "是否风险消除"),
            Property("risk_removed_date", "风险消除时间"),
            *_LAND,
            Property("road_distance_km", "距离村主干路（公里）"),
            Property("dilapidated_house", "是否危房户"),
            Property("housing_secure", "住房安全是否有保障"),
            Property("housing_area_m2", "住房面积（平方米）"),
            Property("electricity", "是否通生活用电"),
            Property("drinking_water_difficult", "饮水是否困难"),
            Property("drinking_water_safe", "饮水是否安全"),
            Property("sanitary_toilet", "是否有卫生厕所"),
            Property("relocated", "是否易地扶贫搬迁户"),
            Property("has_leading_enterprise", "是否有龙头企业带动"),
            Property("in_cooperative", "是否加入农民专业合作社"),
            Property("products", "主要产业（产品），按原文", list=True),
            Property("industry_codes", "产业代码（由产品名称识别）", list=True, internal=True),
            Property("active", "仍在最近的全量数据中", indexed=True),
            app_property("inactive_since", "不再出现在全量数据中的日期"),
            ROW_HASH,
            # Read state, refreshed with every write that changes it (graph/readstate.py).
            app_property("labour_ordinary", "普通劳动力人数"),
            app_property("labour_skilled", "技能劳动力人数"),
            app_property("labour_weak", "弱劳动力人数"),
            app_property("members", "登记的家庭成员数"),
            app_property("covered", "有履约中的利益联结"),
            app_property("pending", "有待确认的利益联结"),
            app_property("planned", "本县当前匹配方案为其安排了企业（未被拒绝）", internal=True),
            app_property("coverage_state", "覆盖状态：confirmed 履约中 / awaiting 待确认 / planned 已规划 / uncovered 未覆盖"
                         "（core/coverage.py，取第一项成立者）"),
            app_property("labourers", "劳动力人数（普通、技能、弱）", internal=True),
            app_property("active_partnerships", "未结束的利益联结数（履约中、待确认）", internal=True),
            app_property("in_force_counts", "履约中的联结数，按联结方式代码顺序", list=True, internal=True),
            app_property("need_tier", "需要程度：2 最高，1 较高，0 一般（core.need）", internal=True),
            # Sort keys of the finder (never null, so the composite indexes below hold every household).
            app_property("income_order", "人均纯收入排序键（无收入的户排在最后）", internal=True),
            app_property("size_order", "家庭人口数排序键（无人口数的户排在最后）", internal=True),
            # Follow-up and warnings (graph/followups.py, graph/warnings.py).
            app_property("open_followups", "未解决的跟进事项数（待跟进、已列入匹配方案）", internal=True),
            app_property("warning_flags", "各项户预警（0/1，按 core/followup.py HOUSEHOLD_WARNINGS 顺序）", list=True,
                         internal=True),
            # What the follow-up rules last saw of the household: a write is compared with it to find events.
            app_property("observed_at", "跟进规则最近一次查看该户的日期", internal=True),
            app_property("observed_monitoring", "当时的监测对象类别", internal=True),
            app_property("observed_risks", "当时的风险类型", list=True, internal=True),
            app_property("observed_risk_removed", "当时是否风险消除", internal=True),
            app_property("observed_income", "当时的人均纯收入", internal=True),
            # Income history (graph/incomes.py): an observation per load whose data date (LoadRun.as_of) found a
            # different income, in date order; the outcomes compare its first and last (matching/outcomes.py).
            app_property("income_dates", "人均纯收入的观测日期（数据日期，ISO，按日期排列）", list=True, internal=True),
            app_property("income_values", "各观测日期的人均纯收入（元/人）", list=True, internal=True),
        ),
        (
            RelationshipType("LIVES_IN", "Region", "village_codes", "户 → 行政村"),
            RelationshipType("PRODUCES", "Industry", "industry_codes", "户 → 种养的产品（产业）"),
        ),
        "建档立卡户（户编号）",
        # A bureau's finder: its county's active households, covered or not, a page in 户编号, income or size
        # order read from an index (no sort over the county).
        composite_indexes=(("county_code", "active", "covered", "household_id"),
                           ("county_code", "active", "household_id"),
                           ("county_code", "active", "covered", "income_order", "household_id"),
                           ("county_code", "active", "income_order", "household_id"),
                           ("county_code", "active", "covered", "size_order", "household_id"),
                           ("county_code", "active", "size_order", "household_id"),
                           # The bureau's queue of pairings awaiting confirmation (services/queue.py).
                           ("county_code", "pending", "household_id"),
                           # Search by the last four characters of the head's ID number (graph/search.py).
                           ("county_code", "head_id_suffix_hash"),
                           # the finder's coverage filter (dashboard figures link to it)
                           ("county_code", "active", "coverage_state", "household_id")),
        # Search by 户主姓名 within a county (graph/search.py).
        fulltext_indexes=(("head_name", "county_code"),),
    ),
    NodeType(
        "Member", "id_hash",
        (
            Property("id_hash", "证件号码的带密钥哈希（号码本身不存储）", secret=True),
            Property("id_suffix_hash", "证件号码后四位的带密钥哈希（按后四位查找户；号码不存储）", secret=True,
                     indexed=True),
            Property("member_id", "人编号", indexed=True),
            Property("household_id", "户编号"),
            Property("name", "姓名", personal=True),
            Property("name_masked", "姓名（脱敏）", personal=True),
            Property("relation", "与户主关系"),
            Property("sex", "性别"),
            Property("birth_year", "出生年份（取自证件号码）"),
            Property("ethnicity", "民族"),
            Property("education", "文化程度（代码）"),
            Property("school_status", "在校生状况"),
            Property("health", "健康状况（代码）"),
            Property("labour_skill", "劳动技能（代码）"),
            Property("work_status", "务工状况"),
            Property("work_months", "务工时间（月）"),
            Property("work_place", "务工地（代码）"),
            Property("medical_insurance", "是否参加城乡居民基本医疗保险"),
            Property("critical_illness_insurance", "是否参加大病保险"),
            Property("pension_insurance", "是否参加城乡居民基本养老保险"),
            Property("id_type", "证件类型（如 居民身份证）"),
            ROW_HASH,
        ),
        (RelationshipType("MEMBER_OF", "Household", "household_ids", "成员 → 户"),),
        "家庭成员；证件号码只存带密钥的哈希",
    ),
    NodeType(
        "Enterprise", "credit_code",
        (
            Property("credit_code", "统一社会信用代码"),
            Property("name", "企业名称", indexed=True),
            Property("enterprise_type", "主体类型（代码）"),
            Property("region_code", "所在行政区划代码"),
            Property("county_code", "所在县代码", indexed=True),
            Property("address", "地址"),
            Property("lon", "经度"),
            Property("lat", "纬度"),
            Property("position_source", "坐标来源：data（文件）或 county（取县的坐标）", internal=True),
            Property("location_source", "所在区划的来源：code（行政区划代码）或 address-village / address-township / "
                     "address-county（由地址定位到村、乡镇或县）", internal=True),
            Property("industries", "所属产业，按原文", list=True),
            Property("industry_codes", "所属产业代码", list=True, internal=True),
            Property("products_bought", "收购产品，按原文", list=True),
            Property("bought_codes", "收购产品的产业代码", list=True, internal=True),
            Property("mechanisms", "联结方式（代码）", list=True),
            Property("jobs_offered", "用工需求（人）"),
            Property("skill_required", "技能要求（劳动技能代码）"),
            Property("contract_households", "订单收购带动户数"),
            Property("land_wanted_mu", "流转土地需求（亩）"),
            Property("equity_households", "入股分红带动户数"),
            Property("ecommerce_households", "电商带动户数"),
            Property("households_capacity", "可带动户数（各联结方式合计；未单列容量的方式由此分得名额）"),
            Property("certified_poverty_products", "是否认定扶贫产品"),
            Property("contact", "联系人", personal=True),
            Property("phone", "联系电话", personal=True),
            Property("phone_masked", "联系电话（脱敏）", personal=True),
            Property("credit_check_ok", "信用代码校验位正确", internal=True),
            ROW_HASH,
            app_property("lock", "接受推荐、修改帮扶供给时的写锁标记：同一企业的名额依次判断", internal=True),
            # Self-service offer changes (services/offers.py; each one an OfferChange). The row hash is kept: an
            # unchanged file row loaded again does not undo the change, a changed row overwrites it.
            app_property("offer_updated_at", "帮扶供给最近由企业或商务局修改的时间"),
            app_property("offer_updated_by", "帮扶供给最近的修改人（名称与角色）"),
            # What the follow-up rules last saw of the offer (graph/followups.py), and the enterprise's warnings.
            app_property("observed_places", "跟进规则最近一次查看时各联结方式的名额（按联结方式代码顺序）", list=True,
                         internal=True),
            app_property("observed_offered", "当时提供的联结方式（代码）", list=True, internal=True),
            app_property("warning_flags", "企业预警（0/1，按 core/followup.py ENTERPRISE_WARNINGS 顺序）", list=True,
                         internal=True),
            app_property("decided_count", "已处理的推荐数（接受、确认、拒绝）", internal=True),
            app_property("declined_count", "其中被拒绝的推荐数", internal=True),
            app_property("partnership_count", "联结数（待确认的除外）", internal=True),
            app_property("terminated_count", "其中已终止的联结数", internal=True),
        ),
        (
            RelationshipType("LOCATED_IN", "Region", "region_codes", "企业 → 所在区划（村、乡镇或县）"),
            RelationshipType("IN_INDUSTRY", "Industry", "industry_codes", "企业 → 所属产业"),
            RelationshipType("BUYS", "Industry", "bought_codes", "企业 → 收购的产品（产业）"),
        ),
        "企业/合作社/扶贫车间（统一社会信用代码）",
        # Search by enterprise name within a county (graph/search.py).
        fulltext_indexes=(("name", "county_code"),),
    ),
    NodeType(
        "Project", "project_id",
        (
            Property("project_id", "项目编号"),
            Property("name", "项目名称"),
            Property("region_code", "项目所在地区划代码"),
            Property("county_code", "所在县代码", indexed=True),
            Property("address", "项目地点"),
            Property("location_source", "所在区划的来源：code（行政区划代码）或 address-village / address-township / "
                     "address-county（由地址定位到村、乡镇或县）", internal=True),
            Property("industries", "产业类别，按原文", list=True),
            Property("industry_codes", "产业代码", list=True, internal=True),
            Property("fund_source", "资金来源"),
            Property("budget_wan", "资金规模（万元）"),
            Property("implementer_credit_code", "实施主体统一社会信用代码"),
            Property("implementer", "实施主体"),
            Property("mechanism", "联结方式（代码）"),
            Property("target_households", "计划带动贫困户数"),
            Property("start_year", "建设年度"),
            Property("end_year", "完成年度"),
            Property("status", "项目状态（代码）"),
            ROW_HASH,
        ),
        (
            RelationshipType("PROJECT_IN", "Region", "county_codes", "项目 → 县"),
            RelationshipType("PROJECT_INDUSTRY", "Industry", "industry_codes", "项目 → 产业"),
            RelationshipType("IMPLEMENTED_BY", "Enterprise", "implementer_codes", "项目 → 实施主体"),
        ),
        "产业扶贫项目",
    ),
    NodeType(
        "Industry", "code",
        (
            Property("code", "产业代码（如 kiwi）"),
            Property("name", "名称", indexed=True),
            Property("aliases", "别名", list=True),
            Property("land_based", "是否依赖土地"),
            ROW_HASH,
        ),
        (),
        "产业（受控词表，含别名）",
    ),
    NodeType(
        "Partnership", "partnership_id",
        (
            Property("partnership_id", "联结编号（或由户、企业、方式、日期算出的稳定编号）"),
            Property("household_id", "户编号", indexed=True),
            Property("credit_code", "企业统一社会信用代码", indexed=True),
            Property("project_id", "项目编号"),
            Property("mechanism", "联结方式（代码）", indexed=True),
            Property("start_date", "开始日期", indexed=True),
            Property("end_date", "结束日期", indexed=True),
            Property("income_gain", "年增收（元）"),
            Property("status", "联结状态（代码）", indexed=True),
            Property("note", "帮扶措施"),
            app_property("source", "来源：recommendation（由推荐接受而来）"),
            app_property("rec_id", "来源推荐的编号"),
            app_property("created_at", "创建时间", internal=True),
            app_property("updated_at", "最近修改时间"),
            app_property("updated_by", "最近修改人", internal=True),
            app_property("observed_status", "跟进规则最近一次查看时的状态（graph/followups.py）", internal=True),
            ROW_HASH,
        ),
        (
            RelationshipType("OF_HOUSEHOLD", "Household", "household_ids", "联结 → 户"),
            RelationshipType("WITH_ENTERPRISE", "Enterprise", "enterprise_codes", "联结 → 企业"),
            RelationshipType("UNDER_PROJECT", "Project", "project_ids", "联结 → 所属项目"),
        ),
        "利益联结（帮扶台账的一行）",
    ),
    NodeType(
        "MatchRun", "run_id",
        (
            app_property("run_id", "运行编号"),
            app_property("status", "running / completed / failed", indexed=True),
            app_property("created_at", "开始时间", indexed=True),
            app_property("finished_at", "结束时间"),
            app_property("requested_counties", "请求计算的县", list=True),
            app_property("counties", "重新计算的县", list=True),
            app_property("unchanged_counties", "输入未变、未重新计算的县", list=True),
            app_property("params", "参数（JSON）"),
            app_property("model_version", "学习模型版本（无：仅用规则评分）"),
            app_property("alpha", "规则评分的融合权重（1 = 仅用规则）"),
            app_property("model_note", "所用评分方式的说明（自动训练、历史不足仅用规则……）"),
            app_property("seed", "随机种子"),
            app_property("progress", "进度（0–1）"),
            app_property("message", "进度说明"),
            app_property("metrics", "指标（JSON）"),
            app_property("timings", "耗时（JSON）"),
            app_property("error", "失败原因"),
            app_property("writer", "正在写入该运行的尝试（任务认领者#次数）；被接管后旧尝试的写入被拒绝", internal=True),
            app_property("written_total", "全部推荐写完时记下的条数：未写完的运行重做，写完的只补完切换"),
            app_property("written_by", "写完全部推荐的尝试（其推荐在切换时成为当前推荐）", internal=True),
            app_property("county_progress", "各县进度（JSON：已读取评分、已规划、已写入）"),
            app_property("groups", "共用产能须一同求解的县组（JSON）"),
            app_property("exposure", "各企业出现在本次推荐清单中的次数（JSON：信用代码 → 次数）"),
            app_property("rules_versions", "各县所用资格规则的版本（JSON：县代码 → CountyRules 版本，null 为默认规则）"),
            # Never read out (blanked in `.*` projections): hundreds of kB that only the next run needs.
            app_property("shares", "县组之间按比例分配的共用名额（JSON：名额 → [县组, 名额数]），下次运行由此起步", secret=True),
            app_property("lock", "事务内的写锁标记", internal=True),
        ),
        (RelationshipType("FOR_COUNTY", "Region", None, "匹配运行 → 重新计算的县（含输入指纹）",
                          properties=("fingerprint", "switched_at", "previous_run", "newly_planned", "no_longer_planned",
                                      "figures", "township_figures", "unplaced", "unplaced_at")),),
        "一次匹配运行",
    ),
    NodeType(
        "Recommendation", "rec_id",
        (
            app_property("rec_id", "推荐编号（运行编号-户编号-名次）"),
            app_property("run_id", "所属匹配运行", indexed=True),
            app_property("household_id", "户编号"),
            app_property("credit_code", "企业统一社会信用代码", indexed=True),
            app_property("county_code", "户所在县", indexed=True),
            app_property("mechanism", "联结方式（代码）"),
            app_property("rank", "该户的推荐名次"),
            app_property("score", "综合得分"),
            app_property("rule_score", "规则得分"),
            app_property("distance_km", "户—企业距离（公里）"),
            app_property("reasons", "推荐理由（得分最主要的因素在前）", list=True),
            app_property("level", "匹配度：高 / 中 / 低（按本县全部可行组合的得分分级：高 = 前 20%，中 = 前 50%）"),
            app_property("other_mechanisms", "同一企业对该户也可采用的其他联结方式（代码）", list=True),
            app_property("assigned", "是否在容量内分配"),
            app_property("status", "推荐状态：proposed / accepted / confirmed / declined"),
            app_property("decline_reason", "拒绝理由"),
            app_property("partnership_id", "接受后形成的联结"),
            app_property("declined_by_role", "拒绝方的角色", internal=True),
            app_property("decided_at", "处理时间", internal=True),
            app_property("decided_by", "处理人", internal=True),
            # A declined pair is not recommended again while both digests still match (matching/exclusions.py).
            app_property("household_inputs", "拒绝时户的匹配输入指纹", internal=True),
            app_property("enterprise_inputs", "拒绝时企业帮扶供给的指纹", internal=True),
            app_property("lock", "事务内的写锁标记", internal=True),
        ),
        (),
        "一条已处理的推荐（接受、确认或拒绝时由推荐清单中的一项生成，保存处理结果）",
    ),
    # A run's recommendations are stored compactly (graph/matching.py): one list per household and one
    # shortlist per county and enterprise, each holding its entries as parallel lists — five
    # recommendations per node instead of a node each. A recommendation is current when its run is its
    # county's current_run (Region).
    NodeType(
        "RecommendationList", "list_id",
        (
            app_property("list_id", "运行编号-户编号"),
            app_property("run_id", "所属匹配运行"),
            app_property("household_id", "户编号"),
            app_property("county_code", "户所在县"),
            app_property("credit_codes", "各项的企业统一社会信用代码", list=True),
            app_property("mechanisms", "各项的联结方式（代码）", list=True),
            app_property("ranks", "各项的名次", list=True),
            app_property("scores", "各项的综合得分", list=True),
            app_property("rule_scores", "各项的规则得分", list=True),
            app_property("distances_km", "各项的户—企业距离（公里）", list=True),
            app_property("reasons", "各项的推荐理由（每项一段，理由之间换行）", list=True),
            app_property("levels", "各项的匹配度（高 / 中 / 低）", list=True),
            app_property("other_mechanisms", "各项中同一企业的其他联结方式（代码，逗号分隔；无则为空）", list=True),
            app_property("assigned", "各项是否在容量内分配", list=True),
            app_property("statuses", "各项的推荐状态（处理时与已处理的推荐同步）", list=True),
            app_property("attempt", "写入的运行尝试：只有拥有运行的尝试写入的会成为当前推荐", internal=True),
        ),
        (),
        "一户在一次匹配运行中的推荐清单（按名次）",
        composite_indexes=(("county_code", "run_id"),),
    ),
    NodeType(
        "EnterpriseShortlist", "shortlist_id",
        (
            app_property("shortlist_id", "运行编号-县代码-企业信用代码"),
            app_property("run_id", "所属匹配运行"),
            app_property("county_code", "户所在县"),
            app_property("credit_code", "企业统一社会信用代码"),
            app_property("household_ids", "各项的户编号", list=True),
            app_property("ranks", "各项在该户清单中的名次", list=True),
            app_property("mechanisms", "各项的联结方式（代码）", list=True),
            app_property("scores", "各项的综合得分", list=True),
            app_property("assigned", "各项是否在容量内分配", list=True),
            app_property("statuses", "各项的推荐状态（处理时同步）", list=True),
            app_property("attempt", "写入的运行尝试", internal=True),
        ),
        (),
        "一家企业在一次匹配运行中对一个县的户的推荐（企业页、容量占用从这里读）",
        composite_indexes=(("credit_code", "run_id"), ("county_code", "run_id")),
    ),
    NodeType(
        "FollowUp", "followup_id",
        (
            app_property("followup_id", "编号：户编号:原因:事由（同一事件只生成一项）"),
            app_property("household_id", "户编号", indexed=True),
            app_property("county_code", "县"),
            app_property("township_code", "乡镇"),
            app_property("village_code", "行政村"),
            app_property("reason", "原因（core/followup.py FollowUpReason）"),
            app_property("subject", "事由：所涉联结、企业与联结方式、监测或收入的年份"),
            app_property("detail", "说明"),
            app_property("since", "事件发生日期"),
            app_property("due_date", "应完成日期（按需要程度：15、30、60 天）"),
            app_property("need_tier", "生成时户的需要程度", internal=True),
            app_property("status", "状态：open 待跟进 / planned 已列入匹配方案 / closed 已关闭"),
            app_property("created_at", "生成时间"),
            app_property("run_id", "将该户列入方案的匹配运行"),
            app_property("closed_at", "关闭时间"),
            app_property("closed_by", "关闭方式（core/followup.py ClosedBy）"),
            app_property("closed_by_name", "关闭人（名称与角色，供显示）"),
            app_property("closed_by_actor", "关闭人的令牌（role:token_id，仅供审计）", secret=True),
            app_property("close_reason", "关闭理由"),
            app_property("partnership_id", "使该事项关闭的联结"),
        ),
        (RelationshipType("FOLLOWS_UP", "Household", None, "跟进事项 → 户"),),
        "跟进事项：联结结束、企业减少名额、新纳入监测等事件使一户需要重新帮扶",
        # The county's queue: unresolved items, soonest due first, read from the index.
        composite_indexes=(("county_code", "status", "due_date"),),
    ),
    NodeType(
        "LoadRun", "load_id",
        (
            app_property("load_id", "文件摘要-类型-工作表"),
            app_property("digest", "文件内容摘要（SHA-256 前 16 位）"),
            app_property("fingerprint", "加载条件摘要（ETL 版本、县范围、是否全量、证件号哈希密钥）", internal=True),
            app_property("file", "文件名"),
            app_property("kind", "文件类型"),
            app_property("status", "started / completed / failed"),
            app_property("started_at", "开始时间"),
            app_property("finished_at", "结束时间"),
            app_property("rows_read", "读取行数"),
            app_property("rows_loaded", "加载行数"),
            app_property("rows_rejected", "拒绝行数"),
            app_property("warnings", "警告数"),
            app_property("deactivated", "标记为不再有效的户数"),
            app_property("as_of", "数据日期：文件所述的日期（收入观测记于此日，校验规则按此日判断）"),
        ),
        (),
        "一次数据加载（ETL）",
    ),
    NodeType(
        "CountyOutcomes", "county_code",
        (
            app_property("county_code", "县代码"),
            app_property("computed_at", "计算时间"),
            app_property("seconds", "计算耗时（秒）"),
            app_property("report", "帮扶成效报告（JSON：各维度的联结数、时长、年增收，收入变化对比及方法说明）"),
        ),
        (),
        "一个县的帮扶成效（由 services/outcomes.py 计算后存储，页面与 API 直接读取）",
    ),
    NodeType(
        "Job", "job_id",
        (
            app_property("job_id", "任务编号（以类型开头）"),
            app_property("kind", "match / upload", indexed=True),
            app_property("status", "queued / running / completed / failed", indexed=True),
            app_property("county_code", "所属县"),
            app_property("requested_by", "提交人（姓名与角色，供显示）"),
            app_property("requested_by_actor", "提交人的令牌（role:token_id，仅供审计，不对外显示）", secret=True),
            app_property("created_at", "提交时间"),
            app_property("params", "参数（JSON）"),
            app_property("progress", "进度（0–1）"),
            app_property("message", "进度说明"),
            app_property("worker", "执行的工作进程"),
            app_property("heartbeat_at", "最近心跳"),
            app_property("started_at", "开始时间"),
            app_property("finished_at", "结束时间"),
            app_property("attempts", "认领次数"),
            app_property("result", "结果（JSON）"),
            app_property("error", "失败原因"),
            app_property("claim_lock", "认领时的写锁标记", internal=True),
        ),
        (),
        "后台任务（匹配运行、数据上传）：状态存于图中，任一进程可读取与接续",
    ),
    NodeType(
        "ApiToken", "token_id",
        (
            app_property("token_id", "令牌编号"),
            app_property("token_hash", "令牌的哈希（令牌本身不存储）", indexed=True, secret=True),
            app_property("name", "持有人/用途"),
            app_property("role", "角色"),
            app_property("county_code", "县（商务局令牌）"),
            app_property("credit_code", "企业（企业令牌）"),
            app_property("created_at", "签发时间"),
            app_property("revoked_at", "吊销时间"),
        ),
        (),
        "API 令牌：只存哈希，含角色与范围（县/企业）",
    ),
    NodeType(
        "MatchModel", "version",
        (
            app_property("version", "模型版本（内容哈希；仅用规则时为 rules-历史指纹）"),
            app_property("trained_at", "训练时间"),
            app_property("current", "是否为匹配运行默认使用的模型", indexed=True),
            app_property("uses_model", "是否使用学习模型（否：历史不足，仅用规则评分）"),
            app_property("alpha", "规则评分的融合权重（按时间验证选定；1 = 仅用规则）"),
            app_property("reference", "学习概率的参照值（融合时视作五五开）"),
            app_property("history_digest", "训练时联结历史与推荐决定的指纹：变了即重新训练"),
            app_property("note", "说明（为何用或不用模型）"),
            app_property("report", "训练与验证的数字（JSON）"),
            # The fitted estimator (joblib bytes): only matching loads it, never shown.
            app_property("payload", "模型文件（joblib）", secret=True),
        ),
        (),
        "匹配运行默认使用的学习模型（由联结历史自动训练）",
    ),
    NodeType(
        "HeaderMapping", "mapping_id",
        (
            app_property("mapping_id", "编号：县、文件类型与规范化列名"),
            app_property("county_code", "县（对应只用于该县的上传）", indexed=True),
            app_property("kind", "文件类型（etl/formats.py）"),
            app_property("header", "列名（按文件原文）"),
            app_property("header_key", "规范化列名（NFKC、去空格、小写）"),
            app_property("field", "读作的字段"),
            app_property("created_by", "保存人"),
            app_property("created_at", "保存时间"),
        ),
        (),
        "县商务局保存的列对应：未识别的列名读作某字段，用于该县此后的上传",
    ),
    NodeType(
        "CountyRules", "rules_id",
        (
            app_property("rules_id", "编号：县代码-版本"),
            app_property("county_code", "县", indexed=True),
            app_property("version", "版本（每县从 1 起，最大者为当前规则）"),
            app_property("values", "本县设定的资格规则取值（JSON：字段 → 值；未列出的字段用默认值）"),
            app_property("changes", "本版本改动的字段（JSON：字段 → {from, to, source: suggested / set}）"),
            app_property("applied_by", "应用人（名称与角色，供显示）"),
            app_property("applied_by_actor", "应用人的令牌（role:token_id，仅供审计，不对外显示）", secret=True),
            app_property("applied_at", "应用时间"),
        ),
        (),
        "一个县的匹配资格规则（距离上限、最小流转面积）的一个版本：按本县台账校准或由商务局设定，版本只增不改",
    ),
    NodeType(
        "OfferChange", "change_id",
        (
            app_property("change_id", "变更编号"),
            app_property("credit_code", "企业统一社会信用代码"),
            app_property("county_code", "企业所在县", indexed=True),
            app_property("changed_at", "修改时间"),
            app_property("changed_by", "修改人（名称与角色，供显示）"),
            app_property("changed_by_actor", "修改人的令牌（role:token_id，仅供审计，不对外显示）", secret=True),
            app_property("changes", "改动的字段（JSON：字段 → {from, to}）"),
            app_property("counties", "因此重新匹配的县（企业可达、有贫困户的县）", list=True),
            app_property("job_id", "为此排队（或沿用）的匹配任务；无须重新匹配时为空"),
        ),
        (),
        "企业帮扶供给（各联结方式的容量、技能要求、收购产品）的一次修改：谁、何时、改了什么，触发可达各县的增量匹配",
        # An enterprise's history, newest first, read from the index.
        composite_indexes=(("credit_code", "changed_at"),),
    ),
    NodeType(
        "PartnershipChange", "change_id",
        (
            app_property("change_id", "变更编号"),
            app_property("partnership_id", "联结编号"),
            app_property("county_code", "户所在县", indexed=True),
            app_property("credit_code", "企业统一社会信用代码"),
            app_property("changed_at", "修改时间"),
            app_property("changed_by", "修改人（名称与角色，或“数据导入”，供显示）"),
            app_property("changed_by_actor", "修改人的令牌（role:token_id，仅供审计，不对外显示）", secret=True),
            app_property("source", "来源：page（台账页面）、api（接口）、etl（台账文件导入）、recommendation（接受、确认或退回推荐）"),
            app_property("field", "改动的字段：income_gain、status、note、end_date"),
            app_property("from_value", "原值（文本；原先为空时不设）"),
            app_property("to_value", "新值（文本；改为空时不设）"),
        ),
        (),
        "帮扶台账一行（利益联结）的一次字段修改：谁、何时、哪个字段、原值 → 新值；与修改写在同一事务",
        # A partnership's history, newest first, read from the index.
        composite_indexes=(("partnership_id", "changed_at"),),
    ),
    NodeType(
        "Notification", "notification_id",
        (
            app_property("notification_id", "通知编号"),
            app_property("audience", "接收方：county:<县代码>（该县商务局）或 enterprise:<统一社会信用代码>"),
            app_property("kind", "通知类别（core/notices.py NoticeKind）"),
            app_property("created_at", "时间"),
            app_property("read", "是否已读（同一接收方的账号共用）"),
            app_property("household_id", "所涉户编号（显示时按角色脱敏）"),
            app_property("credit_code", "所涉企业"),
            app_property("mechanism", "联结方式（代码）"),
            app_property("rec_id", "所涉推荐"),
            app_property("run_id", "所涉匹配运行", indexed=True),
            app_property("reason", "退回原因"),
        ),
        (),
        "站内通知：企业接受推荐（告知商务局）、商务局确认或退回（告知企业）、匹配完成（告知商务局）",
        # A reader's list, newest first, and its unread count, each read from an index.
        composite_indexes=(("audience", "created_at"), ("audience", "read", "created_at")),
    ),
    NodeType(
        "AuditEvent", "event_id",
        (
            app_property("event_id", "事件编号"),
            app_property("at", "时间", indexed=True),
            app_property("token_id", "令牌编号", indexed=True),
            app_property("actor", "令牌持有人"),
            app_property("role", "角色"),
            app_property("action", "读取了什么"),
            app_property("path", "请求路径"),
            app_property("method", "请求方法"),
            app_property("household_ids", "涉及的户（一次读取超过 1000 户时分为多条记录）", list=True),
            app_property("household_count", "本条记录涉及的户数"),
            app_property("credit_codes", "显示了联系人或电话的企业", list=True),
            app_property("part", "一次读取分为多条记录时的序号（从 1 起）"),
            app_property("parts", "一次读取分成的记录条数"),
            app_property("request_id", "请求编号"),
            app_property("client", "客户端地址"),
        ),
        (),
        "审计记录：谁、何时、读取了哪些未脱敏的个人信息",
    ),
    NodeType(
        "WebSession", "session_hash",
        (
            app_property("session_hash", "会话编号的 SHA-256（编号本身只在浏览器的 Cookie 里）", secret=True),
            app_property("token_id", "登录所用令牌", indexed=True),
            app_property("created_at", "登录时间"),
            app_property("last_seen_at", "最近活动时间"),
            app_property("expires_at", "最迟失效时间", indexed=True),
            app_property("ended_at", "退出、吊销或被新登录取代的时间"),
            app_property("client", "登录时的客户端地址"),
        ),
        (),
        "网页会话：Cookie 只存随机会话编号，退出或吊销令牌即在服务端结束",
    ),
    NodeType(
        "LoginFailures", "limit_key",
        (
            app_property("limit_key", "限流键（含客户端地址与限额）"),
            app_property("attempts", "窗口内失败登录的时间（Unix 秒）", list=True),
            app_property("expires_at", "最后一次失败后窗口结束的时间（Unix 秒）", indexed=True),
            app_property("lock", "事务内的写锁标记", internal=True),
        ),
        (),
        "失败登录计数（移动窗口），所有工作进程与服务器共用",
    ),
)

NODES: Mapping[str, NodeType] = {node.label: node for node in _DECLARED}

RELATIONSHIPS: Mapping[str, RelationshipType] = {
    rel.type: rel for node in _DECLARED for rel in node.relationships
}


def node_type(label: str) -> NodeType:
    """The declared node type for label; ValueError for a label outside the model."""
    try:
        return NODES[label]
    except KeyError:
        raise ValueError(f"unknown node label: {label!r}") from None


def relationship_type(type_name: str, start: str, end: str) -> RelationshipType:
    """The declared relationship; ValueError unless it joins start to end in the model."""
    rel = RELATIONSHIPS.get(type_name)
    if rel is None or rel.start != start or rel.end != end:
        raise ValueError(f"undeclared relationship: ({start})-[:{type_name}]->({end})")
    return rel
