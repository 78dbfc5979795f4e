"""Which part of a large schema a plan's verification has to rebuild.

Verification rebuilds the current schema in a scratch database, applies the plan there and
requires the result to equal the desired schema. For a pull request that touches a few hundred of
250,000 objects, rebuilding all of them is as much server work as loading schema/ itself (~40 s at
10,000 tables) for objects the plan never looks at. The scope is what the plan can act on or be
stopped by:

- every object the plan drops, changes or creates (the differences between the two schemas);
- on the current side, everything that depends on those, transitively (pg_depend and what the
  model implies): a plan that forgets to drop a dependent view fails in the scope as it would on
  production;
- everything those need in order to exist, transitively, on both sides (a new foreign key's
  target table, a column's enum type, a view's tables), as far as it exists in the current schema;
- the tables that hold those objects, with only the columns in play, or with every column where
  the relation itself is needed (its row type, a partition key, a partition or an inheritance
  child, a foreign key's target, a table the plan changes);
- the database-wide environment that acts on DDL or on new objects: schemas, extensions, event
  triggers (and their functions), default privileges, collations, foreign data wrappers and
  servers.

An object outside the scope is neither changed by the plan nor depends on anything it changes,
so it is the same in production before and after; it is left out on both sides of the comparison.
The scope is an optimisation, never a verdict: engine.verify verifies the whole schema when
verification on the scope fails.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import compress
from operator import attrgetter

from engine.diff.kinds.inherited_columns import not_valid_copy_origins, receivers
from engine.model.base import Dependency, ObjectKey, SchemaObject
from engine.model.constraints import Constraint
from engine.model.indexes import Index
from engine.model.policies import Policy
from engine.model.schema import OBJECT_FIELDS, Schema
from engine.model.sequences import Sequence
from engine.model.tables import Column, Table
from engine.model.triggers import Trigger
from engine.plan.changes import compare_schemas
from engine.plan.detached import reparented_origins
from engine.plan.index import CLASSES, FAST_GETTERS, FIELD_OF_KIND, Dependencies, ObjectIndex

# Collections kept whole: small, database-wide, and they act on any DDL or on new objects.
ENVIRONMENT_FIELDS: tuple[str, ...] = (
    "schemas",
    "extensions",
    "collations",
    "event_triggers",
    "default_privileges",
    "fdws",
    "servers",
    "user_mappings",
)

# Kinds whose dependents are not walked: everything in a schema depends on it, and a change to a
# schema itself (a comment, a grant, its owner) changes none of its contents; a dropped schema's
# contents are differences of their own.
_NO_DEPENDENT_WALK = frozenset({"schema"})

_column_table = attrgetter("schema_", "table")
# Objects whose table only has to hold them: they need the table, not its every column.
_HELD_BY_TABLE = (Column, Constraint, Index, Trigger, Policy)
_sort_key = attrgetter("sort_key")


@dataclass(frozen=True)
class VerificationScope:
    """The current schema's part to rebuild, the desired schema's part to compare with after
    the plan ran, and how many objects the current schema has in all."""

    current: Schema
    expected: Schema
    current_size: int

    @property
    def size(self) -> int:
        """How many objects are rebuilt."""
        return sum(len(getattr(self.current, field)) for field in OBJECT_FIELDS)


def restrict_schema(schema: Schema, keys: set[ObjectKey], *, dependencies: bool = True) -> Schema:
    """`schema` with only the objects whose key is in `keys` and, unless `dependencies` is
    off, the dependencies between them; the key order of an ordered schema is kept."""
    return _Parts(schema).restrict(keys, dependencies=dependencies)


class _Parts:
    """One schema's objects and dependency rows as tuples of key parts, made once: each round
    of a closure then matches a collection or the rows against a set of keys in C, where
    building every object's key (or hashing an ObjectKey, a Python call) would cost seconds
    at 10,000 tables."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema.ordered()
        self.dependencies = Dependencies(ObjectIndex(self.schema))
        self._parts: dict[str, list[object]] = {}
        self._column_tables: list[tuple[str, str]] | None = None

    def _item_parts(self, field: str, getter: Callable[[SchemaObject], object]) -> list[object]:
        parts = self._parts.get(field)
        if parts is None:
            parts = self._parts[field] = list(map(getter, getattr(self.schema, field)))
        return parts

    def objects_with_keys(self, keys: Iterable[ObjectKey]) -> dict[str, list[SchemaObject]]:
        """Per collection, its objects whose key is in `keys`, in collection order."""
        by_field: dict[str, list[ObjectKey]] = {}
        for key in keys:
            field = FIELD_OF_KIND.get(key.kind)
            if field is not None:
                by_field.setdefault(field, []).append(key)
        found: dict[str, list[SchemaObject]] = {field: [] for field in OBJECT_FIELDS}
        for field, wanted_keys in by_field.items():
            items: tuple[SchemaObject, ...] = getattr(self.schema, field)
            fast = FAST_GETTERS.get(field)
            if fast is None:  # few objects (routines, say): their keys
                wanted_set = set(wanted_keys)
                found[field] = [obj for obj in items if obj.key in wanted_set]
                continue
            getter, key_fields = fast
            kind = CLASSES[field].kind
            part_of = attrgetter(*key_fields)
            wanted = {part_of(k) for k in wanted_keys if k.kind == kind}
            parts = self._item_parts(field, getter)
            found[field] = list(compress(items, map(wanted.__contains__, parts)))
        return found

    def restrict(self, keys: set[ObjectKey], *, dependencies: bool = True) -> Schema:
        update: dict[str, object] = {
            field: tuple(items) for field, items in self.objects_with_keys(keys).items()
        }
        rows: list[Dependency] = []
        if dependencies:
            # the rows of each key, found by binary search, in key order
            for key in sorted(keys, key=_sort_key):
                rows.extend(d for d in self.dependencies.rows_of(key) if d.referenced in keys)
        update["dependencies"] = tuple(rows)
        part = self.schema.model_copy(update=update)
        return part.mark_ordered()

    def requirements(
        self,
        start: set[ObjectKey],
        whole: set[ObjectKey],
        *,
        expand: Callable[[ObjectKey], bool],
    ) -> tuple[set[ObjectKey], set[ObjectKey]]:
        """`start` and everything its objects need in order to exist, transitively through the
        keys `expand` accepts (pg_depend's rows, what the model implies, a sequence's owning
        column), and the tables among them that are needed whole.

        A table is needed whole, with every column, when it is in `whole`, something needs the
        relation itself (a pg_depend row naming it: its row type, a foreign key's target, a
        partition's parent) or it is partitioned, a partition or inherits; a column,
        constraint, index, trigger or policy needs only its table to hold it, so a table changed
        in one column is rebuilt with the columns in play only. One pass over the rows per
        round."""
        columns = self.schema.columns
        if self._column_tables is None:
            self._column_tables = list(map(_column_table, columns))
        reached = set(start)
        wholes: set[ObjectKey] = set()
        pending = {k for k in whole if k.kind == "table"}
        frontier = {k for k in start if expand(k)}
        while frontier or pending:
            new: set[ObjectKey] = set()
            if frontier:
                for key in frontier:
                    new.update(d.referenced for d in self.dependencies.rows_of(key))
                pending.update(k for k in new if k.kind == "table")
                for items in self.objects_with_keys(frontier).values():
                    for obj in items:
                        implied = obj.implied_deps()
                        new.update(implied)
                        if not isinstance(obj, _HELD_BY_TABLE):
                            pending.update(k for k in implied if k.kind == "table")
                        if isinstance(obj, Sequence) and (owner := obj.owner_column_key):
                            new.add(owner)
                        elif isinstance(obj, Index) and obj.partitions:
                            # built ON ONLY the parent, then on each partition by its name
                            new.update(
                                ObjectKey.of("table", p.schema_, p.table) for p in obj.partitions
                            )
                        elif isinstance(obj, Table) and (
                            obj.partition_key or obj.partition_of or obj.inherits
                        ):
                            # a partition key names columns; partitions and children share
                            # their parent's columns
                            pending.add(obj.key)
            pending -= wholes
            if pending:
                tables = {(k.schema_, k.name) for k in pending}
                new.update(
                    c.key for c in compress(columns, map(tables.__contains__, self._column_tables))
                )
                # a child rebuilt gets every column its parents pass down
                new.update(
                    c.key for c in self.schema.inherited_columns if (c.schema_, c.table) in tables
                )
                wholes |= pending
                pending = set()
            new -= reached
            reached |= new
            frontier = {k for k in new if expand(k)}
        return reached, wholes


def verification_scope(
    current: Schema, desired: Schema, *, manage_ownership: bool
) -> VerificationScope:
    """The scope of verifying a plan from `current` to `desired` (see the module's docstring)."""
    current, desired = current.ordered(), desired.ordered()
    changes = compare_schemas(current, desired, manage_ownership)
    touched = set(changes.removed) | set(changes.added) | set(changes.changed)
    # children whose own column value the plan writes back (a parent's change reaches them)
    desired_index = ObjectIndex(desired)
    touched.update(held.key for held in receivers(desired_index, desired, changes.changed))
    # a table's SET [UN]LOGGED changes the sequences it owns too (PostgreSQL 15+)
    relogged = {
        (new.schema_, new.name)
        for old, new in changes.changed.values()
        if isinstance(new, Table) and isinstance(old, Table) and old.persistence != new.persistence
    }
    relogged_sequences = {
        seq.key
        for seq in desired.sequences
        if seq.owned_by is not None and (seq.schema_, seq.owned_by.table) in relogged
    }
    touched |= relogged_sequences
    # PostgreSQL 18: every copy of a parent's NOT VALID constraint the plan adds again
    copies = [*changes.added.values(), *(new for _, new in changes.changed.values())]
    origins = not_valid_copy_origins(desired_index, copies)
    touched.update(held.key for held in receivers(desired_index, desired, origins))

    scope: set[ObjectKey] = set()
    for field in ENVIRONMENT_FIELDS:
        scope.update(obj.key for obj in getattr(current, field))

    # What depends on a changed object, transitively, in rounds: each round is one pass over
    # the dependency rows (prepare_dependents), not one per key.
    desired_parts, current_parts = _Parts(desired), _Parts(current)
    cur_deps = current_parts.dependencies
    frontier = set(changes.removed) | set(changes.changed)
    acting = set(frontier)
    while frontier:
        walk = [k for k in frontier if k.kind not in _NO_DEPENDENT_WALK]
        cur_deps.prepare_dependents(walk)
        found: set[ObjectKey] = set()
        for key in walk:
            found |= cur_deps.dependents_of(key)
        frontier = found - acting
        acting |= frontier
    scope |= acting | relogged_sequences

    # What the desired side of each change needs: the changed and new objects' needs, walked
    # through other new objects, down to the objects that exist unchanged (rebuilt with the
    # scope; their own needs are the current side's, below).
    reached, whole = desired_parts.requirements(touched, touched, expand=touched.__contains__)
    scope |= reached - touched
    # a child the plan detaches keeps copies of its parents' constraints and indexes; one it
    # attaches gets or must match its new parents'
    scope |= reparented_origins(current, desired)

    scope, _ = current_parts.requirements(scope, acting | whole, expand=lambda key: True)
    current_part = current_parts.restrict(scope)
    # the expected part is only compared: no dependencies
    expected_part = desired_parts.restrict(scope | touched, dependencies=False)
    return VerificationScope(
        current=current_part,
        expected=expected_part,
        current_size=sum(len(getattr(current, field)) for field in OBJECT_FIELDS),
    )
