"""Triggers on tables and views, and event triggers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import Commented, ObjectKey, Owned, SchemaObject, TableScoped


class Trigger(SchemaObject, TableScoped, Commented):
    kind: ClassVar[str] = "trigger"
    name: str
    definition: str  # pg_get_triggerdef(oid)

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, parent=self.table, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (ObjectKey(kind="table", schema_=self.schema_, name=self.table),)


class EventTrigger(SchemaObject, Commented, Owned):
    kind: ClassVar[str] = "event_trigger"
    name: str

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, name=self.name)
