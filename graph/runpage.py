"""Cypher for a match run's page: what the run did in each county it computed, read from what the switch
recorded on its FOR_COUNTY relationship (graph/matching.py record_switch) and from its own lists.

Each read is bounded by a county: a page of changed or unplaced households reads a slice of the stored ids
and those households only; capacity use reads the run's shortlists of the county (one per enterprise).
"""
import json

import neo4j

from graph.views import household_summary
from graph.vocabulary import with_vocabulary

READ = neo4j.RoutingControl.READ

# The id lists a run's county record keeps (record_switch; unplaced: the diagnosis, services/run_page.py).
CHANGE_KINDS = {"newly_planned": "f.newly_planned", "no_longer_planned": "f.no_longer_planned"}


def _read(driver: neo4j.Driver, query: str, params: dict, database: str | None) -> list[neo4j.Record]:
    records, _, _ = driver.execute_query(query, with_vocabulary(query, params), database_=database, routing_=READ)
    return records


def run_counties(driver: neo4j.Driver, run_id: str, database: str | None = None) -> list[dict]:
    """The counties the run computed: code, name, whether the run is current there, when it became current,
    the run current before it, the counts of households it newly planned / no longer planned, the county's and
    townships' figures right after the switch (JSON texts), the county's and its townships' figures now (stored
    read state), and whether the unplaced households were diagnosed."""
    records = _read(driver, """
        MATCH (:MatchRun {run_id: $run_id})-[f:FOR_COUNTY]->(county:Region)
        CALL (county) {
          OPTIONAL MATCH (t:Region)-[:PART_OF]->(county) WHERE t.households > 0
          WITH t ORDER BY t.code
          RETURN collect(t {.code, .name, households: coalesce(t.households, 0), covered: coalesce(t.covered, 0),
                            pending: coalesce(t.pending, 0), planned: coalesce(t.planned, 0)}) AS townships_now
        }
        RETURN county.code AS code, county.name AS name, county.current_run = $run_id AS current,
               f.switched_at AS switched_at, f.previous_run AS previous_run,
               size(coalesce(f.newly_planned, [])) AS newly_planned, size(coalesce(f.no_longer_planned, [])) AS
               no_longer_planned, f.figures AS figures, f.township_figures AS township_figures,
               county {households: coalesce(county.households, 0), covered: coalesce(county.covered, 0),
                       pending: coalesce(county.pending, 0), planned: coalesce(county.planned, 0)} AS figures_now,
               townships_now, f.unplaced IS NOT NULL AS diagnosed, f.unplaced_at AS unplaced_at
        ORDER BY code
        """, {"run_id": run_id}, database)
    return [record.data() for record in records]


def previous_run_time(driver: neo4j.Driver, run_id: str | None, database: str | None = None) -> str | None:
    """When a run was started (None for none)."""
    if not run_id:
        return None
    records = _read(driver, "MATCH (r:MatchRun {run_id: $run_id}) RETURN r.created_at AS at", {"run_id": run_id},
                    database)
    return records[0]["at"] if records else None


def run_sequence(driver: neo4j.Driver, run_id: str, county: str, database: str | None = None) -> int | None:
    """The run's number among the completed runs that computed the county (1 = the first)."""
    records = _read(driver, """
        MATCH (run:MatchRun {run_id: $run_id})
        MATCH (other:MatchRun)-[:FOR_COUNTY]->(:Region {code: $county})
        WHERE other.status = 'completed' AND other.created_at <= run.created_at
        RETURN count(other) AS n
        """, {"run_id": run_id, "county": county}, database)
    return records[0]["n"] if records and records[0]["n"] else None


def changed_households(driver: neo4j.Driver, run_id: str, county: str, kind: str, skip: int, limit: int,
                       database: str | None = None) -> tuple[list[dict], int]:
    """A page of the households the run newly planned (or no longer planned) in the county, against the run
    current before it, with their summaries and their coverage state now."""
    ids = CHANGE_KINDS[kind]
    records = _read(driver, f"""
        MATCH (:MatchRun {{run_id: $run_id}})-[f:FOR_COUNTY]->(:Region {{code: $county}})
        WITH coalesce({ids}, []) AS ids
        RETURN size(ids) AS total, ids[$skip..$skip + $limit] AS page
        """, {"run_id": run_id, "county": county, "skip": skip, "limit": limit}, database)
    if not records:
        return [], 0
    return households_by_id(driver, records[0]["page"], database), records[0]["total"]


def households_by_id(driver: neo4j.Driver, household_ids: list[str], database: str | None = None) -> list[dict]:
    """Household summaries in the order of the ids given (ids of no household are left out)."""
    if not household_ids:
        return []
    records = _read(driver, f"""
        UNWIND range(0, size($ids) - 1) AS position
        MATCH (h:Household {{household_id: $ids[position]}})
        WITH h, position
        {household_summary(carry="position")}
        RETURN item ORDER BY position
        """, {"ids": household_ids}, database)
    return [record["item"] for record in records]


def unplaced(driver: neo4j.Driver, run_id: str, county: str, database: str | None = None) -> dict | None:
    """The stored diagnosis of the county's unplaced households ({"at", "rows": [[household id, binding,
    {mechanism code: reason}]…], …}) or None when it was not made yet."""
    records = _read(driver, """
        MATCH (:MatchRun {run_id: $run_id})-[f:FOR_COUNTY]->(:Region {code: $county})
        RETURN f.unplaced AS unplaced, f.unplaced_at AS at
        """, {"run_id": run_id, "county": county}, database)
    if not records or records[0]["unplaced"] is None:
        return None
    return {**json.loads(records[0]["unplaced"]), "at": records[0]["at"]}


def store_unplaced(driver: neo4j.Driver, run_id: str, county: str, diagnosis: dict, at: str,
                   database: str | None = None) -> None:
    """Keep a county's diagnosis with the run (computed once, read by every later view)."""
    driver.execute_query("""
        MATCH (:MatchRun {run_id: $run_id})-[f:FOR_COUNTY]->(:Region {code: $county})
        SET f.unplaced = $unplaced, f.unplaced_at = $at
        """, run_id=run_id, county=county, unplaced=json.dumps(diagnosis, ensure_ascii=False), at=at,
        database_=database)


def capacity_use(driver: neo4j.Driver, run_id: str, county: str, database: str | None = None) -> list[dict]:
    """Per enterprise the run's shortlists of the county name, and per enterprise of the county: its offer
    (mechanisms and the amounts of its capacity fields), its open partnerships by mechanism and status (now),
    and the places the run assigned by mechanism (and those of them still proposed)."""
    records = _read(driver, """
        CALL () {
          MATCH (s:EnterpriseShortlist) WHERE s.county_code = $county AND s.run_id = $run_id
          RETURN s.credit_code AS credit_code,
                 [j IN range(0, size(s.ranks) - 1) WHERE s.assigned[j] | s.mechanisms[j]] AS assigned,
                 [j IN range(0, size(s.ranks) - 1) WHERE s.assigned[j] AND s.statuses[j] = $proposed
                  | s.mechanisms[j]] AS proposed
          UNION ALL
          MATCH (e:Enterprise) WHERE e.county_code = $county
          RETURN e.credit_code AS credit_code, [] AS assigned, [] AS proposed
        }
        WITH credit_code, reduce(acc = [], x IN collect(assigned) | acc + x) AS assigned,
             reduce(acc = [], x IN collect(proposed) | acc + x) AS proposed
        MATCH (e:Enterprise {credit_code: credit_code})
        CALL (e) {
          OPTIONAL MATCH (e)<-[:WITH_ENTERPRISE]-(p:Partnership) WHERE p.status IN $open_statuses
          RETURN collect({mechanism: p.mechanism, status: p.status}) AS open_partnerships
        }
        RETURN e {.credit_code, .name, .county_code, .mechanisms, .jobs_offered, .contract_households, .land_wanted_mu,
                  .equity_households, .ecommerce_households} AS enterprise,
               open_partnerships, assigned, proposed
        ORDER BY credit_code
        """, {"run_id": run_id, "county": county}, database)
    return [record.data() for record in records]
