"""Tables (regular, partitioned, partitions, unlogged) and their columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import (
    Commented,
    Granted,
    Model,
    ObjectKey,
    Owned,
    SchemaName,
    SchemaObject,
    TableScoped,
    schema_key,
)


class TableStats(Model):
    """Planner statistics of a live table, for hazard messages; never compared."""

    rows: int | None = None  # reltuples estimate; None when never analyzed
    bytes: int = 0  # pg_total_relation_size


class Table(SchemaObject, Commented, Owned, Granted):
    kind: ClassVar[str] = "table"
    not_compared: ClassVar[frozenset[str]] = frozenset({"stats"})
    schema_: SchemaName
    name: str
    stats: TableStats | None = None

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)


class Column(SchemaObject, TableScoped, Commented, Granted):
    """A column. `position` keeps the declared order for CREATE TABLE; it is never compared."""

    kind: ClassVar[str] = "column"
    not_compared: ClassVar[frozenset[str]] = frozenset({"position"})
    name: str
    position: int
    type: str  # format_type(atttypid, atttypmod)
    not_null: bool = False
    default: str | None = None  # pg_get_expr(adbin, adrelid)

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, parent=self.table, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (ObjectKey(kind="table", schema_=self.schema_, name=self.table),)
