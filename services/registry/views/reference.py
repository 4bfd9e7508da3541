"""Reference for operators: the municipalities a rollout's scope is made of, and the
OpenAPI document of the operator API."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from services.common.auth import require
from services.common.geography import municipalities
from services.registry.openapi import document
from services.registry.roles import ANYONE

blueprint = Blueprint("registry_reference", __name__)


@blueprint.get("/api/municipalities")
@require(*ANYONE)
def list_municipalities() -> Response:
    return jsonify(municipalities=[{"code": m.code, "name": m.name, "region_code": m.region_code,
                                    "region_name": m.region_name}
                                   for m in municipalities().values()])


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(document())
