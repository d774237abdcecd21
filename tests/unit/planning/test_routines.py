"""Recurring routines: RFC 5545 rules, the horizon, one campaign per occurrence."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.planning.domain import RoutineDefinition, define_routine
from shared.domain import Conflict, EventMeta, InvalidCommand

ANNA = EventMeta(actor="anna")


def definition(rule: str, **fields: object) -> RoutineDefinition:
    return RoutineDefinition.model_validate({
        "name": "Social posts", "playbook_id": str(uuid.uuid4()), "rule": rule,
        "starts_on": "2027-01-01", **fields})


def test_occurrences_within_the_horizon_are_due_once() -> None:
    routine = define_routine(definition("RRULE:FREQ=WEEKLY;BYDAY=TU", horizon_days=21), ANNA)
    due = routine.due(dt.date(2027, 1, 1))
    assert due == [dt.date(2027, 1, 5), dt.date(2027, 1, 12), dt.date(2027, 1, 19)]
    routine.record_occurrence(due[0], routine.campaign_id_for(due[0]), ANNA)
    assert routine.due(dt.date(2027, 1, 1)) == due[1:]
    assert routine.campaign_id_for(due[0]) == routine.campaign_id_for(dt.date(2027, 1, 5))
    # Before its start nothing is due; after stopping nothing more.
    assert define_routine(definition("FREQ=DAILY", horizon_days=5), ANNA).due(
        dt.date(2026, 12, 1)) == []
    routine.stop(ANNA)
    assert routine.due(dt.date(2027, 1, 1)) == []
    with pytest.raises(Conflict, match="already stopped"):
        routine.stop(ANNA)


def test_quarterly_launches_and_rule_errors() -> None:
    quarterly = define_routine(definition("FREQ=MONTHLY;INTERVAL=3;BYDAY=1TU",
                                          horizon_days=365), ANNA)
    assert [d.month for d in quarterly.due(dt.date(2027, 1, 1))] == [1, 4, 7, 10]
    with pytest.raises(InvalidCommand, match="rule: not a valid RFC 5545"):
        define_routine(definition("FREQ=FORTNIGHTLY"), ANNA)
    with pytest.raises(InvalidCommand, match="at most daily"):
        define_routine(definition("FREQ=MINUTELY"), ANNA)
    with pytest.raises(InvalidCommand, match="only the RRULE value"):
        define_routine(definition("DTSTART:20270101\nRRULE:FREQ=DAILY"), ANNA)
