"""Indexes that are not the implementation of a constraint."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import Commented, ObjectKey, SchemaName, SchemaObject


class Index(SchemaObject, Commented):
    kind: ClassVar[str] = "index"
    schema_: SchemaName
    name: str
    table: str
    definition: str  # pg_get_indexdef(oid)
    valid: bool = True

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (ObjectKey(kind="table", schema_=self.schema_, name=self.table),)
