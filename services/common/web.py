"""What every Flask service has: health, readiness, metrics, JSON errors and the
defences every public endpoint needs.

``/healthz`` answers while the process is alive; ``/readyz`` runs the service's readiness
checks (database reachable, bus reachable) and answers 503 naming the failing check;
``/metrics`` is Prometheus' text format.

Every response carries the security headers (``SECURITY_HEADERS`` and a Content-Security-
Policy whose script nonce templates read with ``csp_nonce()``; Strict-Transport-Security
when the request came over HTTPS). A body larger than the limit is answered 413 naming the
limit; JSON that is malformed, nested deeper than ``MAX_JSON_DEPTH`` or holds a lone
surrogate, and a lone surrogate in the URL or a form field, are answered 400 naming the
field, before any handler can trip over them.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask.wrappers import Request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

ReadinessCheck = Callable[[], None]


class ApiError(Exception):
    """A request the service refuses; answered as JSON naming the field and the reason."""

    def __init__(self, field: str, reason: str, status: int = 400) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status


Found = TypeVar("Found")


def found(row: Found | None, field: str, reason: str) -> Found:
    """The row a request named by ``field``; a 404 naming the field when there is none."""
    if row is None:
        raise ApiError(field, reason, 404)
    return row


# No request of the platform nests deeper than a handful of levels; the limit keeps a
# hostile document from exhausting the stack of the parser or of any code walking it.
MAX_JSON_DEPTH = 64
DEFAULT_MAX_REQUEST_BYTES = 2 * 1024 * 1024
HSTS = "max-age=31536000; includeSubDomains"
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    # Sign-up and check-in links carry codes in their query: never hand them to another site.
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate CSP 2
    "Cross-Origin-Opener-Policy": "same-origin",
}


def content_security_policy(nonce: str) -> str:
    """The policy of every response. Scripts run only from the service itself or with the
    request's nonce, so injected markup cannot run script. Styles may be inline: the pages
    and the evaluation report (with matplotlib's SVG) carry style elements and attributes,
    and a style cannot run code."""
    return ("default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")


def csp_nonce() -> str:
    """This request's script nonce (templates: ``<script nonce="{{ csp_nonce() }}">``)."""
    nonce: str | None = g.get("_csp_nonce")
    if nonce is None:
        nonce = g._csp_nonce = secrets.token_urlsafe(18)
    return nonce


def _has_lone_surrogate(text: str) -> bool:
    # A lone surrogate cannot be encoded as UTF-8: the database, a log line or a file would
    # fail on it far from the request (UnicodeEncodeError) instead of here.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_text(value: Any, field: str) -> None:
    """Refuse, naming the field, a JSON value nested deeper than ``MAX_JSON_DEPTH`` or
    holding a text (key or value) that is not valid Unicode. Iterative: a deep document
    cannot exhaust the stack here."""
    pending: list[tuple[Any, str, int]] = [(value, field, 1)]
    while pending:
        item, path, depth = pending.pop()
        if isinstance(item, str):
            if _has_lone_surrogate(item):
                raise ApiError(path, "holds a lone surrogate (text must be valid Unicode)")
        elif isinstance(item, (dict, list)):
            if depth > MAX_JSON_DEPTH:
                raise ApiError(path, f"is nested deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key, sub in item.items():
                    if _has_lone_surrogate(key):
                        raise ApiError(path, "holds a key with a lone surrogate (text must be "
                                             "valid Unicode)")
                    pending.append((sub, f"{path}.{key}" if path != "body" else key,
                                    depth + 1))
            else:
                pending.extend((sub, f"{path}[{n}]", depth + 1) for n, sub in enumerate(item))


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, or an ApiError naming "body" (or the offending field).
    ``optional``: a request without a body (or with an empty one) reads as {}."""
    raw = request.get_data(cache=True)  # over the size limit: 413 from werkzeug
    if not raw.strip():
        if optional:
            return {}
        raise ApiError("body", "must be a JSON object")
    if not request.is_json:
        # Only a JSON content type: a cross-site form cannot send one without a preflight.
        raise ApiError("body", "must be a JSON object (Content-Type: application/json)")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ApiError("body", f"is nested deeper than {MAX_JSON_DEPTH} levels") from None
    except UnicodeDecodeError:
        raise ApiError("body", "is not UTF-8 text") from None
    except ValueError:
        # Not echoing the parser's message: it may quote the body back.
        raise ApiError("body", "must be a JSON object") from None
    if optional and data is None:
        data = {}
    if not isinstance(data, dict):
        raise ApiError("body", "must be a JSON object")
    check_text(data, "body")
    return data


class SafeRequest(Request):
    """A request whose form fields are checked for text that is not valid Unicode as they
    are parsed, so no view sees a lone surrogate (``ApiError`` naming the field)."""

    def _load_form_data(self) -> None:
        super()._load_form_data()
        for name, value in self.form.items(multi=True):
            if _has_lone_surrogate(name) or _has_lone_surrogate(value):
                raise ApiError(name if not _has_lone_surrogate(name) else "form",
                               "holds a lone surrogate (text must be valid Unicode)")


def _ops_blueprint() -> Blueprint:
    bp = Blueprint("ops", __name__)

    @bp.get("/healthz")
    def healthz() -> ResponseReturnValue:
        return jsonify(status="ok", service=current_app.config["SERVICE_NAME"])

    @bp.get("/readyz")
    def readyz() -> ResponseReturnValue:
        failures: dict[str, str] = {}
        for name, check in current_app.extensions["kleroterion.readiness"].items():
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - any failure means not ready
                failures[name] = f"{type(exc).__name__}: {exc}"
        if failures:
            return jsonify(status="unavailable", failing=failures), 503
        return jsonify(status="ready")

    @bp.get("/metrics")
    def metrics() -> ResponseReturnValue:
        registry = current_app.extensions["kleroterion.metrics"]
        return generate_latest(registry), 200, {"Content-Type": CONTENT_TYPE_LATEST}

    return bp


def large_body(limit: Callable[[], int]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view that accepts a body larger than the service's limit (an extract
    upload): ``limit()`` gives its own limit in bytes, applied before anything reads it."""
    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view._klero_body_limit = limit  # type: ignore[attr-defined]
        return view
    return mark


def _check_url() -> None:
    # The path and query string reach views as text; a lone surrogate (from a percent-encoded
    # surrogate, or a WSGI server passing one through) is refused before any view runs.
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and _has_lone_surrogate(value):
            raise ApiError(name, "holds a lone surrogate (text must be valid Unicode)")
    if _has_lone_surrogate(request.path):
        raise ApiError("path", "holds a lone surrogate (text must be valid Unicode)")
    for name, value in request.args.items(multi=True):
        if _has_lone_surrogate(name) or _has_lone_surrogate(value):
            raise ApiError(name if not _has_lone_surrogate(name) else "query",
                           "holds a lone surrogate (text must be valid Unicode)")


def install(app: Flask, service: str, readiness: dict[str, ReadinessCheck] | None = None,
            *, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
            trusted_proxy: bool = False) -> CollectorRegistry:
    """Add the ops endpoints, request metrics, JSON errors, security headers and input
    limits to ``app``. ``trusted_proxy``: honour X-Forwarded-Proto/-For from the one proxy
    in front of the service (HSTS over TLS terminated there, the client's address)."""
    app.config["SERVICE_NAME"] = service
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes
    app.request_class = SafeRequest
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    if trusted_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    registry = CollectorRegistry()
    app.extensions["kleroterion.metrics"] = registry
    app.extensions["kleroterion.readiness"] = dict(readiness or {})
    requests_total = Counter("http_requests_total", "HTTP requests",
                             ["method", "endpoint", "status"], registry=registry)
    latency = Histogram("http_request_seconds", "HTTP request latency", ["endpoint"],
                        registry=registry)

    @app.before_request
    def _start_timer() -> None:
        g._started = time.perf_counter()

    @app.before_request
    def _limits() -> None:
        view = app.view_functions.get(request.endpoint or "")
        limit = getattr(view, "_klero_body_limit", None)
        if limit is not None:
            request.max_content_length = limit()
        # Refused on its declared length before anything else (authentication included)
        # runs: a client learns the limit at once, and nothing reads the body.
        maximum = request.max_content_length
        if maximum is not None and (request.content_length or 0) > maximum:
            raise RequestEntityTooLarge()
        _check_url()

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(
            csp_nonce()))
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response

    @app.after_request
    def _observe(response: Response) -> Response:
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        requests_total.labels(request.method, endpoint, response.status_code).inc()
        if hasattr(g, "_started"):
            latency.labels(endpoint).observe(time.perf_counter() - g._started)
        return response

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> ResponseReturnValue:
        return jsonify(error=exc.reason, field=exc.field), exc.status

    @app.errorhandler(OverflowError)
    def _too_large(exc: OverflowError) -> ResponseReturnValue:
        # A number larger than the database can hold is bad input, not a server fault;
        # the request's transaction has rolled back, so nothing was written.
        return jsonify(error=f"a number in the request is too large ({exc})", field="body"), 422

    @app.errorhandler(RequestEntityTooLarge)
    def _body_too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        limit = request.max_content_length
        reason = (f"the request body is larger than the limit of {limit} bytes"
                  if limit else "the request body is too large")
        return jsonify(error=reason, field="body", limit=limit), 413

    @app.errorhandler(UnicodeError)
    def _not_unicode(exc: UnicodeError) -> ResponseReturnValue:
        # The last line behind the checks above: text that cannot be encoded is the
        # client's fault, and the request's transaction has rolled back.
        return jsonify(error="the request holds text that is not valid Unicode",
                       field=None), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        # Flask hands a handler only exceptions that carry a status code.
        return jsonify(error=exc.description, field=None), exc.code or 500

    app.register_blueprint(_ops_blueprint())
    return registry
