"""HTTP conventions every service applies the same way: an aggregate's version is its
``ETag``; a command that acts on a version takes it from ``If-Match`` (the body's
``expected_version`` stays for compatibility); a 201 names what it created in
``Location``.

    @router.post("/tasks/{task_id}/start")
    def start(task_id: UUID, response: Response, if_match: IfMatch = None, ...):
        with precondition(if_match):
            task = app.start_task(task_id, meta, expected_version(if_match, body_version))
        set_etag(response, task.version)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Header, Response

from shared.domain import InvalidCommand, PreconditionFailed, StaleVersion

IfMatch = Annotated[str | None, Header(
    description='the version acted on, as its ETag (e.g. "3"); 412 if it is no longer '
                "the latest")]
_ENTITY_TAG = re.compile(r'^(W/)?"(\d{1,12})"$')


def etag(version: int) -> str:
    """The strong entity tag of an aggregate at ``version``."""
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def if_match_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` header names (None when absent or ``*``)."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _ENTITY_TAG.match(if_match.strip())
    if found is None:
        raise InvalidCommand(f'If-Match: {if_match[:80]!r} is not an entity tag such as "3" '
                             "(one version; lists are not accepted)")
    return int(found.group(2))


def expected_version(if_match: str | None, body_version: int | None) -> int | None:
    """The version a command acts on: ``If-Match`` wins; both given must agree."""
    header_version = if_match_version(if_match)
    if header_version is not None and body_version is not None \
            and header_version != body_version:
        raise InvalidCommand(f"expected_version: {body_version} disagrees with If-Match "
                             f"{etag(header_version)}")
    return header_version if header_version is not None else body_version


@contextmanager
def precondition(if_match: str | None) -> Iterator[None]:
    """A stale version named by ``If-Match`` is a 412 (by the body field, still a 409)."""
    try:
        yield
    except StaleVersion as stale:
        if if_match_version(if_match) is not None:
            raise PreconditionFailed(str(stale)) from stale
        raise


def created(response: Response, location: str) -> None:
    """A 201's ``Location``: the path of what was created."""
    response.headers["Location"] = location
