"""Unit tests: no Neo4j, no server, no browser — rules, assignment, scoring, vocabulary, layering, file handling."""
