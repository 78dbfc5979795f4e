"""Schemas (namespaces), extensions and user-defined collations."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from engine.model.base import (
    Commented,
    Granted,
    KeyAttrs,
    ObjectKey,
    Owned,
    SchemaName,
    SchemaObject,
    schema_key,
)


class Namespace(SchemaObject, Commented, Owned, Granted):
    """A PostgreSQL schema (CREATE SCHEMA); `Schema` names the whole model."""

    kind: ClassVar[str] = "schema"
    name: str

    @property
    def key(self) -> ObjectKey:
        return schema_key(self.name)


class Extension(SchemaObject, Commented):
    kind: ClassVar[str] = "extension"
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})
    name: str
    version: str
    schema_: SchemaName  # the schema it was installed into

    key_attrs: ClassVar[KeyAttrs] = (None, None, "name", None)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)


class Collation(SchemaObject, Commented, Owned):
    """A user-defined collation; any change of its definition means drop and create."""

    kind: ClassVar[str] = "collation"
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})
    not_compared: ClassVar[frozenset[str]] = frozenset({"version"})
    schema_: SchemaName
    name: str
    provider: str = "libc"  # libc, icu, builtin
    locale: str | None = None  # ICU / builtin locale (colliculocale, colllocale on 17+)
    lc_collate: str | None = None
    lc_ctype: str | None = None
    deterministic: bool = True
    icu_rules: str | None = None  # PG 16+
    version: str | None = None  # the provider's version, reported only

    key_attrs: ClassVar[KeyAttrs] = ("schema_", None, "name", None)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)
