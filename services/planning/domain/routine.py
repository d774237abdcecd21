"""Recurring routines of the year calendar (vuosikello): an RFC 5545 recurrence rule
that plans a campaign from a playbook for every occurrence, a horizon ahead.

No ``from __future__ import annotations`` here: the event decorator builds pydantic
event classes from these signatures and needs the real types.
"""

import datetime as dt
from uuid import UUID, uuid5

from dateutil.rrule import rrule, rrulestr
from pydantic import BaseModel, ConfigDict, Field

from services.planning.domain.team import ID_PATTERN, Day
from services.planning.domain.text import check_date, check_text
from shared.domain import Aggregate, Conflict, EventMeta, InvalidCommand, event

MAX_OCCURRENCES_PER_RUN = 60
"""Campaigns one routine may plan at once (each is a whole campaign of tasks)."""
NEVER_WITHIN_YEARS = 5


class RoutineDefinition(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="e.g. Monthly newsletter")
    playbook_id: UUID
    rule: str = Field(min_length=1, max_length=500,
                      description="RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=1TU")
    starts_on: Day = Field(description="the first day the rule may fall on (DTSTART)")
    horizon_days: int = Field(default=90, ge=1, le=730,
                              description="plan occurrences this many days ahead")
    team_id: str | None = Field(default=None, max_length=64, pattern=ID_PATTERN)
    assignments: dict[str, str] = Field(default_factory=dict)
    queues: dict[str, str] = Field(default_factory=dict)
    goal_ids: list[UUID] = Field(default_factory=list)

    def recurrence(self) -> rrule:
        return parse_rule(self.rule, self.starts_on)


def parse_rule(rule: str, starts_on: dt.date) -> rrule:
    """The recurrence, or ``InvalidCommand`` naming what is wrong with it."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:"):]
    if "\n" in text or "DTSTART" in text.upper():
        raise InvalidCommand("rule: give only the RRULE value; the start is starts_on")
    for part in filter(None, text.split(";")):
        if "=" not in part:
            raise InvalidCommand(f"rule: '{part[:40]}' is not NAME=VALUE; write e.g. "
                                 "FREQ=MONTHLY;BYMONTHDAY=15")
    try:
        parsed = rrulestr(text, dtstart=dt.datetime.combine(starts_on, dt.time()))
    except (ValueError, TypeError) as error:
        raise InvalidCommand(f"rule: not a valid RFC 5545 recurrence rule: {error}") from None
    if not isinstance(parsed, rrule):
        raise InvalidCommand("rule: give a single RRULE")
    if any(f"FREQ={freq}" in text.upper() for freq in ("HOURLY", "MINUTELY", "SECONDLY")):
        raise InvalidCommand("rule: campaigns recur at most daily (FREQ=DAILY or coarser)")
    return parsed


def occurrences(definition: RoutineDefinition, first: dt.date, last: dt.date) -> list[dt.date]:
    """Occurrence dates in [first, last]."""
    if last < first:
        return []
    found = definition.recurrence().between(
        dt.datetime.combine(first, dt.time()), dt.datetime.combine(last, dt.time()), inc=True)
    return [moment.date() for moment in found[:MAX_OCCURRENCES_PER_RUN]]


class Routine(Aggregate):
    @event("Defined")
    def __init__(self, definition: RoutineDefinition, meta: EventMeta) -> None:
        self.definition = definition
        self.defined_by = meta.actor
        self.planned: dict[dt.date, UUID] = {}
        self.active = True

    def campaign_id_for(self, occurrence: dt.date) -> UUID:
        """Derived, so planning an occurrence twice is impossible."""
        return uuid5(self.id, occurrence.isoformat())

    def due(self, today: dt.date) -> list[dt.date]:
        """Occurrences within the horizon that have no campaign yet."""
        if not self.active:
            return []
        first = max(today, self.definition.starts_on)
        last = today + dt.timedelta(days=self.definition.horizon_days)
        return [day for day in occurrences(self.definition, first, last)
                if day not in self.planned]

    def campaign_name(self, occurrence: dt.date) -> str:
        return f"{self.definition.name} {occurrence.isoformat()}"

    @event("OccurrencePlanned")
    def record_occurrence(self, occurrence: dt.date, campaign_id: UUID,
                          meta: EventMeta) -> None:
        self.planned[occurrence] = campaign_id

    def stop(self, meta: EventMeta) -> None:
        if not self.active:
            raise Conflict("routine: already stopped")
        self._stopped(meta=meta)

    @event("Stopped")
    def _stopped(self, meta: EventMeta) -> None:
        self.active = False


def define_routine(definition: RoutineDefinition, meta: EventMeta) -> Routine:
    check_text("name", definition.name)
    check_date("starts_on", definition.starts_on)
    recurrence = definition.recurrence()
    start = dt.datetime.combine(definition.starts_on, dt.time())
    # Bounded search: dateutil looks for an impossible date (Feb 30) forever.
    if not recurrence.between(start, start.replace(year=start.year + NEVER_WITHIN_YEARS),
                              inc=True):
        raise InvalidCommand(f"rule: {definition.rule} never falls on a date within "
                             f"{NEVER_WITHIN_YEARS} years of {definition.starts_on}")
    horizon = start + dt.timedelta(days=definition.horizon_days)
    at_once = len(recurrence.between(start, horizon, inc=True))
    if at_once > MAX_OCCURRENCES_PER_RUN:
        raise InvalidCommand(
            f"horizon_days: {definition.rule} plans {at_once} campaigns within "
            f"{definition.horizon_days} days; at most {MAX_OCCURRENCES_PER_RUN} at once "
            "(shorten horizon_days or recur less often)")
    return Routine(definition=definition, meta=meta)
