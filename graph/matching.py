"""Cypher for matching: read a county's households, enterprises and partnerships column-wise,
and store match runs with their recommendations. Code-list values travel as parameters
(graph/vocabulary.py).

A run's recommendations are stored compactly: per household one RecommendationList (its entries in
rank order, as parallel lists), per county and enterprise one EnterpriseShortlist (the same entries
seen from the enterprise, best first) — a node per five recommendations instead of one each, which
is what makes writing a province fast. An entry becomes a Recommendation node when someone decides
on it (accept, confirm, decline); its status is then copied back into both lists, which the pages
filter on. A recommendation is current when its run is its county's current run (Region.current_run):
a run becomes current by one write per county.
"""
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import neo4j
import numpy as np
import pandas as pd

from core.codes import RecommendationStatus
from core.notices import NoticeKind
from graph import notifications, readstate
from graph.querybuilder import open_projection, projected_properties
from graph.vocabulary import with_vocabulary

READ = neo4j.RoutingControl.READ
PROPOSED = RecommendationStatus.PROPOSED.value


def is_current(variable: str) -> str:
    """Cypher: the list, shortlist or Recommendation `variable` belongs to its county's current run."""
    return (f"EXISTS {{ MATCH (current:Region {{code: {variable}.county_code}}) "
            f"WHERE current.current_run = {variable}.run_id }}")


IS_CURRENT = is_current("r")
# `current_runs`: the runs current in some county (a few: the latest full run and later partial ones).
CURRENT_RUNS = ("CALL () { OPTIONAL MATCH (county:Region) WHERE county.current_run IS NOT NULL "
                "RETURN collect(DISTINCT county.current_run) AS current_runs }")

# A recommendation's id is its list's id and its rank: run id - household id - rank.
REC_ID = "l.list_id + '-' + toString(l.ranks[i])"
# An entry's reasons are stored as one text, a reason per line.
_ENTRY = {
    "rec_id": REC_ID, "run_id": "l.run_id", "household_id": "l.household_id", "credit_code": "l.credit_codes[i]",
    "county_code": "l.county_code", "mechanism": "l.mechanisms[i]", "rank": "l.ranks[i]", "score": "l.scores[i]",
    "rule_score": "l.rule_scores[i]", "distance_km": "l.distances_km[i]",
    "reasons": "CASE l.reasons[i] WHEN '' THEN [] ELSE split(l.reasons[i], '\\n') END",
    # The match level (高 / 中 / 低) and the other mechanisms of the same enterprise (codes, stored comma-separated);
    # lists written before these existed have neither.
    "level": "CASE l.levels[i] WHEN '' THEN null ELSE l.levels[i] END",
    "other_mechanisms": "CASE coalesce(l.other_mechanisms[i], '') WHEN '' THEN [] ELSE split(l.other_mechanisms[i], ',') END",
    "assigned": "l.assigned[i]", "status": "l.statuses[i]",
    "decline_reason": "decided.decline_reason", "partnership_id": "decided.partnership_id",
}
if set(_ENTRY) != set(projected_properties("Recommendation")):
    raise RuntimeError("a list entry must carry the fields of a Recommendation's projection")


def entry(extra: Mapping[str, str] | None = None) -> str:
    """Cypher: the map of entry `i` of list `l` (with `decided`, its Recommendation node or null) — the same
    fields as a Recommendation's projection — plus `extra` computed entries."""
    fields = {**_ENTRY, **(extra or {})}
    return "{" + ", ".join(f"{name}: {expression}" for name, expression in fields.items()) + "}"


def position_of_rank(rank: str) -> str:
    """Cypher: the positions in list `l` of the entry with this rank (a list of one, or empty)."""
    return f"[position IN range(0, size(l.ranks) - 1) WHERE l.ranks[position] = {rank}]"


# `$list_id, $rank` → `l, i`: a recommendation's list and its entry's position (no row when there is none).
ENTRY_BY_ID = f"""
        MATCH (l:RecommendationList {{list_id: $list_id}})
        WITH l, {position_of_rank("$rank")} AS found WHERE size(found) = 1
        WITH l, found[0] AS i"""

# `l, i` → `l, i, decided`: the entry's Recommendation node, if someone decided on it.
DECIDED = f"OPTIONAL MATCH (decided:Recommendation {{rec_id: {REC_ID}}})"


def split_rec_id(rec_id: str) -> tuple[str, int] | None:
    """(list id, rank) of a recommendation id; None when it is not one."""
    list_id, _, rank = rec_id.rpartition("-")
    return (list_id, int(rank)) if list_id and rank.isdigit() and len(rank) < 6 else None


# The enterprises a household is partnered with now (in force or awaiting confirmation): never recommended again.
OPEN_PARTNERS = ("[(h)<-[:OF_HOUSEHOLD]-(open:Partnership)-[:WITH_ENTERPRISE]->(partner:Enterprise) "
                 "WHERE open.status IN $open_statuses | partner.credit_code]")


def county_households(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> list[dict]:
    """Active households of the counties with their village position, labour counts by skill and open partnerships."""
    # Labour counts and open partnerships are the households' stored read state (graph/readstate.py).
    query = """
        MATCH (h:Household)-[:LIVES_IN]->(v:Region)
        WHERE h.county_code IN $counties AND h.active
        WITH h, v, coalesce(h.labour_ordinary, 0) AS ordinary, coalesce(h.labour_skilled, 0) AS skilled,
             coalesce(h.labour_weak, 0) AS weak, coalesce(h.members, 0) AS members,
             coalesce(h.active_partnerships, 0) AS active_partnerships,
             """ + OPEN_PARTNERS + """ AS open_partner_codes
        RETURN h.household_id AS household_id, h.county_code AS county_code, v.code AS village_code,
               v.lon AS lon, v.lat AS lat, h.attribute AS attribute, h.main_cause AS main_cause,
               coalesce(h.other_causes, []) AS other_causes, h.monitoring_category AS monitoring_category,
               h.income_per_capita AS income_per_capita, coalesce(h.relocated, false) AS relocated,
               coalesce(h.arable_mu, 0.0) AS arable_mu, coalesce(h.forest_mu, 0.0) AS forest_mu,
               coalesce(h.orchard_mu, 0.0) AS orchard_mu, coalesce(h.industry_codes, []) AS industry_codes,
               coalesce(h.in_cooperative, false) AS in_cooperative,
               ordinary, skilled, weak, members, active_partnerships, open_partner_codes,
               coalesce(h.open_followups, 0) AS follow_ups
        ORDER BY household_id
    """
    records, _, _ = driver.execute_query(query, with_vocabulary(query, {"counties": county_codes}),
                                         database_=database, routing_=READ)
    return [record.data() for record in records]


HOUSEHOLD_COLUMNS = ("household_id", "county_code", "village_code", "lon", "lat", "attribute", "main_cause",
                     "other_causes", "monitoring_category", "income_per_capita", "relocated", "arable_mu", "forest_mu",
                     "orchard_mu", "industry_codes", "in_cooperative", "ordinary", "skilled", "weak", "members",
                     "active_partnerships", "open_partner_codes", "follow_ups")


def county_household_columns(driver: neo4j.Driver, county_code: str, database: str | None = None,
                             household_ids: list[str] | None = None) -> dict[str, list]:
    """The county's active households as columns (HOUSEHOLD_COLUMNS, the fields of county_households): read
    as one record holding a list per household (collect() would skip nulls in a column), so the driver
    builds one record, not one per household. `household_ids`: only those households.
    A household's open partners are looked up only where its stored count (graph/readstate.py) says it has some."""
    query = """
        MATCH (h:Household)-[:LIVES_IN]->(v:Region)
        WHERE h.county_code = $county AND h.active AND ($households IS NULL OR h.household_id IN $households)
        WITH h, v ORDER BY h.household_id
        RETURN collect([h.household_id, h.county_code, v.code, v.lon, v.lat, h.attribute, h.main_cause,
                        coalesce(h.other_causes, []), h.monitoring_category, h.income_per_capita,
                        coalesce(h.relocated, false), coalesce(h.arable_mu, 0.0), coalesce(h.forest_mu, 0.0),
                        coalesce(h.orchard_mu, 0.0), coalesce(h.industry_codes, []), coalesce(h.in_cooperative, false),
                        coalesce(h.labour_ordinary, 0), coalesce(h.labour_skilled, 0), coalesce(h.labour_weak, 0),
                        coalesce(h.members, 0), coalesce(h.active_partnerships, 0),
                        CASE WHEN coalesce(h.active_partnerships, 0) = 0 THEN [] ELSE """ + OPEN_PARTNERS + """ END,
                        coalesce(h.open_followups, 0)]) AS rows
        """
    records, _, _ = driver.execute_query(
        query, with_vocabulary(query, {"county": county_code, "households": household_ids}),
        database_=database, routing_=READ)
    rows = records[0]["rows"]
    return {name: list(values) for name, values in zip(HOUSEHOLD_COLUMNS, zip(*rows))} if rows \
        else {name: [] for name in HOUSEHOLD_COLUMNS}


def county_enterprises(driver: neo4j.Driver, county_codes: list[str], database: str | None = None,
                       credit_codes: list[str] | None = None) -> list[dict]:
    """Enterprises of the counties (`credit_codes`: only those) with capacities, industries, the villages of
    their open partners, places used by mechanism, and their partnerships of every status by mechanism."""
    query = """
        MATCH (e:Enterprise) WHERE e.county_code IN $counties AND e.lon IS NOT NULL
          AND ($credit_codes IS NULL OR e.credit_code IN $credit_codes)
        CALL (e) {
          OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(p:Partnership)-[:OF_HOUSEHOLD]->(h:Household)
          WITH p, h, p.status IN $open_statuses AS open
          RETURN collect(DISTINCT CASE WHEN open THEN h.village_code END) AS partner_villages,
                 collect(CASE WHEN open THEN p.mechanism END) AS mechanisms_used,
                 collect(p.mechanism) AS mechanisms_ever
        }
        CALL (e) {
          OPTIONAL MATCH (project:Project)-[:IMPLEMENTED_BY]->(e)
          RETURN collect(DISTINCT project.county_code) AS project_counties,
                 reduce(codes = [], project_codes IN collect(coalesce(project.industry_codes, [])) | codes + project_codes)
                   AS project_industries
        }
        RETURN e.credit_code AS credit_code, e.name AS name, e.county_code AS county_code, e.lon AS lon, e.lat AS lat,
               e.enterprise_type AS enterprise_type, coalesce(e.mechanisms, []) AS mechanisms,
               coalesce(e.jobs_offered, 0) AS jobs_offered, coalesce(e.contract_households, 0) AS contract_households,
               coalesce(e.land_wanted_mu, 0.0) AS land_wanted_mu, coalesce(e.equity_households, 0) AS equity_households,
               coalesce(e.ecommerce_households, 0) AS ecommerce_households, e.skill_required AS skill_required,
               coalesce(e.industry_codes, []) AS industry_codes, coalesce(e.bought_codes, []) AS bought_codes,
               partner_villages, [m IN $mechanism_codes | size([x IN mechanisms_used WHERE x = m])] AS used,
               [m IN $mechanism_codes | size([x IN mechanisms_ever WHERE x = m])] AS history,
               project_counties, project_industries
        ORDER BY credit_code
    """
    records, _, _ = driver.execute_query(
        query, with_vocabulary(query, {"counties": county_codes, "credit_codes": credit_codes}),
        database_=database, routing_=READ)
    return [record.data() for record in records]


def enterprise_offer(driver: neo4j.Driver, credit_code: str, database: str | None = None) -> dict | None:
    """An enterprise's offer: the fields of county_enterprises that are its own (not its partnerships')."""
    records, _, _ = driver.execute_query(
        """
        MATCH (e:Enterprise {credit_code: $credit_code})
        RETURN e.credit_code AS credit_code, e.county_code AS county_code, e.lon AS lon, e.lat AS lat,
               e.enterprise_type AS enterprise_type, coalesce(e.mechanisms, []) AS mechanisms,
               coalesce(e.jobs_offered, 0) AS jobs_offered, coalesce(e.contract_households, 0) AS contract_households,
               coalesce(e.land_wanted_mu, 0.0) AS land_wanted_mu, coalesce(e.equity_households, 0) AS equity_households,
               coalesce(e.ecommerce_households, 0) AS ecommerce_households, e.skill_required AS skill_required,
               coalesce(e.industry_codes, []) AS industry_codes, coalesce(e.bought_codes, []) AS bought_codes
        """, credit_code=credit_code, database_=database, routing_=READ)
    return records[0].data() if records else None


def partnerships(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> list[dict]:
    """Past and current partnerships of the counties' households (for training and evaluation)."""
    records, _, _ = driver.execute_query(
        """
        MATCH (h:Household)<-[:OF_HOUSEHOLD]-(p:Partnership)-[:WITH_ENTERPRISE]->(e:Enterprise)
        WHERE h.county_code IN $counties
        RETURN p.partnership_id AS partnership_id, h.household_id AS household_id, e.credit_code AS credit_code,
               p.mechanism AS mechanism, p.start_date AS start_date, p.status AS status, p.end_date AS end_date,
               p.income_gain AS income_gain
        ORDER BY partnership_id
        """,
        counties=county_codes, database_=database, routing_=READ,
    )
    return [record.data() for record in records]


PARTNERSHIP_COLUMNS = ("partnership_id", "household_id", "credit_code", "mechanism", "start_date", "status", "end_date",
                       "income_gain")


DECISION_COLUMNS = ("household_id", "credit_code", "mechanism", "status", "role", "reason", "distance_km", "decided_at",
                    "household_inputs", "enterprise_inputs")


def decisions(driver: neo4j.Driver, county_codes: list[str], database: str | None = None,
              statuses: list[str] | None = None) -> list[dict]:
    """What became of the counties' recommendations that someone acted on (`statuses`, default accepted, confirmed
    or declined): household, enterprise, mechanism, distance, the reason and the role that declined, and the
    digests of both sides' inputs at a decline (matching/exclusions.py: the pair is not recommended again while
    both hold)."""
    query = """
        UNWIND $counties AS county
        MATCH (r:Recommendation {county_code: county})
        WHERE r.status IN coalesce($statuses, [$accepted, $confirmed, $declined])
        RETURN r.household_id AS household_id, r.credit_code AS credit_code, r.mechanism AS mechanism,
               r.status AS status, r.declined_by_role AS role, r.decline_reason AS reason,
               r.distance_km AS distance_km, r.decided_at AS decided_at,
               r.household_inputs AS household_inputs, r.enterprise_inputs AS enterprise_inputs
        ORDER BY decided_at, household_id, credit_code
    """
    records, _, _ = driver.execute_query(
        query, with_vocabulary(query, {"counties": county_codes, "statuses": statuses}),
        database_=database, routing_=READ)
    return [record.data() for record in records]


def counties_with_households(driver: neo4j.Driver, database: str | None = None) -> list[dict]:
    """Counties that have active households (their stored figures, graph/readstate.py), with their position."""
    records, _, _ = driver.execute_query(
        """
        MATCH (c:Region {level: 'county'}) WHERE c.households > 0
        RETURN c.code AS code, c.name AS name, c.lon AS lon, c.lat AS lat ORDER BY code
        """,
        database_=database, routing_=READ,
    )
    return [record.data() for record in records]


def held_outside(driver: neo4j.Driver, near_counties: list[str], planned_counties: list[str],
                 database: str | None = None) -> list[dict]:
    """Places held by current assigned recommendations of households outside `planned_counties`, at the
    enterprises of `near_counties` (those the planned counties reach): credit code, mechanism, count."""
    query = f"""
        {CURRENT_RUNS}
        MATCH (e:Enterprise) WHERE e.county_code IN $near
        MATCH (s:EnterpriseShortlist)
        WHERE s.credit_code = e.credit_code AND s.run_id IN current_runs AND NOT s.county_code IN $planned
          AND {is_current("s")}
        UNWIND range(0, size(s.ranks) - 1) AS j
        WITH e, s, j WHERE s.assigned[j] AND s.statuses[j] IN $holding_statuses
        RETURN e.credit_code AS credit_code, s.mechanisms[j] AS mechanism, count(*) AS n
    """
    records, _, _ = driver.execute_query(
        query, with_vocabulary(query, {"near": near_counties, "planned": planned_counties}),
        database_=database, routing_=READ)
    return [record.data() for record in records]


def county_household_counts(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> dict[str, int]:
    """county code → its active households (the stored figure, graph/readstate.py)."""
    records, _, _ = driver.execute_query(
        "UNWIND $counties AS code MATCH (c:Region {code: code}) RETURN code, coalesce(c.households, 0) AS households",
        counties=county_codes, database_=database, routing_=READ)
    return {record["code"]: record["households"] for record in records}


def latest_county_fingerprints(driver: neo4j.Driver, county_codes: list[str], database: str | None = None) -> dict:
    """county code → (fingerprint, run_id) of the latest completed run that computed it."""
    records, _, _ = driver.execute_query(
        """
        UNWIND $counties AS code
        MATCH (run:MatchRun {status: 'completed'})-[f:FOR_COUNTY]->(:Region {code: code})
        WITH code, run, f ORDER BY run.created_at DESC
        WITH code, collect({fingerprint: f.fingerprint, run_id: run.run_id})[0] AS latest
        RETURN code, latest.fingerprint AS fingerprint, latest.run_id AS run_id
        """,
        counties=county_codes, database_=database, routing_=READ,
    )
    return {record["code"]: (record["fingerprint"], record["run_id"]) for record in records}


def latest_groups(driver: neo4j.Driver, database: str | None = None) -> tuple[list[list[str]], str | None]:
    """The groups of counties a completed run solved together (the capacity they contest) and the shares of
    contested capacity they ended with (JSON, matching/run.py): the latest of the runs that planned the
    most counties (a run of one county knows no contest)."""
    records, _, _ = driver.execute_query(
        "MATCH (run:MatchRun {status: 'completed'}) WHERE run.groups IS NOT NULL "
        "RETURN run.groups AS groups, run.shares AS shares "
        "ORDER BY size(coalesce(run.counties, [])) DESC, run.created_at DESC LIMIT 1",
        database_=database, routing_=READ)
    return (json.loads(records[0]["groups"]), records[0]["shares"]) if records else ([], None)


class RunSuperseded(Exception):
    """Another attempt has taken this match run over (its job was claimed again): this one must stop writing."""


# Every write of a run attempt first takes the MatchRun's write lock (SET run.lock) and only then reads
# run.writer, so it sees a takeover committed meanwhile (as graph/jobs.py claims jobs). A takeover sets
# run.writer in its own transaction: the old attempt's later writes find another writer and are refused,
# and what it committed before is deleted by the new attempt. REMOVE run.lock leaves nothing behind.
_HOLD_RUN = """
    MATCH (run:MatchRun {run_id: $run_id})
    SET run.lock = true
    WITH run WHERE run.writer = $writer
    RETURN count(run) AS held
"""
_RELEASE_RUN = "MATCH (run:MatchRun {run_id: $run_id}) REMOVE run.lock"


def _hold_run(tx: neo4j.ManagedTransaction, run_id: str, writer: str | None) -> None:
    """Lock the run for this transaction; RunSuperseded when another attempt writes it now (None: no check)."""
    if writer is None:
        return
    if not tx.run(_HOLD_RUN, run_id=run_id, writer=writer).single()["held"]:
        raise RunSuperseded(f"匹配运行 {run_id} 已由另一次尝试接管 / run taken over by another attempt")


def _release_run(tx: neo4j.ManagedTransaction, run_id: str, writer: str | None) -> None:
    if writer is not None:
        tx.run(_RELEASE_RUN, run_id=run_id).consume()


def _as_writer(work, run_id: str, writer: str | None):
    """A transaction function doing `work(tx)` between holding and releasing the run."""
    def transaction(tx: neo4j.ManagedTransaction):
        _hold_run(tx, run_id, writer)
        result = work(tx)
        _release_run(tx, run_id, writer)
        return result
    return transaction


def begin_match_run(driver: neo4j.Driver, run_id: str, writer: str, created_at: str, props: dict,
                    database: str | None = None) -> None:
    """Create the run, or take it over: from now on only `writer` may write its recommendations and state.

    created_at stays the first attempt's (runs are ordered by it)."""
    driver.execute_query(
        """
        MERGE (r:MatchRun {run_id: $run_id})
        ON CREATE SET r.created_at = $created_at
        SET r += $props, r.writer = $writer
        """,
        run_id=run_id, writer=writer, created_at=created_at, props=props, database_=database,
    )


def save_match_run(driver: neo4j.Driver, run_id: str, props: dict, database: str | None = None,
                   writer: str | None = None) -> None:
    """Create or update a MatchRun (job state lives in the graph, visible to every worker).

    With `writer`, only while that attempt still owns the run (RunSuperseded otherwise)."""
    with driver.session(database=database) as session:
        session.execute_write(_as_writer(
            lambda tx: tx.run("MERGE (r:MatchRun {run_id: $run_id}) SET r += $props", run_id=run_id,
                              props=props).consume(), run_id, writer))


def link_run_counties(driver: neo4j.Driver, run_id: str, fingerprints: dict[str, str], database: str | None = None) -> None:
    """Record which counties the run computed, with their input fingerprints."""
    driver.execute_query(
        """
        MATCH (run:MatchRun {run_id: $run_id})
        UNWIND keys($fingerprints) AS code
        MATCH (c:Region {code: code})
        MERGE (run)-[f:FOR_COUNTY]->(c) SET f.fingerprint = $fingerprints[code]
        """,
        run_id=run_id, fingerprints=fingerprints, database_=database,
    )


def _check_writer(tx: neo4j.ManagedTransaction, run_id: str, writer: str | None) -> None:
    """RunSuperseded when another attempt owns the run now — without the run's write lock, so that the
    counties of one attempt write in parallel. A takeover committed while this transaction runs is caught by
    the attempt tag instead: only the owning attempt's recommendations are counted and made current."""
    if writer is None:
        return
    record = tx.run("MATCH (run:MatchRun {run_id: $run_id}) RETURN run.writer = $writer AS held",
                    run_id=run_id, writer=writer).single()
    if record is None or not record["held"]:
        raise RunSuperseded(f"匹配运行 {run_id} 已由另一次尝试接管 / run taken over by another attempt")


ROW_FIELDS = ("household_id", "county_code", "credit_code", "mechanism", "rank", "score", "rule_score", "distance_km",
              "assigned", "reasons", "level", "other_mechanisms")
# Row fields an earlier version's rows lack (graph/schema.py adopts such rows): stored as ''.
OPTIONAL_ROW_FIELDS = ("level", "other_mechanisms")


@dataclass(frozen=True)
class ListShape:
    """One stored label made of a run's entries: which row field keys a node, which fields are the node's own
    and which are lists of its entries (node property ← row field)."""

    label: str
    key: str
    key_parts: tuple[str, ...]  # row fields after the run id in the key, joined by '-'
    node_fields: tuple[tuple[str, str], ...]
    entry_fields: tuple[tuple[str, str], ...]

    def create_query(self) -> str:
        """Cypher that creates a batch of nodes from flat columns: parameter `$<row field>` holds the value of
        each node (node fields) or of each entry (entry fields); node i's entries are at [$starts[i], $starts[i+1])."""
        key = " + '-' + ".join(["$run_id", *(f"${part}[i]" for part in self.key_parts)])
        properties = [f"{self.key}: {key}", "run_id: $run_id"]
        properties += [f"{name}: ${field}[i]" for name, field in self.node_fields]
        properties += [f"{name}: ${field}[first..after]" for name, field in self.entry_fields]
        properties += [f"statuses: [rank IN $rank[first..after] | $proposed]", "attempt: $writer"]
        return (f"UNWIND range(0, size($starts) - 2) AS i\n"
                f"WITH i, $starts[i] AS first, $starts[i + 1] AS after\n"
                f"CREATE (:{self.label} {{{', '.join(properties)}}})")


_ENTRY_COMMON = (("ranks", "rank"), ("mechanisms", "mechanism"), ("scores", "score"), ("assigned", "assigned"))
HOUSEHOLD_LISTS = ListShape(
    "RecommendationList", "list_id", ("household_id",), (("household_id", "household_id"), ("county_code", "county_code")),
    (("credit_codes", "credit_code"), *_ENTRY_COMMON, ("rule_scores", "rule_score"), ("distances_km", "distance_km"),
     ("reasons", "reasons"), ("levels", "level"), ("other_mechanisms", "other_mechanisms")))
ENTERPRISE_SHORTLISTS = ListShape(
    "EnterpriseShortlist", "shortlist_id", ("county_code", "credit_code"),
    (("county_code", "county_code"), ("credit_code", "credit_code")), (("household_ids", "household_id"), *_ENTRY_COMMON))


def _row_columns(rows: pd.DataFrame | Iterable[dict]) -> dict[str, np.ndarray] | None:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=list(ROW_FIELDS))
    if frame.empty:
        return None
    columns = {name: frame[name].to_numpy() for name in ROW_FIELDS if name not in OPTIONAL_ROW_FIELDS}
    for name in OPTIONAL_ROW_FIELDS:
        values = frame[name].to_numpy(dtype=object) if name in frame else np.full(len(frame), "", dtype=object)
        # A text, a list of codes (joined as stored), or missing ('').
        columns[name] = np.array([value if isinstance(value, str) else ",".join(value)
                                  if isinstance(value, (list, tuple, np.ndarray)) else "" for value in values], dtype=object)
    # A row's reasons: a list of texts (stored one per line) or that text already.
    columns["reasons"] = np.array([reasons if isinstance(reasons, str) else "\n".join(reasons)
                                   for reasons in columns["reasons"]], dtype=object)
    for name in ("household_id", "county_code", "credit_code"):
        columns[name] = columns[name].astype(str).astype(object)
    columns["rank"] = columns["rank"].astype(np.int64)
    columns["assigned"] = columns["assigned"].astype(bool)
    for name in ("score", "rule_score", "distance_km"):
        columns[name] = columns[name].astype(np.float64)
    return columns


def _sorted_code(values: np.ndarray) -> np.ndarray:
    """Integer codes that sort as the texts do (texts compared in numpy or in Python are slow to sort)."""
    return pd.factorize(values, sort=True)[0]


def _batches(shape: ListShape, columns: dict[str, np.ndarray], order: np.ndarray, node_key: np.ndarray,
             entries_per_batch: int) -> list[dict]:
    """The write parameters of `shape`'s nodes: rows in `order`, a node per run of equal `node_key`, whole nodes
    per batch of about `entries_per_batch` entries."""
    ordered_key = node_key[order]
    starts = np.r_[0, np.flatnonzero(ordered_key[1:] != ordered_key[:-1]) + 1, len(order)]
    node_fields = {field for _, field in shape.node_fields} | set(shape.key_parts)
    entry_fields = {field for _, field in shape.entry_fields} | {"rank"}
    batches, node = [], 0
    nodes = len(starts) - 1
    while node < nodes:
        last = int(np.searchsorted(starts, starts[node] + entries_per_batch, side="left"))
        last = min(max(last, node + 1), nodes)  # at least one node; never beyond the last
        rows = order[starts[node]:starts[last]]
        first_rows = order[starts[node:last]]
        batch = {field: columns[field][first_rows].tolist() for field in node_fields}
        batch.update({field: columns[field][rows].tolist() for field in entry_fields})
        batch["starts"] = (starts[node:last + 1] - starts[node]).tolist()
        batches.append(batch)
        node = last
    return batches


def stored_batches(rows: pd.DataFrame | Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """The write parameters (see ListShape.create_query) of a run's recommendations for whole households and
    counties (ROW_FIELDS): household lists with entries by rank, enterprise shortlists with entries best first.

    Flat columns per batch rather than a map per node: measured at 1,000,000 households, building a map per
    list cost the client more than all of Neo4j's work on the lists."""
    columns = _row_columns(rows)
    if columns is None:
        return [], []
    household = _sorted_code(columns["household_id"])
    lists = _batches(HOUSEHOLD_LISTS, columns, np.lexsort((columns["rank"], household)), household,
                     LIST_ENTRIES_BATCH)
    enterprise = _sorted_code(columns["county_code"]) * (len(columns["credit_code"]) + 1) + _sorted_code(columns["credit_code"])
    order = np.lexsort((columns["rank"], household, -columns["score"], enterprise))
    return lists, _batches(ENTERPRISE_SHORTLISTS, columns, order, enterprise, SHORTLIST_ENTRIES_BATCH)


def stored_shape(run_id: str, rows: pd.DataFrame | Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """The nodes stored_batches' parameters create: household lists and enterprise shortlists as property maps
    (what ListShape.create_query makes of them, without the attempt)."""

    def nodes(shape: ListShape, batches: list[dict]) -> list[dict]:
        made = []
        for batch in batches:
            starts = batch["starts"]
            for i in range(len(starts) - 1):
                first, after = starts[i], starts[i + 1]
                node = {shape.key: "-".join([run_id, *(batch[part][i] for part in shape.key_parts)]), "run_id": run_id}
                node.update({name: batch[field][i] for name, field in shape.node_fields})
                node.update({name: batch[field][first:after] for name, field in shape.entry_fields})
                node["statuses"] = [PROPOSED] * (after - first)
                made.append(node)
        return made

    lists, shortlists = stored_batches(rows)
    return nodes(HOUSEHOLD_LISTS, lists), nodes(ENTERPRISE_SHORTLISTS, shortlists)


LIST_ENTRIES_BATCH = 10000  # household list entries per write transaction (about 2,000 lists)
SHORTLIST_ENTRIES_BATCH = 10000  # shortlist entries per write transaction


def write_recommendations(driver: neo4j.Driver, run_id: str, rows: pd.DataFrame | Iterable[dict],
                          database: str | None = None, writer: str | None = None) -> int:
    """Store a run's recommendations for whole households and counties (see stored_batches; one call per
    county: its enterprise shortlists are written whole), tagged with the attempt that wrote them; returns
    how many. A batch is one transaction.

    With `writer`, only while that attempt owns the run (RunSuperseded otherwise)."""
    lists, shortlists = stored_batches(rows)
    batches = [(HOUSEHOLD_LISTS.create_query(), batch) for batch in lists]
    batches += [(ENTERPRISE_SHORTLISTS.create_query(), batch) for batch in shortlists]

    def work(tx: neo4j.ManagedTransaction, query: str, batch: dict) -> None:
        _check_writer(tx, run_id, writer)
        tx.run(query, batch, run_id=run_id, writer=writer, proposed=PROPOSED).consume()

    with driver.session(database=database) as session:
        for query, batch in batches:
            session.execute_write(work, query, batch)
    return sum(len(batch["rank"]) for batch in lists)


# `node`: the run's lists and shortlists of one county (both labels are indexed on (county_code, run_id)).
_COUNTY_NODES = """
    CALL (county) {
      MATCH (l:RecommendationList) WHERE l.county_code = county.code AND l.run_id = $run_id RETURN l AS node
      UNION ALL
      MATCH (s:EnterpriseShortlist) WHERE s.county_code = county.code AND s.run_id = $run_id RETURN s AS node
    }
"""
# `l`: the run's household lists, county by county (every county Region: a run needs no index of its own).
_RUN_LISTS = """
    MATCH (county:Region {level: 'county'})
    MATCH (l:RecommendationList) WHERE l.county_code = county.code AND l.run_id = $run_id
"""


def _delete_in_batches(driver: neo4j.Driver, query: str, parameters: dict, database: str | None, batch: int,
                       run_id: str | None = None, writer: str | None = None, lock: bool = False) -> int:
    """Run `query` (deletes at most $batch nodes, returns n) until it deletes fewer; returns the total."""
    deleted = 0

    def work(tx: neo4j.ManagedTransaction) -> int:
        if lock:
            _hold_run(tx, run_id, writer)
        elif writer is not None:
            _check_writer(tx, run_id, writer)
        count = tx.run(query, {**parameters, "batch": batch}).single()["n"]
        if lock:
            _release_run(tx, run_id, writer)
        return count

    with driver.session(database=database) as session:
        while True:
            count = session.execute_write(work)
            deleted += count
            if count < batch:
                return deleted


def delete_county_recommendations(driver: neo4j.Driver, run_id: str, county: str, writer: str | None,
                                  database: str | None = None, batch: int = 5000) -> int:
    """Delete what earlier tries wrote of this run's recommendations for one county (never while the run is
    the county's current one: see delete_unfinished_recommendations); returns the lists and shortlists deleted."""
    query = ("MATCH (county:Region {code: $county}) WHERE coalesce(county.current_run, '') <> $run_id"
             + _COUNTY_NODES + "WITH node LIMIT $batch DETACH DELETE node RETURN count(*) AS n")
    return _delete_in_batches(driver, query, {"county": county, "run_id": run_id}, database, batch, run_id, writer)


def run_recommendation_count(driver: neo4j.Driver, run_id: str, database: str | None = None,
                             attempt: str | None = None) -> int:
    """How many recommendations a run has stored (with `attempt`: that attempt's only)."""
    records, _, _ = driver.execute_query(
        _RUN_LISTS + "WITH l WHERE $attempt IS NULL OR l.attempt = $attempt RETURN sum(size(l.ranks)) AS n",
        run_id=run_id, attempt=attempt, database_=database, routing_=READ)
    return records[0]["n"] or 0


def delete_unfinished_recommendations(driver: neo4j.Driver, run_id: str, writer: str, database: str | None = None,
                                      batch: int = 5000) -> int:
    """Delete what an interrupted attempt of this run wrote, before the run is written again; returns the
    lists and shortlists deleted.

    Such recommendations were never current (a run becomes current only once all of it is written), so
    nobody can have decided on one; if one was, the run is not written again (RuntimeError)."""
    records, _, _ = driver.execute_query(
        """
        CALL () { OPTIONAL MATCH (current:Region {current_run: $run_id}) RETURN count(current) AS counties }
        CALL () { OPTIONAL MATCH (decided:Recommendation {run_id: $run_id}) RETURN count(decided) AS decided }
        RETURN counties + decided AS acted_on
        """, run_id=run_id, database_=database)
    if records[0]["acted_on"]:
        raise RuntimeError(f"匹配运行 {run_id} 的推荐已在使用，不能重写 / the run's recommendations are in use")
    query = ("MATCH (county:Region {level: 'county'})" + _COUNTY_NODES
             + "WITH node LIMIT $batch DETACH DELETE node RETURN count(*) AS n")
    return _delete_in_batches(driver, query, {"run_id": run_id}, database, batch, run_id, writer, lock=True)


def delete_other_attempts(driver: neo4j.Driver, run_id: str, attempt: str, database: str | None = None,
                          batch: int = 5000) -> int:
    """Delete the run's lists and shortlists that another attempt wrote (one taken over while it was writing
    may commit a batch after the new attempt rewrote its county); returns the count."""
    query = ("MATCH (county:Region {level: 'county'})" + _COUNTY_NODES
             + "WITH node WHERE node.attempt <> $attempt WITH node LIMIT $batch DETACH DELETE node "
               "RETURN count(*) AS n")
    return _delete_in_batches(driver, query, {"run_id": run_id, "attempt": attempt}, database, batch)


def make_run_current(driver: neo4j.Driver, run_id: str, county_codes: list[str], database: str | None = None,
                     writer: str | None = None, attempt: str | None = None, expected: int | None = None) -> None:
    """The run becomes the current one of its counties (Region.current_run); older runs are kept, not current.

    With `attempt` (the attempt that wrote the run in full, `expected` recommendations), recommendations
    another attempt wrote are deleted first: only the owning attempt's become current. They are looked for
    only when the run holds more than expected.

    One transaction for all the counties: a reader (or a crash) never finds a county with two current
    runs or none, nor a run current in part of its counties. Repeating it is harmless, so an interrupted
    switch is finished by the run's next attempt."""
    if attempt is not None and (expected is None or run_recommendation_count(driver, run_id, database) != expected):
        delete_other_attempts(driver, run_id, attempt, database)

    def work(tx: neo4j.ManagedTransaction) -> None:
        previous = {record["code"]: record["previous"] for record in tx.run(
            "UNWIND $counties AS code MATCH (county:Region {code: code}) "
            "RETURN code, county.current_run AS previous", counties=county_codes)}
        tx.run("UNWIND $counties AS code MATCH (county:Region {code: code}) SET county.current_run = $run_id",
               counties=county_codes, run_id=run_id).consume()
        # The households the run plans are 已规划 now (core/coverage.py), those of the previous run no longer.
        readstate.refresh_planned(tx, county_codes)
        record_switch(tx, run_id, {code: value for code, value in previous.items() if value != run_id})
        # Each county's bureau is told, once: an interrupted switch finished again adds no second notice.
        already = tx.run("MATCH (n:Notification) WHERE n.run_id = $run_id RETURN count(n) > 0 AS told",
                         run_id=run_id).single()["told"]
        if not already:
            notifications.notify_counties(tx, county_codes, NoticeKind.RUN_COMPLETED,
                                          datetime.now(timezone.utc).isoformat(), run_id=run_id)

    with driver.session(database=database) as session:
        session.execute_write(_as_writer(work, run_id, writer))


_ASSIGNED_HOUSEHOLDS = """
    MATCH (l:RecommendationList) WHERE l.county_code = $county AND l.run_id = $run_id AND true IN l.assigned
    RETURN collect(l.household_id) AS households
"""
_COUNTY_FIGURES = """
    MATCH (county:Region {code: $county})
    OPTIONAL MATCH (t:Region)-[:PART_OF]->(county) WHERE t.households > 0
    WITH county, t ORDER BY t.code
    RETURN county {.households, .covered, .pending, .planned} AS figures,
           collect(t {.code, .name, .households, .covered, .pending, .planned}) AS townships
"""


def assigned_households(tx, county: str, run_id: str | None) -> list[str]:
    """The households a run assigned a pairing in a county (in its lists; whatever became of the entries)."""
    if not run_id:
        return []
    return tx.run(_ASSIGNED_HOUSEHOLDS, county=county, run_id=run_id).single()["households"]


def record_switch(tx: neo4j.ManagedTransaction, run_id: str, previous: dict[str, str | None]) -> None:
    """On each county's FOR_COUNTY of the run that just became current there (`previous`: county → the run
    current before): when, the run before, the households it newly plans and those it no longer plans (sorted
    ids), and the county's and its townships' coverage figures right after the switch (JSON) — what the run page
    and the trend across runs show of a run once it is no longer current. A county switched again keeps its
    first record."""
    for county, before in sorted(previous.items()):
        found = tx.run("MATCH (:MatchRun {run_id: $run_id})-[f:FOR_COUNTY]->(:Region {code: $county}) "
                       "RETURN f.switched_at IS NOT NULL AS done", run_id=run_id, county=county).single()
        if found is None or found["done"]:
            continue
        now = set(assigned_households(tx, county, run_id))
        earlier = set(assigned_households(tx, county, before))
        figures = tx.run(_COUNTY_FIGURES, county=county).single()
        tx.run("""
            MATCH (:MatchRun {run_id: $run_id})-[f:FOR_COUNTY]->(:Region {code: $county})
            SET f.switched_at = $at, f.previous_run = $before, f.newly_planned = $newly,
                f.no_longer_planned = $no_longer, f.figures = $figures, f.township_figures = $townships
            """, run_id=run_id, county=county, at=datetime.now(timezone.utc).isoformat(), before=before, newly=sorted(now - earlier),
               no_longer=sorted(earlier - now), figures=json.dumps(figures["figures"] if figures else {}),
               townships=json.dumps(figures["townships"] if figures else [], ensure_ascii=False)).consume()


def run_recommendations(driver: neo4j.Driver, run_id: str, database: str | None = None) -> list[dict]:
    """Every recommendation of a run, with whether it is current (for tests, evaluation and export)."""
    records, _, _ = driver.execute_query(
        _RUN_LISTS + "UNWIND range(0, size(l.ranks) - 1) AS i " + DECIDED
        + f" RETURN {entry({'current': is_current('l')})} AS r ORDER BY r.household_id, r.rank",
        run_id=run_id, database_=database, routing_=READ,
    )
    return [record["r"] for record in records]


# --- deciding on a recommendation (graph/ledger.py) ------------------------------------------------

def materialise_recommendation(tx: neo4j.ManagedTransaction, rec_id: str) -> bool:
    """Make sure the recommendation has its own node (created from its list entry when first decided on);
    False when there is no such recommendation."""
    found = split_rec_id(rec_id)
    if found is None:
        return False
    list_id, rank = found
    record = tx.run(f"""
        {ENTRY_BY_ID}
        {DECIDED}
        WITH l, i, decided, {entry()} AS fields
        MERGE (r:Recommendation {{rec_id: fields.rec_id}})
        ON CREATE SET r += fields
        RETURN count(r) AS n
        """, list_id=list_id, rank=rank).single()
    return bool(record and record["n"])


def sync_entry_status(tx: neo4j.ManagedTransaction, rec_id: str) -> None:
    """Copy a decided recommendation's status into its list and shortlist entries (the pages filter on them)."""
    tx.run("""
        MATCH (r:Recommendation {rec_id: $rec_id})
        OPTIONAL MATCH (l:RecommendationList {list_id: r.run_id + '-' + r.household_id})
        SET l.statuses = [i IN range(0, size(l.ranks) - 1) |
                          CASE WHEN l.ranks[i] = r.rank THEN r.status ELSE l.statuses[i] END]
        WITH r
        OPTIONAL MATCH (s:EnterpriseShortlist {shortlist_id: r.run_id + '-' + r.county_code + '-' + r.credit_code})
        SET s.statuses = [j IN range(0, size(s.ranks) - 1) |
                          CASE WHEN s.household_ids[j] = r.household_id AND s.ranks[j] = r.rank
                          THEN r.status ELSE s.statuses[j] END]
        """, rec_id=rec_id).consume()


def match_run(driver: neo4j.Driver, run_id: str, database: str | None = None) -> dict | None:
    """A MatchRun's properties."""
    records, _, _ = driver.execute_query(
        f"MATCH (r:MatchRun {{run_id: $run_id}}) RETURN {open_projection('MatchRun', 'r')} AS r",
        run_id=run_id, database_=database, routing_=READ,
    )
    return records[0]["r"] if records else None
