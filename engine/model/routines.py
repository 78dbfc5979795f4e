"""Functions, procedures and aggregates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from engine.model.base import (
    Commented,
    Granted,
    ObjectKey,
    Owned,
    SchemaName,
    SchemaObject,
    schema_key,
)


class Routine(SchemaObject, Commented, Owned, Granted):
    """`kind` is per instance: function, procedure or aggregate share one catalog (pg_proc)."""

    kind: ClassVar[str] = "function"
    routine_kind: Literal["function", "procedure", "aggregate"] = "function"
    schema_: SchemaName
    name: str
    identity_args: str  # oidvectortypes(proargtypes): "integer, text"
    definition: str  # pg_get_functiondef(oid), or the CREATE AGGREGATE text

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(
            kind=self.routine_kind, schema_=self.schema_, name=self.name, args=self.identity_args
        )

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)
