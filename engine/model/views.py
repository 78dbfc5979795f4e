"""Views and materialized views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import (
    Commented,
    Granted,
    ObjectKey,
    Owned,
    SchemaName,
    SchemaObject,
    schema_key,
)


class View(SchemaObject, Commented, Owned, Granted):
    kind: ClassVar[str] = "view"
    schema_: SchemaName
    name: str
    definition: str  # pg_get_viewdef(oid, true)

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)


class MaterializedView(View):
    kind: ClassVar[str] = "matview"
