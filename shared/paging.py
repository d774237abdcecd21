"""Cursor pagination of HTTP lists: ``?limit=&cursor=``; the body stays a JSON array and
the next page's address is in the ``Link`` header (RFC 8288, ``rel="next"``), also given
bare as ``X-Next-Cursor``. No ``Link`` header: this was the last page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from shared.projections import DEFAULT_PAGE, MAX_PAGE, Page, PageRequest


def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="items per page")
                     ] = DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(
        max_length=1000, description="from the previous page's Link header")] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


Paging = Annotated[PageRequest, Depends(page_request)]


def paged(page: Page, request: Request, response: Response) -> list[dict[str, Any]]:
    """The page's rows, with the next page's address in the headers."""
    if page.next_cursor is not None:
        following = request.url.include_query_params(cursor=page.next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
        response.headers["X-Next-Cursor"] = page.next_cursor
    return page.rows
