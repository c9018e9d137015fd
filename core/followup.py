"""Follow-up items and early warnings: Lianjie's own code lists and the rules that date them.

A follow-up item (跟进事项) puts a household back in play after an event: a partnership ended, its end date
passed, its enterprise cut the places of its mechanism or stopped offering it, the household became a
monitoring household (监测对象) or its risk changed, its income fell below the year's monitoring line. Each item
is due by the household's need tier (core.need): the monitoring rules ask for measures within about half a
month, so the greatest need has 15 days.

Early warnings (预警) are standing conditions the bureau should look at, recomputed as data and days change
(graph/warnings.py).
"""
from core.codes import Code
from core.need import GREATEST, HIGH, OTHER


class FollowUpReason(Code, list_name="跟进原因"):
    PARTNERSHIP_ENDED = "partnership_ended", "联结已结束或终止"
    PARTNERSHIP_EXPIRED = "partnership_expired", "联结已到结束日期"
    CAPACITY_CUT = "capacity_cut", "企业减少了带动名额"
    ENTERPRISE_LEFT = "enterprise_left", "企业不再提供该联结方式"
    BECAME_MONITORED = "became_monitored", "新纳入监测对象"
    RISK_CHANGED = "risk_changed", "监测风险发生变化"
    INCOME_BELOW_LINE = "income_below_line", "人均纯收入低于当年监测线"


class FollowUpStatus(Code, list_name="跟进状态"):
    OPEN = "open", "待跟进"
    PLANNED = "planned", "已列入匹配方案"
    CLOSED = "closed", "已关闭"

    @classmethod
    def unresolved(cls) -> tuple["FollowUpStatus", ...]:
        """Items still waiting for a partnership (the run plans their households first)."""
        return cls.OPEN, cls.PLANNED


class ClosedBy(Code, list_name="关闭方式"):
    PARTNERSHIP = "partnership", "已形成履约中的新联结"
    STAFF = "staff", "工作人员关闭"
    HOUSEHOLD_INACTIVE = "household_inactive", "户已不在最新全量数据中"


# Days from the day an item is raised to its due date, by need tier.
DUE_DAYS = {GREATEST: 15, HIGH: 30, OTHER: 60}

# A household loaded for the first time raises no item for what it already is, except a monitoring that began
# within this many days before the load (a newly registered 监测对象 in the first extract that has it).
RECENT_MONITORING_DAYS = 90

# The planning tier of a household with an unresolved follow-up item: above every need tier, so a run covers
# these households first (matching/assign.py gives the first unit a bonus growing with the tier).
FOLLOW_UP_PRIORITY = 3

# The national monitoring line (防止返贫监测范围, 元 per person and year) by year, as recalled from the
# 国家乡村振兴局 notices (2021 6,000; 2022 6,300; 2023 6,900; 2024 7,100); not checked here. Provinces set their
# own, often higher: replace the table for a province. A later year uses the latest line known.
MONITORING_INCOME_LINE: dict[int, int] = {2021: 6000, 2022: 6300, 2023: 6900, 2024: 7100}


def monitoring_line(year: int) -> int | None:
    """The monitoring line of `year` (the latest earlier one for a later year; None before 2021)."""
    known = [line_year for line_year in MONITORING_INCOME_LINE if line_year <= year]
    return MONITORING_INCOME_LINE[max(known)] if known else None


class EarlyWarning(Code, list_name="预警"):
    # Household warnings: stored per household as flags in this order (graph/warnings.py HOUSEHOLD_WARNINGS).
    MONITORED_UNCOVERED = "monitored_uncovered", "监测对象无履约中的联结"
    ENDING_SOON = "ending_soon", "联结 30 天内到期"
    NO_INCOME_GAIN = "no_income_gain", "联结满一年仍无增收记录"
    EQUITY_ONLY = "equity_only", "仅有入股分红联结超过两年"
    # Enterprise warnings: stored per enterprise.
    MOSTLY_DECLINED = "mostly_declined", "企业的推荐多数被拒绝"
    EARLY_ENDS = "early_ends", "企业的联结常提前终止"


HOUSEHOLD_WARNINGS = (EarlyWarning.MONITORED_UNCOVERED, EarlyWarning.ENDING_SOON, EarlyWarning.NO_INCOME_GAIN,
                      EarlyWarning.EQUITY_ONLY)
ENTERPRISE_WARNINGS = (EarlyWarning.MOSTLY_DECLINED, EarlyWarning.EARLY_ENDS)

# The thresholds of the warnings, in days and shares.
ENDING_WITHIN_DAYS = 30
INCOME_GAIN_AFTER_DAYS = 365
EQUITY_ONLY_AFTER_DAYS = 730
# An enterprise's recommendations are mostly declined: over half of at least this many decided ones.
DECLINED_SHARE, DECLINED_MIN_DECIDED = 0.5, 10
# Its partnerships often end early: at least 30 % terminated (已终止) of at least this many.
EARLY_END_SHARE, EARLY_END_MIN_PARTNERSHIPS = 0.3, 5

WARNING_DESCRIPTIONS = {
    EarlyWarning.MONITORED_UNCOVERED: "监测对象（未标记风险消除）没有履约中的利益联结。",
    EarlyWarning.ENDING_SOON: f"有履约中的联结将在 {ENDING_WITHIN_DAYS} 天内到结束日期。",
    EarlyWarning.NO_INCOME_GAIN: "有履约中的联结开始已满一年，台账仍无年增收记录（空或 0）。",
    EarlyWarning.EQUITY_ONLY: "履约中的联结只有入股分红（没有就业、订单、流转或电商联结），且已超过两年。",
    EarlyWarning.MOSTLY_DECLINED: f"企业的推荐在已处理的至少 {DECLINED_MIN_DECIDED} 条中，拒绝超过一半。",
    EarlyWarning.EARLY_ENDS: f"企业至少 {EARLY_END_MIN_PARTNERSHIPS} 个联结中，已终止的占 30% 以上。",
}
