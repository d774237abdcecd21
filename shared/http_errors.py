"""Errors at the HTTP edge, answered the same way by every service.

- A 422 always has the shape FastAPI declares in the OpenAPI document
  (``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``), whether pydantic or
  the domain refused the input.
- A 422 never echoes the refused input: the input may be what cannot be encoded (a lone
  surrogate) or large, and the message already names the field.
- A JSON body the stores could not hold (lone surrogates, NaN) or nest (depth) is refused
  before any endpoint sees it, so no use case has to think about it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from email.message import Message as MimeMessage
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.domain import DomainError, InvalidCommand

# "tasks.brief.title: ..." -> loc ["tasks", "brief", "title"]
FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w-]*(?:\.[\w-]+)*): ")
MAX_MESSAGE_CHARS = 2000


def printable(text: str) -> str:
    """Text any JSON encoder accepts: lone surrogates become visible escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:MAX_MESSAGE_CHARS]


def problem(loc: Sequence[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": [part if isinstance(part, int) else printable(str(part)) for part in loc],
            "msg": printable(msg), "type": kind}


def invalid_command_detail(error: InvalidCommand) -> list[dict[str, Any]]:
    """The domain's message ('field: what is wrong') as a validation error item."""
    message = str(error)
    field = FIELD_PREFIX.match(message)
    loc = field.group(1).split(".") if field else []
    return [problem(loc, message, "invalid_command")]


async def domain_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    if isinstance(error, InvalidCommand):
        return JSONResponse(status_code=422, content={"detail": invalid_command_detail(error)})
    return JSONResponse(status_code=error.status_code, content={"detail": printable(str(error))})


async def validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    detail = []
    for item in error.errors():
        msg = str(item.get("msg", "invalid"))
        reason = (item.get("ctx") or {}).get("error")
        if item.get("type") == "json_invalid" and reason:
            msg = f"{msg}: {reason}"
        detail.append(problem(item.get("loc", ()), msg, str(item.get("type", "value_error"))))
    return JSONResponse(status_code=422, content={"detail": detail})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)


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
    last. Bodies neither accepts are left to FastAPI's own 'JSON decode error'."""
    try:
        orjson.loads(body)
        return None
    except orjson.JSONDecodeError as refused:
        reason = refused.msg
    try:
        json.loads(body)
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
            response = JSONResponse(status_code=422, content={"detail": [problem(
                ["body"], f"JSON decode error: {reason}", "json_invalid")]})
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
