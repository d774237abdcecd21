"""Is a contract still compatible with its released version?

Within one type version every payload valid under the released schema must stay valid under
the current one: consumers built from the current models read archived and re-published
old events, and replay must never refuse history. So a removed field, a narrowed or changed
type, a new or tightened constraint and a new required field are breaking; a new optional
field (and any widening) is not. A breaking change is a new type version (``….v2``).

The comparison understands the JSON Schema pydantic generates (types, ``anyOf`` for
unions and ``None``, ``enum``/``const``, ``format``, length and range bounds, ``pattern``,
objects, arrays, ``$ref`` into ``$defs``); anything it cannot prove compatible counts as
breaking, so the check errs on the side of a new version.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
# Bounds: (keyword, True if a larger value is tighter).
_BOUNDS = (("minLength", True), ("maxLength", False), ("minimum", True), ("maximum", False),
           ("exclusiveMinimum", True), ("exclusiveMaximum", False), ("minItems", True),
           ("maxItems", False), ("minProperties", True), ("maxProperties", False))
# Words that change nothing about what validates.
_ANNOTATIONS = {"title", "description", "default", "examples", "deprecated", "$id",
                "$schema", "$defs", "x-cloudevents-type", "readOnly", "writeOnly"}
_UNDERSTOOD = _ANNOTATIONS | {b for b, _ in _BOUNDS} | {
    "type", "anyOf", "enum", "const", "format", "pattern", "properties", "required",
    "additionalProperties", "items", "$ref", "uniqueItems"}


def breaking_changes(released: Schema, current: Schema) -> list[str]:
    """What in ``current`` refuses payloads ``released`` accepted, one line each
    (empty: compatible)."""
    return _Comparison(released, current).compare(released, current, "")


class _Comparison:
    def __init__(self, released_root: Schema, current_root: Schema) -> None:
        self.roots = (released_root, current_root)

    def resolve(self, schema: Schema, side: int) -> Schema:
        seen = 0
        while "$ref" in schema:
            reference = schema["$ref"]
            if not reference.startswith("#/") or seen > 32:
                raise ValueError(f"cannot follow $ref {reference!r}")
            target: Any = self.roots[side]
            for part in reference[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def compare(self, old: Schema, new: Schema, path: str) -> list[str]:
        old, new = self.resolve(old, 0), self.resolve(new, 1)
        where = path or "payload"
        unknown = (set(old) | set(new)) - _UNDERSTOOD
        if unknown:
            return [f"{where}: cannot compare {sorted(unknown)}"] if old != new else []
        if not new or new == old:  # an empty schema accepts everything
            return []
        # Every alternative the old schema allowed must still be allowed.
        if len(old_branches := _branches(old)) > 1:
            return [problem for branch in old_branches
                    for problem in self.compare(branch, new, path)]
        new_branches = _branches(new)
        if len(new_branches) > 1:
            attempts = [self.compare(old, branch, path) for branch in new_branches]
            if any(not problems for problems in attempts):
                return []
            return min(attempts, key=len)
        return self.compare_one(old, new, where, path)

    def compare_one(self, old: Schema, new: Schema, where: str, path: str) -> list[str]:
        problems: list[str] = []
        old_types, new_types = _types(old), _types(new)
        if new_types is not None:
            if old_types is None:
                problems.append(f"{where}: now restricted to type {sorted(new_types)}")
            elif lost := {t for t in old_types if not _type_kept(t, new_types)}:
                problems.append(f"{where}: type {sorted(old_types)} changed to "
                                f"{sorted(new_types)} (no longer {sorted(lost)})")
        old_values, new_values = _values(old), _values(new)
        if new_values is not None:
            if old_values is None:
                problems.append(f"{where}: now limited to {new_values}")
            elif lost_values := [v for v in old_values if v not in new_values]:
                problems.append(f"{where}: no longer accepts {lost_values}")
        for keyword in ("format", "pattern"):
            if keyword in new and new[keyword] != old.get(keyword):
                problems.append(f"{where}: {keyword} {old.get(keyword)!r} changed to "
                                f"{new[keyword]!r}")
        if new.get("uniqueItems") and not old.get("uniqueItems"):
            problems.append(f"{where}: items must now be unique")
        for keyword, larger_is_tighter in _BOUNDS:
            if keyword not in new:
                continue
            if keyword not in old or (new[keyword] > old[keyword] if larger_is_tighter
                                      else new[keyword] < old[keyword]):
                problems.append(f"{where}: {keyword} {old.get(keyword)} tightened to "
                                f"{new[keyword]}")
        if "properties" in old or "properties" in new or "required" in new:
            problems += self.compare_object(old, new, path)
        if "items" in old or "items" in new:
            problems += self.compare(old.get("items", {}), new.get("items", {}),
                                     f"{path}[]")
        return problems

    def compare_object(self, old: Schema, new: Schema, path: str) -> list[str]:
        problems = []
        old_properties, new_properties = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for name, old_property in old_properties.items():
            field = f"{path}.{name}" if path else name
            if name not in new_properties:
                problems.append(f"{field}: field removed")
                continue
            if name in new_required and name not in old_required:
                problems.append(f"{field}: optional field became required")
            problems += self.compare(old_property, new_properties[name], field)
        for name in sorted(new_required - set(old_properties)):
            field = f"{path}.{name}" if path else name
            problems.append(f"{field}: new required field")
        if new.get("additionalProperties") is False and old.get("additionalProperties") \
                is not False:
            problems.append(f"{path or 'payload'}: no longer accepts unknown fields")
        return problems


def _branches(schema: Schema) -> list[Schema]:
    """The alternatives a schema allows: its ``anyOf`` branches, or one per type."""
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    if "anyOf" in schema:
        return [{**rest, **branch} for branch in schema["anyOf"]]
    types = schema.get("type")
    if isinstance(types, list) and len(types) > 1:
        return [{**schema, "type": single} for single in types]
    return [schema]


def _types(schema: Schema) -> set[str] | None:
    types = schema.get("type")
    if types is None:
        return None
    return set(types) if isinstance(types, list) else {types}


def _type_kept(old_type: str, new_types: set[str]) -> bool:
    return old_type in new_types or (old_type == "integer" and "number" in new_types)


def _values(schema: Schema) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if enum is not None else None
