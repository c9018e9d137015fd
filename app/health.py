"""Liveness and readiness probes."""
from flask import Blueprint, jsonify

from app.extensions import neo4j_ext
from app.problems import database_unavailable
from services.health import database_ready

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up; touches no database."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready when a Bolt round-trip to Neo4j succeeds; 503 problem otherwise."""
    if not database_ready(neo4j_ext.context):
        return database_unavailable()
    return jsonify(status="ready", neo4j="ok")
