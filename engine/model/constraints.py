"""Table constraints: primary key, unique, foreign key, check, exclusion.

Constraints that a partition inherits from its partitioned parent, and check constraints inherited
from an inheritance parent, come with the parent and are not objects of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from engine.model.base import (
    Commented,
    KeyAttrs,
    ObjectKey,
    SchemaObject,
    TableScoped,
    column_key,
    relation_key,
)

ConstraintType = Literal["primary_key", "unique", "foreign_key", "check", "exclusion"]


class Constraint(SchemaObject, TableScoped, Commented):
    """A table constraint.

    definition: pg_get_constraintdef(oid) without the " NOT VALID" suffix PostgreSQL appends
        for an unvalidated constraint; that state is `validated`.
    references: for a foreign key, the referenced table (ordering, rebuilds).
    columns: the columns of its table it names (conkey), in key order; referenced_columns: a
        foreign key's columns of the referenced table (confkey). Derived from the definition,
        so not compared; they are its dependencies on columns (implied_deps), which the
        catalog's dependency rows then leave out (queries/dependencies.sql).
    index_definition: for primary key / unique, pg_get_indexdef of the index that implements it;
        the online form builds that index concurrently first. None for a temporal key
        (WITHOUT OVERLAPS, PostgreSQL 18), whose GiST index cannot be built UNIQUE alone: it is
        added plainly. Derived from the definition, so it is not compared.
    on_partitioned: the table is partitioned (no concurrent index builds there); a property of
        the table, not of the constraint.
    deferrable / deferred: also in the definition; kept apart for ADD ... USING INDEX.
    enforced: False for PostgreSQL 18's NOT ENFORCED (a CHECK or FOREIGN KEY that checks no
        row): in the definition too, kept apart because it is never validated nor added NOT
        VALID (`validated` stays True).
    """

    kind: ClassVar[str] = "constraint"
    not_compared: ClassVar[frozenset[str]] = frozenset(
        {
            "columns",
            "referenced_columns",
            "index_definition",
            "on_partitioned",
            "deferrable",
            "deferred",
            "enforced",
        }
    )
    name: str
    type: ConstraintType
    definition: str
    validated: bool = True
    references: ObjectKey | None = None
    columns: tuple[str, ...] = ()
    referenced_columns: tuple[str, ...] = ()
    index_definition: str | None = None
    on_partitioned: bool = False
    deferrable: bool = False
    deferred: bool = False
    enforced: bool = True

    key_attrs: ClassVar[KeyAttrs] = ("schema_", "table", "name", None)
    # its table and columns; a foreign key's target and its columns
    implies: ClassVar[frozenset[str]] = frozenset({"table", "column"})

    @property
    def table_key(self) -> ObjectKey:
        return relation_key("table", self.schema_, self.table)

    @property
    def passed_down(self) -> bool:
        """A check that the table's children inherit: not `NO INHERIT` (which PostgreSQL's
        deparse prints last)."""
        return self.type == "check" and not self.definition.endswith(" NO INHERIT")

    def implied_deps(self) -> Iterable[ObjectKey]:
        deps = [self.table_key]
        deps.extend(column_key(self.schema_, self.table, name) for name in self.columns)
        if self.references is not None:
            target = self.references
            deps.append(target)
            if target.schema_ is not None:
                deps.extend(
                    column_key(target.schema_, target.name, name)
                    for name in self.referenced_columns
                )
        return deps

    def implied_names(self) -> Iterable[str]:
        names = [self.table, *self.columns]
        if self.references is not None:
            names.append(self.references.name)
            names.extend(self.referenced_columns)
        return names
