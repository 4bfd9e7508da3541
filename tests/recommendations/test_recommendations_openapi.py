"""The recommendations service's OpenAPI document lists every route it serves."""
from __future__ import annotations

OPS = {"/healthz", "/readyz", "/metrics", "/static/<path:filename>"}


def _path(rule) -> str:
    return rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")


def test_openapi_lists_every_route(recommendations):
    doc = recommendations.client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for rule in recommendations.app.url_map.iter_rules():
        if rule.rule in OPS:
            continue
        path = _path(rule)
        assert path in doc["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], (path, method)
            op = doc["paths"][path][method.lower()]
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(rule.arguments), (path, method)


def test_openapi_security_matches_the_guards(recommendations):
    """An operation documented without a token really answers without one (not 401)."""
    doc = recommendations.client.get("/openapi.json").json
    for rule in recommendations.app.url_map.iter_rules():
        if rule.rule in OPS or rule.rule == "/openapi.json":
            continue
        path = _path(rule)
        url = rule.rule.replace("<int:version>", "1")
        for arg in rule.arguments:
            url = url.replace(f"<{arg}>", "x")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            op = doc["paths"][path][method.lower()]
            status = recommendations.client.open(url, method=method).status_code
            if op["security"]:
                assert status == 401, (path, method, status)
            else:
                assert status != 401, (path, method, status)
