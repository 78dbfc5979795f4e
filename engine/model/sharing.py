"""Share equal objects between two schemas: the desired schema keeps production's instances.

A pull request changes a few hundred of a large schema's 250,000 objects, yet the planner held
two full models, production's and the one read back from the shadow (~430 MB each at 10,000
tables). An object the shadow reads back equal, field for field and class for class, to
production's is replaced by production's instance as soon as its catalog family is validated:
the shadow's copy is freed before the next family arrives, and the desired model costs little
more than its collections' tuples and what differs. Frozen models make this invisible to every
reader (same class, same fields), and it makes comparing the two schemas cheaper: equal objects
are now the same object.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import compress, count
from operator import attrgetter, ne
from typing import Any, TypeVar

from engine.model.base import Dependency, Model
from engine.model.schema import OBJECT_FIELDS, Schema

T = TypeVar("T", bound=Model)

_fields = attrgetter("__dict__")
# A dependency row's fields are two keys, whose __eq__ is Python: their dicts compare in C.
_dependency_fields = attrgetter("dependent.__dict__", "referenced.__dict__")


def dependency_sort_key(row: Dependency) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (row.dependent.sort_key, row.referenced.sort_key)


def _object_sort_key(obj: Any) -> Any:
    return obj.sort_key


def share_equal(
    items: tuple[T, ...],
    reference: tuple[T, ...],
    sort_key: Callable[[T], Any],
    fields: Callable[[T], Any] = _fields,
) -> tuple[T, ...]:
    """`items` with each object that equals its counterpart in `reference` (same sort key, same
    class, same `fields`: the field dict) replaced by that counterpart. Both must be in
    `sort_key` order.

    One merge walk: runs of equal objects are found at C speed (map/compress over the field
    dicts, as engine.plan.changes walks); Python looks only where the sides part.
    """
    if not items or not reference or items is reference:
        return items
    same_class = len({*map(type, items), *map(type, reference)}) == 1
    mine = [*map(fields, items)].__getitem__
    theirs = [*map(fields, reference)].__getitem__
    out = list(items)
    i = j = 0
    n, m = len(items), len(reference)
    while i < n and j < m:
        if same_class:
            parted = next(
                compress(count(), map(ne, map(mine, range(i, n)), map(theirs, range(j, m)))),
                None,
            )
            run = min(n - i, m - j) if parted is None else parted
            out[i : i + run] = reference[j : j + run]
            i += run
            j += run
            if parted is None:
                break
        a, b = items[i], reference[j]
        if a.__class__ is b.__class__ and mine(i) == theirs(j):
            out[i] = b
            i += 1
            j += 1
            continue
        ka, kb = sort_key(a), sort_key(b)
        if ka == kb:  # the same object, changed: the shadow's version stays
            i += 1
            j += 1
        elif ka < kb:
            i += 1
        else:
            j += 1
    return tuple(out)


def share_with(part: Schema, names: Iterable[str], reference: Schema) -> dict[str, Any]:
    """The fields `names` of `part` (a key-ordered schema, possibly one catalog family), with
    its objects and dependency rows equal to `reference`'s (key-ordered too) shared."""
    reference = reference.ordered()
    shared: dict[str, Any] = {}
    for name in names:
        value = getattr(part, name)
        if name in OBJECT_FIELDS:
            value = share_equal(value, getattr(reference, name), _object_sort_key)
        elif name == "dependencies":
            value = share_equal(
                value, reference.dependencies, dependency_sort_key, _dependency_fields
            )
        shared[name] = value
    return shared
