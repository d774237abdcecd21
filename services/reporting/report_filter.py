"""What every report is asked for: an instant (``as_of``; None: now), a period, and the
campaign, playbook, team or member it is about; and who may ask for it.

One rule for every report (``ReportFilter.campaigns``): the campaigns a report covers are
those planned by its instant that match the campaign, playbook and team filters; the
member filter narrows the tasks to the member's (their assignee as of the instant); how
the period applies is each figure's (the README's glossary says which date it filters).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.reporting.facts import CAMPAIGNS, FactsView, Row
from shared.domain import InvalidCommand
from shared.policy import Caller, Policy, Resource, Scope

CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far ahead of this clock an ``as_of`` may be (a caller's clock runs ahead)."""


@dataclass(frozen=True)
class ReportFilter:
    as_of: dt.datetime | None = None
    start: dt.date | None = None
    """First day of the period (inclusive)."""
    end: dt.date | None = None
    """Last day of the period (inclusive)."""
    campaign_id: str | None = None
    playbook_id: str | None = None
    team_id: str | None = None
    member_id: str | None = None

    def __post_init__(self) -> None:
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise InvalidCommand("as_of: give a time zone, e.g. 2026-01-31T12:00:00+00:00")
        if self.as_of is not None and self.as_of > dt.datetime.now(dt.UTC) + CLOCK_SKEW:
            # Nothing is known of the future: a report "as of" it would pass today's facts
            # off as that day's.
            raise InvalidCommand("as_of: must not be in the future")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise InvalidCommand("from: must not be after to")

    @property
    def now(self) -> dt.datetime:
        """The report's instant: ``as_of``, or the time it is asked."""
        return self.as_of or dt.datetime.now(dt.UTC)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def in_period(self, day: dt.date | None) -> bool:
        """Whether ``day`` falls in the period (no period: every day, but not None)."""
        if day is None:
            return False
        return (self.start is None or day >= self.start) and (
            self.end is None or day <= self.end)

    def campaigns(self, facts: FactsView, sql: Any) -> dict[str, Row]:
        """The campaigns the report covers, as they stood at its instant, by id."""
        clauses, params = ["1=1"], []
        for column in ("campaign_id", "playbook_id", "team_id"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f'"{column}" = ?')
                params.append(value)
        rows = facts.rows(sql, CAMPAIGNS, self.as_of, " AND ".join(clauses), params)
        return {row["campaign_id"]: row for row in rows}

    def authorize(self, policy: Policy, action: str, caller: Caller,
                  campaign_resource: Any) -> None:
        """Who reads every report reads any; others name what they may read: a campaign
        they may read (``campaign_resource(id)``: as for its progress), a team of theirs,
        or themselves."""
        scope = policy.scope(action, caller)
        if scope is Scope.ALL:
            policy.authorize(action, caller)
            return
        if self.campaign_id is not None:
            policy.authorize(action, caller, campaign_resource(self.campaign_id))
            return
        if self.member_id is not None:
            policy.authorize(action, caller, Resource.of(
                owners={self.member_id}, teams=(), description=f"member {self.member_id}"))
            return
        if self.team_id is not None:
            policy.authorize(action, caller, Resource.of(
                teams={self.team_id}, description=f"team {self.team_id}"))
            return
        policy.authorize(action, caller, Resource.of(
            description="every campaign (name a campaign, a team of yours or yourself)"))
