"""Extended statistics objects (CREATE STATISTICS)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import Commented, ObjectKey, Owned, SchemaName, SchemaObject, schema_key


class Statistics(SchemaObject, Commented, Owned):
    kind: ClassVar[str] = "statistics"
    schema_: SchemaName
    name: str
    definition: str  # pg_get_statisticsobjdef(oid)

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)
