"""Read state against the real Neo4j: every write keeps the stored figures exact.

Random sequences of the writes that change the read state — ETL loads (new and changed households,
members changing skill or household, partnerships added or changing status, full extracts that
deactivate and reactivate households), accepting, confirming and declining current recommendations,
ledger edits and match runs — each followed by two comparisons: graph.readstate.check finds nothing,
and the stored figures equal a recomputation done here, in Python, from plain reads of members,
partnerships and recommendations (so a wrong check() cannot hide a wrong refresh).

Each example starts from a cleared graph and a tiny county loaded through the real ETL: 2 villages
(loads may add two more), 6 households, 3 enterprises. The ETL's reference data is cut down to the
county's own province, prefecture and county (Loader.load_reference_data replaced, as the Loader
allows): writing the whole country's divisions would cost more than the rest of an example, and the
≥ 200 examples must stay cheap (about 1 s each).
(The summary of `flask readstate` without Neo4j: tests/unit/test_readstate.py.)
"""
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from core import need
from core.codes import LabourSkill, PartnershipStatus, RecommendationStatus
from core.mechanisms import MECHANISMS
from etl.base_data import reference_tables
from etl.load import Loader, load_files
from graph import ledger, readstate
from graph.maintenance import clear_graph
from graph.matching import REC_ID, is_current
from matching.run import MatchParams, MatchRunner
from tests.support import bureau_files as bf

COUNTY = bf.COUNTY
# The base world's two villages, a third in their township and one in another township (created by loads).
VILLAGES = (bf.VILLAGE, bf.OTHER_VILLAGE, "433123101203", "433123102201")
TOWNSHIP = bf.VILLAGE[:9] + "000"
ANCESTORS = ("430000000000", "433100000000", COUNTY)  # 湖南省, 湘西州, 凤凰县

HOUSEHOLD_FIELDS = ("labour_ordinary", "labour_skilled", "labour_weak", "members", "labourers", "covered", "pending",
                    "active_partnerships", "in_force_counts", "need_tier")
REGION_FIELDS = ("households", "covered", "pending", "in_force_counts")
MECHANISM_CODES = [mechanism.value for mechanism in MECHANISMS]
HOLDING = {RecommendationStatus.PROPOSED.value, RecommendationStatus.ACCEPTED.value}
OPEN = set(PartnershipStatus.codes(*PartnershipStatus.open()))


# --- the world ---------------------------------------------------------------------------------------

def _reference_tables():
    """The ETL's reference tables with the regions cut down to the county's ancestors."""
    for label, keys, props, rels, description in reference_tables():
        if label == "Region":
            keep = keys.isin(ANCESTORS)
            keys, props, rels = keys[keep], props[keep], {t: targets[keep] for t, targets in rels.items()}
            if keys.empty:
                continue
        yield label, keys, props, rels, description


class SmallWorldLoader(Loader):
    """The real ETL; only the reference data is the county's own (see the module docstring)."""

    tables = None

    def load_reference_data(self) -> None:
        if SmallWorldLoader.tables is None:
            SmallWorldLoader.tables = list(_reference_tables())
        for table in SmallWorldLoader.tables:
            self.write_nodes(*table)


class World:
    """Loads files through the ETL and keeps count of what the writes did (to show they were exercised)."""

    def __init__(self, driver, settings, directory: Path, stats: Counter | None = None):
        self.driver, self.settings, self.directory = driver, settings, directory
        self.stats = stats if stats is not None else Counter()
        self.files = 0

    def load(self, tables: list[tuple[list[str], list[list]]], full: bool = False):
        paths = []
        for header, rows in tables:
            self.files += 1
            paths.append(bf.write_table(self.directory / f"f{self.files}.csv", header, rows))
        result = load_files(paths, self.driver, self.settings, full=full, progress=False,
                            report_path=self.directory / "report.csv", loader=SmallWorldLoader(
                                self.driver, self.settings, progress=False))
        assert not result.failed_files
        for item in result.files:
            self.stats[f"{item.kind} rows loaded"] += item.rows_loaded
            self.stats["households deactivated"] += item.deactivated
        return result

    def read(self, query: str, **params) -> list[dict]:
        records, _, _ = self.driver.execute_query(query, params, database_=self.settings.neo4j_database)
        return [record.data() for record in records]


# Household columns: the bureau's, plus 监测对象类别.
HOUSEHOLD_HEADER = bf.HOUSEHOLD_HEADER + ["监测对象类别"]
ATTRIBUTES = ("一般贫困户", "低保贫困户", "特困供养贫困户")
CAUSES = ("因病", "缺资金", "缺劳动力", "缺技术")
OTHER_CAUSES = ("", "缺技术", "因残")
INCOMES = ("3200", "2500", "")
MONITORING = ("", "脱贫不稳定户", "边缘易致贫户")
SKILLS = ("普通劳动力", "技能劳动力", "弱劳动力或半劳动力", "丧失劳动力", "无劳动力")
MECHANISM_NAMES = ("就业务工", "订单收购", "土地流转", "入股分红", "电商销售")
STATUS_NAMES = ("履约中", "待确认", "已完成", "已终止")


def household_row(number: int, village: int, attribute: int, cause: int, other: int, income: int,
                  monitoring: int) -> list:
    row = bf.household_row(number, village=VILLAGES[village], cause=CAUSES[cause])
    row[7], row[9], row[11] = ATTRIBUTES[attribute], OTHER_CAUSES[other], INCOMES[income]
    return row + [MONITORING[monitoring]]


def member_row(member: int, household: int, skill: int) -> list:
    """Member `member` (one person: the same ID number whatever household names them) of household `household`."""
    id_number = bf.id_number(f"4331231985{member:02d}01{member:03d}")
    return [bf.household_id(household), f"M{member:02d}", "李小华", id_number, "之子", "初中", "健康", SKILLS[skill],
            "乡内"]


def enterprises() -> list[list]:
    """Three enterprises with few places (an accept may find none left)."""
    first = bf.enterprise_row(1)
    first[9], first[10] = 2, 2                                        # 就业务工、订单收购: 2 jobs, 2 contracts
    second = bf.enterprise_row(2)
    second[8], second[9], second[10], second[11], second[12] = "土地流转、入股分红", 0, 0, 6, 2
    third = bf.enterprise_row(3)
    third[8], third[9], third[10] = "就业务工", 1, 0
    return [first, second, third]


ENTERPRISE_CODES = [row[0] for row in enterprises()]


def partnership_row(ledger: int, household: int, enterprise: int, mechanism: int, status: int) -> list:
    return [f"L{ledger}", bf.household_id(household), ENTERPRISE_CODES[enterprise], MECHANISM_NAMES[mechanism],
            "2019-03-01", "2000", STATUS_NAMES[status]]


def load_base(world: World, households: list[tuple]) -> None:
    """Six households (odd ones in the first village), seven members, three enterprises, two partnerships."""
    world.load([
        (HOUSEHOLD_HEADER, [household_row(number, (number + 1) % 2, *spec) for number, spec in enumerate(households, 1)]),
        (bf.MEMBER_HEADER, [member_row(member, min(member, 6), skill)
                            for member, skill in zip(range(1, 8), (0, 1, 2, 3, 0, 4, 0))]),
        (bf.ENTERPRISE_HEADER, enterprises()),
        (bf.PARTNERSHIP_HEADER, [partnership_row(1, 1, 0, 1, 0), partnership_row(2, 2, 0, 0, 1)]),
    ])


# --- the operations ----------------------------------------------------------------------------------

def _now() -> tuple[str, str]:
    now = datetime.now(timezone.utc)
    return now.isoformat(), now.date().isoformat()


def _current_recommendation(world: World, pick: int) -> str | None:
    rows = world.read(f"MATCH (l:RecommendationList) WHERE {is_current('l')} "
                      f"UNWIND range(0, size(l.ranks) - 1) AS i RETURN {REC_ID} AS id ORDER BY id")
    return rows[pick % len(rows)]["id"] if rows else None


def apply(world: World, operation: tuple) -> None:
    """Apply one operation (a tuple drawn by OPERATIONS)."""
    kind, *args = operation
    world.stats[f"op {kind}"] += 1
    if kind == "households":
        full, rows = args
        query = "MATCH (h:Household) RETURN h.household_id AS id, h.village_code AS village, h.active AS active"
        before = {row["id"]: row for row in world.read(query)}
        world.load([(HOUSEHOLD_HEADER, [household_row(*row) for row in rows])], full=full)
        for row in world.read(query):
            was = before.get(row["id"])
            world.stats["households moved"] += bool(was and was["village"] != row["village"])
            world.stats["households reactivated"] += bool(was and not was["active"] and row["active"])
    elif kind == "villages":
        (villages,) = args
        world.load([(bf.VILLAGE_HEADER, [bf.village_row(VILLAGES[village], name=f"第{village}村")
                                         for village in villages])])
    elif kind == "members":
        (rows,) = args
        before = {row["id"]: row["household"] for row in world.read(
            "MATCH (m:Member)-[:MEMBER_OF]->(h:Household) RETURN m.member_id AS id, h.household_id AS household")}
        world.load([(bf.MEMBER_HEADER, [member_row(*row) for row in rows])])
        after = world.read("MATCH (m:Member)-[:MEMBER_OF]->(h:Household) RETURN m.member_id AS id, "
                           "h.household_id AS household")
        world.stats["members moved"] += sum(1 for row in after if row["id"] in before
                                            and before[row["id"]] != row["household"])
    elif kind == "partnerships":
        (rows,) = args
        query = "MATCH (p:Partnership)-[:OF_HOUSEHOLD]->(h:Household) RETURN p.partnership_id AS id, h.household_id AS household"
        before = {row["id"]: row["household"] for row in world.read(query)}
        world.load([(bf.PARTNERSHIP_HEADER, [partnership_row(*row) for row in rows])])
        world.stats["partnerships moved"] += sum(1 for row in world.read(query)
                                                 if row["id"] in before and before[row["id"]] != row["household"])
    elif kind == "match":
        top_k, force = args
        MatchRunner(world.driver, world.settings, progress=None).run([COUNTY], MatchParams(top_k=top_k), force=force)
    elif kind in ("accept", "decline"):
        rec_id = _current_recommendation(world, args[0])
        if rec_id is None:
            return
        now, today = _now()
        try:
            if kind == "accept":
                ledger.accept_recommendation(world.driver, rec_id, confirm=args[1], actor="test", now=now, today=today,
                                             database=world.settings.neo4j_database)
            else:
                ledger.decline_recommendation(world.driver, rec_id, "不合适", actor="test", role="bureau", now=now,
                                              database=world.settings.neo4j_database)
            world.stats[f"{kind} done"] += 1
        except ledger.LedgerConflict as conflict:
            world.stats[f"{kind} refused: {conflict.code}"] += 1
    elif kind == "ledger":
        pick, status = args
        rows = world.read("MATCH (p:Partnership) RETURN p.partnership_id AS id ORDER BY id")
        if rows:
            changed = ledger.update_partnership(world.driver, rows[pick % len(rows)]["id"], {"status": status},
                                                actor="test", now=_now()[0], database=world.settings.neo4j_database)
            assert changed
            world.stats["ledger edits"] += 1
    else:
        raise ValueError(kind)


HOUSEHOLD_SPEC = st.tuples(st.integers(0, 2), st.integers(0, 3), st.integers(0, 2), st.integers(0, 2),
                           st.integers(0, 2))  # attribute, cause, other cause, income, monitoring
# (number, village, attribute, cause, other cause, income, monitoring); households 7 and 8 are new.
HOUSEHOLD_ROW = st.tuples(st.integers(1, 8), st.integers(0, len(VILLAGES) - 1)).flatmap(
    lambda head: HOUSEHOLD_SPEC.map(lambda spec: head + spec))
MEMBER_ROW = st.tuples(st.integers(1, 9), st.integers(1, 8), st.integers(0, len(SKILLS) - 1))
PARTNERSHIP_ROW = st.tuples(st.integers(1, 4), st.integers(1, 8), st.integers(0, 2),
                            st.integers(0, len(MECHANISM_NAMES) - 1), st.integers(0, len(STATUS_NAMES) - 1))

OPERATIONS = st.one_of(
    st.tuples(st.just("households"), st.booleans(),
              st.lists(HOUSEHOLD_ROW, min_size=1, max_size=4, unique_by=lambda row: row[0])),
    st.tuples(st.just("villages"), st.lists(st.integers(0, len(VILLAGES) - 1), min_size=1, max_size=2, unique=True)),
    st.tuples(st.just("members"), st.lists(MEMBER_ROW, min_size=1, max_size=3, unique_by=lambda row: row[0])),
    st.tuples(st.just("partnerships"),
              st.lists(PARTNERSHIP_ROW, min_size=1, max_size=2, unique_by=lambda row: row[0])),
    st.tuples(st.just("match"), st.integers(1, 3), st.booleans()),
    st.tuples(st.just("accept"), st.integers(0, 50), st.booleans()),
    st.tuples(st.just("decline"), st.integers(0, 50)),
    st.tuples(st.just("ledger"), st.integers(0, 10), st.sampled_from(PartnershipStatus.codes())),
)


# --- the independent recomputation ---------------------------------------------------------------------

def recomputed(world: World) -> tuple[dict, dict]:
    """Each household's and region's figures from plain reads, computed in Python (core.need for the tier)."""
    households = {row["id"]: row for row in world.read(
        "MATCH (h:Household) RETURN h.household_id AS id, h.active AS active, h.village_code AS village, "
        "h.township_code AS township, h.county_code AS county, h.attribute AS attribute, h.main_cause AS cause, "
        "h.other_causes AS others, h.monitoring_category AS monitoring, h.income_per_capita AS income")}
    members = world.read("MATCH (m:Member)-[:MEMBER_OF]->(h:Household) RETURN h.household_id AS id, "
                         "m.labour_skill AS skill")
    partnerships = world.read("MATCH (p:Partnership)-[:OF_HOUSEHOLD]->(h:Household) RETURN h.household_id AS id, "
                              "p.status AS status, p.mechanism AS mechanism")
    state = {}
    for household_id, household in households.items():
        skills = [row["skill"] for row in members if row["id"] == household_id]
        statuses = [(row["status"], row["mechanism"]) for row in partnerships if row["id"] == household_id]
        ordinary, skilled = skills.count(LabourSkill.ORDINARY), skills.count(LabourSkill.SKILLED)
        weak = skills.count(LabourSkill.WEAK)
        labourers = ordinary + skilled + weak
        in_force = [mechanism for status, mechanism in statuses if status == PartnershipStatus.IN_FORCE]
        state[household_id] = {
            "labour_ordinary": ordinary, "labour_skilled": skilled, "labour_weak": weak, "members": len(skills),
            "labourers": labourers, "covered": bool(in_force),
            "pending": any(status == PartnershipStatus.AWAITING_CONFIRMATION for status, _ in statuses),
            "active_partnerships": sum(1 for status, _ in statuses if status in OPEN),
            "in_force_counts": [in_force.count(code) for code in MECHANISM_CODES],
            "need_tier": need.need_tier(household["attribute"], household["monitoring"], household["cause"],
                                        household["others"], labourers, household["income"]),
        }
    regions = {}
    codes = {row["code"] for row in world.read(
        "MATCH (r:Region) WHERE r.code = $county OR r.county_code = $county RETURN r.code AS code", county=COUNTY)}
    for household_id, household in households.items():
        assert household["village"] in codes, f"{household_id}: no Region for its village"
    for code in codes:
        inside = [state[household_id] for household_id, household in households.items() if household["active"]
                  and code in (household["village"], household["township"], household["county"])]
        regions[code] = {
            "households": len(inside), "covered": sum(1 for figures in inside if figures["covered"]),
            "pending": sum(1 for figures in inside if figures["pending"] and not figures["covered"]),
            "in_force_counts": [sum(figures["in_force_counts"][i] for figures in inside)
                                for i in range(len(MECHANISM_CODES))],
        }
    return state, regions


def stored(world: World) -> tuple[dict, dict]:
    """The read state as stored on the nodes."""
    households = {row["id"]: row["state"] for row in world.read(
        "MATCH (h:Household) RETURN h.household_id AS id, h {" + ", ".join(f".{f}" for f in HOUSEHOLD_FIELDS)
        + "} AS state")}
    regions = {row["code"]: row["state"] for row in world.read(
        "MATCH (r:Region) WHERE r.code = $county OR r.county_code = $county RETURN r.code AS code, r {"
        + ", ".join(f".{f}" for f in REGION_FIELDS) + "} AS state", county=COUNTY)}
    return households, regions


def assert_consistent(world: World, after: list) -> None:
    report = readstate.check(world.driver, database=world.settings.neo4j_database)
    assert report == [], f"check() after {after}: {report}"
    expected_households, expected_regions = recomputed(world)
    stored_households, stored_regions = stored(world)
    assert stored_households == expected_households, f"households after {after}"
    assert stored_regions == expected_regions, f"regions after {after}"
    # What the figures covered, to show the sequences reached the interesting states.
    world.stats["covered households seen"] += sum(1 for figures in stored_households.values() if figures["covered"])
    world.stats["pending households seen"] += sum(1 for figures in stored_households.values()
                                                  if figures["pending"] and not figures["covered"])
    world.stats["open recommendations seen"] += world.read(
        f"MATCH (l:RecommendationList) WHERE {is_current('l')} "
        "RETURN sum(size([status IN l.statuses WHERE status IN $holding])) AS n",
        holding=sorted(HOLDING))[0]["n"]
    for figures in stored_households.values():
        world.stats[f"need tier {figures['need_tier']} seen"] += 1


# --- the property ------------------------------------------------------------------------------------

def test_random_write_sequences_keep_the_read_state_exact(neo4j_driver, test_settings, tmp_path):
    stats = Counter()

    @settings(max_examples=200, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(households=st.lists(HOUSEHOLD_SPEC, min_size=6, max_size=6), matched=st.booleans(),
           operations=st.lists(OPERATIONS, min_size=1, max_size=6))
    def sequence(households, matched, operations):
        clear_graph(neo4j_driver, test_settings.neo4j_database)
        world = World(neo4j_driver, test_settings, tmp_path, stats)
        load_base(world, households)
        if matched:
            apply(world, ("match", 2, False))
        assert_consistent(world, ["base"])
        for done, operation in enumerate(operations, 1):
            apply(world, operation)
            assert_consistent(world, operations[:done])
        stats["examples"] += 1

    sequence()
    print(dict(sorted(stats.items())))
    # The sequences exercised every kind of write and reached the states the figures describe.
    assert stats["examples"] >= 200
    for needed in ("op households", "op members", "op partnerships", "op match", "accept done", "decline done",
                   "ledger edits", "households deactivated", "households moved", "members moved",
                   "partnerships moved", "op villages", "covered households seen",
                   "pending households seen", "open recommendations seen", "need tier 0 seen", "need tier 1 seen",
                   "need tier 2 seen"):
        assert stats[needed] > 0, needed


# Attribute, cause, other cause, income, monitoring of households 1 … 6 (indexes into the tuples above).
BASE_HOUSEHOLDS = [(0, 0, 0, 0, 0), (1, 1, 0, 1, 0), (2, 2, 2, 2, 1), (0, 3, 1, 0, 2), (0, 0, 0, 0, 0),
                   (1, 2, 0, 0, 0)]


def test_a_household_dropped_by_a_full_extract_and_listed_again(graph_db, test_settings, tmp_path):
    """Deactivation and reactivation, which random sequences reach only now and then."""
    world = World(graph_db, test_settings, tmp_path)
    load_base(world, BASE_HOUSEHOLDS)
    apply(world, ("households", True, [(number, (number + 1) % 2, *BASE_HOUSEHOLDS[number - 1]) for number in (2, 3, 4)]))
    assert world.stats["households deactivated"] == 3
    assert_consistent(world, ["full extract without households 1, 5, 6"])
    figures = stored(world)[1]
    assert (figures[bf.VILLAGE]["households"], figures[bf.OTHER_VILLAGE]["households"], figures[COUNTY]["households"]) \
        == (1, 2, 3)
    assert figures[COUNTY]["covered"] == 0, "household 1, the one covered, is inactive"
    apply(world, ("households", False, [(1, 0, *BASE_HOUSEHOLDS[0]), (6, 0, *BASE_HOUSEHOLDS[5])]))
    assert world.stats["households reactivated"] == 2 and world.stats["households moved"] == 1
    assert_consistent(world, ["households 1 and 6 listed again, 6 in the first village"])
    figures = stored(world)[1]
    assert (figures[bf.VILLAGE]["households"], figures[bf.OTHER_VILLAGE]["households"], figures[COUNTY]["covered"]) \
        == (3, 2, 1)


# --- corrupted state: check reports it, repair fixes it -------------------------------------------------

def _corrupted_world(graph_db, settings, directory: Path) -> World:
    world = World(graph_db, settings, directory)
    load_base(world, BASE_HOUSEHOLDS)
    apply(world, ("match", 2, False))
    assert readstate.check(graph_db) == []
    world.read("MATCH (h:Household {household_id: $id}) SET h.covered = NOT h.covered", id=bf.household_id(1))
    world.read("MATCH (h:Household {household_id: $id}) SET h.need_tier = null", id=bf.household_id(2))
    world.read("MATCH (r:Region {code: $code}) SET r.households = r.households + 1", code=bf.VILLAGE)
    world.read("MATCH (r:Region {code: $code}) SET r.in_force_counts = [7]", code=TOWNSHIP)
    return world


def test_check_reports_corrupted_state_and_repair_fixes_it(graph_db, test_settings, tmp_path):
    world = _corrupted_world(graph_db, test_settings, tmp_path)
    before = stored(world)
    seen = []
    report = readstate.check(graph_db, progress=lambda *args: seen.append(args[:3]))
    assert seen == [(1, 1, COUNTY)]
    assert len(report) == 1 and report[0]["county"] == COUNTY
    assert [(item["household_id"], set(item["differing"])) for item in report[0]["households"]] == [
        (bf.household_id(1), {"covered"}), (bf.household_id(2), {"need_tier"})]
    regions = {region["code"]: region for region in report[0]["regions"]}
    assert set(regions) == {bf.VILLAGE, TOWNSHIP}
    assert regions[bf.VILLAGE]["differing"] == ["households"]
    assert regions[bf.VILLAGE]["stored"]["households"] == regions[bf.VILLAGE]["expected"]["households"] + 1
    assert regions[TOWNSHIP]["differing"] == ["in_force_counts"] and regions[TOWNSHIP]["stored"]["in_force_counts"] == [7]
    assert report[0]["regions_missing"] == []
    assert readstate.check(graph_db) == report, "check alone changes nothing"

    repaired = readstate.check(graph_db, repair=True)
    assert repaired == report, "repair reports what it changed"
    assert readstate.check(graph_db) == []
    households, regions_after = stored(world)
    assert households == recomputed(world)[0] and regions_after == recomputed(world)[1]
    assert households[bf.household_id(1)]["covered"] != before[0][bf.household_id(1)]["covered"]
    assert readstate.check(graph_db, repair=True) == [], "a second repair finds nothing"

    # A region households name but no Region node has: reported, and not something repair can create.
    world.read("MATCH (r:Region {code: $code}) DETACH DELETE r", code=bf.OTHER_VILLAGE)
    assert [item["regions_missing"] for item in readstate.check(graph_db, repair=True)] == [[bf.OTHER_VILLAGE]]
    assert [item["regions_missing"] for item in readstate.check(graph_db)] == [[bf.OTHER_VILLAGE]]


def test_flask_readstate_check_exits_1_until_repaired(app, graph_db, test_settings, tmp_path):
    _corrupted_world(graph_db, test_settings, tmp_path)
    runner = app.test_cli_runner()
    check = runner.invoke(args=["readstate", "check"])
    assert check.exit_code == 1, check.output
    assert f"[1/1] 县 {COUNTY}：2 户、2 个区划不一致，0 个区划缺失" in check.output
    assert "  covered: 1" in check.output and bf.household_id(1) in check.output
    assert f"  {bf.VILLAGE}: households 存储 stored" in check.output

    other = runner.invoke(args=["readstate", "check", "--county", "433124000000"])
    assert other.exit_code == 0 and "读取状态一致 / the read state is consistent" in other.output

    repair = runner.invoke(args=["readstate", "repair", "--county", COUNTY])
    assert repair.exit_code == 0, repair.output
    assert "户 已修复 / repaired / households: 2" in repair.output and "区划 已修复 / repaired / regions: 2" in repair.output

    again = runner.invoke(args=["readstate", "check"])
    assert again.exit_code == 0, again.output
    assert "已检查县 / counties checked: 1" in again.output and "consistent" in again.output
