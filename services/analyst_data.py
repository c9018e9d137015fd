"""The analysts' pseudonymised data: a county's records as Parquet files, read by the notebooks instead of the graph.

    export_county(ctx, county) → <root>/<county>/<YYYY-MM-DD>/<table>.parquet + manifest.json
    read_county(county[, as_of]) → {table: DataFrame}        available() → [(county, date), …]

Every table and its columns are declared once, below (TABLES, with a Chinese description each); the export writes
exactly those columns and nothing else, and the tests hold them against the graph model's personal and secret
properties. A household appears only as `household_ref`: "A" + the first 14 hex characters of
HMAC-SHA256(analyst key, household id) — the key is settings.analyst_pseudonym_secret(), apart from every web key,
so the reference is stable across exports and tables but neither the web's pseudonym ("H…") nor reversible without
the key. Identifiers that embed a 户编号 (partnership ids, recommendation ids) become keyed references too ("P…").
Left out: names, phones, ID numbers and their hashes, 户编号, member records, addresses, and free text written by
people (decline reasons are reduced to a topic, matching/sides.py; notes and close reasons are dropped).

The graph is read table by table in chunks (graph/analyst.py) and each chunk appended to its Parquet file, so a
60,000-household county is never held twice. A county's export of a day is written into a temporary folder beside
it and renamed into place, replacing an earlier export of the same day.
"""
import hashlib
import hmac
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import codes
from core.clock import today_iso
from core.followup import ENTERPRISE_WARNINGS, HOUSEHOLD_WARNINGS, ClosedBy, FollowUpReason, FollowUpStatus
from core.mechanisms import MECHANISMS, places
from core.settings import Settings
from graph import analyst as queries
from matching.sides import decline_topic
from services.context import Context

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK_ROWS = 5000

# Column types (Arrow): str, int, float, bool, date (a calendar day), time (a UTC timestamp), and lists of them.
_ARROW = {
    "str": pa.string(), "int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "date": pa.date32(),
    "time": pa.timestamp("us", tz="UTC"), "list<str>": pa.list_(pa.string()), "list<int>": pa.list_(pa.int64()),
}
COLUMN_TYPES: dict[tuple[str, str], str] = {}


def _columns(table: str, *declared: tuple[str, str, str]) -> tuple[tuple[str, str], ...]:
    """(name, description) pairs of a table, each column's type kept in COLUMN_TYPES."""
    for name, kind, _ in declared:
        assert kind in _ARROW, kind
        COLUMN_TYPES[(table, name)] = kind
    return tuple((name, description) for name, _, description in declared)


_MECHANISM_NAMES = {mechanism.value: mechanism.name.lower() for mechanism in MECHANISMS}

# Scalar figures of a run's metrics (graph MatchRun.metrics) that are exported; anything else in them (lists of
# households among them) is not.
RUN_METRICS = ("households", "covered", "coverage", "coverable", "coverage_of_coverable", "assignments", "capacity",
               "utilisation", "total_score", "candidate_pairs", "already_covered", "coverage_with_existing",
               "follow_ups", "follow_ups_planned", "enterprises_listed", "exposure_gini", "top_tenth_share",
               "most_listed", "eligible_unlisted")

TABLE_DESCRIPTIONS: Mapping[str, str] = {
    "regions": "本县的区划：县、乡镇、村，含坐标与各区划存储的覆盖户数",
    "households": "本县的建档立卡户（以 household_ref 代替户编号；无姓名、电话、证件号）",
    "income_history": "各户人均纯收入的观测（数据日期 → 收入）",
    "enterprises": "本县企业及为本县户联结或被推荐给本县户的外县企业（公开的经营信息与帮扶供给；无联系人、电话、地址）",
    "partnerships": "本县户的利益联结（帮扶台账），联结编号以 partnership_ref 代替；无帮扶措施文字",
    "recommendations": "本县每次匹配运行的推荐（全部运行，不只当前一次）：推荐 → 接受 → 确认 → 持续 的漏斗由此计算",
    "runs": "计算过本县的匹配运行：参数、模型、指标，及成为当前方案时本县的四种覆盖户数",
    "projects": "本县的产业扶贫项目：资金、计划带动户数与实际联结的户数",
    "followups": "本县户的跟进事项（原因、状态、期限、关闭方式；无关闭理由文字）",
    "unplaced": "运行页面诊断过的、没有可行联结的户及其约束（每次运行、每县诊断一次）",
}

TABLES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "regions": _columns(
        "regions",
        ("code", "str", "12 位区划代码"),
        ("name", "str", "区划名称"),
        ("level", "str", "层级：county / township / village"),
        ("parent_code", "str", "上级区划代码"),
        ("township_code", "str", "所属乡镇代码（村）"),
        ("lon", "float", "经度"),
        ("lat", "float", "纬度"),
        ("poor_village", "bool", "是否贫困村"),
        ("relocation_site", "bool", "是否易地搬迁安置点"),
        ("households", "int", "在册户数（导出时存储的数字）"),
        ("confirmed", "int", "履约中户数"),
        ("awaiting", "int", "待确认户数"),
        ("planned", "int", "已规划户数"),
        ("uncovered", "int", "未覆盖户数 = 户数 − 履约中 − 待确认 − 已规划"),
    ),
    "households": _columns(
        "households",
        ("household_ref", "str", "户的假名编号：A + HMAC-SHA256(分析密钥, 户编号) 前 14 位十六进制"),
        ("county_code", "str", "县代码"),
        ("township_code", "str", "乡镇代码"),
        ("village_code", "str", "行政村代码"),
        ("active", "bool", "仍在最近的全量数据中"),
        ("inactive_since", "date", "不再出现在全量数据中的日期"),
        ("attribute", "str", "贫困户属性（代码）"),
        ("attribute_label", "str", "贫困户属性"),
        ("main_cause", "str", "主要致贫原因（代码）"),
        ("main_cause_label", "str", "主要致贫原因"),
        ("other_causes", "list<str>", "其他致贫原因（代码）"),
        ("poverty_status", "str", "脱贫状态（代码）"),
        ("exit_year", "int", "脱贫年度"),
        ("identification_year", "int", "识别（建档立卡）年度"),
        ("household_type", "str", "户类型（代码）"),
        ("monitoring_category", "str", "监测对象类别（代码；空 = 非监测对象）"),
        ("monitoring_category_label", "str", "监测对象类别"),
        ("monitored", "bool", "是否监测对象（有监测对象类别）"),
        ("risk_causes", "list<str>", "风险类型（代码）"),
        ("monitoring_since", "date", "纳入监测时间"),
        ("risk_removed", "bool", "是否风险消除"),
        ("risk_removed_date", "date", "风险消除时间"),
        ("household_size", "int", "家庭人口数"),
        ("members", "int", "登记的家庭成员数"),
        ("income_per_capita", "float", "人均纯收入（元）"),
        ("labour_ordinary", "int", "普通劳动力人数"),
        ("labour_skilled", "int", "技能劳动力人数"),
        ("labour_weak", "int", "弱劳动力人数"),
        ("labourers", "int", "劳动力人数（普通、技能、弱）"),
        ("arable_mu", "float", "耕地面积（亩）"),
        ("irrigated_mu", "float", "有效灌溉面积（亩）"),
        ("forest_mu", "float", "林地面积（亩）"),
        ("orchard_mu", "float", "林果面积（亩）"),
        ("water_mu", "float", "水面面积（亩）"),
        ("pasture_mu", "float", "牧草地面积（亩）"),
        ("road_distance_km", "float", "距离村主干路（公里）"),
        ("dilapidated_house", "bool", "是否危房户"),
        ("housing_secure", "bool", "住房安全是否有保障"),
        ("relocated", "bool", "是否易地扶贫搬迁户"),
        ("in_cooperative", "bool", "是否加入农民专业合作社"),
        ("has_leading_enterprise", "bool", "是否有龙头企业带动"),
        ("products", "list<str>", "主要产业（产品），按原文"),
        ("industry_codes", "list<str>", "产业代码（由产品名称识别）"),
        ("need_tier", "int", "需要程度：2 最高，1 较高，0 一般（core/need.py）"),
        ("coverage_state", "str", "覆盖状态：confirmed / awaiting / planned / uncovered（如存储）"),
        ("coverage_label", "str", "覆盖状态：履约中 / 待确认 / 已规划 / 未覆盖"),
        ("covered", "bool", "有履约中的利益联结"),
        ("pending", "bool", "有待确认的利益联结"),
        ("planned", "bool", "本县当前匹配方案为其安排了企业（未被拒绝）"),
        ("active_partnerships", "int", "未结束的利益联结数（履约中、待确认）"),
        ("in_force_partnerships", "int", "履约中的联结数"),
        ("open_followups", "int", "未解决的跟进事项数"),
        ("warnings", "list<str>", "该户的预警（core/followup.py 的预警代码）"),
    ),
    "income_history": _columns(
        "income_history",
        ("household_ref", "str", "户的假名编号"),
        ("as_of", "date", "观测日期（该次加载的数据日期）"),
        ("income_per_capita", "float", "人均纯收入（元）"),
    ),
    "enterprises": _columns(
        "enterprises",
        ("credit_code", "str", "统一社会信用代码（公开的登记信息）"),
        ("name", "str", "企业名称"),
        ("enterprise_type", "str", "主体类型（代码）"),
        ("enterprise_type_label", "str", "主体类型"),
        ("region_code", "str", "所在行政区划代码"),
        ("county_code", "str", "所在县代码"),
        ("in_county", "bool", "是否本县企业（否：外县企业为本县户联结或被推荐）"),
        ("lon", "float", "经度"),
        ("lat", "float", "纬度"),
        ("industries", "list<str>", "所属产业，按原文"),
        ("industry_codes", "list<str>", "所属产业代码"),
        ("products_bought", "list<str>", "收购产品，按原文"),
        ("bought_codes", "list<str>", "收购产品的产业代码"),
        ("mechanisms", "list<str>", "提供的联结方式（代码）"),
        ("jobs_offered", "int", "用工需求（人）"),
        ("skill_required", "str", "技能要求（劳动技能代码）"),
        ("contract_households", "int", "订单收购带动户数"),
        ("land_wanted_mu", "float", "流转土地需求（亩）"),
        ("equity_households", "int", "入股分红带动户数"),
        ("ecommerce_households", "int", "电商带动户数"),
        ("households_capacity", "int", "可带动户数（各联结方式合计）"),
        *((f"places_{name}", "int", f"按{codes.Mechanism(code).label}可带动的户数（core/mechanisms.py；不提供为 0）")
          for code, name in _MECHANISM_NAMES.items()),
        ("certified_poverty_products", "bool", "是否认定扶贫产品"),
        ("decided_count", "int", "已处理的推荐数（接受、确认、拒绝）"),
        ("declined_count", "int", "其中被拒绝的推荐数"),
        ("partnership_count", "int", "联结数（待确认的除外）"),
        ("terminated_count", "int", "其中已终止的联结数"),
        ("warnings", "list<str>", "企业预警（core/followup.py 的预警代码）"),
        ("offer_updated_at", "time", "帮扶供给最近由企业或商务局修改的时间"),
    ),
    "partnerships": _columns(
        "partnerships",
        ("partnership_ref", "str", "联结的假名编号：P + HMAC-SHA256(分析密钥, 联结编号) 前 14 位（联结编号可含户编号）"),
        ("household_ref", "str", "户的假名编号"),
        ("credit_code", "str", "企业统一社会信用代码"),
        ("project_id", "str", "所属项目编号"),
        ("mechanism", "str", "联结方式（代码）"),
        ("mechanism_label", "str", "联结方式"),
        ("start_date", "date", "开始日期"),
        ("end_date", "date", "结束日期"),
        ("status", "str", "联结状态（代码）：01 履约中 / 02 已完成 / 03 已终止 / 04 待确认"),
        ("status_label", "str", "联结状态"),
        ("income_gain", "float", "年增收（元，台账所记）"),
        ("source", "str", "来源：recommendation（由推荐接受而来）/ ledger（台账文件）"),
        ("run_id", "str", "来源推荐所属的匹配运行"),
        ("rec_rank", "int", "来源推荐在该户清单中的名次"),
        ("decided_at", "time", "来源推荐被接受（或确认）的时间"),
        ("created_at", "time", "联结由系统创建的时间（台账文件导入的为空）"),
        ("updated_at", "time", "最近修改时间"),
    ),
    "recommendations": _columns(
        "recommendations",
        ("run_id", "str", "匹配运行编号"),
        ("household_ref", "str", "户的假名编号"),
        ("rank", "int", "该户清单中的名次"),
        ("credit_code", "str", "推荐的企业"),
        ("mechanism", "str", "联结方式（代码）"),
        ("mechanism_label", "str", "联结方式"),
        ("score", "float", "综合得分"),
        ("rule_score", "float", "规则得分"),
        ("level", "str", "匹配度：高 / 中 / 低"),
        ("distance_km", "float", "户—企业距离（公里）"),
        ("other_mechanisms", "list<str>", "同一企业对该户也可采用的其他联结方式（代码）"),
        ("assigned", "bool", "是否在容量内分配（方案安排）"),
        ("status", "str", "推荐状态：proposed / accepted / confirmed / declined"),
        ("current", "bool", "是否属于本县当前的匹配运行"),
        ("partnership_ref", "str", "接受后形成的联结（partnerships.partnership_ref）"),
        ("decided_at", "time", "处理时间"),
        ("declined_by_role", "str", "拒绝方的角色：enterprise / bureau / admin"),
        ("decline_topic", "str", "拒绝理由归类：distance / labour / capacity / household / produce（matching/sides.py；"
                                 "理由原文不导出）"),
    ),
    "runs": _columns(
        "runs",
        ("run_id", "str", "匹配运行编号"),
        ("created_at", "time", "开始时间"),
        ("finished_at", "time", "结束时间"),
        ("status", "str", "运行状态：running / completed / failed"),
        ("current", "bool", "是否为本县当前的匹配运行"),
        ("model_version", "str", "学习模型版本（空：仅用规则）"),
        ("alpha", "float", "规则评分的融合权重（1 = 仅用规则）"),
        ("seed", "int", "随机种子"),
        ("top_k", "int", "每户推荐数"),
        ("rules_version", "int", "本县所用资格规则的版本（空：默认规则）"),
        *((f"metric_{name}", "float", f"运行指标 {name}（整次运行，可含多县）") for name in RUN_METRICS),
        *((f"metric_coverage_need_tier_{tier}", "float", f"需要程度 {tier} 的户的方案覆盖率（整次运行）")
          for tier in ("2", "1", "0")),
        ("switched_at", "time", "成为本县当前方案的时间（未成为当前方案为空）"),
        ("previous_run", "str", "此前本县的当前运行"),
        ("households_at_switch", "int", "成为当前方案时本县的户数"),
        ("confirmed_at_switch", "int", "成为当前方案时的履约中户数"),
        ("awaiting_at_switch", "int", "成为当前方案时的待确认户数"),
        ("planned_at_switch", "int", "成为当前方案时的已规划户数"),
        ("uncovered_at_switch", "int", "成为当前方案时的未覆盖户数"),
        ("newly_planned", "int", "较此前运行新规划的户数"),
        ("no_longer_planned", "int", "较此前运行不再规划的户数"),
    ),
    "projects": _columns(
        "projects",
        ("project_id", "str", "项目编号"),
        ("name", "str", "项目名称"),
        ("region_code", "str", "项目所在地区划代码"),
        ("county_code", "str", "所在县代码"),
        ("industries", "list<str>", "产业类别，按原文"),
        ("industry_codes", "list<str>", "产业代码"),
        ("fund_source", "str", "资金来源"),
        ("budget_wan", "float", "资金规模（万元）"),
        ("implementer_credit_code", "str", "实施主体统一社会信用代码"),
        ("mechanism", "str", "联结方式（代码）"),
        ("mechanism_label", "str", "联结方式"),
        ("target_households", "int", "计划带动贫困户数"),
        ("start_year", "int", "建设年度"),
        ("end_year", "int", "完成年度"),
        ("status", "str", "项目状态（代码）"),
        ("status_label", "str", "项目状态"),
        ("linked_partnerships", "int", "台账中属于该项目的联结数"),
        ("linked_households", "int", "其中的户数"),
        ("linked_in_force", "int", "其中有履约中联结的户数"),
    ),
    "followups": _columns(
        "followups",
        ("household_ref", "str", "户的假名编号"),
        ("reason", "str", "原因（core/followup.py FollowUpReason）"),
        ("reason_label", "str", "原因"),
        ("status", "str", "状态：open / planned / closed"),
        ("status_label", "str", "状态"),
        ("since", "date", "事件发生日期"),
        ("due_date", "date", "应完成日期"),
        ("created_at", "time", "生成时间"),
        ("closed_at", "time", "关闭时间"),
        ("closed_by", "str", "关闭方式：partnership / staff / household_inactive（理由原文不导出）"),
        ("run_id", "str", "将该户列入方案的匹配运行"),
        ("partnership_ref", "str", "使该事项关闭的联结"),
        ("need_tier", "int", "生成时户的需要程度"),
    ),
    "unplaced": _columns(
        "unplaced",
        ("run_id", "str", "匹配运行编号"),
        ("household_ref", "str", "户的假名编号"),
        ("binding", "str", "约束：capacity / distance / no_market / no_offer / no_land / no_labour"),
        *((f"reason_{name}", "str", f"{codes.Mechanism(code).label}不可行的原因") for code, name in _MECHANISM_NAMES.items()),
        ("diagnosed_at", "time", "诊断时间"),
    ),
}

# The graph labels each table's columns come from (the unit tests hold the columns against their personal and
# secret properties, and against the households' and members').
TABLE_SOURCES: Mapping[str, tuple[str, ...]] = {
    "regions": ("Region",), "households": ("Household",), "income_history": ("Household",),
    "enterprises": ("Enterprise",), "partnerships": ("Partnership",),
    "recommendations": ("RecommendationList", "Recommendation"), "runs": ("MatchRun",), "projects": ("Project",),
    "followups": ("FollowUp",), "unplaced": ("MatchRun",),
}


class NoAnalystData(FileNotFoundError):
    """No export of the county (for that date) in the analysts' folder."""


def column_names(table: str) -> tuple[str, ...]:
    """The declared column names of a table, in order."""
    return tuple(name for name, _ in TABLES[table])


def schema(table: str) -> pa.Schema:
    """The Arrow schema of a table, from its declaration (descriptions kept as field metadata)."""
    return pa.schema([pa.field(name, _ARROW[COLUMN_TYPES[(table, name)]],
                               metadata={"description": description.encode("utf-8")})
                      for name, description in TABLES[table]])


# --- keyed references ---------------------------------------------------------------------------------

def _mac(key: str, message: str) -> str:
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def household_ref(key: str, household_id: str) -> str:
    """A household's reference in the analysts' files: 'A' + 14 hex of HMAC-SHA256(key, 户编号)."""
    return "A" + _mac(key, str(household_id))[:14]


def partnership_ref(key: str, partnership_id: str | None) -> str | None:
    """A partnership's reference: 'P' + 14 hex of HMAC-SHA256(key, 'partnership:' + id) (ids may hold a 户编号)."""
    return None if not partnership_id else "P" + _mac(key, "partnership:" + str(partnership_id))[:14]


def key_fingerprint(key: str) -> str:
    """A short fingerprint that tells two keys apart without revealing either (in every manifest)."""
    return _mac(key, "lianjie analyst key fingerprint")[:8]


def default_root(settings: Settings | None = None) -> Path:
    """The analysts' folder: var/analyst of the installation."""
    return Path((settings or Settings()).var_dir) / "analyst"


# --- values -------------------------------------------------------------------------------------------

_TRUE = {"1", "true", "是", "y", "yes", "有"}
_FALSE = {"0", "false", "否", "n", "no", "无"}


def _native(value):
    return value.to_native() if hasattr(value, "to_native") else value


def _convert(kind: str, value):
    """A graph value as the column's type (None when absent or unreadable)."""
    value = _native(value)
    if value is None or (isinstance(value, float) and value != value):
        return None
    try:
        if kind == "str":
            return str(value)
        if kind == "int":
            return int(float(value)) if not isinstance(value, bool) else int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            return True if text in _TRUE else False if text in _FALSE else None
        if kind == "date":
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            return date.fromisoformat(str(value)[:10])
        if kind == "time":
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        if kind.startswith("list<"):
            inner = kind[5:-1]
            items = value if isinstance(value, (list, tuple)) else [value]
            return [converted for converted in (_convert(inner, item) for item in items) if converted is not None]
    except (TypeError, ValueError):
        return None
    raise ValueError(kind)


def _arrow_table(table: str, rows: list[dict]) -> pa.Table:
    """Rows (dicts with exactly the declared columns) as an Arrow table of the declared schema."""
    names = column_names(table)
    extra = set().union(*(row.keys() for row in rows)) - set(names) if rows else set()
    if extra:  # a column not declared never reaches a file
        raise ValueError(f"{table}: undeclared columns {sorted(extra)}")
    arrays = [pa.array([_convert(COLUMN_TYPES[(table, name)], row.get(name)) for row in rows],
                       type=_ARROW[COLUMN_TYPES[(table, name)]]) for name in names]
    return pa.Table.from_arrays(arrays, schema=schema(table))


def _label(code_list, value) -> str | None:
    return None if value in (None, "") else code_list.label_of(value, str(value))


def _json(text, default):
    if text in (None, ""):
        return default
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return default


def _warning_codes(flags, kind: str) -> list[str]:
    """The warning codes whose stored flag (graph/warnings.py order) is set."""
    names = HOUSEHOLD_WARNINGS if kind == "household" else ENTERPRISE_WARNINGS
    return [warning.value for warning, flag in zip(names, flags or []) if flag]


# --- rows of each table -------------------------------------------------------------------------------

def _region_row(record: dict) -> dict:
    households = record.get("households")
    figures = [record.get(name) or 0 for name in ("covered", "pending", "planned")]
    return {"code": record["code"], "name": record["name"], "level": record["level"],
            "parent_code": record["parent_code"], "township_code": record["township_code"], "lon": record["lon"],
            "lat": record["lat"], "poor_village": record["poor_village"], "relocation_site": record["relocation_site"],
            "households": households, "confirmed": figures[0], "awaiting": figures[1], "planned": figures[2],
            "uncovered": None if households is None else households - sum(figures)}


_HOUSEHOLD_SAME = ("county_code", "township_code", "village_code", "active", "inactive_since", "attribute",
                   "main_cause", "other_causes", "poverty_status", "exit_year", "identification_year",
                   "household_type", "monitoring_category", "risk_causes", "monitoring_since", "risk_removed",
                   "risk_removed_date", "household_size", "members", "income_per_capita", "labour_ordinary",
                   "labour_skilled", "labour_weak", "labourers", "arable_mu", "irrigated_mu", "forest_mu", "orchard_mu",
                   "water_mu", "pasture_mu", "road_distance_km", "dilapidated_house", "housing_secure", "relocated",
                   "in_cooperative", "has_leading_enterprise", "products", "industry_codes", "need_tier",
                   "coverage_state", "covered", "pending", "planned", "active_partnerships", "open_followups")


def _household_rows(record: dict, key: str) -> tuple[dict, list[dict]]:
    ref = household_ref(key, record["household_id"])
    row = {name: record.get(name) for name in _HOUSEHOLD_SAME}
    row.update(
        household_ref=ref,
        attribute_label=_label(codes.HouseholdAttribute, record.get("attribute")),
        main_cause_label=_label(codes.PovertyCause, record.get("main_cause")),
        monitoring_category_label=_label(codes.MonitoringCategory, record.get("monitoring_category")),
        monitored=bool(record.get("monitoring_category")),
        coverage_label=_label(codes.CoverageState, record.get("coverage_state")),
        in_force_partnerships=sum(record.get("in_force_counts") or []),
        warnings=_warning_codes(record.get("warning_flags"), "household"),
    )
    incomes = [{"household_ref": ref, "as_of": day, "income_per_capita": value}
               for day, value in zip(record.get("income_dates") or [], record.get("income_values") or [])]
    return row, incomes


def _enterprise_row(record: dict, county: str) -> dict:
    names = column_names("enterprises")
    row = {name: record.get(name) for name in names if name in record}
    offered = set(record.get("mechanisms") or [])
    for code, name in _MECHANISM_NAMES.items():
        row[f"places_{name}"] = places(record, code) if code in offered else 0
    row.update(enterprise_type_label=_label(codes.EnterpriseType, record.get("enterprise_type")),
               in_county=record.get("county_code") == county,
               warnings=_warning_codes(record.get("warning_flags"), "enterprise"))
    row.pop("warning_flags", None)
    return row


def _rank_of(rec_id: str | None) -> int | None:
    if not rec_id:
        return None
    rank = str(rec_id).rpartition("-")[2]
    return int(rank) if rank.isdigit() else None


def _partnership_row(record: dict, key: str) -> dict:
    return {
        "partnership_ref": partnership_ref(key, record["partnership_id"]),
        "household_ref": household_ref(key, record["household_id"]),
        **{name: record.get(name) for name in ("credit_code", "project_id", "mechanism", "start_date", "end_date",
                                               "status", "income_gain", "source", "run_id", "decided_at",
                                               "created_at", "updated_at")},
        "mechanism_label": _label(codes.Mechanism, record.get("mechanism")),
        "status_label": _label(codes.PartnershipStatus, record.get("status")),
        "rec_rank": _rank_of(record.get("rec_id")),
    }


def _recommendation_row(record: dict, key: str) -> dict:
    row = {name: record.get(name) for name in ("run_id", "rank", "credit_code", "mechanism", "score", "rule_score",
                                               "level", "distance_km", "other_mechanisms", "assigned", "status",
                                               "current", "decided_at", "declined_by_role")}
    row.update(household_ref=household_ref(key, record["household_id"]),
               mechanism_label=_label(codes.Mechanism, record.get("mechanism")),
               partnership_ref=partnership_ref(key, record.get("partnership_id")),
               decline_topic=decline_topic(record.get("decline_reason")) if record.get("decline_reason") else None)
    return row


def _run_row(record: dict, county: str) -> dict:
    metrics = _json(record.get("metrics"), {})
    params = _json(record.get("params"), {})
    rules_versions = _json(record.get("rules_versions"), {})
    figures = _json(record.get("figures"), None)
    row = {name: record.get(name) for name in ("run_id", "created_at", "finished_at", "status", "current",
                                               "model_version", "alpha", "seed", "switched_at", "previous_run",
                                               "newly_planned", "no_longer_planned")}
    row["top_k"] = params.get("top_k") if isinstance(params, dict) else None
    row["rules_version"] = rules_versions.get(county) if isinstance(rules_versions, dict) else None
    for name in RUN_METRICS:
        value = metrics.get(name) if isinstance(metrics, dict) else None
        row[f"metric_{name}"] = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    tiers = metrics.get("coverage_by_need_tier") if isinstance(metrics, dict) else None
    for tier in ("2", "1", "0"):
        value = tiers.get(tier) if isinstance(tiers, dict) else None
        row[f"metric_coverage_need_tier_{tier}"] = value if isinstance(value, (int, float)) else None
    if isinstance(figures, dict) and figures.get("households") is not None:
        counts = [figures.get(name) or 0 for name in ("covered", "pending", "planned")]
        row.update(households_at_switch=figures["households"], confirmed_at_switch=counts[0],
                   awaiting_at_switch=counts[1], planned_at_switch=counts[2],
                   uncovered_at_switch=figures["households"] - sum(counts))
    return row


def _project_row(record: dict) -> dict:
    row = {name: record.get(name) for name in column_names("projects") if name in record}
    row.update(mechanism_label=_label(codes.Mechanism, record.get("mechanism")),
               status_label=_label(codes.ProjectStatus, record.get("status")))
    return row


def _followup_row(record: dict, key: str) -> dict:
    closed_by = record.get("closed_by")
    return {
        "household_ref": household_ref(key, record["household_id"]),
        **{name: record.get(name) for name in ("reason", "status", "since", "due_date", "created_at", "closed_at",
                                               "run_id", "need_tier")},
        "closed_by": closed_by if closed_by in ClosedBy.codes() else (None if closed_by is None else "other"),
        "reason_label": _label(FollowUpReason, record.get("reason")),
        "status_label": _label(FollowUpStatus, record.get("status")),
        "partnership_ref": partnership_ref(key, record.get("partnership_id")),
    }


def _unplaced_rows(record: dict, key: str) -> list[dict]:
    diagnosis = _json(record.get("unplaced"), {})
    rows = []
    for item in diagnosis.get("rows", []) if isinstance(diagnosis, dict) else []:
        household_id, binding, reasons = (list(item) + [None, None, None])[:3]
        reasons = reasons if isinstance(reasons, dict) else {}
        rows.append({"run_id": record["run_id"], "household_ref": household_ref(key, household_id),
                     "binding": binding, "diagnosed_at": record.get("unplaced_at"),
                     **{f"reason_{name}": reasons.get(code) for code, name in _MECHANISM_NAMES.items()}})
    return rows


# --- writing ------------------------------------------------------------------------------------------

class _Writers:
    """One Parquet writer per table, opened on first use; row counts kept for the manifest."""

    def __init__(self, folder: Path, progress: Callable[[str, int, bool], None] | None):
        self.folder, self.progress = folder, progress
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, table: str, rows: list[dict]) -> None:
        if not rows:
            return
        if table not in self.writers:
            self.writers[table] = pq.ParquetWriter(self.folder / f"{table}.parquet", schema(table),
                                                   compression="zstd")
        self.writers[table].write_table(_arrow_table(table, rows))
        self.rows[table] = self.rows.get(table, 0) + len(rows)
        if self.progress:
            self.progress(table, self.rows[table], False)

    def finish(self, table: str) -> None:
        if table not in self.writers:  # an empty table is still a file with its columns
            pq.write_table(_arrow_table(table, []), self.folder / f"{table}.parquet", compression="zstd")
            self.rows[table] = 0
        else:
            self.writers.pop(table).close()
        if self.progress:
            self.progress(table, self.rows[table], True)

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def _export_tables(ctx: Context, county: str, key: str, writers: _Writers, chunk: int) -> None:
    def each(table: str, size: int = chunk) -> Iterable[list[dict]]:
        return queries.stream(ctx.driver, table, county, ctx.database, chunk=size)

    for batch in each("regions"):
        writers.write("regions", [_region_row(record) for record in batch])
    writers.finish("regions")

    for batch in each("households"):
        rows, incomes = [], []
        for record in batch:
            row, observed = _household_rows(record, key)
            rows.append(row)
            incomes.extend(observed)
        writers.write("households", rows)
        writers.write("income_history", incomes)
    writers.finish("households")
    writers.finish("income_history")

    for batch in each("enterprises"):
        writers.write("enterprises", [_enterprise_row(record, county) for record in batch])
    writers.finish("enterprises")

    for batch in each("partnerships"):
        writers.write("partnerships", [_partnership_row(record, key) for record in batch])
    writers.finish("partnerships")

    for batch in each("recommendations"):
        writers.write("recommendations", [_recommendation_row(record, key) for record in batch])
    writers.finish("recommendations")

    for batch in each("runs"):
        writers.write("runs", [_run_row(record, county) for record in batch])
    writers.finish("runs")

    for batch in each("projects"):
        writers.write("projects", [_project_row(record) for record in batch])
    writers.finish("projects")

    for batch in each("followups"):
        writers.write("followups", [_followup_row(record, key) for record in batch])
    writers.finish("followups")

    for batch in each("unplaced", size=1):
        for record in batch:
            writers.write("unplaced", _unplaced_rows(record, key))
    writers.finish("unplaced")


def export_county(ctx: Context, county_code: str, as_of: str | date | None = None, root: Path | str | None = None,
                  progress: Callable[[str, int, bool], None] | None = None, chunk: int = CHUNK_ROWS) -> Path:
    """Write the county's analyst view as <root>/<county>/<as_of>/<table>.parquet and manifest.json; returns the
    folder. root: default var/analyst; as_of: the date the folder is named after (default today, China time).
    progress(table, rows so far, finished) after each chunk and table. An export of the same county and date
    replaces the earlier one whole (written beside it, then renamed into place)."""
    day = (as_of.isoformat() if isinstance(as_of, date) else str(as_of)) if as_of else today_iso()
    date.fromisoformat(day)  # ValueError for a malformed date
    name = queries.county_name(ctx.driver, county_code, ctx.database)
    if name is None:
        from services.errors import NotFound

        raise NotFound(f"没有县 {county_code} / no county {county_code}")
    key = ctx.settings.analyst_pseudonym_secret()
    base = Path(root) if root is not None else default_root(ctx.settings)
    county_dir = base / county_code
    county_dir.mkdir(parents=True, exist_ok=True)
    temporary = county_dir / f".{day}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    temporary.mkdir(mode=0o700)
    started = datetime.now(timezone.utc)
    writers = _Writers(temporary, progress)
    try:
        _export_tables(ctx, county_code, key, writers, chunk)
        manifest = {
            "format": FORMAT_VERSION, "county": county_code, "county_name": name, "as_of": day,
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round((datetime.now(timezone.utc) - started).total_seconds(), 2),
            "key_fingerprint": key_fingerprint(key),
            "household_ref": "A + HMAC-SHA256(analyst key, household id)[:14]",
            "tables": {table: {"rows": writers.rows[table], "file": f"{table}.parquet",
                               "description": TABLE_DESCRIPTIONS[table],
                               "columns": {column: description for column, description in TABLES[table]}}
                       for table in TABLES},
        }
        (temporary / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    except BaseException:
        writers.close()
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    target = county_dir / day
    previous = None
    if target.exists():
        previous = county_dir / f".{day}.{uuid.uuid4().hex[:8]}.old"
        os.rename(target, previous)
    os.rename(temporary, target)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    return target


# --- reading ------------------------------------------------------------------------------------------

def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def available(root: Path | str | None = None) -> list[tuple[str, str]]:
    """(county, date) of every complete export under root (default var/analyst), in order."""
    base = Path(root) if root is not None else default_root()
    if not base.is_dir():
        return []
    return sorted((county.name, day.name) for county in base.iterdir() if county.is_dir()
                  and not county.name.startswith(".") for day in county.iterdir()
                  if _is_day(day.name) and (day / MANIFEST).is_file())


def _folder(county_code: str, as_of: str | date | None, root: Path | str | None) -> Path:
    base = Path(root) if root is not None else default_root()
    days = [day for county, day in available(base) if county == str(county_code)]
    hint = f"（先运行 flask --app wsgi analyst export --county {county_code}，或 make analyst-data COUNTY={county_code}）"
    if as_of is None:
        if not days:
            raise NoAnalystData(f"没有县 {county_code} 的分析数据：目录 {base / str(county_code)} 中没有导出{hint} / "
                                f"no analyst data of county {county_code} in {base / str(county_code)}")
        return base / str(county_code) / days[-1]
    day = as_of.isoformat() if isinstance(as_of, date) else str(as_of)
    if day not in days:
        raise NoAnalystData(f"没有县 {county_code} 在 {day} 的分析数据：目录 {base / str(county_code) / day} 不存在"
                            f"（已有日期：{'、'.join(days) or '无'}）{hint} / no analyst data of county {county_code} "
                            f"for {day} in {base / str(county_code) / day}")
    return base / str(county_code) / day


def read_manifest(county_code: str, as_of: str | date | None = None, root: Path | str | None = None) -> dict:
    """The manifest of the county's export (the latest when as_of is None)."""
    return json.loads((_folder(county_code, as_of, root) / MANIFEST).read_text(encoding="utf-8"))


_PANDAS_TYPES = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}


def read_county(county_code: str, as_of: str | date | None = None,
                root: Path | str | None = None) -> dict[str, pd.DataFrame]:
    """Every table of the county's export (the latest date when as_of is None) as DataFrames, in TABLES order:
    integers as Int64 and flags as boolean (missing values stay missing), days and times as datetimes. Each frame's
    attrs hold the manifest ("manifest") and its columns' descriptions ("columns"). NoAnalystData (in Chinese,
    naming the county and the folder) when there is none."""
    folder = _folder(county_code, as_of, root)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    frames = {}
    for table in TABLES:
        path = folder / f"{table}.parquet"
        if not path.exists():  # an export of an older format without this table
            frame = _arrow_table(table, []).to_pandas(date_as_object=False, types_mapper=_PANDAS_TYPES.get)
        else:
            frame = pq.read_table(path).to_pandas(date_as_object=False, types_mapper=_PANDAS_TYPES.get)
        frame.attrs["manifest"] = manifest
        frame.attrs["columns"] = dict(TABLES[table])
        frames[table] = frame
    return frames


def export_all(ctx: Context, counties: list[str] | None = None, as_of: str | date | None = None,
               root: Path | str | None = None,
               progress: Callable[[str, str, int, bool], None] | None = None) -> list[Path]:
    """export_county for each county (default: every county with households); the folders written."""
    folders = []
    for county in counties or queries.counties(ctx.driver, ctx.database):
        report = (lambda table, rows, done, county=county: progress(county, table, rows, done)) if progress else None
        folders.append(export_county(ctx, county, as_of, root, report))
    return folders
