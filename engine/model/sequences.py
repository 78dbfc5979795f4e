"""Sequences (not those owned by identity columns, which belong to their column)."""

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


class Sequence(SchemaObject, Commented, Owned, Granted):
    kind: ClassVar[str] = "sequence"
    schema_: SchemaName
    name: str

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)
