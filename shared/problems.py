"""RFC 9457 problem details: the one shape of every 4xx and 5xx answer of every service.

    HTTP/1.1 404 Not Found
    Content-Type: application/problem+json

    {"type": "https://marketflow.example/problems/not-found", "title": "Not found",
     "status": 404, "detail": "task 7c0…: not found", "instance": "/tasks/7c0…/start"}

``type`` names the kind of problem (one URI per kind, below; ``about:blank`` for plain
HTTP statuses with nothing more to say), ``title`` is fixed per type, ``detail`` says
what is wrong with this request, ``instance`` is the request's path. Field problems
(422) also list ``errors``: ``[{"loc": [...], "msg": "...", "type": "..."}]``, the
shape FastAPI's validation errors always had.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Scope

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://marketflow.example/problems/"
MAX_MESSAGE_CHARS = 2000
# An instance longer than this is left out rather than cut (a cut path names nothing).
MAX_INSTANCE_CHARS = 2000


class FieldProblem(BaseModel):
    """One field's problem: where (``loc``, e.g. ``["body", "tasks", 0, "key"]``), what
    (``msg``) and which kind (``type``: pydantic's error type, ``invalid_command`` for the
    domain's refusals, ``json_invalid`` for bodies that are not storable JSON)."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An error answer (RFC 9457 problem details)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "type": f"{PROBLEM_TYPE_BASE}invalid-request", "title": "Invalid request",
        "status": 422, "detail": "name: must not be blank", "instance": "/playbooks",
        "errors": [{"loc": ["name"], "msg": "name: must not be blank",
                    "type": "invalid_command"}]}})

    type: str = Field(default="about:blank", json_schema_extra={"format": "uri-reference"},
                      description="the kind of problem; fixed per kind")
    title: str = Field(description="short summary of the kind of problem")
    status: int = Field(ge=400, le=599, description="the HTTP status code")
    detail: str = Field(description="what is wrong with this request")
    instance: str | None = Field(default=None,
                                 json_schema_extra={"format": "uri-reference"},
                                 description="the request's path")
    errors: list[FieldProblem] | None = Field(
        default=None, description="each field problem (422)")


class ProblemType:
    """A kind of problem: its URI and fixed title."""

    def __init__(self, slug: str | None, title: str) -> None:
        self.uri = PROBLEM_TYPE_BASE + slug if slug else "about:blank"
        self.title = title


BAD_REQUEST = ProblemType("bad-request", "Bad request")
UNAUTHENTICATED = ProblemType("unauthenticated", "Authentication required")
FORBIDDEN = ProblemType("forbidden", "Not allowed")
NOT_FOUND = ProblemType("not-found", "Not found")
METHOD_NOT_ALLOWED = ProblemType("method-not-allowed", "Method not allowed")
CONFLICT = ProblemType("conflict", "Conflicts with the current state")
STALE_VERSION = ProblemType("stale-version", "Acted on a version that is no longer the latest")
PRECONDITION_FAILED = ProblemType("precondition-failed", "Precondition failed")
REQUEST_TOO_LARGE = ProblemType("request-too-large", "Content too large")
INVALID_REQUEST = ProblemType("invalid-request", "Invalid request")
PRECONDITION_REQUIRED = ProblemType("precondition-required", "Precondition required")
INTERNAL_ERROR = ProblemType("internal-error", "Internal server error")
UNAVAILABLE = ProblemType("unavailable", "Service unavailable")

TYPES_BY_STATUS: dict[int, ProblemType] = {
    400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED, 409: CONFLICT, 412: PRECONDITION_FAILED,
    413: REQUEST_TOO_LARGE, 422: INVALID_REQUEST, 428: PRECONDITION_REQUIRED,
    500: INTERNAL_ERROR, 503: UNAVAILABLE,
}


def problem_type(status: int) -> ProblemType:
    """The kind a status stands for; ``about:blank`` titled by the status otherwise."""
    known = TYPES_BY_STATUS.get(status)
    if known is not None:
        return known
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return ProblemType(None, phrase)


def printable(text: str) -> str:
    """Text any JSON encoder accepts: lone surrogates become visible escapes."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:MAX_MESSAGE_CHARS]


def field_problem(loc: Sequence[Any], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": [part if isinstance(part, int) else printable(str(part)) for part in loc],
            "msg": printable(msg), "type": printable(kind)}


def summary(errors: Sequence[Mapping[str, Any]]) -> str:
    """The field problems as one sentence, for ``detail``: 'body.tasks: Field required'."""
    parts = []
    for error in errors:
        where = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"])
        # The domain's messages already start with the field they are about.
        parts.append(message if not where or message.startswith(where) else
                     f"{where}: {message}")
    return printable("; ".join(parts) or "invalid request")


def instance_of(scope: Scope) -> str | None:
    """The request's path as sent (percent-encoded, so always a URI reference); without
    the query, which may carry a token (calendar feeds)."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else None
    if not path:
        path = quote(str(scope.get("path", "")), safe="/:@!$&'()*+,;=-._~")
    path = path.partition("?")[0]
    return path if 0 < len(path) <= MAX_INSTANCE_CHARS else None


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_response(status: int, detail: str, *, scope: Scope | None = None,
                     kind: ProblemType | None = None,
                     errors: Sequence[Mapping[str, Any]] | None = None,
                     headers: Mapping[str, str] | None = None,
                     extensions: Mapping[str, Any] | None = None) -> ProblemResponse:
    kind = kind or problem_type(status)
    body: dict[str, Any] = {"type": kind.uri, "title": kind.title, "status": status,
                            "detail": printable(detail)}
    instance = instance_of(scope) if scope is not None else None
    if instance is not None:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = list(errors)
    for name, value in (extensions or {}).items():
        body.setdefault(name, value)
    return ProblemResponse(status_code=status, content=body, headers=dict(headers or {}))
