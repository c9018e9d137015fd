"""The registry's code lists (全国扶贫开发信息系统) and Lianjie's own, as enums.

Each member's value is the code stored in the graph (`"01"`); it carries its official
Chinese label and the other spellings seen in real files. A cell may hold the code,
the code without its leading zero, the label or an alias: `lookup()` maps all of them
to the code. Nothing outside this module writes a code literal.
"""
from enum import StrEnum


class Code(StrEnum):
    """A code list entry: the value is the code; `label` its official Chinese name; `aliases` other spellings.

    A subclass names its list: `class PovertyCause(Code, list_name="致贫原因")`.
    """

    label: str
    aliases: tuple[str, ...]
    list_name: str

    def __new__(cls, code: str, label: str, *aliases: str):
        member = str.__new__(cls, code)
        member._value_ = code
        member.label = label
        member.aliases = aliases
        return member

    def __init_subclass__(cls, list_name: str = "", **kwargs):
        super().__init_subclass__(**kwargs)
        cls.list_name = list_name

    @classmethod
    def lookup(cls) -> dict[str, str]:
        """Every accepted spelling (code, unpadded code, label, alias) → the code (a plain str, as stored)."""
        table: dict[str, str] = {}
        for member in cls:
            table[member.value] = member.value
            table[member.value.lstrip("0") or "0"] = member.value
            table[member.label] = member.value
        for member in cls:
            for alias in member.aliases:
                table[alias] = member.value
        return table

    @classmethod
    def parse(cls, text: str) -> "Code | None":
        """The member a spelling means, or None."""
        code = cls.lookup().get(str(text).strip())
        return None if code is None else cls(code)

    @classmethod
    def labels(cls) -> dict[str, str]:
        """code → label, in code order."""
        return {member.value: member.label for member in cls}

    @classmethod
    def label_of(cls, code, default: str | None = None) -> str | None:
        """The label of a code (the default when the code is not in the list)."""
        try:
            return cls(str(code)).label
        except ValueError:
            return default

    @classmethod
    def codes(cls, *members: "Code") -> list[str]:
        """Plain code strings of members (all members when none are given), e.g. for query parameters."""
        return [member.value for member in (members or tuple(cls))]


class PovertyCause(Code, list_name="致贫原因"):
    ILLNESS = "01", "因病"
    DISABILITY = "02", "因残"
    EDUCATION = "03", "因学"
    DISASTER = "04", "因灾"
    LACK_OF_LAND = "05", "缺土地"
    LACK_OF_WATER = "06", "缺水"
    LACK_OF_SKILLS = "07", "缺技术"
    LACK_OF_LABOUR = "08", "缺劳动力", "缺劳力"
    LACK_OF_FUNDS = "09", "缺资金"
    POOR_TRANSPORT = "10", "交通条件落后", "交通落后"
    LACK_OF_DRIVE = "11", "自身发展动力不足", "发展动力不足", "自身发展动力不足的"
    MARRIAGE = "12", "因婚"
    OTHER = "13", "其他"


class HouseholdAttribute(Code, list_name="贫困户属性"):
    ORDINARY = "01", "一般贫困户", "一般户"
    LOW_INCOME = "02", "低保贫困户", "低保户", "低保"
    EXTREME_POVERTY = "03", "特困供养贫困户", "五保贫困户", "五保户", "特困供养", "五保"


class PovertyStatus(Code, list_name="脱贫状态"):
    POOR = "01", "未脱贫", "贫困"
    EXITED = "02", "已脱贫", "脱贫", "标注脱贫", "已标注脱贫"
    RETURNED = "03", "返贫"


class HouseholdType(Code, list_name="户类型"):
    FORMERLY_POOR = "01", "脱贫户"
    ORDINARY_FARMER = "02", "普通农户", "一般农户", "农户"


class MonitoringCategory(Code, list_name="监测对象类别"):
    UNSTABLE = "01", "脱贫不稳定户", "不稳定户"
    MARGINAL = "02", "边缘易致贫户", "边缘户"
    SUDDEN_HARDSHIP = "03", "突发严重困难户", "突发困难户"


class RiskCause(Code, list_name="风险类型"):
    """Risks of (returning to) poverty recorded for a monitoring household (防止返贫监测, up to five)."""
    ILLNESS = "01", "因病"
    DISASTER = "02", "因灾"
    DISABILITY = "03", "因残"
    LACK_OF_LABOUR = "04", "因缺劳动力", "缺劳动力", "缺劳力"
    ACCIDENT = "05", "因意外事故", "意外事故"
    INDUSTRY_FAILURE = "06", "因产业失败", "产业失败"
    UNSTABLE_WORK = "07", "因务工就业不稳", "务工就业不稳", "因就业不稳"
    EDUCATION = "08", "因学"
    OTHER = "09", "其他"


class LabourSkill(Code, list_name="劳动技能"):
    ORDINARY = "01", "普通劳动力", "普通"
    SKILLED = "02", "技能劳动力", "技能"
    WEAK = "03", "弱劳动力或半劳动力", "弱劳动力", "半劳动力", "弱劳动力/半劳动力"
    LOST = "04", "丧失劳动力", "丧失"
    NONE = "05", "无劳动力", "无"


class Health(Code, list_name="健康状况"):
    HEALTHY = "01", "健康"
    CHRONIC = "02", "长期慢性病", "慢性病"
    SERIOUS_ILLNESS = "03", "大病", "患有大病"
    DISABLED = "04", "残疾", "残疾人"


class Education(Code, list_name="文化程度"):
    ILLITERATE = "01", "文盲或半文盲", "文盲", "半文盲"
    PRIMARY = "02", "小学"
    JUNIOR = "03", "初中"
    SENIOR = "04", "高中", "高中/中专", "中专"
    TERTIARY = "05", "大专及以上", "大专", "本科", "本科及以上"
    PRESCHOOL = "06", "学龄前儿童", "学龄前"


class WorkPlace(Code, list_name="务工地"):
    IN_TOWNSHIP = "01", "乡内", "乡镇内"
    IN_COUNTY = "02", "乡外县内", "县内乡外"
    IN_PROVINCE = "03", "县外省内", "省内县外", "县外"
    OUT_OF_PROVINCE = "04", "省外"


class Mechanism(Code, list_name="联结方式"):
    """Benefit-linkage mechanisms (怎么扶); capacity rules live in core.mechanisms."""

    EMPLOYMENT = ("01", "就业务工", "就业", "务工", "扶贫车间", "就业帮扶车间", "就业帮扶")
    CONTRACT_PURCHASE = ("02", "订单收购", "订单", "订单收购/代养", "代养", "保底收购")
    LAND_LEASE = ("03", "土地流转", "流转", "土地租赁")
    EQUITY = ("04", "入股分红", "土地入股", "入股", "分红", "资产收益", "委托帮扶", "股份合作", "入股分红/资产收益")
    ECOMMERCE = ("05", "电商销售", "电商", "消费扶贫", "电商带动", "消费帮扶")


class EnterpriseType(Code, list_name="主体类型"):
    NATIONAL_LEADING = "01", "国家级龙头企业", "国家重点龙头企业"
    PROVINCIAL_LEADING = "02", "省级龙头企业", "省龙头企业"
    CITY_LEADING = "03", "市级龙头企业", "市龙头企业"
    COUNTY_LEADING = "04", "县级龙头企业", "县龙头企业", "龙头企业"  # no level written: the lowest (etl warns)
    COOPERATIVE = "05", "农民专业合作社", "合作社", "专业合作社"
    FAMILY_FARM = "06", "家庭农场"
    WORKSHOP = "07", "扶贫车间", "就业帮扶车间"
    ECOMMERCE = "08", "电商企业", "电商"
    PROCESSING = "09", "加工企业"
    OTHER = "10", "其他企业", "其他", "企业"


class PartnershipStatus(Code, list_name="联结状态"):
    IN_FORCE = "01", "履约中", "有效", "正常", "执行中"
    COMPLETED = "02", "已完成", "完成"
    TERMINATED = "03", "已终止", "终止", "解除"
    AWAITING_CONFIRMATION = "04", "待确认", "待审核"

    @classmethod
    def open(cls) -> tuple["PartnershipStatus", ...]:
        """Statuses that hold an enterprise's place: in force or awaiting the bureau's confirmation."""
        return (cls.IN_FORCE, cls.AWAITING_CONFIRMATION)


class ProjectStatus(Code, list_name="项目状态"):
    PLANNED = "01", "计划", "规划"
    BUILDING = "02", "在建", "实施中", "建设中"
    BUILT = "03", "已完工", "完工", "竣工"
    OPERATING = "04", "运营中", "运营"


class YesNo(Code, list_name="是否"):
    YES = "1", "是", "Y", "y", "true", "有"
    NO = "0", "否", "N", "n", "false", "无"


class RecommendationStatus(Code, list_name="推荐状态"):
    """What became of a recommendation (Lianjie's own list)."""

    PROPOSED = "proposed", "待处理"
    ACCEPTED = "accepted", "企业已接受"
    CONFIRMED = "confirmed", "已确认"
    DECLINED = "declined", "已拒绝"

    @classmethod
    def closed(cls) -> tuple["RecommendationStatus", ...]:
        """Statuses after which a recommendation can no longer be acted on."""
        return (cls.DECLINED, cls.CONFIRMED)


class CoverageState(Code, list_name="覆盖状态"):
    """A household's coverage (Lianjie's own list; core/coverage.py): the first that holds, in this order."""

    CONFIRMED = "confirmed", "履约中"
    AWAITING = "awaiting", "待确认"
    PLANNED = "planned", "已规划"
    UNCOVERED = "uncovered", "未覆盖"


# Labour skills that make a member able to work (普通, 技能) and those that count as any labour (+ 弱).
ABLE_SKILLS = (LabourSkill.ORDINARY, LabourSkill.SKILLED)
LABOUR_SKILLS = (LabourSkill.ORDINARY, LabourSkill.SKILLED, LabourSkill.WEAK)
# 与户主关系 (free text in exports) naming the head of the household himself (after NFKC: ASCII brackets).
HEAD_RELATIONS = ("户主", "本人", "户主本人", "本人(户主)")
# 因病, 因残, 缺劳动力: the households an equity share is meant for.
NEED_CAUSES = (PovertyCause.ILLNESS, PovertyCause.DISABILITY, PovertyCause.LACK_OF_LABOUR)
# 低保, 特困供养: households under social protection.
PROTECTED_ATTRIBUTES = (HouseholdAttribute.LOW_INCOME, HouseholdAttribute.EXTREME_POVERTY)
# 脱贫不稳定户, 突发严重困难户: monitoring households that need help first.
URGENT_MONITORING = (MonitoringCategory.UNSTABLE, MonitoringCategory.SUDDEN_HARDSHIP)
LEADING_ENTERPRISES = (EnterpriseType.NATIONAL_LEADING, EnterpriseType.PROVINCIAL_LEADING,
                       EnterpriseType.CITY_LEADING, EnterpriseType.COUNTY_LEADING)
