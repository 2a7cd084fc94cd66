"""The operations endpoints: GET /healthz (liveness), /readyz (readiness) and /metrics (Prometheus).

A load balancer asks /healthz and /readyz every second or so, on every node, so they are answered by
a tween just inside the security headers (the answers carry them too): before the cookie filter,
the transaction, the session lookup, the route table and the view machinery, none of which they
need. /metrics is answered there as well, so that its bearer token is never taken for an API
session's. The route table knows the three too (the API document, the route roles, 405 for another
method), with views that give the same answers should a request reach them.
"""
from __future__ import annotations

import time

from pyramid.response import Response
from pyramid.view import view_config

from whistle.health import metrics, readiness
from whistle.security.permissions import Permission

# Where the metrics tween finds the route of a request answered before the router ran.
ROUTE_NAME = "whistle.route_name"
OK = b'{"status": "ok"}'


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body=body, status=status, content_type="application/json", charset="utf-8")


def healthz(request) -> Response:
    """Liveness: the process answers. Nothing else is looked at (that is /readyz)."""
    return _json(OK)


def readyz(request) -> Response:
    """Readiness: 200 {"status": "ready"} or 503 {"status": "not ready"}, and nothing more; the
    reasons go to the log (whistle.health.readiness)."""
    if request.registry.readiness.ready():
        return _json(b'{"status": "ready"}')
    return _json(b'{"status": "not ready"}', 503)


ANSWERS = {"/healthz": ("health", healthz), "/readyz": ("ready", readyz), "/metrics": ("metrics", metrics.view)}


def operations_tween_factory(handler, registry):
    def operations_tween(request):
        # The raw PATH_INFO: nothing here needs it decoded (and an undecodable one is not ours).
        answer = ANSWERS.get(request.environ.get("PATH_INFO", ""))
        if answer is None or request.method not in ("GET", "HEAD"):
            return handler(request)
        route_name, respond = answer
        request.environ[ROUTE_NAME] = route_name
        return respond(request)

    return operations_tween


def metrics_tween_factory(handler, registry):
    """Count every request by its route's name (never its path) and status class, and time it."""
    recorder = registry.metrics

    def metrics_tween(request):
        start = time.perf_counter()
        status = 500
        try:
            response = handler(request)
            status = response.status_int
            return response
        finally:
            route = request.matched_route
            name = route.name if route is not None else request.environ.get(ROUTE_NAME, metrics.NO_ROUTE)
            recorder.observe_request(name, status, time.perf_counter() - start)

    return metrics_tween


@view_config(route_name="health", request_method="GET", permission=Permission.PUBLIC)
def healthz_view(request):
    return healthz(request)


@view_config(route_name="ready", request_method="GET", permission=Permission.PUBLIC)
def readyz_view(request):
    return readyz(request)


@view_config(route_name="metrics", request_method="GET", permission=Permission.PUBLIC)
def metrics_view(request):
    return metrics.view(request)


def includeme(config) -> None:
    config.registry.readiness = readiness.Readiness.for_registry(config.registry)
    config.registry.metrics = metrics.Recorder()
    config.registry.metrics_figures = metrics.DatabaseFigures(config.registry["db_engine"])
    config.scan(__name__)
    config.add_tween("whistle.health.operations_tween_factory",
                     under="whistle.security.headers.security_headers_tween_factory",
                     over="whistle.errors.tweens.cookie_header_tween_factory")
    # Outermost, so a request's time includes every other tween.
    config.add_tween("whistle.health.metrics_tween_factory",
                     over="whistle.security.headers.security_headers_tween_factory")
