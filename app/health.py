"""Liveness and readiness probes."""
import neo4j
from flask import Blueprint, jsonify

from app.extensions import neo4j_ext
from app.problems import database_unavailable
from graph.db import ping

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up; touches no database."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when a Bolt round-trip to Neo4j succeeds; 503 problem otherwise."""
    try:
        ping(neo4j_ext.driver, neo4j_ext.database)
    except (neo4j.exceptions.DriverError, OSError):
        return database_unavailable()
    return jsonify(status="ready", neo4j="ok")
