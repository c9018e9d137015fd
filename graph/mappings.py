"""Cypher for the column mappings bureau staff save: a header the ETL does not recognise, read as a field in
their county's later uploads (etl/readers.py applies them; services/uploads.py checks what may be saved)."""
import neo4j

from graph.querybuilder import open_projection

READ = neo4j.RoutingControl.READ
MAPPING = open_projection("HeaderMapping", "m")


def save_mapping(driver: neo4j.Driver, mapping: dict, database: str | None = None) -> dict:
    """Create or replace the mapping of one header of one kind in one county."""
    records, _, _ = driver.execute_query(
        f"MERGE (m:HeaderMapping {{mapping_id: $mapping.mapping_id}}) SET m = $mapping RETURN {MAPPING} AS mapping",
        mapping=mapping, database_=database)
    return records[0]["mapping"]


def delete_mapping(driver: neo4j.Driver, county_code: str | None, mapping_id: str,
                   database: str | None = None) -> bool:
    """Delete a county's mapping (county None: whichever county's); False when there is no such mapping."""
    records, _, _ = driver.execute_query(
        "MATCH (m:HeaderMapping {mapping_id: $mapping_id}) WHERE $county IS NULL OR m.county_code = $county "
        "WITH m, m.mapping_id AS gone DETACH DELETE m RETURN gone",
        mapping_id=mapping_id, county=county_code, database_=database)
    return bool(records)


def county_mappings(driver: neo4j.Driver, county_codes: list[str] | None,
                    database: str | None = None) -> list[dict]:
    """The mappings of the counties (None: of every county), by county, kind and header."""
    records, _, _ = driver.execute_query(
        f"MATCH (m:HeaderMapping) WHERE $counties IS NULL OR m.county_code IN $counties RETURN {MAPPING} AS mapping "
        "ORDER BY m.county_code, m.kind, m.header_key",
        counties=None if county_codes is None else list(county_codes), database_=database, routing_=READ)
    return [record["mapping"] for record in records]
