"""What a partition or inheritance child keeps when a plan detaches it.

`ALTER TABLE p DETACH PARTITION c` and `ALTER TABLE c NO INHERIT p` (from its last parent) leave
on `c`, as its own, everything it had from its parent: the columns (in `c`'s own state: NOT NULL,
default, comment, privileges), the constraints (checks and foreign keys under the parent's
names, primary keys and uniques under the names of `c`'s indexes) and the indexes attached to
the parent's. The model leaves those out while `c` is attached (they come with the parent), so
the planner first adds them to the current schema as `c`'s own: the plan then keeps what the
desired schema has too, changes or drops the rest, and creates nothing twice. Every step on
them waits for the detaching step (`Step.requires`).

The child's own state of those columns (InheritedColumn objects) goes: the columns stand for it.
A child that keeps a parent (moved to another parent, or one of several parents left) gets
none of this: what it holds from the parent it keeps stays the parent's.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.model.base import ObjectKey
from engine.model.constraints import Constraint
from engine.model.indexes import Index
from engine.model.schema import Schema
from engine.model.tables import Column, InheritedColumn, Table


def detached_children(current: Schema, desired: Schema) -> list[Table]:
    """Current children that the desired schema keeps, with no parent left."""
    children = {t.key: t for t in current.tables if t.parents}
    if not children:
        return []
    return [children[t.key] for t in desired.tables if t.key in children and not t.parents]


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
    same_default = state.default == declared.default
    return declared.model_copy(
        update={
            "schema_": state.schema_,
            "table": state.table,
            "not_null": state.not_null,
            "default": state.default,
            "default_volatile": declared.default_volatile if same_default else False,
            "comment": state.comment,
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


def with_detached_leftovers(
    current: Schema, desired: Schema
) -> tuple[Schema, dict[ObjectKey, ObjectKey]]:
    """`current` with what each detached child keeps added as its own, and each added object's
    key mapped to its child's (the key of the steps that detach it)."""
    children = detached_children(current, desired)
    if not children:
        return current, {}
    names = {(t.schema_, t.name): t for t in children}
    lookup = _Columns(current)
    columns: list[Column] = []
    for state in current.inherited_columns:
        child = names.get((state.schema_, state.table))
        if child is None:
            continue
        declared = lookup.declared(child, state.name)
        if declared is not None:
            columns.append(_own_column(declared, state))
    constraints: list[Constraint] = [
        c for c in current.inherited_constraints if (c.schema_, c.table) in names
    ]
    parented = [i for i in current.indexes if i.partitions]
    indexes = [index for child in children for index in _own_indexes(parented, child)]
    promoted: dict[ObjectKey, ObjectKey] = {}
    for obj in (*columns, *constraints, *indexes):
        promoted[obj.key] = names[(obj.schema_, obj.table)].key  # type: ignore[attr-defined]
    schema = current.model_copy(
        update={
            "inherited_columns": tuple(
                c for c in current.inherited_columns if (c.schema_, c.table) not in names
            ),
            "columns": current.columns + tuple(columns),
            "constraints": current.constraints + tuple(constraints),
            "indexes": current.indexes + tuple(indexes),
        }
    )
    return schema.sorted(), promoted


def detached_origins(current: Schema, desired: Schema) -> set[ObjectKey]:
    """The constraints and indexes of every ancestor of a detached child: what its copies come
    from, so a rebuild of part of the current schema (engine.verify_scope) that is to show the
    copies must hold them."""
    children = detached_children(current, desired)
    if not children:
        return set()
    tables = {t.key: t for t in current.tables}
    ancestors: set[tuple[str, str]] = set()
    work = [ref for child in children for ref in child.parents]
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
