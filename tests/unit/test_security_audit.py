"""The audit rules without a database (issue 12, finding 3): what counts as shown personal data, and records
that name every household of a large read. (The same on the test Neo4j: tests/integration/test_security_audit.py.)"""
from services.context import Context
from services.enterprises import present_enterprise
from services.principal import Principal
from services.privacy import AUDIT_CHUNK, RequestFacts, audit_contacts, audit_events, audit_log, personal_ids
from tests.support.apps import offline_settings

BUREAU = Principal("tok_b", "县商务局", "bureau", "433123000000")
ANALYST = Principal("tok_a", "分析员", "analyst")


class RecordingDriver:
    """Stands in for the Neo4j driver: keeps the parameters of every query."""

    def __init__(self):
        self.calls = []

    def execute_query(self, query, parameters=None, **kwargs):
        self.calls.append({**(parameters or {}), **{k: v for k, v in kwargs.items() if not k.endswith("_")}})
        return [], None, None


def test_member_names_count_as_personal_data_without_a_head_name():
    nameless_head = {"household_id": "H1", "head_name": "", "phone": None,
                     "member_list": [{"relation": "户主"}, {"name": "王小明", "relation": "子"}]}
    nobody_named = {"household_id": "H2", "head_name": None, "member_list": [{"relation": "户主"}]}
    assert personal_ids([nameless_head, nobody_named]) == ["H1"]


def test_a_large_read_is_audited_in_parts_naming_every_household():
    ids = [f"h{i:05d}" for i in range(2 * AUDIT_CHUNK + 500)]
    events = audit_events(BUREAU, "households.export", ids, RequestFacts(request_id="req-9"))
    assert [household for event in events for household in event["household_ids"]] == ids
    assert [(event["part"], event["parts"]) for event in events] == [(1, 3), (2, 3), (3, 3)]
    assert {event["request_id"] for event in events} == {"req-9"} and len({e["event_id"] for e in events}) == 3
    assert sum(event["household_count"] for event in events) == len(ids)


def test_shown_enterprise_contacts_are_audited_and_masked_ones_are_not():
    driver = RecordingDriver()
    ctx = Context(driver, offline_settings().model_copy(update={"neo4j_database": "neo4j"}))
    record = {"credit_code": "91433123MA4L000001", "name": "凤凰猕猴桃合作社", "contact": "李四",
              "phone": "13900000000", "phone_masked": "139****0000"}
    shown = present_enterprise(BUREAU, record)
    assert shown["contact"] == "李四"
    audit_contacts(ctx, BUREAU, "enterprises.detail", [shown], RequestFacts())
    audit_log(ctx).flush()  # spooled at once, stored in the graph in batches
    assert [event["credit_codes"] for call in driver.calls for event in call["events"]] == [["91433123MA4L000001"]]
    masked = present_enterprise(ANALYST, record)
    assert masked["contact"] is None and masked["phone"] == "139****0000"
