"""Sequences (not those owned by identity columns, which belong to their column).

The sequence's state (last_value, is_called) is data, not schema: it is never read or compared.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from engine.model.base import (
    Commented,
    Granted,
    KeyAttrs,
    Model,
    ObjectKey,
    Owned,
    SchemaName,
    SchemaObject,
    schema_key,
)


class OwnedBy(Model):
    """OWNED BY table.column: the sequence is dropped with the column."""

    table: str  # in the sequence's own schema (PostgreSQL requires it)
    column: str


class Sequence(SchemaObject, Commented, Owned, Granted):
    kind: ClassVar[str] = "sequence"
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})
    schema_: SchemaName
    name: str
    data_type: str = "bigint"
    start: int = 1
    increment: int = 1
    min_value: int = 1
    max_value: int = 9223372036854775807
    cache: int = 1
    cycle: bool = False
    owned_by: OwnedBy | None = None
    persistence: Literal["permanent", "unlogged"] = "permanent"  # UNLOGGED: PostgreSQL 15+

    key_attrs: ClassVar[KeyAttrs] = ("schema_", None, "name", None)

    @property
    def owner_column_key(self) -> ObjectKey | None:
        if self.owned_by is None:
            return None
        return ObjectKey(
            kind="column",
            schema_=self.schema_,
            parent=self.owned_by.table,
            name=self.owned_by.column,
        )

    def implied_deps(self) -> Iterable[ObjectKey]:
        # Not the owning column: its default usually calls nextval() on us, which would make a
        # cycle; the OWNED BY step orders itself after the table through Step.requires.
        return (schema_key(self.schema_),)
