"""What every Flask service has: health, readiness, metrics and JSON errors.

``/healthz`` answers while the process is alive; ``/readyz`` runs the service's readiness
checks (database reachable, bus reachable) and answers 503 naming the failing check;
``/metrics`` is Prometheus' text format.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from werkzeug.exceptions import HTTPException

ReadinessCheck = Callable[[], None]


class ApiError(Exception):
    """A request the service refuses; answered as JSON naming the field and the reason."""

    def __init__(self, field: str, reason: str, status: int = 400) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.status = status


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, or an ApiError naming "body". ``optional``: a request
    without a body (or with an empty one) reads as {}."""
    data = request.get_json(silent=True)
    if optional:
        data = data or {}
    if not isinstance(data, dict):
        raise ApiError("body", "must be a JSON object")
    return data


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


def install(app: Flask, service: str, readiness: dict[str, ReadinessCheck] | None = None
            ) -> CollectorRegistry:
    """Add the ops endpoints, request metrics and JSON errors to ``app``."""
    app.config["SERVICE_NAME"] = service
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

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        # Flask hands a handler only exceptions that carry a status code.
        return jsonify(error=exc.description, field=None), exc.code or 500

    app.register_blueprint(_ops_blueprint())
    return registry
