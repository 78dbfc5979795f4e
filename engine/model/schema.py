"""The whole model of one database's managed schema, and its fingerprint."""

from __future__ import annotations

import hashlib
import itertools
import threading
import weakref
from collections.abc import Callable, Iterator
from operator import attrgetter
from typing import Any, TypeVar

from pydantic import BaseModel

from engine.model.base import Dependency, Model, ObjectKey, SchemaObject
from engine.model.constraints import Constraint
from engine.model.foreign import ForeignDataWrapper, ForeignServer, UserMapping
from engine.model.indexes import Index
from engine.model.namespaces import Collation, Extension, Namespace
from engine.model.policies import Policy
from engine.model.privileges import DefaultPrivilege
from engine.model.routines import Routine
from engine.model.sequences import Sequence
from engine.model.statistics import Statistics
from engine.model.tables import Column, InheritedColumn, Table, uncompared_locality
from engine.model.triggers import EventTrigger, Trigger
from engine.model.types import CompositeType, DomainType, EnumType, RangeType
from engine.model.unmanaged import UnmanagedObject
from engine.model.views import MaterializedView, View

_T = TypeVar("_T")

_FINGERPRINTING = threading.Lock()

# The object collections of a Schema, in the order a reader expects them in `inspect` output.
OBJECT_FIELDS: tuple[str, ...] = (
    "schemas",
    "extensions",
    "collations",
    "enums",
    "composites",
    "domains",
    "ranges",
    "sequences",
    "routines",
    "tables",
    "columns",
    "inherited_columns",
    "constraints",
    "indexes",
    "views",
    "matviews",
    "triggers",
    "event_triggers",
    "policies",
    "statistics",
    "default_privileges",
    "fdws",
    "servers",
    "user_mappings",
)


def family_sort_keys(items: tuple[SchemaObject, ...]) -> list[Any]:
    """Keys that order `items` as their `sort_key`s do, computed at C speed when they are all
    of one class whose key is plain text attributes.

    Within one class `sort_key` is (kind, schema or "", parent or "", name, args or ""): the
    kind and the attributes the class leaves out are the same for every object, so the tuple
    of the others orders them alike. At 10,000 tables the sort_key properties of the 168,000
    columns alone took 0.15 s (and up to 0.9 s while the catalog queries ran beside them).
    """
    classes = set(map(type, items))
    getter = _plain_key_getter(classes.pop()) if len(classes) == 1 else None
    if getter is None:
        return [obj.sort_key for obj in items]
    return list(map(getter, items))


_PLAIN_KEY_GETTERS: dict[type[SchemaObject], Callable[[Any], Any] | None] = {}


def _plain_key_getter(cls: type[SchemaObject]) -> Callable[[Any], Any] | None:
    """attrgetter of the class's key attributes, or None when its sort key is computed
    otherwise (its own `sort_key`, a `key`, or an attribute that may be None)."""
    if cls not in _PLAIN_KEY_GETTERS:
        attrs = [name for name in cls.key_attrs or () if name is not None]
        plain = (
            cls.key_attrs is not None
            and cls.sort_key is SchemaObject.sort_key
            and all(cls.model_fields[name].annotation is str for name in attrs)
        )
        _PLAIN_KEY_GETTERS[cls] = attrgetter(*attrs) if plain else None
    return _PLAIN_KEY_GETTERS[cls]


class Schema(Model):
    """Every managed object of one database, each collection sorted by key (deterministic JSON)."""

    # pydantic's own field set, unlike the objects': the families a partial inspection gave
    # are the fields its JSON set (engine.catalog.runner).
    __pydantic_fields_set__ = BaseModel.__dict__["__pydantic_fields_set__"]

    server_version_num: int = 0
    schemas: tuple[Namespace, ...] = ()
    extensions: tuple[Extension, ...] = ()
    collations: tuple[Collation, ...] = ()
    enums: tuple[EnumType, ...] = ()
    composites: tuple[CompositeType, ...] = ()
    domains: tuple[DomainType, ...] = ()
    ranges: tuple[RangeType, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    routines: tuple[Routine, ...] = ()
    tables: tuple[Table, ...] = ()
    columns: tuple[Column, ...] = ()
    inherited_columns: tuple[InheritedColumn, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    indexes: tuple[Index, ...] = ()
    views: tuple[View, ...] = ()
    matviews: tuple[MaterializedView, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    event_triggers: tuple[EventTrigger, ...] = ()
    policies: tuple[Policy, ...] = ()
    statistics: tuple[Statistics, ...] = ()
    default_privileges: tuple[DefaultPrivilege, ...] = ()
    fdws: tuple[ForeignDataWrapper, ...] = ()
    servers: tuple[ForeignServer, ...] = ()
    user_mappings: tuple[UserMapping, ...] = ()
    # Not compared (they come with the parent's): the constraints partitions and inheritance
    # children hold from their parents, under the child's own names, which detaching them
    # leaves in place (engine.plan.detached).
    inherited_constraints: tuple[Constraint, ...] = ()
    # Not compared, reported: objects in the database that pg-flux does not manage.
    unmanaged: tuple[UnmanagedObject, ...] = ()
    # Not compared: what depends on what, for ordering statements and rebuilding dependents.
    dependencies: tuple[Dependency, ...] = ()
    # Not compared, derived from the defaults (the catalog looks at the functions each calls):
    # the columns whose default calls a volatile function, so that adding one rewrites the
    # table. Here rather than a field of Column: a 22nd field there doubled the size of every
    # column's instance dict (464 -> 832 bytes, ~60 MB at 10,000 tables).
    volatile_defaults: tuple[ObjectKey, ...] = ()

    def default_is_volatile(self, column: ObjectKey) -> bool:
        """Whether the column's default calls a volatile function (`volatile_defaults`)."""
        derived = _derived(self)
        volatile: frozenset[ObjectKey] | None = derived.get("volatile_defaults")
        if volatile is None:
            volatile = derived["volatile_defaults"] = frozenset(self.volatile_defaults)
        return column in volatile

    def objects(self) -> Iterator[SchemaObject]:
        for field in OBJECT_FIELDS:
            yield from getattr(self, field)

    def by_key(self) -> dict[ObjectKey, SchemaObject]:
        """Every object by its key (a fresh dict; the keys are computed once per Schema)."""
        return dict(self._keyed())

    def _keyed(self) -> dict[ObjectKey, SchemaObject]:
        # Building an ObjectKey is a pydantic validation: at 10,000 tables (~250k objects) the
        # keys cost seconds, and planning and verification ask for them several times.
        derived = _derived(self)
        keyed: dict[ObjectKey, SchemaObject] | None = derived.get("keyed")
        if keyed is None:
            keyed = derived["keyed"] = {obj.key: obj for obj in self.objects()}
        return keyed

    def remember_keys(self, keyed: dict[ObjectKey, SchemaObject]) -> dict[ObjectKey, SchemaObject]:
        """Keep `keyed` (every object of this schema by key, built elsewhere) as by_key's."""
        derived = _derived(self)
        if "keyed" not in derived:
            derived["keyed"] = keyed
        result: dict[ObjectKey, SchemaObject] = derived["keyed"]
        return result

    def memo(self, name: str, compute: Callable[[Schema], _T]) -> _T:
        """`compute(self)`, computed once per schema (schemas are frozen) under `name`."""
        derived = _derived(self)
        if name not in derived:
            derived[name] = compute(self)
        value: _T = derived[name]
        return value

    def sorted(self) -> Schema:
        """The same schema with every collection in key order."""
        update: dict[str, Any] = {}
        for field in OBJECT_FIELDS:
            items = getattr(self, field)
            sort_keys = family_sort_keys(items)
            # Some catalog queries emit rows in key order already (the biggest leave ordering to
            # this sort): check before sorting.
            if any(a > b for a, b in itertools.pairwise(sort_keys)):
                order = sorted(range(len(items)), key=sort_keys.__getitem__)
                update[field] = tuple(items[i] for i in order)
        update["unmanaged"] = tuple(sorted(self.unmanaged, key=str))
        update["inherited_constraints"] = tuple(
            sorted(self.inherited_constraints, key=lambda c: c.sort_key)
        )
        update["dependencies"] = tuple(
            sorted(
                self.dependencies,
                key=lambda d: (d.dependent.sort_key, d.referenced.sort_key),
            )
        )
        # The keys are not remembered here: `inspect` alone never needs them again, and at
        # 10,000 tables they hold ~130 MB; by_key() builds and keeps them on first use.
        result = self.model_copy(update=update)
        _derived(result)["ordered"] = True
        return result

    def ordered(self) -> Schema:
        """This schema if its collections and dependencies are known to be in key order (it
        came from `sorted()`, as every inspected schema does), else a sorted copy: the planner
        looks objects up by binary search instead of keying all of them."""
        return self if self.is_ordered else self.sorted()

    @property
    def is_ordered(self) -> bool:
        return bool(_derived(self).get("ordered"))

    def mark_ordered(self) -> Schema:
        """Record that every collection and the dependencies are in key order (for a copy that
        only left objects out of an ordered schema). Returns self."""
        _derived(self)["ordered"] = True
        return self

    def fingerprint(self) -> str:
        """sha256 of what is compared: equal schemas have equal fingerprints.

        Dependencies, statistics, positions, the server version and owners are left out, so
        the same schema read from two servers (or twice) gives one fingerprint: the shadow
        loads schema/ as its own role, so owners there never match production's. Plans that
        manage ownership still carry every ALTER ... OWNER TO in the plan's own fingerprint.

        Computed once per schema (a second or more at 5,000 tables; planning, verification
        and the report all ask).
        """
        derived = _derived(self)
        fingerprint: str | None = derived.get("fingerprint")
        if fingerprint is None:
            # One computation at a time: a second thread asking for the same schema waits for
            # the first one's result instead of computing it again (both would hold the GIL).
            with _FINGERPRINTING:
                fingerprint = derived.get("fingerprint")
                if fingerprint is None:
                    fingerprint = derived["fingerprint"] = self._fingerprint()
        return fingerprint

    def read_like(self, reference: Schema) -> Schema:
        """Record that this schema was read sharing `reference`'s equal objects
        (engine.model.sharing): its fingerprint reuses the digests of the objects they share,
        when `reference` has computed its own. Returns self."""
        _derived(self)["reference"] = weakref.ref(reference)
        return self

    def _fingerprint(self) -> str:
        # Each object's digest (blake2b of its compared fields' print, see _object_digests),
        # and per collection the digests sorted, so that the fingerprint does not depend on the
        # collections' order. The digests are kept: a schema read like this one (the shadow's
        # copy of schema/, ~98% of its objects shared with production's) takes those of the
        # objects it shares instead of printing them again (10,000 tables: 1.5-2 s of this
        # process's time while the plan is verified, against 0.3 s for the digests here).
        derived = _derived(self)
        reference_ref = derived.get("reference")
        reference = reference_ref() if reference_ref is not None else None
        known: dict[str, tuple[tuple[SchemaObject, ...], list[bytes]]] = (
            _derived(reference).get("digests", {}) if reference is not None else {}
        )
        kept: dict[str, tuple[tuple[SchemaObject, ...], list[bytes]]] = {}
        digest = hashlib.sha256()
        for field in OBJECT_FIELDS:
            items: tuple[SchemaObject, ...] = getattr(self, field)
            if not items:
                continue
            digests = _reused_digests(field, items, known.get(field))
            kept[field] = (items, digests)
            for one in sorted(digests):
                digest.update(one)
        derived["digests"] = kept
        return "sha256:" + digest.hexdigest()

    def to_json(self) -> str:
        return self.sorted().model_dump_json(by_alias=True, indent=2)


_FINGERPRINT_SLICE = 10_000


def _object_digests(field: str, items: tuple[SchemaObject, ...]) -> list[bytes]:
    """Each object's digest: blake2b of the repr of (class name, compared fields), in order.
    model_dump (Rust) prints a slice at a time: all 170,000 columns' dicts at once were 110 MB
    at 10,000 tables."""
    digests: list[bytes] = []
    for start in range(0, len(items), _FINGERPRINT_SLICE):
        prints = _compared_prints(field, items[start : start + _FINGERPRINT_SLICE])
        digests.extend(hashlib.blake2b(p.encode(), digest_size=16).digest() for p in prints)
    return digests


def _reused_digests(
    field: str,
    items: tuple[SchemaObject, ...],
    known: tuple[tuple[SchemaObject, ...], list[bytes]] | None,
) -> list[bytes]:
    """The digests of `items`, taking those of the objects that are also in `known` (the same
    objects, by identity: both collections are alive, so an id names one object) from it."""
    if known is None:
        return _object_digests(field, items)
    known_items, known_digests = known
    position = {id(obj): i for i, obj in enumerate(known_items)}
    found = [position.get(id(obj)) for obj in items]
    fresh = iter(
        _object_digests(field, tuple(o for o, i in zip(items, found, strict=True) if i is None))
    )
    return [next(fresh) if i is None else known_digests[i] for i in found]


def _compared_prints(field: str, items: tuple[SchemaObject, ...]) -> list[str]:
    """repr of (class name, compared fields) of each object of one collection's slice.

    Fields at their defaults are left out: a field added to the model later (with a default)
    then leaves the fingerprint of every object that does not use it as it was, and a plan
    reviewed before an upgrade of pg-flux still matches production after it."""
    classes = {type(obj) for obj in items}
    excluded: dict[Any, set[str]] = (
        {"__all__": set(classes.pop().not_compared) | {"owner"}}
        if len(classes) == 1
        else {i: set(type(obj).not_compared) | {"owner"} for i, obj in enumerate(items)}
    )
    values: dict[str, Any] = {field: items}
    part = Schema.model_construct(**values)
    dumped = part.model_dump(
        include={field}, exclude={field: excluded}, by_alias=True, exclude_defaults=True
    )[field]
    if field == "columns":  # (few hold a NOT NULL constraint other than the default one)
        dumped = [
            uncompared_locality(d, defaults_left_out=True) if "not_null_constraint" in d else d
            for d in dumped
        ]
    names = [type(obj).__name__ for obj in items]
    return list(map(repr, zip(names, dumped, strict=True)))


# id(schema) -> (weak reference to it, what was computed from it: "keyed", its objects by key;
# "fingerprint"). Schemas are frozen, so an entry never goes stale; the weak reference tells a
# live entry from a reused id.
_DERIVED: dict[int, tuple[weakref.ref[Schema], dict[str, Any]]] = {}
# Reentrant: a finalizer (_forget) may run on this thread while it holds the lock.
_DERIVED_LOCK = threading.RLock()


def _derived(schema: Schema) -> dict[str, Any]:
    ident = id(schema)
    with _DERIVED_LOCK:
        entry = _DERIVED.get(ident)
        if entry is not None and entry[0]() is schema:
            return entry[1]
        ref = weakref.ref(schema)
        values: dict[str, Any] = {}
        _DERIVED[ident] = (ref, values)
    weakref.finalize(schema, _forget, ident, ref)
    return values


def _forget(ident: int, ref: weakref.ref[Schema]) -> None:
    with _DERIVED_LOCK:
        entry = _DERIVED.get(ident)
        if entry is not None and entry[0] is ref:
            del _DERIVED[ident]
