"""The graph model, declared once as data.

Every node label with its key property (unique) and indexed properties, and every
relationship type with its end labels. The schema (graph/schema.py) and the ETL's
generated Cypher read these declarations; nothing else names a label or property
in a query without checking it against them.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NodeType:
    """A node label, its unique key and the properties worth an index."""

    label: str
    key: str
    indexed: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class RelationshipType:
    """A relationship type between two labels."""

    type: str
    start: str
    end: str
    description: str = ""
    properties: tuple[str, ...] = field(default=())


NODES: dict[str, NodeType] = {
    node.label: node
    for node in (
        NodeType("Region", "code", ("level", "name"), "行政区划：省/市/县/乡镇/村，GB/T 2260 12 位代码"),
        NodeType("Household", "household_id", ("active", "county_code", "township_code", "village_code"),
                 "建档立卡户（户编号）"),
        NodeType("Member", "id_hash", ("member_id",), "家庭成员；证件号码只存带密钥的哈希"),
        NodeType("Enterprise", "credit_code", ("county_code", "name"), "企业/合作社/扶贫车间（统一社会信用代码）"),
        NodeType("Project", "project_id", ("county_code",), "产业扶贫项目"),
        NodeType("Industry", "code", ("name",), "产业（受控词表，含别名）"),
        NodeType("Partnership", "partnership_id", ("status", "mechanism", "household_id", "credit_code"),
                 "利益联结（帮扶台账的一行）"),
        NodeType("MatchRun", "run_id", ("created_at", "status"), "一次匹配运行"),
        NodeType("Recommendation", "rec_id", ("run_id", "county_code", "credit_code", "household_id"),
                 "推荐：户—企业—联结方式，含排名、得分与理由"),
        NodeType("LoadRun", "load_id", (), "一次数据加载（ETL）"),
        NodeType("Job", "job_id", ("status", "kind"), "后台任务（匹配运行、数据上传）：状态存于图中，任一进程可读取与接续"),
        NodeType("ApiToken", "token_id", ("token_hash",), "API 令牌：只存哈希，含角色与范围（县/企业）"),
        NodeType("AuditEvent", "event_id", ("at", "token_id"), "审计记录：谁、何时、读取了哪些未脱敏的个人信息"),
    )
}

RELATIONSHIPS: dict[str, RelationshipType] = {
    rel.type: rel
    for rel in (
        RelationshipType("PART_OF", "Region", "Region", "下级区划 → 上级区划"),
        RelationshipType("LIVES_IN", "Household", "Region", "户 → 行政村"),
        RelationshipType("MEMBER_OF", "Member", "Household", "成员 → 户"),
        RelationshipType("LOCATED_IN", "Enterprise", "Region", "企业 → 所在区划"),
        RelationshipType("IN_INDUSTRY", "Enterprise", "Industry", "企业 → 所属产业"),
        RelationshipType("BUYS", "Enterprise", "Industry", "企业 → 收购的产品（产业）"),
        RelationshipType("PRODUCES", "Household", "Industry", "户 → 种养的产品（产业）"),
        RelationshipType("PROJECT_INDUSTRY", "Project", "Industry", "项目 → 产业"),
        RelationshipType("PROJECT_IN", "Project", "Region", "项目 → 县"),
        RelationshipType("IMPLEMENTED_BY", "Project", "Enterprise", "项目 → 实施主体"),
        RelationshipType("OF_HOUSEHOLD", "Partnership", "Household", "联结 → 户"),
        RelationshipType("WITH_ENTERPRISE", "Partnership", "Enterprise", "联结 → 企业"),
        RelationshipType("UNDER_PROJECT", "Partnership", "Project", "联结 → 所属项目"),
        RelationshipType("FOR_COUNTY", "MatchRun", "Region", "匹配运行 → 重新计算的县"),
        RelationshipType("FOR_HOUSEHOLD", "Recommendation", "Household", "推荐 → 户"),
        RelationshipType("FROM_ENTERPRISE", "Recommendation", "Enterprise", "推荐 → 企业"),
    )
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
