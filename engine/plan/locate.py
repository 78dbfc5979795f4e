"""Where schema/ defines the object a plan statement touches: ObjectRef -> the loader's key.

The loader records each object's statement under keys like "table public.orders" or
"trigger t on public.orders" (`engine.load.ObjectRef.key`); plan statements name objects the
model's way ("constraint public.orders.total_positive", "function public.f(integer)"). Sub-objects
(columns, constraints) fall back on their table, and anything on its schema when schema/ creates
it. Dropped objects have no definition any more, so they are found nowhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

from engine.plan.model import ObjectRef

Location = TypeVar("Location")

# Model kinds -> the kind words the loader uses for the statements that create them.
_LOADER_KINDS: dict[str, tuple[str, ...]] = {
    "table": ("table", "foreign table"),
    "matview": ("materialized view",),
    "enum": ("type",),
    "composite": ("type",),
    "range": ("type",),
    "function": ("function", "procedure"),
    "fdw": ("foreign data wrapper",),
    "event_trigger": ("event trigger",),
}
# Kinds whose statement object name is "table.name": point them at the table when not found.
_TABLE_SCOPED = frozenset(
    {"column", "inherited_column", "constraint", "index", "trigger", "policy"}
)


def _candidates(obj: ObjectRef) -> Iterator[str]:
    kinds = _LOADER_KINDS.get(obj.kind, (obj.kind,))
    name = obj.name.split("(", 1)[0] if obj.kind == "function" else obj.name
    for kind in kinds:
        yield f"{kind} {obj.schema_}.{name}" if obj.schema_ else f"{kind} {name}"
    # "orders.total": try every split, since identifiers may themselves contain dots.
    for i, ch in enumerate(name):
        if ch != ".":
            continue
        parent, child = name[:i], name[i + 1 :]
        yield f"{obj.kind} {child} on {obj.schema_}.{parent}"
        if obj.kind == "index":
            yield f"index {obj.schema_}.{child}"
        if obj.kind in _TABLE_SCOPED:
            yield f"table {obj.schema_}.{parent}"
            yield f"foreign table {obj.schema_}.{parent}"
    if obj.kind not in ("schema",) and obj.schema_:
        # Last resort: the object's schema, when schema/ creates it.
        yield f"schema {obj.schema_}"


def locate(obj: ObjectRef, locations: Mapping[str, Location]) -> Location | None:
    """The location of the statement in schema/ that defines `obj` (or its table), if any."""
    for key in _candidates(obj):
        found = locations.get(key)
        if found is not None:
            return found
    return None
