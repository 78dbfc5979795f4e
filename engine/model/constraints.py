"""Table constraints: primary key, unique, foreign key, check, exclusion."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from engine.model.base import Commented, ObjectKey, SchemaObject, TableScoped


class Constraint(SchemaObject, TableScoped, Commented):
    kind: ClassVar[str] = "constraint"
    name: str
    type: Literal["primary_key", "unique", "foreign_key", "check", "exclusion"]
    definition: str  # pg_get_constraintdef(oid)
    validated: bool = True

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, parent=self.table, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (ObjectKey(kind="table", schema_=self.schema_, name=self.table),)
