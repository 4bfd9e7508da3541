"""The sessions service's OpenAPI document lists every route it serves."""
from __future__ import annotations

OPS = {"/healthz", "/readyz", "/metrics", "/static/<path:filename>"}


def test_openapi_lists_every_route(sessions):
    doc = sessions.client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for rule in sessions.app.url_map.iter_rules():
        if rule.rule in OPS:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        assert path in doc["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], (path, method)
            op = doc["paths"][path][method.lower()]
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(rule.arguments), (path, method)
            # Operator endpoints say so; public ones explicitly need no token.
            assert op["security"] == ([{"bearer": []}] if path.startswith("/api/") else [])
