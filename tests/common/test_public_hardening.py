"""Public endpoints hardened (issue 15, part 5): security headers on every route of every
Flask service, the request-size limit, and safe 400s for hostile input."""
from __future__ import annotations

import io
import json
import re

import pytest
from flask import Flask
from werkzeug.routing import Rule

from services.common import web
from services.common.bus import InProcessBus
from services.common.plugins import PluginHost
from services.recommendations import app as recommendations_app
from services.recommendations.settings import Settings as RecommendationsSettings
from services.registry import app as registry_app
from services.registry.settings import Settings as RegistrySettings
from services.sessions import app as sessions_app
from services.sessions.settings import Settings as SessionsSettings

SERVICES = {
    "registry": (registry_app, RegistrySettings),
    "sessions": (sessions_app, SessionsSettings),
    "recommendations": (recommendations_app, RecommendationsSettings),
}


def build(name: str, tmp_path, **overrides) -> Flask:
    module, settings_type = SERVICES[name]
    settings = settings_type.from_env({}, data_dir=str(tmp_path / name), **overrides)
    ctx = module.build(settings, bus=InProcessBus(), plugins=PluginHost(enabled=["formats"]))
    app = module.create_app(context=ctx)
    app.testing = True
    return app


@pytest.fixture(params=sorted(SERVICES))
def service(request, tmp_path):
    app = build(request.param, tmp_path)
    yield request.param, app
    app.extensions["kleroterion.context"].engine.dispose()


def concrete(rule: Rule) -> str:
    # Any value will do for a path parameter: a 404 or 401 must carry the headers too.
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: f"x-{m.group(1)}", rule.rule)


def check_headers(response, where: str) -> None:
    h = response.headers
    assert h.get("X-Content-Type-Options") == "nosniff", where
    assert h.get("Referrer-Policy") == "no-referrer", where
    assert "camera=()" in h.get("Permissions-Policy", ""), where
    csp = h.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, where
    script = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script and "'nonce-" in script, where
    assert "Strict-Transport-Security" not in h, f"{where}: HSTS over plain HTTP"


def test_every_route_of_every_service_carries_the_security_headers(service):
    name, app = service
    client = app.test_client()
    rules = list(app.url_map.iter_rules())
    assert len(rules) > 10
    for rule in rules:
        if rule.endpoint == "static":
            continue
        url = concrete(rule)
        methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        method = "GET" if "GET" in methods else methods[0]
        r = client.open(url, method=method, json={} if method != "GET" else None)
        assert r.status_code < 500, f"{name} {method} {url}: {r.status_code}"
        check_headers(r, f"{name} {method} {url}")


def test_hsts_only_over_https_and_x_forwarded_proto_only_behind_a_trusted_proxy(tmp_path):
    app = build("sessions", tmp_path)
    client = app.test_client()
    secure = client.get("/healthz", base_url="https://sessions.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    forged = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers
    proxied = build("registry", tmp_path, trusted_proxy=True).test_client()
    behind = proxied.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert behind.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_run_only_scripts_that_carry_this_requests_nonce(tmp_path):
    app = Flask("t")
    web.install(app, "t")

    @app.get("/page")
    def page():
        return app.jinja_env.from_string(
            '<script nonce="{{ csp_nonce() }}">1</script>').render()

    client = app.test_client()
    first, second = client.get("/page"), client.get("/page")
    nonces = []
    for r in (first, second):
        nonce = re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
        assert f'nonce="{nonce}"'.encode() in r.data
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


# --- hostile input ------------------------------------------------------------------------


def test_a_body_over_the_limit_is_answered_413_naming_the_limit(tmp_path):
    client = build("registry", tmp_path).test_client()
    big = json.dumps({"code": "A" * 10_800_000})  # the 10.8 MB JSON
    r = client.post("/api/public/signup", data=big, content_type="application/json")
    assert r.status_code == 413
    assert r.json["field"] == "body" and r.json["limit"] == 2 * 1024 * 1024
    assert str(2 * 1024 * 1024) in r.json["error"]
    small = build("sessions", tmp_path, max_request_bytes=4096).test_client()
    r = small.post("/api/assemblies/a1/sessions", data=b"{" + b" " * 5000 + b"}",
                   content_type="application/json")
    assert r.status_code == 413 and r.json["limit"] == 4096


def test_the_extract_upload_has_its_own_larger_limit(tmp_path):
    app = build("registry", tmp_path, max_request_bytes=4096, extract_max_bytes=64 * 1024)
    ctx = app.extensions["kleroterion.context"]
    headers = {"Authorization": f"Bearer {ctx.tokens.issue('t', 'platform_operator')}"}
    client = app.test_client()
    data = {"file": (io.BytesIO(b"x" * 20_000), "extract.csv"), "mapping": "{}"}
    r = client.post("/api/assemblies/a1/extracts", data=data, headers=headers,
                    content_type="multipart/form-data")
    assert r.status_code != 413  # 20 kB is over the general limit but under the extract's
    data = {"file": (io.BytesIO(b"x" * 70_000), "extract.csv"), "mapping": "{}"}
    r = client.post("/api/assemblies/a1/extracts", data=data, headers=headers,
                    content_type="multipart/form-data")
    assert r.status_code == 413 and r.json["limit"] == 64 * 1024


@pytest.mark.parametrize("name,url,role", [
    ("registry", "/api/public/signup", None),
    ("recommendations", "/assemblies/a1/recommendations", "facilitator"),
    ("sessions", "/api/assemblies/a1/sessions", "platform_operator")])
def test_100k_deep_json_is_a_400_naming_the_body(tmp_path, name, url, role):
    app = build(name, tmp_path)
    ctx = app.extensions["kleroterion.context"]
    headers = {"Authorization": f"Bearer {ctx.tokens.issue('t', role)}"} if role else {}
    client = app.test_client()
    client.environ_base.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post(url, data=deep, content_type="application/json")
    assert r.status_code == 400, r.data[:200]
    assert r.json["field"] == "body" and "nested" in r.json["error"]
    deep_object = '{"a":' * 100_000 + "1" + "}" * 100_000
    r = client.post(url, data=deep_object, content_type="application/json")
    assert r.status_code == 400 and r.json["field"] == "body"
    r = client.post(url, data=b'{"code": ', content_type="application/json")
    assert r.status_code == 400 and r.json == {"error": "must be a JSON object", "field": "body"}


def test_a_lone_surrogate_anywhere_is_a_400_naming_the_field(tmp_path):
    client = build("registry", tmp_path).test_client()
    # The attack: a lone surrogate in the sign-up code (escaped and raw).
    for body in ('{"code": "\\ud800", "answers": {}}', b'{"code": "\xed\xa0\x80"}'):
        r = client.post("/api/public/signup", data=body, content_type="application/json")
        assert r.status_code == 400, r.data
        assert r.json["field"] == "code" and "surrogate" in r.json["error"]
    r = client.post("/api/public/signup", data='{"answers": {"education": ["\\udfff"]}}',
                    content_type="application/json")
    assert r.status_code == 400 and r.json["field"] == "answers.education[0]"
    r = client.post("/api/public/signup", data='{"\\ud800": 1}',
                    content_type="application/json")
    assert r.status_code == 400 and r.json["field"] == "body"
    # In the URL and a form: percent-encoded surrogates (invalid UTF-8) never reach a view
    # as a surrogate, and never make a 500.
    for url in ("/api/public/signup/%ED%A0%80", "/signup?code=%ED%A0%80",
                "/api/public/signup/AB%ED%A0%80CD?lang=%ED%A0%80"):
        r = client.get(url)
        assert r.status_code < 500, (url, r.status_code)
    r = client.post("/signup", data=b"code=%ED%A0%80&lang=%ED%A0%80",
                    content_type="application/x-www-form-urlencoded")
    assert r.status_code < 500


def test_surrogates_in_view_arguments_and_the_query_are_refused_before_the_view(tmp_path):
    app = Flask("t")
    web.install(app, "t")

    with app.test_request_context("/codes/a"):
        from flask import request
        request.view_args = {"code": "\ud800"}
        with pytest.raises(web.ApiError) as refused:
            web._check_url()
    assert refused.value.field == "code"
    with app.test_request_context("/codes/a"):
        request.args = web.SafeRequest.parameter_storage_class([("q", "a\udfffb")])
        with pytest.raises(web.ApiError) as refused:
            web._check_url()
    assert refused.value.field == "q"
    # A form field holding one, whatever way it got there, is refused as the form is read.
    with app.test_request_context("/codes/a", method="POST", data={"name": "x"}):
        from werkzeug.datastructures import MultiDict
        req = web.SafeRequest(request.environ)
        original = web.Request._load_form_data

        def load(self):
            original(self)
            self.form = MultiDict([("name", "\ud800")])
        try:
            web.Request._load_form_data = load
            with pytest.raises(web.ApiError) as refused:
                req.form  # noqa: B018 - reading it parses it
        finally:
            web.Request._load_form_data = original
    assert refused.value.field == "name"
