"""Lookups into one schema's objects and dependencies without keying every object first.

A pull request changes a few hundred of a large schema's 250,000 objects, and the planner asks
about those and their neighbours only. An ordered schema (`Schema.ordered`: every inspected one)
keeps each collection and its dependencies in key order, so a lookup is a binary search by sort
key. A plan that asks about many objects (a full create plan, as `dump` and verification's
rebuild make) switches to dicts of every key, built once, after a budget of searches: a search
costs ~18 sort keys, a dict entry one key.
"""

from __future__ import annotations

import typing
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain, compress
from operator import attrgetter
from typing import Any

from engine.model.base import Dependency, ObjectKey, SchemaObject
from engine.model.schema import OBJECT_FIELDS, Schema
from engine.model.tables import Column

SortKey = tuple[Any, ...]


class _Above:
    """Sorts after every string: the upper end of a key prefix in a binary search."""

    __slots__ = ()

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return True


ABOVE = _Above()

_object_sort_key = attrgetter("sort_key")


def _dependent_sort_key(dep: Dependency) -> SortKey:
    return dep.dependent.sort_key


def _element_class(field: str) -> type[SchemaObject]:
    annotation = Schema.model_fields[field].annotation
    (cls, _) = typing.get_args(annotation)
    assert isinstance(cls, type)
    assert issubclass(cls, SchemaObject)
    return cls


# The collection each kind of key lives in, and the class of its objects.
CLASSES: dict[str, type[SchemaObject]] = {f: _element_class(f) for f in OBJECT_FIELDS}
FIELD_OF_KIND: dict[str, str] = {cls.kind: field for field, cls in CLASSES.items()}
FIELD_OF_KIND.update(procedure="routines", aggregate="routines")
# Collections whose keys name a parent table (columns, constraints, triggers, policies).
PARENTED_FIELDS: tuple[str, ...] = tuple(
    f for f, cls in CLASSES.items() if cls.key_attrs is not None and cls.key_attrs[1] is not None
)


def _fast_getter(cls: type[SchemaObject]) -> tuple[Any, tuple[str, ...]] | None:
    """For a class whose key parts are plain required strings: a C-level getter of those parts
    (in key order, the kind left out: one collection holds one kind) and the ObjectKey fields
    they correspond to. Ordering by it is ordering by sort key, at a fraction of the cost."""
    if cls.key_attrs is None:
        return None
    attrs: list[str] = []
    key_fields: list[str] = []
    for attr, key_field in zip(cls.key_attrs, ("schema_", "parent", "name", "args"), strict=True):
        if attr is None:
            continue
        if cls.model_fields[attr].annotation is not str:
            return None
        attrs.append(attr)
        key_fields.append(key_field)
    return attrgetter(*attrs), tuple(key_fields)


FAST_GETTERS = {f: g for f, cls in CLASSES.items() if (g := _fast_getter(cls)) is not None}
# pg_depend's keys by their raw fields (None where a key has no such part); a kind's keys all
# have the same parts, so within a kind this orders as the sort key does, and comparing None
# with a string (which would mean otherwise) raises TypeError, upon which the sort key is used.
_DEPENDENT_FIELDS = attrgetter(
    "dependent.kind", "dependent.schema_", "dependent.parent", "dependent.name", "dependent.args"
)


_REFERENCED_NAME = attrgetter("referenced.name")


def _raw_key(key: ObjectKey) -> tuple[str | None, ...]:
    return (key.kind, key.schema_, key.parent, key.name, key.args)


def _prefix_range(items: typing.Sequence[Any], prefix: SortKey, key: Any) -> tuple[int, int]:
    """[lo, hi) of the items whose sort key starts with `prefix` (items in sort-key order)."""
    lo = bisect_left(items, prefix, key=key)
    hi = bisect_left(items, (*prefix, ABOVE), lo=lo, key=key)
    return lo, hi


class ObjectIndex(Mapping[ObjectKey, SchemaObject]):
    """One schema's objects by key: binary searches first, a dict of every key once many
    lookups have been asked for."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema.ordered()
        self.size = sum(len(getattr(self.schema, f)) for f in OBJECT_FIELDS)
        self._budget = max(1024, self.size // 8)
        self._searches = 0
        self._keyed: dict[ObjectKey, SchemaObject] | None = None
        self._children: dict[tuple[str, str], list[SchemaObject]] | None = None
        # What searches found (objects are asked for again and again: a table's statistics for
        # each of its columns' hazards, a step's key when it is ordered).
        self._found: dict[ObjectKey, SchemaObject | None] = {}

    def use_dicts(self) -> None:
        """Switch to dicts of every key at the next lookup."""
        self._searches = self._budget

    def _spend(self) -> bool:
        """Count one search; True once the budget is spent (use the dicts from now on)."""
        self._searches += 1
        return self._searches > self._budget

    def get(self, key: ObjectKey, default: Any = None) -> Any:
        keyed = self._keyed
        if keyed is None:
            if not self._spend():
                found = self._search(key)
                return default if found is None else found
            keyed = self._keyed = self.schema._keyed()
        return keyed.get(key, default)

    def _search(self, key: ObjectKey) -> SchemaObject | None:
        if key in self._found:
            return self._found[key]
        field = FIELD_OF_KIND.get(key.kind)
        found = None
        if field is not None:
            items: tuple[SchemaObject, ...] = getattr(self.schema, field)
            fast = FAST_GETTERS.get(field)
            if fast is not None:
                getter, key_fields = fast
                # attrgetter of one attribute gives the value itself, of several a tuple
                wanted = (
                    getattr(key, key_fields[0])
                    if len(key_fields) == 1
                    else tuple(getattr(key, f) for f in key_fields)
                )
                try:
                    i = bisect_left(items, wanted, key=getter)
                except TypeError:  # a key part that is not a string: compare sort keys
                    i = bisect_left(items, key.sort_key, key=_object_sort_key)
            else:
                i = bisect_left(items, key.sort_key, key=_object_sort_key)
            if i < len(items) and items[i].key == key:
                found = items[i]
        self._found[key] = found
        return found

    def remember(self, found: Mapping[ObjectKey, SchemaObject]) -> None:
        """Objects already found by key (the changed ones): later lookups need no search."""
        self._found.update(found)

    def adopt(self, keyed: dict[ObjectKey, SchemaObject]) -> None:
        """Take `keyed` as the dict of every key when it holds every object (all of them added
        by a create plan: keying them again would cost as much as the first time)."""
        if self._keyed is None and len(keyed) == self.size:
            self._keyed = self.schema.remember_keys(keyed)

    def keyed(self) -> dict[ObjectKey, SchemaObject]:
        """Every object by key (built once per schema; lookups use it from now on)."""
        if self._keyed is None:
            self._keyed = self.schema._keyed()
        return self._keyed

    def __getitem__(self, key: ObjectKey) -> SchemaObject:
        found: SchemaObject | None = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __contains__(self, key: object) -> bool:
        return isinstance(key, ObjectKey) and self.get(key) is not None

    def __iter__(self) -> Iterator[ObjectKey]:
        return iter(self.keyed())

    def __len__(self) -> int:
        return len(self.keyed())

    def children(self, schema: str, table: str) -> list[SchemaObject]:
        """The objects whose key names `schema.table` as their parent, collection by
        collection in key order."""
        if self._children is None and not self._spend():
            found: list[SchemaObject] = []
            for field in PARENTED_FIELDS:
                items = getattr(self.schema, field)
                if not items:
                    continue
                fast = FAST_GETTERS.get(field)
                prefix = (CLASSES[field].kind, schema, table)
                try:
                    if fast is None or fast[1][:2] != ("schema_", "parent"):
                        raise TypeError
                    lo, hi = _prefix_range(items, (schema, table), fast[0])
                except TypeError:  # no fast getter, or a key part that is not a string
                    lo, hi = _prefix_range(items, prefix, _object_sort_key)
                found.extend(items[lo:hi])
            return found
        if self._children is None:
            grouped: dict[tuple[str, str], list[SchemaObject]] = defaultdict(list)
            for field in PARENTED_FIELDS:
                schema_attr, parent_attr, _, _ = CLASSES[field].key_attrs or (None, None, "", None)
                assert schema_attr is not None
                assert parent_attr is not None
                for obj in getattr(self.schema, field):
                    grouped[(getattr(obj, schema_attr), getattr(obj, parent_attr))].append(obj)
            self._children = grouped
        return list(self._children.get((schema, table), ()))

    def columns_of(self, schema: str, table: str) -> list[Column]:
        """The table's columns in position order."""
        columns = [c for c in self.children(schema, table) if isinstance(c, Column)]
        columns.sort(key=lambda c: c.position)
        return columns


class Dependencies:
    """What depends on what in one schema: pg_depend's rows (`Schema.dependencies`) plus what
    the model implies (`SchemaObject.implied_deps`), asked for per key.

    Ordering a plan needs the dependencies of the objects that have steps (and of the
    sub-objects of tables that do); rebuilding dependents needs what depends on the objects a
    plan drops or rebuilds. Neither needs the whole graph of a large schema.
    """

    def __init__(self, objects: ObjectIndex) -> None:
        self.objects = objects
        self.rows: tuple[Dependency, ...] = objects.schema.dependencies
        self._budget = objects._budget
        self._searches = 0
        self._recorded: dict[ObjectKey, list[ObjectKey]] | None = None
        self._dependent_kinds: list[str] | None = None
        self._recorded_under: dict[tuple[str | None, str], set[ObjectKey]] | None = None
        self._dependents: dict[ObjectKey, set[ObjectKey]] = {}
        self._referenced_names: list[str] | None = None
        self._dependent_raw_keys: list[tuple[str | None, ...]] | None = None

    def use_dicts(self) -> None:
        """Switch to dicts of every dependent at the next lookup."""
        self._searches = self._budget

    def _spend(self) -> bool:
        """Count one search; True once the budget is spent (use the dicts from now on)."""
        self._searches += 1
        return self._searches > self._budget

    def _all_recorded(self) -> dict[ObjectKey, list[ObjectKey]]:
        if self._recorded is None:
            recorded: dict[ObjectKey, list[ObjectKey]] = defaultdict(list)
            for dep in self.rows:
                recorded[dep.dependent].append(dep.referenced)
            self._recorded = recorded
        return self._recorded

    def recorded(self, key: ObjectKey) -> list[ObjectKey]:
        """What pg_depend says `key` depends on."""
        if self._recorded is None and not self._spend():
            return [row.referenced for row in self.rows_of(key)]
        return list(self._all_recorded().get(key, ()))

    def rows_of(self, key: ObjectKey) -> list[Dependency]:
        """pg_depend's rows whose dependent is `key`, in order (a binary search)."""
        rows = self.rows
        if self._dependent_raw_keys is None:
            # the rows' raw keys once (attrgetter, in C): a search then compares tuples in C
            # instead of calling the key function per step (verifying a 10,000-table plan on
            # its scope searched 16,500 times: 0.31 s against ~0.03 s)
            self._dependent_raw_keys = list(map(_DEPENDENT_FIELDS, rows))
        try:
            i = bisect_left(self._dependent_raw_keys, _raw_key(key))
        except TypeError:
            i = bisect_left(rows, key.sort_key, key=_dependent_sort_key)
        found = []
        while i < len(rows) and rows[i].dependent == key:
            found.append(rows[i])
            i += 1
        return found

    def of(self, key: ObjectKey) -> set[ObjectKey]:
        """Everything `key` depends on."""
        recorded, keyed = self._recorded, self.objects._keyed
        if recorded is not None and keyed is not None:  # the dicts: a create plan's hot path
            deps = set(recorded.get(key, ()))
            obj = keyed.get(key)
            if obj is not None:
                deps.update(obj.implied_deps())
            return deps
        deps = set(self.recorded(key))
        obj = self.objects.get(key)
        if obj is not None:
            deps.update(obj.implied_deps())
        return deps

    def keys_under(self, table: ObjectKey) -> set[ObjectKey]:
        """Keys whose parent is `table`: its sub-objects, and pg_depend's dependents there
        (a column default, say) that are not objects of their own."""
        if table.schema_ is None:
            return set()
        if self._recorded_under is None and not self._spend():
            keys = {obj.key for obj in self.objects.children(table.schema_, table.name)}
            for kind in self._kinds():
                prefix = (kind, table.schema_, table.name)
                try:
                    lo, hi = _prefix_range(self.rows, prefix, _DEPENDENT_FIELDS)
                except TypeError:
                    lo, hi = _prefix_range(self.rows, prefix, _dependent_sort_key)
                keys.update(d.dependent for d in self.rows[lo:hi] if d.dependent.parent is not None)
            return keys
        if self._recorded_under is None:
            under: dict[tuple[str | None, str], set[ObjectKey]] = defaultdict(set)
            for key in chain(self.objects.keyed(), self._all_recorded()):
                if key.parent is not None:
                    under[(key.schema_, key.parent)].add(key)
            self._recorded_under = under
        return set(self._recorded_under.get((table.schema_, table.name), ()))

    def _kinds(self) -> list[str]:
        """The kinds of pg_depend's dependents (a jump per kind through the ordered rows)."""
        if self._dependent_kinds is None:
            kinds: list[str] = []
            i = 0
            while i < len(self.rows):
                kind = self.rows[i].dependent.kind
                kinds.append(kind)
                i = bisect_left(self.rows, (kind, ABOVE), lo=i, key=_dependent_sort_key)
            self._dependent_kinds = kinds
        return self._dependent_kinds

    def column_position(self, key: ObjectKey) -> int:
        """A column's declared position (0 for anything else)."""
        obj = self.objects.get(key) if key.kind == "column" else None
        return obj.position if isinstance(obj, Column) else 0

    def dependents_of(self, key: ObjectKey) -> set[ObjectKey]:
        """The keys that depend on `key`."""
        if key not in self._dependents:
            self.prepare_dependents([key])
        return set(self._dependents[key])

    def prepare_dependents(self, keys: Iterable[ObjectKey]) -> None:
        """Find what depends on each of `keys` in one pass over the rows and one over the
        collections whose objects can imply a dependency on such a kind."""
        wanted = {k for k in keys if k not in self._dependents}
        if not wanted:
            return
        found: dict[ObjectKey, set[ObjectKey]] = {k: set() for k in wanted}
        names = {k.name for k in wanted}
        if self._referenced_names is None:
            self._referenced_names = list(map(_REFERENCED_NAME, self.rows))
        # rows whose referenced name is one of `names`, picked in C; then the exact key
        for dep in compress(self.rows, map(names.__contains__, self._referenced_names)):
            if dep.referenced in found:
                found[dep.referenced].add(dep.dependent)
        kinds = {k.kind for k in wanted}
        for field, cls in CLASSES.items():
            if not cls.implies & kinds:
                continue
            for obj in getattr(self.objects.schema, field):
                # most objects name none of the keys: no key of theirs is built
                if names.isdisjoint(obj.implied_names()):
                    continue
                for ref in obj.implied_deps():
                    if ref in found:
                        found[ref].add(obj.key)
        self._dependents.update(found)
