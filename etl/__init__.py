"""ETL: bureau files (CSV / XLSX / XLS) → validated rows → the Neo4j graph.

get (etl.readers) → validate and transform (etl.formats, etl.validate, etl.transform) → load
(etl.load orchestrates: etl.scope, etl.references, etl.regions, etl.writer with the Cypher that
graph.querybuilder generates from graph.model) → cleanup (etl.deactivation: inactive households).
"""
