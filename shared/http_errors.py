"""Errors at the HTTP edge, answered the same way by every service: each 4xx and 5xx is
an RFC 9457 problem (``application/problem+json``, see ``shared.problems``).

- A 422 lists its field problems in ``errors`` (``[{"loc": [...], "msg": "...",
  "type": "..."}]``), whether pydantic or the domain refused the input.
- A 422 never echoes the refused input: the input may be what cannot be encoded (a lone
  surrogate) or large, and the message already names the field.
- A JSON body the stores could not hold (lone surrogates, NaN) or nest (depth) is refused
  before any endpoint sees it, so no use case has to think about it.
- An unexpected exception is logged with its traceback and answered with a generic 500
  problem that shows nothing of it.
"""

from __future__ import annotations

import json
import logging
import re
from email.message import Message as MimeMessage
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.domain import DomainError, Forbidden, InvalidCommand, StaleVersion
from shared.metrics import DENIALS
from shared.problems import (
    INVALID_REQUEST,
    STALE_VERSION,
    ProblemType,
    field_problem,
    printable,
    problem_response,
    problem_type,
    summary,
)

log = logging.getLogger(__name__)
# "tasks.brief.title: ..." -> loc ["tasks", "brief", "title"]
FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w-]*(?:\.[\w-]+)*): ")
UNEXPECTED_DETAIL = "an unexpected error occurred; it has been logged"
# Statuses whose answers have no body (RFC 9110), e.g. a 304 of a conditional GET.
BODILESS = {204, 205, 304}
_PHRASES = {status.phrase for status in HTTPStatus}


def invalid_command_errors(error: InvalidCommand) -> list[dict[str, Any]]:
    """The domain's message ('field: what is wrong') as a field problem."""
    message = str(error)
    field = FIELD_PREFIX.match(message)
    loc = field.group(1).split(".") if field else []
    return [field_problem(loc, message, "invalid_command")]


def _domain_problem_type(error: DomainError) -> ProblemType:
    """A DomainError subclass may name its own kind (``problem_type``); a stale version
    is told apart from other conflicts, since the client's remedy differs (re-read)."""
    declared = getattr(error, "problem_type", None)
    if isinstance(declared, ProblemType):
        return declared
    if isinstance(error, StaleVersion):
        return STALE_VERSION
    return problem_type(error.status_code)


async def domain_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, DomainError)
    if isinstance(error, InvalidCommand):
        errors = invalid_command_errors(error)
        return problem_response(422, summary(errors), scope=request.scope,
                                kind=INVALID_REQUEST, errors=errors)
    if isinstance(error, Forbidden):
        # Denials are an audit signal (probing, a role missing): who, what, where.
        action = getattr(error, "action", None) or "domain-rule"
        log.warning("request denied", extra={
            "actor": getattr(request.state, "member_id", None), "method": request.method,
            "path": printable(request.url.path), "action": action,
            "resource": printable(getattr(error, "resource", "") or request.url.path),
            "reason": printable(str(error))})
        DENIALS.labels(service=request.app.title.removeprefix("Marketflow "),
                       action=action).inc()
    return problem_response(error.status_code, str(error), scope=request.scope,
                            kind=_domain_problem_type(error))


async def validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    errors = []
    for item in error.errors():
        msg = str(item.get("msg", "invalid"))
        reason = (item.get("ctx") or {}).get("error")
        if item.get("type") == "json_invalid" and reason:
            msg = f"{msg}: {reason}"
        errors.append(field_problem(item.get("loc", ()), msg,
                                    str(item.get("type", "value_error"))))
    return problem_response(422, summary(errors), scope=request.scope,
                            kind=INVALID_REQUEST, errors=errors)


def _http_detail(request: Request, error: HTTPException) -> str:
    """The exception's message; the router's bare phrases ('Not Found') say more here."""
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    if detail != problem_type(error.status_code).title and detail not in _PHRASES:
        return detail
    if error.status_code == 404:
        return "no endpoint at this path"
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        return f"{request.method} is not allowed at this path; allowed: {allowed}"
    return detail


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's and FastAPI's HTTPException: the router's 404/405, 401 from
    authentication, 413 while reading a body; bodiless statuses stay bodiless."""
    assert isinstance(error, HTTPException)
    if error.status_code < 400 or error.status_code in BODILESS:
        return Response(status_code=error.status_code, headers=error.headers)
    return problem_response(error.status_code, _http_detail(request, error),
                            scope=request.scope, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)


class UnexpectedErrors:
    """The outermost layer: an exception nothing else answered is logged (once, with
    its traceback) and answered with a generic 500 problem; the client learns nothing
    of the internals. Once a response has started there is nothing left to answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                message = _with_security_headers(message)
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if response_started:
                raise
            log.exception("unexpected error answering a request", extra={
                "method": scope.get("method"), "path": printable(str(scope.get("path")))})
            response = problem_response(500, UNEXPECTED_DETAIL, scope=scope)
            await response(scope, receive, tracking_send)


SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"),)
"""On every answer: browsers must not guess a type other than the declared one (a JSON
error echoing a name must never be sniffed as HTML)."""


def _with_security_headers(message: Message) -> Message:
    headers = [(name, value) for name, value in message.get("headers", [])
               if name.lower() not in {name for name, _ in SECURITY_HEADERS}]
    return {**message, "headers": [*headers, *SECURITY_HEADERS]}


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    parsed = MimeMessage()
    parsed["content-type"] = content_type
    subtype = parsed.get_content_subtype()
    return parsed.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json"))


def storable_json_problem(body: bytes) -> str | None:
    """Why a body Python's json module would accept cannot be stored, if it cannot.

    The stores and the bus encode with orjson, which refuses lone surrogates and NaN and
    nests at most 1024 deep; Python's json accepts the first two and recurses on the
    last. Bodies neither accepts are left to FastAPI's own 'JSON decode error', except
    bytes that are not UTF-8 (JSON's only encoding on the wire), which Python's json
    fails on with a UnicodeDecodeError rather than a decode error."""
    try:
        orjson.loads(body)
        return None
    except orjson.JSONDecodeError as refused:
        reason = refused.msg
    try:
        json.loads(body)
    except UnicodeDecodeError as undecodable:
        return f"not UTF-8 ({undecodable.reason} at byte {undecodable.start})"
    except json.JSONDecodeError:
        return None
    except RecursionError:
        pass
    return reason


class JsonBodyGuard:
    """Refuses, with a 422 naming the problem, JSON bodies the services could not store.
    Sits inside ``BodyLimit``, so what it buffers is bounded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(_header(scope, b"content-type")):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        reason = storable_json_problem(body) if body else None
        if reason is not None:
            errors = [field_problem(["body"], f"JSON decode error: {reason}", "json_invalid")]
            response = problem_response(422, summary(errors), scope=scope,
                                        kind=INVALID_REQUEST, errors=errors)
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None
