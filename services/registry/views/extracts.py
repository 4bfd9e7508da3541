"""Population extracts: an operator uploads the CSV of an assembly's population; every row
is checked and a file with any bad row imports nothing."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify

from services.common.auth import require
from services.common.web import ApiError, large_body
from services.registry import inputs, queries
from services.registry.context import current
from services.registry.importer import MappingError, import_extract
from services.registry.roles import OPERATORS

blueprint = Blueprint("registry_extracts", __name__)


@blueprint.post("/api/assemblies/<assembly_id>/extracts")
@large_body(lambda: current().settings.extract_max_bytes)
@require(*OPERATORS)
def import_extract_endpoint(assembly_id: str) -> tuple[Response, int]:
    ctx = current()
    stream, mapping = inputs.extract_upload()
    settings = ctx.settings
    conn = ctx.engine.connect()
    try:
        trans = conn.begin()
        queries.open_assembly(conn, assembly_id)
        try:
            result = import_extract(conn, assembly_id, stream, mapping, ctx.sealer,
                                    batch_size=settings.import_batch_size,
                                    max_errors=settings.import_max_errors)
        except MappingError as exc:
            trans.rollback()
            raise ApiError(exc.field, exc.reason) from None
        if not result.ok:
            trans.rollback()
            return jsonify(error=f"the extract has {result.error_count} bad rows; nothing was "
                                 f"imported", field="file", error_count=result.error_count,
                           errors=result.errors), 422
        inputs.audit_change(conn, "extract.import", f"assembly:{assembly_id}",
                            {"extract_id": result.extract_id, "rows": result.rows,
                             "sha256": result.sha256})
        trans.commit()
    finally:
        conn.close()
    return jsonify(extract_id=result.extract_id, rows=result.rows, sha256=result.sha256), 201
