"""ETag / If-Match: an aggregate's version as a strong entity tag; a stale If-Match is a
412, a stale body field stays a 409; malformed or disagreeing versions are a 422."""

from __future__ import annotations

import pytest

from shared.domain import InvalidCommand, PreconditionFailed, StaleVersion
from shared.http_conventions import etag, expected_version, if_match_version, precondition


def test_the_version_round_trips_through_its_entity_tag() -> None:
    assert etag(7) == '"7"'
    assert if_match_version(etag(7)) == 7
    assert if_match_version('W/"7"') == 7
    assert if_match_version("*") is None and if_match_version(None) is None


@pytest.mark.parametrize("header", ['7', '"7", "8"', '"-1"', '"abc"', '"' + "9" * 13 + '"'])
def test_what_is_not_one_version_is_refused(header: str) -> None:
    with pytest.raises(InvalidCommand, match="If-Match"):
        if_match_version(header)


def test_if_match_wins_and_must_agree_with_the_body() -> None:
    assert expected_version('"3"', None) == 3
    assert expected_version(None, 4) == 4
    assert expected_version('"3"', 3) == 3
    with pytest.raises(InvalidCommand, match="disagrees"):
        expected_version('"3"', 4)


def test_a_stale_version_is_412_from_if_match_and_409_from_the_body() -> None:
    with pytest.raises(PreconditionFailed), precondition('"3"'):
        raise StaleVersion("task changed since version 3")
    with pytest.raises(StaleVersion), precondition(None):
        raise StaleVersion("task changed since version 3")
