"""User-defined types: enums, composites, domains, ranges.

Type names inside models (base types, attribute types, subtypes) are what format_type prints, and
collations are always schema-qualified (`pg_catalog."C"`), so two databases with the same schema
compare equal whatever search_path the inspector runs with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import (
    Commented,
    Granted,
    KeyAttrs,
    Model,
    ObjectKey,
    Owned,
    SchemaName,
    SchemaObject,
    schema_key,
)


class _SchemaType(SchemaObject, Commented, Owned, Granted):
    schema_: SchemaName
    name: str

    key_attrs: ClassVar[KeyAttrs] = ("schema_", None, "name", None)
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)


class EnumType(_SchemaType):
    kind: ClassVar[str] = "enum"
    labels: tuple[str, ...] = ()  # in enumsortorder


class CompositeAttribute(Model):
    name: str
    type: str  # format_type(atttypid, atttypmod)
    collation: str | None = None  # only when not the type's default collation
    comment: str | None = None  # COMMENT ON COLUMN type.attribute


class CompositeType(_SchemaType):
    kind: ClassVar[str] = "composite"
    attributes: tuple[CompositeAttribute, ...] = ()  # in attnum order


class DomainConstraint(Model):
    name: str
    definition: str  # pg_get_constraintdef without the trailing NOT VALID
    validated: bool = True
    comment: str | None = None  # COMMENT ON CONSTRAINT ... ON DOMAIN


class DomainType(_SchemaType):
    kind: ClassVar[str] = "domain"
    base_type: str  # format_type(typbasetype, typtypmod)
    default: str | None = None  # pg_get_expr(typdefaultbin, 0)
    not_null: bool = False
    # PostgreSQL 17+ names the NOT NULL constraint: its name where not <domain>_not_null
    not_null_name: str | None = None
    not_null_comment: str | None = None  # COMMENT ON CONSTRAINT ... ON DOMAIN (17+)
    collation: str | None = None  # only when not the base type's default collation
    constraints: tuple[DomainConstraint, ...] = ()  # CHECK constraints by name

    @property
    def not_null_constraint(self) -> str:
        """The NOT NULL constraint's name (PostgreSQL 17+)."""
        return self.not_null_name or f"{self.name}_not_null"


class RangeType(_SchemaType):
    kind: ClassVar[str] = "range"
    subtype: str
    subtype_opclass: str | None = None  # only when not the subtype's default btree opclass
    collation: str | None = None  # only when not the subtype's default collation
    canonical: str | None = None  # function name as regproc prints it
    subtype_diff: str | None = None
    multirange: str | None = None  # schema-qualified multirange type name (PG 14+)
