"""What differs between two schemas, found by walking their ordered collections side by side.

Both schemas keep every collection in key order (`Schema.ordered`), so one merge walk per
collection pairs the objects: the bulk of a large schema is equal field for field, which is one
dict comparison and no key. Keys are built only for the objects that differ (a few hundred in a
pull request against 250,000 objects).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import compress, count
from operator import attrgetter, is_not, ne

from engine.model.base import ObjectKey, Owned, SchemaObject
from engine.model.schema import OBJECT_FIELDS, Schema


def objects_differ(old: SchemaObject, new: SchemaObject, manage_ownership: bool) -> bool:
    """Is there anything to plan between two versions of one object?

    Owners differ on nearly every object when production is compared with the shadow (which
    loads schema/ as its own role); unless ownership is managed they are not a difference.
    """
    if type(old) is not type(new):
        return True
    # Field by field on the instances' dicts (where pydantic keeps the fields): the bulk of a
    # large schema is equal, and this is called once per object of both sides.
    fields, other = old.__dict__, new.__dict__
    if fields == other:
        return False
    if not manage_ownership and isinstance(old, Owned) and fields["owner"] != other["owner"]:
        if {**fields, "owner": other["owner"]} == other:
            return False
        old = old.model_copy(update={"owner": new.owner})
        fields = old.__dict__
    ignored = old.not_compared
    if ignored and {k: v for k, v in fields.items() if k not in ignored} == {
        k: v for k, v in other.items() if k not in ignored
    }:
        return False  # only uncompared fields differ (a column's position, table statistics)
    return not old.same_as(new)


_fields = attrgetter("__dict__")


def _first(flags: Iterator[bool]) -> int | None:
    """The index of the first true flag, or None."""
    return next(compress(count(), flags), None)


@dataclass
class Changes:
    """Objects only in the current schema, only in the desired one, and in both but different
    (old and new), each by key."""

    removed: dict[ObjectKey, SchemaObject] = field(default_factory=dict)
    added: dict[ObjectKey, SchemaObject] = field(default_factory=dict)
    changed: dict[ObjectKey, tuple[SchemaObject, SchemaObject]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.removed or self.added or self.changed)


def compare_schemas(current: Schema, desired: Schema, manage_ownership: bool) -> Changes:
    """Every object removed, added or changed between `current` and `desired`.

    Remembered on `current` for this `desired` (schemas are frozen): the planner and
    verification's scope both ask, 0.3-0.5 s each at 10,000 tables. Do not mutate the result.
    """
    name = f"changes:{id(desired)}:{manage_ownership}"
    target, changes = current.memo(
        name, lambda s: (desired, _compare(s, desired, manage_ownership))
    )
    if target is not desired:  # an id reused by a newer schema
        return _compare(current, desired, manage_ownership)
    return changes


def _compare(current: Schema, desired: Schema, manage_ownership: bool) -> Changes:
    changes = Changes()
    current, desired = current.ordered(), desired.ordered()
    for name in OBJECT_FIELDS:
        _walk(getattr(current, name), getattr(desired, name), manage_ownership, changes)
    return changes


def _walk(
    old: tuple[SchemaObject, ...],
    new: tuple[SchemaObject, ...],
    manage_ownership: bool,
    changes: Changes,
) -> None:
    if old is new:
        return
    # Runs of equal objects are found at C speed (map/compress); Python looks only at where the
    # two sides part. A desired schema inspected like production (engine.model.sharing) holds
    # production's very instances wherever they are equal, so runs are first found by identity;
    # where the sides hold distinct instances, by their field dicts (which decide equality only
    # when each side holds one class).
    same_class = len({*map(type, old), *map(type, new)}) == 1
    old_fields = [*map(_fields, old)].__getitem__
    new_fields = [*map(_fields, new)].__getitem__
    old_item, new_item = old.__getitem__, new.__getitem__
    i = j = 0
    n_old, n_new = len(old), len(new)
    while i < n_old and j < n_new:
        # (islice would walk from the start each time: ranges index)
        parted = _first(map(is_not, map(old_item, range(i, n_old)), map(new_item, range(j, n_new))))
        if parted == 0 and same_class:  # distinct instances here: compare their fields
            parted = _first(
                map(ne, map(old_fields, range(i, n_old)), map(new_fields, range(j, n_new)))
            )
        if parted is None:  # equal to the end of the shorter side
            step = min(n_old - i, n_new - j)
            i += step
            j += step
            break
        i += parted
        j += parted
        a, b = old[i], new[j]
        if a.__class__ is b.__class__ and a.__dict__ == b.__dict__:
            i += 1
            j += 1
            continue
        ka, kb = a.sort_key, b.sort_key
        if ka == kb:
            if objects_differ(a, b, manage_ownership):
                changes.changed[b.key] = (a, b)
            i += 1
            j += 1
        elif ka < kb:
            changes.removed[a.key] = a
            i += 1
        else:
            changes.added[b.key] = b
            j += 1
    for a in old[i:]:
        changes.removed[a.key] = a
    for b in new[j:]:
        changes.added[b.key] = b
