"""Cypher of the search boxes: the households a search finds, by 户主姓名 (full-text, `cjk` analyser), 户编号 prefix
or the keyed hash of an ID number's last four characters; enterprises by name (full-text).

Each function returns a fixed Cypher fragment that binds `h` (or `e`), read from an index — never a scan of the
county: the name through the full-text index on (head_name, county_code), whose query names the county (so the
index itself keeps out the other counties' namesakes); a prefix through the 户编号 uniqueness index (a range
seek, in 户编号 order); a suffix through the composite index (county_code, head_id_suffix_hash) for heads and
the index on Member.id_suffix_hash for the other members. The values travel as parameters ($search_value,
$county_code); the searches' callers (graph/views.py) add their filters after the fragment.
"""
from dataclasses import dataclass

from core.search import SearchMode
from graph.model import NODES
from graph.querybuilder import fulltext_index_name

HOUSEHOLD_NAME_INDEX = fulltext_index_name(NODES["Household"], ("head_name", "county_code"))
ENTERPRISE_NAME_INDEX = fulltext_index_name(NODES["Enterprise"], ("name", "county_code"))


@dataclass(frozen=True)
class HouseholdMatch:
    """What the graph is searched with: the mode and its value (a Lucene query of the name and county, a 户编号
    prefix, or the keyed hash of an ID suffix — never the suffix itself)."""

    mode: SearchMode
    value: str

    def params(self) -> dict:
        return {"search_value": self.value}


def households_found(match: HouseholdMatch, county: bool) -> str:
    """A fragment ending in `WITH h` (a WHERE may follow) binding each household the search finds to `h` once
    (county: the ID-suffix mode keeps only those of $county_code, its index being keyed by county; the name's
    query names the county itself)."""
    if match.mode == SearchMode.NAME:
        return (f"CALL db.index.fulltext.queryNodes('{HOUSEHOLD_NAME_INDEX}', $search_value) YIELD node AS h "
                "WITH h")
    if match.mode == SearchMode.HOUSEHOLD_PREFIX:
        return ("MATCH (h:Household) USING INDEX h:Household(household_id) "
                "WHERE h.household_id STARTS WITH $search_value WITH h")
    if not county:
        raise ValueError("an ID-suffix search needs the county")
    return """CALL () {
          MATCH (h:Household) USING INDEX h:Household(county_code, head_id_suffix_hash)
          WHERE h.county_code = $county_code AND h.head_id_suffix_hash = $search_value RETURN h
          UNION
          MATCH (m:Member) USING INDEX m:Member(id_suffix_hash) WHERE m.id_suffix_hash = $search_value
          MATCH (m)-[:MEMBER_OF]->(h:Household) WHERE h.county_code = $county_code RETURN h
        }
        WITH h"""


def suffix_predicate() -> str:
    """For an ID-suffix search among rows found otherwise (an enterprise's own partnerships): the condition that
    household `h` has a head or member with that suffix hash ($search_value)."""
    return ("(h.head_id_suffix_hash = $search_value OR EXISTS { MATCH (m:Member)-[:MEMBER_OF]->(h) "
            "WHERE m.id_suffix_hash = $search_value })")


def enterprises_found() -> str:
    """A fragment binding each enterprise whose name the full-text query ($search_value) finds to `e`."""
    return (f"CALL db.index.fulltext.queryNodes('{ENTERPRISE_NAME_INDEX}', $search_value) YIELD node AS e "
            "WITH e")
