"""Cursor pagination of HTTP lists: ``?limit=&cursor=``; the body stays a JSON array and
the next page's address is in the ``Link`` header (RFC 8288, ``rel="next"``), also given
bare as ``X-Next-Cursor``. No ``Link`` header: this was the last page."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from shared.domain import InvalidCommand
from shared.projections import DEFAULT_PAGE, MAX_PAGE, Page, PageRequest, page_of


def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")
                     ] = DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(
        max_length=1000, description="from the previous page's Link header")] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


Paging = Annotated[PageRequest, Depends(page_request)]


def paged(page: Page, request: Request, response: Response) -> list[Any]:
    """The page's rows, with the next page's address in the headers (the route's response
    model validates and shapes the rows)."""
    if page.next_cursor is not None:
        following = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
        response.headers["X-Next-Cursor"] = page.next_cursor
    return page.rows


def page_in_memory(rows: Sequence[dict[str, Any]], order: Sequence[str],
                   page: PageRequest) -> Page:
    """A page of rows already in memory and sorted by ``order`` (a unique key): for lists
    small enough to compute whole (a task's comments, a timeline), paged like the rest."""
    after = page.after(order)
    if after is not None:
        try:
            rows = [row for row in rows if _cursor_key(row, order) > tuple(after)]
        except TypeError:  # a cursor of other types than the key's
            raise InvalidCommand(
                "cursor: not a cursor this list returned; start without one") from None
    return page_of(list(rows[:page.limit + 1]), order, page.limit)


def _cursor_key(row: dict[str, Any], order: Sequence[str]) -> tuple[Any, ...]:
    # Cursors hold JSON values: dates compare as their ISO text, which sorts the same.
    return tuple(value.isoformat() if isinstance(value, dt.date) else value
                 for value in (row[name] for name in order))
