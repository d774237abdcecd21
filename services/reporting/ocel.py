"""The archive as an OCEL 2.0 object-centric event log (JSON format), for process mining.

Objects are campaigns, tasks, submissions (a task's n-th submission) and members, and the
subject of any other event (a playbook, a goal, ...) as an object of its own type. Each
event relates to them with a qualifier:

- its subject: ``subject``;
- ``campaign_id``: the campaign, ``part of`` (``subject`` when it is the subject);
- ``task_id``: the task, ``task`` (``subject`` when it is the subject);
- ``submission_version`` (from 1): the task's submission, ``submitted`` for a submission,
  ``decided`` for a decision on one (approvals, changes requested), otherwise ``about``;
- the envelope's actor: the member, ``actor``; members named in the payload by their
  role in it: ``assignee``, ``previous assignee``, ``member``, ``backup``, ``manager``,
  ``recipient``, ``principal``;
- tasks a campaign plans (``tasks[].task_id``): ``planned``.

Objects relate to each other: a task is ``part of`` its campaign, a submission ``of`` its
task. Event attributes are the envelope's (source, actor, aggregate version, correlation
and causation ids, reason) and the payload as JSON text (``data``); as the OCEL 2.0 JSON
Schema requires, every attribute value is a string. A campaign's ``name`` and a task's
``title`` are object attributes, timed when the event that gave them happened.

The log is one JSON object, streamed without holding the archive: events first, as they
are read, then what was gathered about objects and types on the way (memory grows with the
number of objects, not of events). JSON objects are unordered, so readers see the same log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from services.reporting.export import EXPORT_PAGE

CAMPAIGN, TASK, SUBMISSION, MEMBER = "campaign", "task", "submission", "member"
MEMBER_ROLES = {
    "assignee_id": "assignee", "previous_assignee_id": "previous assignee",
    "member_id": "member", "backup_id": "backup", "backup_member_id": "backup",
    "manager_id": "manager", "recipient_id": "recipient", "principal_id": "principal",
}
EVENT_ATTRIBUTES = ("source", "actor", "aggregate_version", "correlation_id",
                    "causation_id", "reason", "data")
OBJECT_ATTRIBUTES = {CAMPAIGN: ("name",), TASK: ("title",)}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class OcelAttributeType(_Model):
    name: str
    type: str = Field(description="string, time, integer, float or boolean")


class OcelType(_Model):
    name: str
    attributes: list[OcelAttributeType]


class OcelEventAttribute(_Model):
    name: str
    value: str


class OcelObjectAttribute(_Model):
    name: str
    value: str
    time: str = Field(description="when the object took this value (ISO 8601)")


class OcelRelationship(_Model):
    objectId: str
    qualifier: str


class OcelEvent(_Model):
    id: str = Field(description="the CloudEvents id")
    type: str = Field(description="the CloudEvents type")
    time: str
    attributes: list[OcelEventAttribute]
    relationships: list[OcelRelationship]


class OcelObject(_Model):
    id: str = Field(description="<type>:<id>, e.g. task:<uuid>, member:<member id>")
    type: str
    attributes: list[OcelObjectAttribute]
    relationships: list[OcelRelationship]


class OcelLogOut(_Model):
    """An OCEL 2.0 object-centric event log (https://www.ocel-standard.org), JSON format."""

    events: list[OcelEvent]
    objects: list[OcelObject]
    objectTypes: list[OcelType]
    eventTypes: list[OcelType]


def object_id(kind: str, key: Any) -> str:
    return f"{kind}:{key}"


class _Log:
    """What the streamed events tell of objects and types, gathered for the tail."""

    def __init__(self) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.event_types: dict[str, set[str]] = {}

    def object(self, kind: str, key: Any) -> str:
        oid = object_id(kind, key)
        if oid not in self.objects:
            self.objects[oid] = {"id": oid, "type": kind, "attributes": [],
                                 "relationships": {}}
        return oid

    def link(self, source: str, target: str, qualifier: str) -> None:
        self.objects[source]["relationships"].setdefault(target, qualifier)

    def event(self, row: dict[str, Any]) -> dict[str, Any]:
        data = orjson.loads(row["data"])
        subject = str(row["subject"])
        related: dict[str, str] = {}

        def relate(oid: str, qualifier: str) -> None:
            related.setdefault(oid, qualifier)

        campaign_id = data.get("campaign_id")
        task_id = data.get("task_id")
        kind = _subject_kind(row["type"], data, subject)
        subject_oid = self.object(kind, subject)
        relate(subject_oid, "subject")
        campaign = self.object(CAMPAIGN, campaign_id) if campaign_id else None
        task = self.object(TASK, task_id) if task_id else None
        if campaign is not None:
            relate(campaign, "part of")
        if task is not None:
            relate(task, TASK)
            if campaign is not None:
                self.link(task, campaign, "part of")
            version = data.get("submission_version")
            if isinstance(version, int) and version >= 1:
                submission = self.object(SUBMISSION, f"{task_id}/{version}")
                self.link(submission, task, "of")
                relate(submission, _submission_qualifier(row["type"]))
        if row["actor"]:
            relate(self.object(MEMBER, row["actor"]), "actor")
        for key, role in MEMBER_ROLES.items():
            if isinstance(data.get(key), str) and data[key]:
                relate(self.object(MEMBER, data[key]), role)
        for planned in data.get("tasks") or ():
            if isinstance(planned, dict) and planned.get("task_id"):
                planned_oid = self.object(TASK, planned["task_id"])
                relate(planned_oid, "planned")
                if kind == CAMPAIGN:
                    self.link(planned_oid, subject_oid, "part of")
                    self._set(planned_oid, "title", planned.get("title"), row["time"])
        if kind in OBJECT_ATTRIBUTES:
            for name in OBJECT_ATTRIBUTES[kind]:
                self._set(subject_oid, name, data.get(name), row["time"])

        attributes = [{"name": name, "value": _text(row[name])}
                      for name in EVENT_ATTRIBUTES if row[name] is not None]
        self.event_types.setdefault(row["type"], set()).update(
            attribute["name"] for attribute in attributes)
        return {"id": row["id"], "type": row["type"], "time": row["time"],
                "attributes": attributes,
                "relationships": [{"objectId": oid, "qualifier": qualifier}
                                  for oid, qualifier in related.items()]}

    def _set(self, oid: str, name: str, value: Any, time: str) -> None:
        if not isinstance(value, str):
            return
        attributes = self.objects[oid]["attributes"]
        if not attributes or attributes[-1]["name"] != name or \
                attributes[-1]["value"] != value:
            attributes.append({"name": name, "value": value, "time": time})

    def tail(self) -> Iterator[bytes]:
        yield b'],"objects":['
        batch: list[bytes] = []
        for number, found in enumerate(self.objects.values()):
            found = {**found, "relationships": [
                {"objectId": target, "qualifier": qualifier}
                for target, qualifier in found["relationships"].items()]}
            batch.append((b"," if number else b"") + orjson.dumps(found))
            if len(batch) >= EXPORT_PAGE:
                yield b"".join(batch)
                batch = []
        yield b"".join(batch)
        kinds = sorted({found["type"] for found in self.objects.values()}
                       | {CAMPAIGN, TASK, SUBMISSION, MEMBER})
        object_types = [{"name": kind, "attributes": [
            {"name": name, "type": "string"} for name in OBJECT_ATTRIBUTES.get(kind, ())]}
            for kind in kinds]
        event_types = [{"name": name, "attributes": [
            {"name": attribute, "type": "string"}
            for attribute in EVENT_ATTRIBUTES if attribute in attributes]}
            for name, attributes in sorted(self.event_types.items())]
        yield (b'],"objectTypes":' + orjson.dumps(object_types) + b',"eventTypes":'
               + orjson.dumps(event_types) + b"}")


def _subject_kind(event_type: str, data: dict[str, Any], subject: str) -> str:
    """The subject's object type: the payload's id naming it, else the type's entity
    (marketflow.<service>.<entity>.<verb>.v<n>)."""
    if str(data.get("campaign_id")) == subject:
        return CAMPAIGN
    if str(data.get("task_id")) == subject:
        return TASK
    if data.get("member_id") == subject:
        return MEMBER
    parts = event_type.split(".")
    return parts[2] if len(parts) >= 5 else "object"


def _submission_qualifier(event_type: str) -> str:
    if event_type.endswith(".task.submitted.v1"):
        return "submitted"
    if ".approval." in event_type or event_type.endswith(
            (".task.approved.v1", ".task.changes_requested.v1")):
        return "decided"
    return "about"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def ocel(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """The rows (``ArchiveView.rows``) as one OCEL 2.0 JSON document, in chunks."""
    log = _Log()
    yield b'{"events":['
    batch: list[bytes] = []
    first = True
    for row in rows:
        batch.append((b"" if first else b",") + orjson.dumps(log.event(row)))
        first = False
        if len(batch) >= EXPORT_PAGE:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)
    yield from log.tail()
