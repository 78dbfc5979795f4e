"""Row-level security policies (RLS enable/force live on the table)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import Commented, ObjectKey, SchemaObject, TableScoped


class Policy(SchemaObject, TableScoped, Commented):
    kind: ClassVar[str] = "policy"
    name: str

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, parent=self.table, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (ObjectKey(kind="table", schema_=self.schema_, name=self.table),)
