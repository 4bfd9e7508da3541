"""The pool: an assembly's response statistics, and the export of its pool (features only,
keyed by the registrants' random ids) that sortition draws from."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from services.common.auth import require
from services.registry import inputs, outgoing, pool, queries
from services.registry.context import current
from services.registry.roles import ANYONE, OPERATORS

blueprint = Blueprint("registry_pool", __name__)


@blueprint.get("/api/assemblies/<assembly_id>/statistics")
@require(*ANYONE)
def assembly_statistics(assembly_id: str) -> Response:
    with current().engine.connect() as conn:
        queries.assembly(conn, assembly_id)
        return jsonify(pool.statistics(conn, assembly_id))


@blueprint.post("/api/assemblies/<assembly_id>/pool-exports")
@require(*OPERATORS)
def export_pool(assembly_id: str) -> Response:
    ctx = current()
    fmt = inputs.export_format()
    with ctx.engine.begin() as conn:
        queries.open_assembly(conn, assembly_id)
        body, digest, count, version = pool.export_pool(conn, assembly_id, fmt)
        inputs.audit_change(conn, "pool.export", f"assembly:{assembly_id}",
                            {"pool_version": version, "registrants": count, "sha256": digest})
        outgoing.pool_exported(conn, ctx.settings.region, assembly_id=assembly_id,
                               version=version, count=count, digest=digest)
    outgoing.publish(ctx)
    media = "text/csv" if fmt == "csv" else "application/json"
    return Response(body, 200, {"Content-Type": media, "X-Pool-SHA256": digest,
                                "X-Pool-Version": version})
