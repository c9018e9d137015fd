"""Integration tests: a real Neo4j (the tests' own instance), the app on it, gunicorn, the browser, the notebooks."""
