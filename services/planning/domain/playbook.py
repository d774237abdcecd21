"""Playbooks: a marketing process as a versioned template of phases and tasks, with
RACI roles, dependencies (a DAG) and date rules relative to the campaign's anchor date.

No ``from __future__ import annotations`` here: the event decorator builds pydantic
event classes from these signatures and needs the real types.
"""

from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from services.planning.domain.scheduling import (
    ScheduleError,
    SchedulingTask,
    check_dependencies,
)
from services.planning.domain.text import check_text
from shared.domain import Aggregate, EventMeta, InvalidCommand, StaleVersion, event

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"

# How big a playbook may be. Checked on define and revise only (validate_spec), never
# on the stored model, so playbooks stored before a limit existed still load. A playbook
# within these limits can still be refused if its texts add up to an event too large to
# publish (ServiceApplication's event size limit, 413).
MAX_PHASES = 50
MAX_TASKS = 500
MAX_ROLES = 100
MAX_LINKS = 50
"""Per task: predecessors, consulted roles, informed roles."""
MAX_APPROVAL_STEPS = 10
MAX_ROLE_LENGTH = 64


class DateRule(BaseModel):
    """When a task is due. ``anchor``: ``offset_working_days`` working days from the
    campaign's anchor (launch) date, negative = before. ``after_predecessors``: it starts
    when its predecessors finish (as late as the plan allows when scheduling backward
    from a launch, as early as possible when scheduling forward from a start)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["anchor", "after_predecessors"] = "after_predecessors"
    offset_working_days: int | None = Field(default=None, ge=-500, le=500)

    @model_validator(mode="after")
    def _offset_only_for_anchor(self) -> Self:
        if self.kind == "anchor" and self.offset_working_days is None:
            raise ValueError("an anchor rule needs offset_working_days")
        if self.kind == "after_predecessors" and self.offset_working_days is not None:
            raise ValueError("offset_working_days only applies to kind 'anchor'")
        return self

    @property
    def anchor_offset(self) -> int | None:
        return self.offset_working_days if self.kind == "anchor" else None


class ApprovalStepTemplate(BaseModel):
    """One accountable approver role in a task's ordered approval chain (N of M)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str = Field(min_length=1, max_length=64)
    required_approvals: int = Field(default=1, ge=1, le=20)


class TaskTemplate(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=64, pattern=KEY_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=64, description="the responsible role (R)")
    description: str = Field(default="", max_length=4000)
    deliverable: str | None = Field(default=None, max_length=100,
                                    description="deliverable type, e.g. blog-post")
    effort_hours: float | None = Field(default=None, ge=0, le=10_000)
    duration_days: int = Field(default=1, ge=0, le=250,
                               description="working days; 0 is a milestone")
    depends_on: list[str] = Field(default_factory=list, description="keys of predecessors")
    date_rule: DateRule = Field(default_factory=DateRule)
    approval_chain: list[ApprovalStepTemplate] = Field(
        default_factory=list, description="accountable roles (A), approving in this order")
    consulted: list[str] = Field(default_factory=list, description="consulted roles (C)")
    informed: list[str] = Field(default_factory=list, description="informed roles (I)")
    complete_on_approval: StrictBool = Field(
        default=True, description="done when its approval chain completes; false: its "
                                  "assignee completes it after the last approval")
    reminder_days: int | None = Field(
        default=None, ge=0, le=250,
        description="remind the assignee this many working days before the due date; "
                    "unset: notification's default")

    @model_validator(mode="before")
    @classmethod
    def _legacy_offset_days(cls, data: Any) -> Any:
        # The first API took ``offset_days``; it is read as an anchor rule in working days.
        if isinstance(data, dict) and "offset_days" in data:
            data = dict(data)
            offset = data.pop("offset_days")
            if "date_rule" in data:
                raise ValueError("give either offset_days or date_rule, not both")
            data["date_rule"] = {"kind": "anchor", "offset_working_days": offset}
        return data

    @property
    def roles(self) -> set[str]:
        return {self.role, *(step.role for step in self.approval_chain), *self.consulted,
                *self.informed}

    def scheduling(self) -> SchedulingTask:
        return SchedulingTask(key=self.key, duration=self.duration_days,
                              depends_on=tuple(self.depends_on),
                              anchor_offset=self.date_rule.anchor_offset)


class Phase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(min_length=1, max_length=64, pattern=KEY_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    tasks: list[TaskTemplate] = Field(min_length=1)


class PlaybookSpec(BaseModel):
    """What a playbook says: the same structure in YAML files and in the HTTP API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    roles: list[str] = Field(default_factory=list,
                             description="the roles its tasks may name; derived if omitted")
    phases: list[Phase] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _flat_task_list(cls, data: Any) -> Any:
        # A playbook without phases: ``tasks`` at the top level form one phase.
        if isinstance(data, dict) and "tasks" in data:
            data = dict(data)
            tasks = data.pop("tasks")
            if "phases" in data:
                raise ValueError("give either phases or tasks, not both")
            data["phases"] = [{"key": "main", "title": "Main", "tasks": tasks}]
        elif isinstance(data, dict) and "phases" not in data:
            raise ValueError("a playbook needs phases with tasks (or a flat list of tasks)")
        return data

    @property
    def tasks(self) -> list[TaskTemplate]:
        return [task for phase in self.phases for task in phase.tasks]

    def phase_of(self, key: str) -> str:
        return next(phase.key for phase in self.phases if any(t.key == key for t in phase.tasks))

    def task(self, key: str) -> TaskTemplate:
        return next(task for task in self.tasks if task.key == key)

    @property
    def all_roles(self) -> list[str]:
        if self.roles:
            return list(self.roles)
        return sorted({role for task in self.tasks for role in task.roles})


def validate_spec(spec: PlaybookSpec) -> PlaybookSpec:
    """The spec, normalized, or ``InvalidCommand`` naming the problem."""
    name = check_text("name", spec.name)
    check_text("description", spec.description, multiline=True)
    check_size(spec)
    for phase in spec.phases:
        check_text(f"phases.{phase.key}.title", phase.title)
    for task in spec.tasks:
        check_text(f"tasks.{task.key}.title", task.title)
        check_text(f"tasks.{task.key}.role", task.role)
        check_text(f"tasks.{task.key}.description", task.description, multiline=True)
        if task.deliverable is not None:
            check_text(f"tasks.{task.key}.deliverable", task.deliverable)
    phase_keys = [phase.key for phase in spec.phases]
    _no_duplicates("phases", phase_keys, "phase keys")
    tasks = spec.tasks
    _no_duplicates("tasks", [task.key for task in tasks], "task keys")
    _no_duplicates("roles", list(spec.roles), "roles")
    if spec.roles:
        declared = set(spec.roles)
        for task in tasks:
            unknown = sorted(task.roles - declared)
            if unknown:
                raise InvalidCommand(
                    f"tasks.{task.key}: unknown roles {', '.join(unknown)} "
                    f"(declared roles: {', '.join(spec.roles)})"
                )
    for task in tasks:
        chain = [step.role for step in task.approval_chain]
        if len(set(chain)) != len(chain):
            raise InvalidCommand(f"tasks.{task.key}.approval_chain: a role appears twice")
    try:
        check_dependencies([task.scheduling() for task in tasks])
    except ScheduleError as error:
        raise InvalidCommand(str(error)) from None
    return spec.model_copy(update={"name": name})


def check_size(spec: PlaybookSpec) -> None:
    """``InvalidCommand`` naming the limit a playbook exceeds (checked before anything
    that grows with its size)."""
    _at_most("phases", len(spec.phases), MAX_PHASES, "phases")
    _at_most("tasks", len(spec.tasks), MAX_TASKS, "tasks")
    _at_most("roles", len(spec.roles), MAX_ROLES, "roles")
    _short_names("roles", spec.roles)
    for task in spec.tasks:
        field = f"tasks.{task.key}"
        _at_most(f"{field}.depends_on", len(task.depends_on), MAX_LINKS, "predecessors")
        _at_most(f"{field}.consulted", len(task.consulted), MAX_LINKS, "roles")
        _at_most(f"{field}.informed", len(task.informed), MAX_LINKS, "roles")
        _at_most(f"{field}.approval_chain", len(task.approval_chain), MAX_APPROVAL_STEPS,
                 "steps")
        _short_names(f"{field}.depends_on", task.depends_on)
        _short_names(f"{field}.consulted", task.consulted)
        _short_names(f"{field}.informed", task.informed)


def _at_most(field: str, count: int, limit: int, what: str) -> None:
    if count > limit:
        raise InvalidCommand(f"{field}: at most {limit} {what}, not {count}")


def _short_names(field: str, names: list[str]) -> None:
    for name in names:
        if len(name) > MAX_ROLE_LENGTH:
            raise InvalidCommand(f"{field}: {name[:20]}...: at most {MAX_ROLE_LENGTH} "
                                 f"characters, not {len(name)}")


def _no_duplicates(field: str, values: list[str], what: str) -> None:
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise InvalidCommand(f"{field}: duplicate {what} {', '.join(duplicates)}")


class TaskChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    fields: dict[str, dict[str, Any]] = Field(description="field -> {from, to}")


class PlaybookDiff(BaseModel):
    model_config = ConfigDict(frozen=True)

    from_version: int
    to_version: int
    added: list[str]
    removed: list[str]
    changed: list[TaskChange]
    other: dict[str, dict[str, Any]] = Field(description="playbook-level field -> {from, to}")


def diff_specs(old: PlaybookSpec, new: PlaybookSpec, from_version: int,
               to_version: int) -> PlaybookDiff:
    old_tasks = {task.key: task for task in old.tasks}
    new_tasks = {task.key: task for task in new.tasks}
    changed = []
    for key in [task.key for task in new.tasks if task.key in old_tasks]:
        before = {**old_tasks[key].model_dump(mode="json"), "phase": old.phase_of(key)}
        after = {**new_tasks[key].model_dump(mode="json"), "phase": new.phase_of(key)}
        fields = {name: {"from": before[name], "to": after[name]}
                  for name in after if before[name] != after[name]}
        if fields:
            changed.append(TaskChange(key=key, fields=fields))
    other = {}
    for field in ("name", "description", "roles"):
        before_value, after_value = getattr(old, field), getattr(new, field)
        if before_value != after_value:
            other[field] = {"from": before_value, "to": after_value}
    old_phases = [(p.key, p.title) for p in old.phases]
    new_phases = [(p.key, p.title) for p in new.phases]
    if old_phases != new_phases:
        other["phases"] = {"from": [k for k, _ in old_phases], "to": [k for k, _ in new_phases]}
    return PlaybookDiff(
        from_version=from_version, to_version=to_version,
        added=[key for key in new_tasks if key not in old_tasks],
        removed=[key for key in old_tasks if key not in new_tasks],
        changed=changed, other=other,
    )


class Playbook(Aggregate):
    """A process template. Every revision is kept: version N is ``versions[N - 1]``."""

    @event("Defined")
    def __init__(self, spec: PlaybookSpec, meta: EventMeta) -> None:
        self.versions = [spec]
        self.defined_by = meta.actor
        self.revised_by = meta.actor

    @event("Revised")
    def _revise(self, spec: PlaybookSpec, meta: EventMeta) -> None:
        self.versions.append(spec)
        self.revised_by = meta.actor

    def revise(self, spec: PlaybookSpec, meta: EventMeta,
               expected_version: int | None = None) -> None:
        if expected_version is not None and expected_version != self.latest_version:
            raise StaleVersion(
                f"expected_version: playbook is at version {self.latest_version}, "
                f"not {expected_version}; reload, review the changes and retry"
            )
        spec = validate_spec(spec)
        if spec == self.spec:
            raise InvalidCommand(
                f"playbook: identical to version {self.latest_version}; nothing to revise")
        self._revise(spec, meta)

    @property
    def latest_version(self) -> int:
        return len(self.versions)

    @property
    def spec(self) -> PlaybookSpec:
        return self.versions[-1]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def tasks(self) -> list[TaskTemplate]:
        return self.spec.tasks

    @property
    def roles(self) -> set[str]:
        return set(self.spec.all_roles)

    def spec_at(self, version: int) -> PlaybookSpec:
        if not 1 <= version <= self.latest_version:
            raise InvalidCommand(
                f"playbook_version: playbook '{self.name}' has versions 1 to "
                f"{self.latest_version}, "
                f"not {version}"
            )
        return self.versions[version - 1]

    def diff(self, from_version: int, to_version: int) -> PlaybookDiff:
        return diff_specs(self.spec_at(from_version), self.spec_at(to_version),
                          from_version, to_version)


def define_playbook(spec: PlaybookSpec, meta: EventMeta) -> Playbook:
    return Playbook(spec=validate_spec(spec), meta=meta)
