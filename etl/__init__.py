"""ETL: bureau files (CSV / XLSX / XLS) → validated rows → the Neo4j graph.

get (etl.readers) → transform and validate (etl.formats, etl.validate, etl.transform)
→ load (etl.load, Cypher generated in graph.loading) → cleanup (inactive households).
"""
