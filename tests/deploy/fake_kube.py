"""A Kubernetes API server for tests: the slice ``kleroterion ops`` uses, over real HTTP.

ConfigMaps (core/v1) and Deployments (apps/v1): list with an equality ``labelSelector``,
get, and patch with JSON merge patch or strategic merge patch (which for the maps these
objects' patches touch means the same thing). Every request is recorded so tests can check
what the client sent. No real cluster exists on the test machine; this stands in for one.
"""
from __future__ import annotations

import copy
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"

_ROUTES = [
    (re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/configmaps(?:/(?P<name>[^/]+))?$"),
     "ConfigMap", "v1"),
    (re.compile(r"^/apis/apps/v1/namespaces/(?P<ns>[^/]+)/deployments(?:/(?P<name>[^/]+))?$"),
     "Deployment", "apps/v1"),
]


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _matches(labels: dict, selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, _, value = term.partition("=")
        if labels.get(key.strip()) != value.strip().lstrip("="):
            return False
    return True


class FakeKube:
    def __init__(self):
        self.objects: dict[tuple[str, str, str], dict] = {}  # (kind, ns, name) -> object
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self._version = 100

    def add(self, obj: dict, namespace: str) -> None:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = namespace
        meta.setdefault("generation", 1)
        meta["resourceVersion"] = self._bump()
        meta.setdefault("uid", f"uid-{meta['name']}")
        self.objects[(obj["kind"], namespace, meta["name"])] = obj

    def get(self, kind: str, namespace: str, name: str) -> dict:
        return self.objects[(kind, namespace, name)]

    def _bump(self) -> str:
        self._version += 1
        return str(self._version)

    # --- HTTP ---------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, content_type: str, body: bytes):
        for pattern, route_kind, route_api_version in _ROUTES:
            m = pattern.match(path)
            if m:
                kind, api_version = route_kind, route_api_version
                break
        else:
            return 404, _status(404, "NotFound", f"the server could not find {path}")
        ns, name = m["ns"], m["name"]
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": query,
                                  "content_type": content_type,
                                  "body": json.loads(body) if body else None})
            if method == "GET" and name is None:
                selector = query.get("labelSelector", [""])[0]
                items = [o for (k, n, _), o in sorted(self.objects.items())
                         if k == kind and n == ns
                         and _matches(o["metadata"].get("labels", {}), selector)]
                return 200, {"kind": f"{kind}List", "apiVersion": api_version,
                             "metadata": {"resourceVersion": str(self._version)},
                             "items": items}
            obj = self.objects.get((kind, ns, name or ""))
            if obj is None:
                return 404, _status(404, "NotFound", f'{kind.lower()}s "{name}" not found')
            if method == "GET":
                return 200, obj
            if method == "PATCH":
                if content_type not in (MERGE_PATCH, STRATEGIC_PATCH):
                    return 415, _status(415, "UnsupportedMediaType",
                                        f"the body of the request was in an unknown format - "
                                        f"accepted media types include: {MERGE_PATCH}, "
                                        f"{STRATEGIC_PATCH}")
                patch = json.loads(body)
                wanted_rv = (patch.get("metadata") or {}).get("resourceVersion")
                if wanted_rv and wanted_rv != obj["metadata"]["resourceVersion"]:
                    return 409, _status(409, "Conflict", "the object has been modified")
                updated = merge_patch(obj, patch)
                updated["metadata"]["resourceVersion"] = self._bump()
                if kind == "Deployment" and updated.get("spec") != obj.get("spec"):
                    updated["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
                self.objects[(kind, ns, name)] = updated
                return 200, updated
            return 405, _status(405, "MethodNotAllowed", f"{method} is not supported here")

    def serve(self):
        """Start on a free loopback port; returns (url, stop)."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _do(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                status, payload = fake.handle(self.command, parts.path, parse_qs(parts.query),
                                              ctype, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = do_POST = do_PUT = do_DELETE = _do

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()

        def stop():
            server.shutdown()
            server.server_close()
            thread.join(5)

        return f"http://127.0.0.1:{server.server_port}", stop


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def kubeconfig(url: str, namespace: str) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": url}}],
        "users": [{"name": "ops", "user": {"token": "test-token"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "ops",
                                                  "namespace": namespace}}],
        "current-context": "fake",
    })
