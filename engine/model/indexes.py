"""Indexes that are not the implementation of a constraint (those come with their constraint)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from engine.model.base import (
    Commented,
    KeyAttrs,
    Model,
    ObjectKey,
    SchemaName,
    SchemaObject,
    column_key,
    relation_key,
)


class PartitionIndex(Model):
    """The index of one partition, attached to a partitioned parent index."""

    schema_: SchemaName
    name: str
    table: str
    definition: str  # pg_get_indexdef(oid)
    partitioned: bool = False  # the partition is itself partitioned


class ColumnStatistics(Model):
    """An index column's statistics target (`ALTER INDEX ... ALTER COLUMN n SET STATISTICS t`):
    PostgreSQL allows one on an expression column only, the column given by its position."""

    position: int
    target: int


class Index(SchemaObject, Commented):
    """An index of a table, partitioned table or materialized view.

    definition: pg_get_indexdef(oid): method, uniqueness, keys, expressions, opclasses,
        collations, ordering, NULLS FIRST/LAST, INCLUDE, predicate, storage parameters.
    valid: indisvalid; an INVALID index (a failed concurrent build) is dropped and rebuilt.
    table_kind: "matview" when the index is on a materialized view.
    columns: the columns of its table it uses (keys, INCLUDE, expressions, predicate), in
        column order; empty for an index on a materialized view (which depends on the whole
        view). Derived from the definition, so not compared; they are its dependencies on
        columns (implied_deps), which the catalog's dependency rows then leave out.
    partitions: for an index on a partitioned table, its partitions' indexes. Not compared: a
        partition added later gets its index from PostgreSQL, and a difference here must not
        rebuild the parent's index; the names are used to build them online.
    statistics: its expression columns' statistics targets other than the default, by
        position. They are the index's own: a partitioned index's reach none of its partitions'.
    """

    kind: ClassVar[str] = "index"
    not_compared: ClassVar[frozenset[str]] = frozenset({"partitions", "columns"})
    schema_: SchemaName
    name: str
    table: str
    table_kind: Literal["table", "partitioned", "matview"] = "table"
    definition: str
    valid: bool = True
    columns: tuple[str, ...] = ()
    partitions: tuple[PartitionIndex, ...] = ()
    statistics: tuple[ColumnStatistics, ...] = ()

    key_attrs: ClassVar[KeyAttrs] = ("schema_", None, "name", None)
    implies: ClassVar[frozenset[str]] = frozenset({"table", "matview", "column"})

    @property
    def relation_key(self) -> ObjectKey:
        """The key of the table or materialized view the index is on."""
        kind = "matview" if self.table_kind == "matview" else "table"
        return relation_key(kind, self.schema_, self.table)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (
            self.relation_key,
            *(column_key(self.schema_, self.table, name) for name in self.columns),
        )

    def implied_names(self) -> Iterable[str]:
        return (self.table, *self.columns)
