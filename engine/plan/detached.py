"""What a partition or inheritance child keeps when a plan detaches it.

`ALTER TABLE p DETACH PARTITION c` and `ALTER TABLE c NO INHERIT p` leave on `c`, as its own,
everything it had from that parent and from no parent it keeps: the columns (in `c`'s own
state: NOT NULL, default, comment, privileges), the constraints (checks and foreign keys under
the parent's names, primary keys and uniques under the names of `c`'s indexes) and the indexes
attached to the parent's. The model leaves those out while `c` is attached (they come with the
parent), so the planner first adds them to the current schema as `c`'s own: the plan then keeps
what the desired schema has too, changes or drops the rest, and creates nothing twice. Every step on
them waits for the detaching step (`Step.requires`).

The child's own state of those columns (InheritedColumn objects) goes: the columns stand for it.
A child that leaves one of several inheritance parents keeps as inherited what another parent
it keeps also gives it (PostgreSQL counts a column's and a check's parents: `attinhcount`,
`coninhcount`); only what no kept parent gives becomes its own. A partition moved to another
parent (DETACH, then ATTACH) keeps inherited what the new parent gives under the same name: the
rest, its own once detached, is dropped before the ATTACH (a partition may hold only its
parent's columns).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.diff.kinds.tables import inheritance_change
from engine.model.base import ObjectKey
from engine.model.constraints import Constraint
from engine.model.indexes import Index
from engine.model.schema import Schema
from engine.model.tables import Column, InheritedColumn, NotNullConstraint, Table, TableRef


@dataclass(frozen=True)
class Leaving:
    """A current child that the desired schema keeps but that leaves a parent: the current
    parents it keeps, and the new parents it joins before it leaves (their columns and checks
    stay inherited too)."""

    child: Table
    kept: tuple[TableRef, ...]
    joined_first: tuple[TableRef, ...] = ()
    # A partition moved to another parent, or between partitioning and inheritance: it leaves
    # first (DETACH PARTITION, NO INHERIT) and then joins these, and keeps inherited only what
    # the desired child has from them.
    moved_to: tuple[TableRef, ...] = ()


def leaving_children(current: Schema, desired: Schema) -> list[Leaving]:
    """Current children that leave a parent while the desired schema keeps them: detached from
    every parent, or leaving inheritance parents while keeping or first joining others
    (engine.diff.kinds.tables: a child joins its new parents before it leaves the old ones,
    unless a kept parent's order changes; then it leaves and joins again, and those parents
    count as left), or moved to another partitioned parent (or between partitioning and
    inheritance)."""
    children = {t.key: t for t in current.tables if t.parents}
    if not children:
        return []
    out = []
    for table in desired.tables:
        child = children.get(table.key)
        if child is None or child.parents == table.parents:
            continue
        if not table.parents:
            out.append(Leaving(child, ()))
        elif child.partition_of is not None or table.partition_of is not None:
            out.append(Leaving(child, (), moved_to=tuple(table.parents)))
        elif child.inherits and table.inherits:
            left, joined = inheritance_change(child.inherits, table.inherits)
            kept = tuple(ref for ref in child.inherits if ref not in left)
            redone = any(ref in child.inherits for ref in joined)
            out.append(Leaving(child, kept, () if redone else tuple(joined)))
    return out


class _Columns:
    """The current schema's columns by table, and a child's column found up its parents."""

    def __init__(self, current: Schema) -> None:
        self.tables = {t.key: t for t in current.tables}
        self.columns: dict[tuple[str, str, str], Column] = {
            (c.schema_, c.table, c.name): c for c in current.columns
        }

    def declared(self, table: Table, name: str) -> Column | None:
        """The column `name` as the nearest ancestor of `table` that declares it has it."""
        work = table.parents
        seen: set[ObjectKey] = set()
        while work:
            ref = work.pop(0)
            if ref.key in seen:
                continue
            seen.add(ref.key)
            found = self.columns.get((ref.schema_, ref.name, name))
            if found is not None:
                return found
            parent = self.tables.get(ref.key)
            if parent is not None:
                work.extend(parent.parents)
        return None


def _own_column(declared: Column, state: InheritedColumn) -> Column:
    return declared.model_copy(
        update={
            "schema_": state.schema_,
            "table": state.table,
            "not_null": state.not_null,
            # PostgreSQL 18: its name, and a NOT VALID copy stays NOT VALID, now the child's own
            "not_null_constraint": NotNullConstraint.of(
                state.not_null_name, state.not_null_validated, no_inherit=False
            ),
            "default": state.default,
            # the child's own expression, of the declaration's kind
            "generated": None
            if declared.generated is None
            else declared.generated.model_copy(
                update={"expression": state.generated or declared.generated.expression}
            ),
            "comment": state.comment,
            "statistics": state.statistics,
            "attribute_options": state.attribute_options,
            "storage": state.storage,
            "compression": state.compression,
            "acl": state.acl,
        }
    )


def _own_indexes(indexes: Iterable[Index], child: Table) -> list[Index]:
    out = []
    for index in indexes:
        for part in index.partitions:
            if part.schema_ == child.schema_ and part.table == child.name:
                out.append(
                    Index(
                        schema_=part.schema_,
                        name=part.name,
                        table=part.table,
                        table_kind="partitioned" if part.partitioned else "table",
                        definition=part.definition,
                        columns=index.columns,
                    )
                )
    return out


def _given_by(schema: Schema, parents: Iterable[TableRef]) -> tuple[set[str], set[str]]:
    """Names of the columns and of the check constraints that `parents` (in `schema`) give a
    child: all that each parent has, its own and what it holds from its own parents."""
    tables = {(ref.schema_, ref.name) for ref in parents}
    if not tables:
        return set(), set()
    columns = {c.name for c in schema.columns if (c.schema_, c.table) in tables}
    columns |= {c.name for c in schema.inherited_columns if (c.schema_, c.table) in tables}
    checks = {
        c.name
        for c in (*schema.constraints, *schema.inherited_constraints)
        if (c.schema_, c.table) in tables and c.passed_down
    }
    return columns, checks


@dataclass(frozen=True)
class Leftovers:
    """What children that leave a parent keep: each added object's key mapped to its child's
    (the key of the steps that detach it), and the children that join another parent after
    (their leftovers must go between the two: `Step.between_parents`)."""

    owner: dict[ObjectKey, ObjectKey]
    moved: frozenset[ObjectKey] = frozenset()


def with_detached_leftovers(current: Schema, desired: Schema) -> tuple[Schema, Leftovers]:
    """`current` with what each detached child keeps added as its own, and where it came from."""
    leaving = leaving_children(current, desired)
    if not leaving:
        return current, Leftovers({})
    names = {(x.child.schema_, x.child.name): x.child for x in leaving}
    # what each child keeps inherited: the columns and checks its kept parents give it
    kept_names: dict[tuple[str, str], tuple[set[str], set[str]]] = {}
    for x in leaving:
        columns_kept, checks_kept = _given_by(current, x.kept)
        columns_joined, checks_joined = _given_by(desired, x.joined_first + x.moved_to)
        kept_names[(x.child.schema_, x.child.name)] = (
            columns_kept | columns_joined,
            checks_kept | checks_joined,
        )
    moved = {(x.child.schema_, x.child.name) for x in leaving if x.moved_to}
    if moved:
        # what the new parent gives under the same name (a partition's primary key, unique
        # and foreign keys, its indexes) ATTACH PARTITION takes over rather than builds again
        for c in desired.inherited_constraints:
            if (c.schema_, c.table) in moved:
                kept_names[(c.schema_, c.table)][1].add(c.name)
    # ATTACH takes over an index only if it matches the parent's: the same definition
    attached_indexes = {
        (part.schema_, part.name, part.definition)
        for index in desired.indexes
        for part in index.partitions
        if (part.schema_, part.table) in moved
    }

    def promoted_column(schema: str, table: str, name: str) -> bool:
        kept = kept_names.get((schema, table))
        return kept is not None and name not in kept[0]

    lookup = _Columns(current)
    columns: list[Column] = []
    for state in current.inherited_columns:
        if not promoted_column(state.schema_, state.table, state.name):
            continue
        declared = lookup.declared(names[(state.schema_, state.table)], state.name)
        if declared is not None:
            columns.append(_own_column(declared, state))
    constraints: list[Constraint] = [
        c
        for c in current.inherited_constraints
        if (c.schema_, c.table) in kept_names and c.name not in kept_names[(c.schema_, c.table)][1]
    ]
    parented = [i for i in current.indexes if i.partitions]
    # only partitions hold indexes from a parent, and a partition has one parent
    indexes = [
        index
        for x in leaving
        if x.child.partition_of is not None
        for index in _own_indexes(parented, x.child)
        if (index.schema_, index.name, index.definition) not in attached_indexes
    ]
    promoted: dict[ObjectKey, ObjectKey] = {}
    for obj in (*columns, *constraints, *indexes):
        promoted[obj.key] = names[(obj.schema_, obj.table)].key  # type: ignore[attr-defined]
    schema = current.model_copy(
        update={
            "inherited_columns": tuple(
                c
                for c in current.inherited_columns
                if not promoted_column(c.schema_, c.table, c.name)
            ),
            "columns": current.columns + tuple(columns),
            "constraints": current.constraints + tuple(constraints),
            "indexes": current.indexes + tuple(indexes),
        }
    )
    return schema.sorted(), Leftovers(
        promoted, frozenset(x.child.key for x in leaving if x.moved_to)
    )


def reparented_origins(current: Schema, desired: Schema) -> set[ObjectKey]:
    """The constraints and indexes of every ancestor, current or desired, of an existing table
    whose parents change: what a child that leaves a parent keeps copies of, and what one that
    joins a parent is given or must match (engine.diff.kinds.joining). A rebuild of part of the
    current schema (engine.verify_scope) that is to show them must hold them."""
    moved = {t.key: t for t in current.tables}
    starts: list[TableRef] = []
    for table in desired.tables:
        was = moved.get(table.key)
        if was is not None and was.parents != table.parents:
            starts.extend(was.parents)
            starts.extend(table.parents)
    if not starts:
        return set()
    tables = {**moved, **{t.key: t for t in desired.tables if t.key not in moved}}
    ancestors: set[tuple[str, str]] = set()
    work = list(starts)
    while work:
        ref = work.pop()
        if (ref.schema_, ref.name) in ancestors:
            continue
        ancestors.add((ref.schema_, ref.name))
        parent = tables.get(ref.key)
        if parent is not None:
            work.extend(parent.parents)
    keys = {c.key for c in current.constraints if (c.schema_, c.table) in ancestors}
    keys |= {i.key for i in current.indexes if (i.schema_, i.table) in ancestors}
    return keys
