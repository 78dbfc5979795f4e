"""Extended statistics objects (CREATE STATISTICS)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import (
    Commented,
    KeyAttrs,
    ObjectKey,
    Owned,
    SchemaName,
    SchemaObject,
    schema_key,
)


class Statistics(SchemaObject, Commented, Owned):
    """An extended statistics object.

    definition: pg_get_statisticsobjdef(oid) (`CREATE STATISTICS s.n (kinds) ON ... FROM t`).
    target: the statistics target set by ALTER STATISTICS ... SET STATISTICS; None = default.
    The columns it covers are dependencies (pg_depend), which order it after its table.
    """

    kind: ClassVar[str] = "statistics"
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})
    schema_: SchemaName
    name: str
    definition: str
    target: int | None = None

    key_attrs: ClassVar[KeyAttrs] = ("schema_", None, "name", None)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)
