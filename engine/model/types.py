"""User-defined types: enums, composites, domains, ranges.

Skeleton: identity only. The types family fills in every attribute (see the catalog issue).
"""

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


class _SchemaType(SchemaObject, Commented, Owned, Granted):
    schema_: SchemaName
    name: str

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, schema_=self.schema_, name=self.name)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)


class EnumType(_SchemaType):
    kind: ClassVar[str] = "enum"
    labels: tuple[str, ...] = ()


class CompositeType(_SchemaType):
    kind: ClassVar[str] = "composite"


class DomainType(_SchemaType):
    kind: ClassVar[str] = "domain"


class RangeType(_SchemaType):
    kind: ClassVar[str] = "range"
