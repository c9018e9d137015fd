"""Neo4j access for Lianjie: the driver, the schema, every Cypher query and the local runtime."""
