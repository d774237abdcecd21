"""Playbooks: validation that names the problem, versions, diffs and YAML files."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.planning.domain import PlaybookSpec, define_playbook
from services.planning.playbook_files import (
    playbook_from_yaml,
    playbook_to_yaml,
    shipped_playbooks,
)
from shared.domain import Conflict, EventMeta, InvalidCommand

ANNA = EventMeta(actor="anna")


def spec(*tasks: dict[str, Any], roles: list[str] | None = None) -> PlaybookSpec:
    return PlaybookSpec.model_validate({"name": "P", "roles": roles or [], "tasks": list(tasks)})


def task(key: str, role: str = "writer", **fields: Any) -> dict[str, Any]:
    return {"key": key, "title": key.title(), "role": role, **fields}


def test_a_dependency_cycle_is_refused_and_named() -> None:
    with pytest.raises(InvalidCommand, match="dependency cycle a -> c -> b -> a"):
        define_playbook(spec(task("a", depends_on=["c"]), task("b", depends_on=["a"]),
                             task("c", depends_on=["b"])), ANNA)
    with pytest.raises(InvalidCommand, match=r"tasks.a.depends_on: a task cannot depend on"):
        define_playbook(spec(task("a", depends_on=["a"])), ANNA)


def test_unknown_references_and_roles_are_refused() -> None:
    with pytest.raises(InvalidCommand, match=r"tasks.b.depends_on: unknown task 'zzz'"):
        define_playbook(spec(task("a"), task("b", depends_on=["zzz"])), ANNA)
    with pytest.raises(InvalidCommand, match=r"tasks.a: unknown roles legal"):
        define_playbook(spec(task("a", approval_chain=[{"role": "legal"}]),
                             roles=["writer"]), ANNA)


def test_negative_durations_and_bad_rules_name_the_field() -> None:
    with pytest.raises(ValidationError, match="duration_days"):
        spec(task("a", duration_days=-1))
    with pytest.raises(ValidationError, match="needs offset_working_days"):
        spec(task("a", date_rule={"kind": "anchor"}))


def test_a_date_rule_that_cannot_be_satisfied_is_refused() -> None:
    # b must be due 10 working days before launch, but a (due 5 before) comes first.
    with pytest.raises(InvalidCommand, match=r"tasks.b.date_rule: cannot be satisfied.*'a'"):
        define_playbook(spec(
            task("a", date_rule={"kind": "anchor", "offset_working_days": -5}),
            task("b", depends_on=["a"], date_rule={"kind": "anchor",
                                                   "offset_working_days": -10})), ANNA)


def test_revisions_are_versions_and_diffs_name_the_changes() -> None:
    playbook = define_playbook(spec(task("a"), task("b", depends_on=["a"])), ANNA)
    playbook.revise(spec(task("a", duration_days=3), task("c")), ANNA, expected_version=1)
    assert playbook.latest_version == 2
    assert [t.key for t in playbook.spec_at(1).tasks] == ["a", "b"]
    diff = playbook.diff(1, 2)
    assert (diff.added, diff.removed) == (["c"], ["b"])
    assert diff.changed[0].key == "a"
    assert diff.changed[0].fields == {"duration_days": {"from": 1, "to": 3}}
    with pytest.raises(Conflict, match="at version 2, not 1"):
        playbook.revise(spec(task("a")), ANNA, expected_version=1)
    with pytest.raises(InvalidCommand, match="identical to version 2"):
        playbook.revise(playbook.spec, ANNA)
    with pytest.raises(InvalidCommand, match="versions 1 to 2, not 3"):
        playbook.spec_at(3)


def test_the_shipped_playbooks_are_valid_and_round_trip_through_yaml() -> None:
    playbooks = shipped_playbooks()
    assert set(playbooks) == {"product-launch", "webinar", "monthly-newsletter",
                              "blog-article", "trade-show"}
    for playbook in playbooks.values():
        define_playbook(playbook, ANNA)
        assert playbook_from_yaml(playbook_to_yaml(playbook)) == playbook


def test_yaml_errors_name_the_place() -> None:
    with pytest.raises(InvalidCommand, match="not valid YAML"):
        playbook_from_yaml("name: [unclosed")
    with pytest.raises(InvalidCommand, match="expected a mapping"):
        playbook_from_yaml("- just a list")
    with pytest.raises(InvalidCommand, match=r"phases.0.tasks.0.duration_days"):
        playbook_from_yaml("name: X\nphases:\n- key: p\n  title: P\n  tasks:\n"
                           "  - {key: a, title: A, role: r, duration_days: -2}\n")


KEYS = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
               min_size=1, max_size=30).filter(str.strip)


@st.composite
def specs(draw: st.DrawFn) -> PlaybookSpec:
    keys = draw(st.lists(KEYS, min_size=1, max_size=6, unique=True))
    roles = draw(st.lists(KEYS, min_size=1, max_size=3, unique=True))
    tasks = []
    for index, key in enumerate(keys):
        tasks.append({
            "key": key, "title": draw(TEXT), "role": draw(st.sampled_from(roles)),
            "description": draw(st.text(max_size=40)),
            "duration_days": draw(st.integers(0, 10)),
            "effort_hours": draw(st.none() | st.floats(0, 100, allow_nan=False)),
            "depends_on": draw(st.lists(st.sampled_from(keys[:index]), unique=True))
            if index else [],
            "consulted": draw(st.lists(st.sampled_from(roles), unique=True)),
            "approval_chain": [{"role": role, "required_approvals": draw(st.integers(1, 3))}
                               for role in draw(st.lists(st.sampled_from(roles), unique=True))],
        })
    split = draw(st.integers(1, len(tasks)))
    phases = [{"key": "one", "title": draw(TEXT), "tasks": tasks[:split]}]
    if tasks[split:]:
        phases.append({"key": "two", "title": "Two", "tasks": tasks[split:]})
    return PlaybookSpec.model_validate({"name": draw(TEXT), "roles": roles,
                                        "phases": phases})


@settings(max_examples=50, deadline=None)
@given(original=specs())
def test_any_playbook_round_trips_through_yaml(original: PlaybookSpec) -> None:
    assert playbook_from_yaml(playbook_to_yaml(original)) == original
