"""Each HTTP request, seen once at the edge of every service: its server span (continuing
the caller's ``traceparent``), its metrics (by route template and status; commands by
policy action and outcome) and one access-log line."""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi.routing import APIRoute
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import metrics, tracing
from shared.policy import ACTION_EXTENSION

access_log = logging.getLogger("marketflow.access")
# Probes and scrapes every few seconds would drown the requests people make.
UNLOGGED_ROUTES = frozenset({"/health/live", "/health/ready", "/metrics"})


def route_template(scope: Scope) -> str:
    """The matched route's path template (``/tasks/{task_id}``), set in the scope by the
    router; ``<unmatched>`` when no route matched."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else metrics.UNMATCHED_ROUTE


def command_of(scope: Scope, method: str) -> str | None:
    """The policy action of a state-changing request (its route declares it), else None."""
    if method in metrics.SAFE_METHODS:
        return None
    route = scope.get("route")
    if not isinstance(route, APIRoute) or not route.openapi_extra:
        return None
    found = route.openapi_extra.get(ACTION_EXTENSION)
    return found if isinstance(found, str) else None


class ObservedRequests:
    """Outermost ASGI middleware: whatever the inner layers answer (a 500 of
    ``UnexpectedErrors`` included) is what it measures."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]
        status = 500  # if the app fails before answering, the server answers 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        traceparent = _header(scope, b"traceparent")
        with tracing.span(method, kind=SpanKind.SERVER,
                          parent=tracing.valid_traceparent(traceparent), attributes={
                              "http.request.method": method, "url.path": scope["path"],
                              "marketflow.service": self.service}) as span:
            try:
                await self.app(scope, receive, observed_send)
            finally:
                route = route_template(scope)
                duration = time.perf_counter() - started
                if span is not None:
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                self._measure(scope, method, route, status, duration)

    def _measure(self, scope: Scope, method: str, route: str, status: int,
                 duration: float) -> None:
        metrics.HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
        metrics.HTTP_DURATION.labels(self.service, method, route).observe(duration)
        command = command_of(scope, method)
        if command is not None:
            metrics.COMMANDS.labels(self.service, command,
                                    metrics.command_outcome(status)).inc()
        if route in UNLOGGED_ROUTES:
            return
        entry: dict[str, Any] = {"method": method, "route": route, "path": scope["path"],
                                 "status": status, "duration_ms": round(duration * 1000, 2)}
        actor = scope.get("state", {}).get("member_id")
        if actor is not None:
            entry["actor"] = actor
        access_log.info(f"{method} {route} {status}", extra=entry)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
