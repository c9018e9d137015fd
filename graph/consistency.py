"""Cross-file consistency checks: Cypher over one county's households, their members and ledger rows, run after a
load has written its files (etl/rules.py declares the rules: id, severity, message, what a finding shows).

A check is a Cypher condition on one household `h` (with its members counted once: `disabled`, `heads`,
`relations`) or on one ledger row `p` of a household. The stored read state (graph/readstate.py: `members`,
`labour_ordinary`, `labour_skilled`) stands in for counting members wherever it can. All checks of a subject
run in one pass over the county's active households (the county_code index), each returning a list of flags in
CHECKS order; code values are parameters (graph/vocabulary.py), so no value is ever written into the text.
"""
from dataclasses import dataclass

import neo4j

from graph.vocabulary import with_vocabulary

HOUSEHOLD, PARTNERSHIP = "household", "partnership"


@dataclass(frozen=True)
class Check:
    """The Cypher of one cross-file rule: a condition on `h` (HOUSEHOLD) or on `p` and its `h` (PARTNERSHIP); a
    null answer counts as false (the values it needs are missing: nothing to say)."""

    rule: str
    subject: str
    condition: str


CHECKS: tuple[Check, ...] = (
    Check("hh.size_vs_members", HOUSEHOLD, "members > 0 AND h.household_size <> members"),
    Check("hh.disability_without_disabled_member", HOUSEHOLD,
          "members > 0 AND $disability_cause IN causes AND disabled = 0"),
    Check("hh.lack_of_labour_with_able_member", HOUSEHOLD, "$lack_of_labour_cause IN causes AND able > 0"),
    Check("hh.two_heads", HOUSEHOLD, "heads > 1"),
    Check("hh.no_head", HOUSEHOLD, "relations > 0 AND heads = 0"),  # only where relations were recorded
    Check("pt.employment_without_able_member", PARTNERSHIP,
          "p.mechanism = $employment_mechanism AND p.status IN $open_statuses AND members > 0 AND able = 0"),
    Check("pt.start_before_identification", PARTNERSHIP,
          "toInteger(left(p.start_date, 4)) < h.identification_year"),
    Check("pt.in_force_expired", PARTNERSHIP, "p.status = $in_force AND p.end_date < $today"),  # ISO dates
)

_HOUSEHOLDS = "MATCH (h:Household) WHERE h.county_code = $county AND h.active"
_READ_STATE = ("coalesce(h.members, 0) AS members, "
               "coalesce(h.labour_ordinary, 0) + coalesce(h.labour_skilled, 0) AS able")


def _flags(subject: str) -> str:
    return "[" + ", ".join(f"coalesce({check.condition}, false)" for check in CHECKS if check.subject == subject) + "]"


# What a finding of each subject carries beside its record's key, in the order the queries return it.
DETAILS = {HOUSEHOLD: ("household_size", "members", "able", "heads"),
           PARTNERSHIP: ("members", "able", "start_date", "end_date", "identification_year")}

# Each query answers in one record of lists: a record per finding costs the driver a network read each (a county
# of a synthetic province had 60,000 findings).
HOUSEHOLD_QUERY = f"""
  {_HOUSEHOLDS}
  CALL (h) {{
    OPTIONAL MATCH (m:Member)-[:MEMBER_OF]->(h)
    RETURN count(CASE WHEN m.health = $disabled_health THEN 1 END) AS disabled,
           count(CASE WHEN m.relation IN $head_relations THEN 1 END) AS heads,
           count(m.relation) AS relations
  }}
  WITH h, disabled, heads, relations, [h.main_cause] + coalesce(h.other_causes, []) AS causes, {_READ_STATE}
  WITH h, disabled, heads, relations, members, able, {_flags(HOUSEHOLD)} AS flags
  WHERE true IN flags
  WITH h, members, able, heads, flags ORDER BY h.household_id
  RETURN collect([h.household_id, null, flags, h.household_size, members, able, heads]) AS findings
"""

PARTNERSHIP_QUERY = f"""
  {_HOUSEHOLDS}
  MATCH (p:Partnership)-[:OF_HOUSEHOLD]->(h)
  WITH h, p, {_READ_STATE}
  WITH h, p, members, able, {_flags(PARTNERSHIP)} AS flags
  WHERE true IN flags
  WITH h, p, members, able, flags ORDER BY h.household_id, p.partnership_id
  RETURN collect([h.household_id, p.partnership_id, flags, members, able, p.start_date, p.end_date,
                  h.identification_year]) AS findings
"""


def county_findings(driver: neo4j.Driver, county: str, today: str, database: str | None = None) -> list[dict]:
    """The findings of every check in one county (today: the ISO date dates are compared with): {rule,
    household_id, partnership_id (None for a household's), details (DETAILS)}, households' first, each subject
    in key order."""
    findings = []
    for subject, query in ((HOUSEHOLD, HOUSEHOLD_QUERY), (PARTNERSHIP, PARTNERSHIP_QUERY)):
        rules = [check.rule for check in CHECKS if check.subject == subject]
        names = DETAILS[subject]
        records, _, _ = driver.execute_query(query, with_vocabulary(query, {"county": county, "today": today}),
                                             database_=database, routing_=neo4j.RoutingControl.READ)
        for household_id, partnership_id, flags, *values in records[0]["findings"]:
            details = dict(zip(names, values))
            findings += [{"rule": rule, "household_id": household_id, "partnership_id": partnership_id,
                          "details": details} for rule, flag in zip(rules, flags) if flag]
    return findings


def household_counties(driver: neo4j.Driver, database: str | None = None) -> list[str]:
    """The counties of every active household (a first, bulk load checks them all)."""
    records, _, _ = driver.execute_query(
        "MATCH (h:Household) WHERE h.active WITH DISTINCT h.county_code AS code WHERE code IS NOT NULL "
        "RETURN code ORDER BY code", database_=database, routing_=neo4j.RoutingControl.READ)
    return [record["code"] for record in records]


def household_counties_of(driver: neo4j.Driver, household_ids: list[str], database: str | None = None) -> set[str]:
    """The counties of the stored households among household_ids (one record per 50,000 ids)."""
    counties: set[str] = set()
    for start in range(0, len(household_ids), 50_000):
        records, _, _ = driver.execute_query(
            "UNWIND $ids AS id MATCH (h:Household {household_id: id}) "
            "RETURN collect(DISTINCT h.county_code) AS counties",
            ids=household_ids[start:start + 50_000], database_=database, routing_=neo4j.RoutingControl.READ)
        counties.update(code for code in records[0]["counties"] if code)
    return counties


def member_households(driver: neo4j.Driver, keys: list[str], households: list[str],
                      database: str | None = None) -> dict[str, str]:
    """For members' keys (id_hash) and the household a file now names for each: the household a stored member
    of that key is in, where it is another one (key → stored household)."""
    moved: dict[str, str] = {}
    for start in range(0, len(keys), 50_000):
        records, _, _ = driver.execute_query(
            "UNWIND range(0, size($keys) - 1) AS i WITH $keys[i] AS key, $households[i] AS household "
            "MATCH (m:Member {id_hash: key}) WHERE m.household_id <> household "
            "RETURN collect([m.id_hash, m.household_id]) AS moved",
            keys=keys[start:start + 50_000], households=households[start:start + 50_000], database_=database,
            routing_=neo4j.RoutingControl.READ)
        moved.update((key, household) for key, household in records[0]["moved"])
    return moved
