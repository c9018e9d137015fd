"""Deployment tooling: the project's nginx reverse proxy in front of gunicorn (deploy/nginx.py, nginx.conf.j2).

Not a layer of the application: nothing in core … app imports it; the Makefile, the tests and the benchmarks do.
"""
