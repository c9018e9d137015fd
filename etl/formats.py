"""The file kinds bureaus hold, declared once: columns, official Chinese headers, aliases, types.

Each column has a canonical snake_case name, the official Chinese header, other
spellings seen in real extracts, a value type and (for coded fields) its code list.
The kind of a file is recognised from its header (etl.readers.detect_kind).
"""
from dataclasses import dataclass, field

from core import codes

CodeList = type[codes.Code]  # a code list is an enum class of core.codes

# Value types understood by etl.validate / etl.transform.
TEXT, INTEGER, DECIMAL, CODE, CODES, FLAG, DATE, YEAR, ID_NUMBER, CREDIT_CODE, REGION_CODE, LIST = (
    "text", "integer", "decimal", "code", "codes", "flag", "date", "year", "id_number", "credit_code",
    "region_code", "list",
)


@dataclass(frozen=True)
class Column:
    """One column of a file kind."""

    name: str
    header: str
    type: str = TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()
    code_list: CodeList | None = None
    minimum: float | None = None
    maximum: float | None = None
    personal: bool = False  # personal information: never written raw to reports or logs
    # values accepted with a warning (value as written → reason): e.g. a label that leaves out part of the code
    warn_values: tuple[tuple[str, str], ...] = ()
    # a required column that may be missing (or empty in a row) when one of these columns is given instead
    # (a region code where an address says where the row is: etl/regions.py locates it)
    required_unless: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        """Every header text that names this column."""
        return (self.header, self.name, *self.aliases)

    @property
    def identifier(self) -> bool:
        """A record's own or a referenced id (户编号, 人编号, 项目编号, 联结编号)."""
        return self.name.endswith("_id")

    @property
    def free_text(self) -> bool:
        """Text about no one in particular (notes, names of places and enterprises, products): not an id,
        not personal. A mobile number typed into it is masked before it is stored."""
        return self.type in (TEXT, LIST) and not self.personal and not self.identifier


@dataclass(frozen=True)
class FileKind:
    """A kind of bureau file: its columns and the columns that identify it."""

    name: str
    title: str
    columns: tuple[Column, ...]
    signature: tuple[str, ...]  # canonical names whose presence identifies the kind
    other_signatures: tuple[tuple[str, ...], ...] = ()  # other sets of names that identify it as well
    key: tuple[str, ...] = field(default=())  # the file column identifying a row (reported on scope errors)
    node: str = ""  # the graph label its rows load (graph/model.py declares its properties and relationships)

    @property
    def signatures(self) -> tuple[tuple[str, ...], ...]:
        """Every set of canonical names whose presence identifies the kind."""
        return (self.signature, *self.other_signatures)

    def column(self, name: str) -> Column:
        """The column with this canonical name."""
        return next(column for column in self.columns if column.name == name)


def _area(name: str, header: str, *aliases: str) -> Column:
    return Column(name, header, DECIMAL, aliases=aliases, minimum=0, maximum=100000)


VILLAGES = FileKind(
    "villages",
    "行政村名录",
    (
        Column("village_code", "行政区划代码", REGION_CODE, True, ("村代码", "行政村代码", "村级代码", "区划代码", "code")),
        Column("village", "行政村", TEXT, True, ("村", "村名", "行政村名称", "village_name")),
        Column("township", "乡镇", TEXT, True, ("乡（镇）", "乡(镇)", "乡镇名称", "乡镇（街道）", "township_name")),
        Column("county", "县", TEXT, False, ("县（市、区）", "县(市、区)", "县区", "county_name")),
        Column("lon", "经度", DECIMAL, False, ("longitude", "lng"), minimum=73, maximum=136),
        Column("lat", "纬度", DECIMAL, False, ("latitude",), minimum=3, maximum=54),
        Column("is_poor_village", "是否贫困村", FLAG, False, ("贫困村", "poor_village"), code_list=codes.YesNo),
        Column("relocation_site", "是否易地搬迁安置点", FLAG, False, ("易地搬迁安置点", "安置点"), code_list=codes.YesNo),
    ),
    signature=("village_code", "village", "township"),
    key=("village_code",),
    node="Region",
)

HOUSEHOLDS = FileKind(
    "households",
    "贫困户信息",
    (
        Column("household_id", "户编号", TEXT, True, ("户码", "家庭编号", "hh_id")),
        Column("head_name", "户主姓名", TEXT, False, ("户主", "姓名"), personal=True),
        # The registry's household exports head the head's ID number 证件号码 (beside 户主 / 户主姓名).
        Column("head_id_number", "户主证件号码", ID_NUMBER, False,
               ("户主身份证号", "户主身份证号码", "证件号码", "身份证号", "身份证号码", "公民身份号码"), personal=True),
        Column("province", "省", TEXT, False, ("省份", "province_name")),
        Column("prefecture", "市", TEXT, False, ("市（州）", "市(州)", "地市", "city", "prefecture_name")),
        Column("county", "县", TEXT, False, ("县（市、区）", "县(市、区)", "县(市、区、旗)", "县区", "county_name")),
        Column("township", "乡镇", TEXT, False, ("乡（镇）", "乡(镇)", "乡镇（街道）", "township_name")),
        Column("village", "行政村", TEXT, False, ("村", "村名", "village_name")),
        Column("natural_village", "自然村", TEXT, False, ("自然村（组）", "村民小组", "组")),
        Column("village_code", "行政区划代码", REGION_CODE, True, ("村代码", "行政村代码", "所属行政区划代码", "区划代码")),
        Column("phone", "联系电话", TEXT, False, ("电话", "手机号码", "户联系电话", "telephone"), personal=True),
        Column("attribute", "贫困户属性", CODE, False, ("户属性", "贫困属性"), codes.HouseholdAttribute),
        # A monitoring export (防止返贫监测) lists households by their monitoring category, not a cause of poverty:
        # an ordinary farming household under monitoring never had one.
        Column("main_cause", "主要致贫原因", CODE, True, ("致贫原因", "主要致贫原因代码", "致贫原因1", "cause"),
               codes.PovertyCause, required_unless=("monitoring_category",)),
        Column("other_causes", "其他致贫原因", CODES, False, ("次要致贫原因",), codes.PovertyCause),
        # Registry exports list up to three causes in columns of their own: the second and third join other_causes.
        Column("other_cause_2", "致贫原因2", CODE, False, ("第二致贫原因",), codes.PovertyCause),
        Column("other_cause_3", "致贫原因3", CODE, False, ("第三致贫原因",), codes.PovertyCause),
        Column("household_size", "家庭人口数", INTEGER, False, ("家庭人口", "人口数", "人数", "size"), minimum=1, maximum=30),
        Column("income_per_capita", "人均纯收入（元）", DECIMAL, False, ("人均纯收入", "人均纯收入(元)", "家庭人均纯收入"), minimum=0, maximum=200000),
        Column("poverty_status", "脱贫状态", CODE, False, ("贫困状态",), codes.PovertyStatus),
        Column("exit_year", "脱贫年度", YEAR, False, ("脱贫年份",)),
        # When the household entered the registry (建档立卡): checked against its exit year and partnerships.
        Column("identification_year", "识别年度", YEAR, False,
               ("识别年份", "识别时间", "建档年度", "建档时间", "建档立卡年度", "纳入年度", "纳入时间")),
        Column("household_type", "户类型", CODE, False, (), codes.HouseholdType),
        Column("monitoring_category", "监测对象类别", CODE, False,
               ("监测类别", "监测对象类型", "监测户类型", "易返贫致贫户(监测对象)类型", "易返贫致贫户类型"),
               codes.MonitoringCategory),
        # Monitoring exports (防止返贫监测): up to five risks, when the risk was found and when it was removed.
        Column("risk_causes", "风险类型", CODES, False,
               ("致贫返贫风险", "返贫致贫风险", "风险类别", "主要风险类型", "致返贫风险"), codes.RiskCause),
        Column("monitoring_since", "纳入监测时间", DATE, False, ("纳入监测日期", "监测识别时间", "识别监测时间", "风险识别时间")),
        Column("risk_removed", "是否风险消除", FLAG, False, ("风险是否消除", "风险消除"), codes.YesNo),
        Column("risk_removed_date", "风险消除时间", DATE, False, ("风险消除日期",)),
        _area("arable_mu", "耕地面积（亩）", "耕地面积", "耕地面积(亩)", "耕地（亩）", "arable_land_mu"),
        _area("irrigated_mu", "有效灌溉面积（亩）", "有效灌溉面积", "有效灌溉面积(亩)"),
        _area("forest_mu", "林地面积（亩）", "林地面积", "林地面积(亩)", "forest_land_mu"),
        _area("orchard_mu", "林果面积（亩）", "林果面积", "林果面积(亩)"),
        _area("water_mu", "水面面积（亩）", "水面面积", "水面面积(亩)"),
        _area("pasture_mu", "牧草地面积（亩）", "牧草地面积", "牧草地面积(亩)"),
        Column("road_distance_km", "距离村主干路（公里）", DECIMAL, False,
               ("距村主干路距离（公里）", "距离村主干路(公里)", "距村主干路（公里）", "与村主干路距离（公里）",
                "与村主干路距离(公里)", "与村主干路距离", "距村主干路距离"), minimum=0, maximum=500),
        Column("dilapidated_house", "是否危房户", FLAG, False, ("危房户", "是否危房"), codes.YesNo),
        # Housing, water and power as the registry records them (两不愁三保障 and the household survey).
        Column("housing_secure", "住房安全是否有保障", FLAG, False, ("住房安全有保障", "住房是否安全"), codes.YesNo),
        Column("housing_area_m2", "住房面积（平方米）", DECIMAL, False, ("住房面积", "住房面积(平方米)"),
               minimum=0, maximum=10000),
        Column("electricity", "是否通生活用电", FLAG, False, ("通生活用电", "是否通电"), codes.YesNo),
        Column("drinking_water_difficult", "饮水是否困难", FLAG, False, ("是否饮水困难",), codes.YesNo),
        Column("drinking_water_safe", "饮水是否安全", FLAG, False,
               ("是否饮水安全", "安全饮水", "是否解决安全饮用水", "是否解决安全饮水"), codes.YesNo),
        Column("sanitary_toilet", "是否有卫生厕所", FLAG, False, ("有无卫生厕所", "卫生厕所"), codes.YesNo),
        Column("relocated", "是否易地扶贫搬迁户", FLAG, False, ("是否易地搬迁户", "易地搬迁户", "易地搬迁"), codes.YesNo),
        Column("has_leading_enterprise", "是否有龙头企业带动", FLAG, False, ("龙头企业带动",), codes.YesNo),
        Column("in_cooperative", "是否加入农民专业合作社", FLAG, False, ("加入合作社", "是否加入合作社"), codes.YesNo),
        Column("products", "主要产业（产品）", LIST, False, ("主要产业", "种养产品", "主要产品", "产业")),
    ),
    signature=("household_id", "main_cause"),
    other_signatures=(("household_id", "monitoring_category", "village_code"),),  # a monitoring export
    key=("household_id",),
    node="Household",
)

MEMBERS = FileKind(
    "members",
    "家庭成员信息",
    (
        Column("household_id", "户编号", TEXT, True, ("户码", "家庭编号", "hh_id")),
        Column("member_id", "人编号", TEXT, False, ("成员编号", "个人编号")),
        Column("name", "姓名", TEXT, True, ("成员姓名",), personal=True),
        Column("id_number", "证件号码", ID_NUMBER, True, ("身份证号", "身份证号码", "公民身份号码"), personal=True),
        Column("relation", "与户主关系", TEXT, False, ("与户主关系名称", "relationship")),
        Column("sex", "性别", TEXT, False, ("gender",)),
        Column("ethnicity", "民族", TEXT, False, ("nation",)),
        Column("education", "文化程度", CODE, False, (), codes.Education),
        Column("school_status", "在校生状况", TEXT, False, ("在校生情况",)),
        Column("health", "健康状况", CODE, False, ("健康情况",), codes.Health),
        Column("labour_skill", "劳动技能", CODE, True, ("劳动能力", "labor_skill"), codes.LabourSkill),
        Column("work_status", "务工状况", TEXT, False, ("务工情况",)),
        Column("work_months", "务工时间（月）", INTEGER, False, ("务工时间", "务工月数", "务工时间(月)"), minimum=0, maximum=12),
        Column("work_place", "务工地", CODE, False, ("务工地点", "务工区域"), codes.WorkPlace),
        # Member exports' insurance columns (基本医疗有保障) and the kind of the ID document.
        Column("medical_insurance", "是否参加城乡居民基本医疗保险", FLAG, False,
               ("参加城乡居民基本医疗保险", "是否参加基本医疗保险", "是否参加医保", "基本医疗保险"), codes.YesNo),
        Column("critical_illness_insurance", "是否参加大病保险", FLAG, False, ("参加大病保险", "大病保险", "参加大病医疗"),
               codes.YesNo),
        Column("pension_insurance", "是否参加城乡居民基本养老保险", FLAG, False,
               ("参加城乡居民基本养老保险", "是否参加养老保险", "基本养老保险"), codes.YesNo),
        Column("id_type", "证件类型", TEXT, False, ("证件种类",)),
    ),
    signature=("household_id", "id_number", "labour_skill"),
    key=("id_number",),
    node="Member",
)

ENTERPRISES = FileKind(
    "enterprises",
    "企业（经营主体）名录",
    (
        Column("credit_code", "统一社会信用代码", CREDIT_CODE, True, ("信用代码", "社会信用代码", "uscc")),
        Column("name", "企业名称", TEXT, True, ("主体名称", "单位名称", "enterprise_name")),
        Column("enterprise_type", "主体类型", CODE, True, ("企业类型", "经营主体类型", "type"), codes.EnterpriseType,
               warn_values=(("龙头企业", "龙头企业未注明级别，按县级龙头企业加载 / leading enterprise without its level: "
                                        "loaded as county level"),)),
        Column("region_code", "行政区划代码", REGION_CODE, True, ("所在地区划代码", "区划代码", "所在地代码"),
               required_unless=("address",)),
        Column("address", "地址", TEXT, False, ("注册地址", "经营地址")),
        Column("lon", "经度", DECIMAL, False, ("longitude", "lng"), minimum=73, maximum=136),
        Column("lat", "纬度", DECIMAL, False, ("latitude",), minimum=3, maximum=54),
        Column("industry", "所属产业", LIST, False, ("主导产业", "产业类别", "行业", "所属行业", "行业类别")),
        Column("products_bought", "收购产品", LIST, False, ("订单收购产品", "收购品种")),
        Column("mechanisms", "联结方式", CODES, False, ("利益联结方式", "带动方式"), codes.Mechanism),
        Column("jobs_offered", "用工需求（人）", INTEGER, False, ("用工需求", "提供岗位数", "就业岗位（个）"), minimum=0, maximum=100000),
        Column("skill_required", "技能要求", CODE, False, ("用工技能要求",), codes.LabourSkill),
        Column("contract_households", "订单收购带动户数", INTEGER, False, ("订单带动户数",), minimum=0, maximum=100000),
        Column("land_wanted_mu", "流转土地需求（亩）", DECIMAL, False, ("土地流转需求（亩）", "流转土地需求"), minimum=0, maximum=1000000),
        Column("equity_households", "入股分红带动户数", INTEGER, False, ("资产收益带动户数",), minimum=0, maximum=100000),
        Column("ecommerce_households", "电商带动户数", INTEGER, False, ("消费扶贫带动户数",), minimum=0, maximum=100000),
        # Directories state one figure for all mechanisms: shared out among the mechanisms listed without their own
        # (etl/transform.py), so the plan never gives the enterprise more households than it said it can lead.
        Column("households_capacity", "可带动户数", INTEGER, False,
               ("带动贫困户数", "带动户数", "可带动贫困户数", "联农带农户数", "带动农户数"), minimum=0, maximum=100000),
        Column("certified_poverty_products", "是否认定扶贫产品", FLAG, False, ("扶贫产品认定",), codes.YesNo),
        Column("contact", "联系人", TEXT, False, (), personal=True),
        Column("phone", "联系电话", TEXT, False, ("电话",), personal=True),
    ),
    signature=("credit_code", "name", "enterprise_type"),
    key=("credit_code",),
    node="Enterprise",
)

PROJECTS = FileKind(
    "projects",
    "产业扶贫项目库",
    (
        Column("project_id", "项目编号", TEXT, True, ("项目代码", "project_code")),
        Column("name", "项目名称", TEXT, True, ("project_name",)),
        Column("region_code", "行政区划代码", REGION_CODE, True, ("项目所在地区划代码", "区划代码"),
               required_unless=("address",)),
        Column("address", "项目地点", TEXT, False, ("建设地点", "实施地点", "项目地址", "项目所在地", "地址")),
        Column("industry", "产业类别", LIST, False, ("所属产业", "项目类别")),
        Column("fund_source", "资金来源", TEXT, False, ()),
        Column("budget_wan", "资金规模（万元）", DECIMAL, False, ("资金规模", "总投资（万元）", "项目资金（万元）"), minimum=0, maximum=10000000),
        Column("implementer_credit_code", "实施主体统一社会信用代码", CREDIT_CODE, False, ("实施主体信用代码",)),
        Column("implementer", "实施主体", TEXT, False, ("实施单位",)),
        Column("mechanism", "联结方式", CODE, False, ("利益联结方式",), codes.Mechanism),
        Column("target_households", "计划带动贫困户数", INTEGER, False, ("带动贫困户数", "受益贫困户数"), minimum=0, maximum=1000000),
        Column("start_year", "建设年度", YEAR, False, ("开始年度", "年度")),
        Column("end_year", "完成年度", YEAR, False, ("结束年度",)),
        Column("status", "项目状态", CODE, False, ("状态",), codes.ProjectStatus),
    ),
    signature=("project_id", "name", "fund_source"),
    key=("project_id",),
    node="Project",
)

PARTNERSHIPS = FileKind(
    "partnerships",
    "利益联结台账",
    (
        Column("partnership_id", "联结编号", TEXT, False, ("台账编号", "记录编号")),
        Column("household_id", "户编号", TEXT, True, ("户码",)),
        Column("credit_code", "统一社会信用代码", CREDIT_CODE, True, ("企业统一社会信用代码", "信用代码")),
        Column("project_id", "项目编号", TEXT, False, ()),
        Column("mechanism", "联结方式", CODE, True, ("利益联结方式", "帮扶方式"), codes.Mechanism),
        Column("start_date", "开始日期", DATE, False, ("联结日期", "签约日期")),
        Column("end_date", "结束日期", DATE, False, ("到期日期",)),
        Column("income_gain", "年增收（元）", DECIMAL, False, ("增收金额（元）", "户年增收（元）", "年增收"), minimum=0, maximum=1000000),
        Column("status", "状态", CODE, False, ("联结状态", "履约状态"), codes.PartnershipStatus),
        Column("note", "帮扶措施", TEXT, False, ("备注", "措施")),
    ),
    signature=("household_id", "credit_code", "mechanism"),
    key=("partnership_id",),
    node="Partnership",
)

# Headers that name no data (a spreadsheet's row numbers): listed as read-nothing, without a warning.
ROW_NUMBER_HEADERS = frozenset({"序号", "行号", "编号序号"})

KINDS: dict[str, FileKind] = {kind.name: kind for kind in (VILLAGES, HOUSEHOLDS, MEMBERS, ENTERPRISES, PROJECTS, PARTNERSHIPS)}
# References must exist before the rows that point at them.
LOAD_ORDER = ("villages", "households", "members", "enterprises", "projects", "partnerships")
