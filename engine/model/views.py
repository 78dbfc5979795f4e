"""Views and materialized views."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

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


class ViewColumn(Model):
    """One output column of a view, in order: CREATE OR REPLACE VIEW may only append columns."""

    name: str
    type: str  # format_type(atttypid, atttypmod)
    collation: str | None = None  # qualified collation name, None for non-collatable types
    comment: str | None = None  # COMMENT ON COLUMN view.column

    @property
    def shape(self) -> tuple[str, str, str | None]:
        """What CREATE OR REPLACE VIEW must keep for an existing column."""
        return (self.name, self.type, self.collation)


class View(SchemaObject, Commented, Owned, Granted):
    """A view.

    definition: pg_get_viewdef(oid, true) without its trailing semicolon: the query as
        PostgreSQL prints it, so spelling, case and whitespace of the source never differ.
    columns: the output columns (derived from the definition; kept to decide whether CREATE OR
        REPLACE VIEW can express a change).
    check_option / security_barrier / security_invoker: the view's reloptions
        (security_invoker exists from PostgreSQL 15).
    """

    kind: ClassVar[str] = "view"
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})
    schema_: SchemaName
    name: str
    definition: str
    columns: tuple[ViewColumn, ...] = ()
    check_option: Literal["local", "cascaded"] | None = None
    security_barrier: bool = False
    security_invoker: bool = False

    key_attrs: ClassVar[KeyAttrs] = ("schema_", None, "name", None)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)

    def options(self) -> dict[str, str]:
        """The reloptions this view sets, as CREATE VIEW ... WITH (...) spells them."""
        opts: dict[str, str] = {}
        if self.check_option is not None:
            opts["check_option"] = self.check_option
        if self.security_barrier:
            opts["security_barrier"] = "true"
        if self.security_invoker:
            opts["security_invoker"] = "true"
        return opts


class MaterializedView(SchemaObject, Commented, Owned, Granted):
    """A materialized view.

    storage: reloptions as sorted `name=value` strings (fillfactor, autovacuum_*, ...).
    populated: relispopulated; False when created WITH NO DATA and never refreshed.
    Its indexes are `Index` objects (table_kind "matview").
    """

    kind: ClassVar[str] = "matview"
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})
    schema_: SchemaName
    name: str
    definition: str
    columns: tuple[ViewColumn, ...] = ()
    storage: tuple[str, ...] = ()
    populated: bool = True

    key_attrs: ClassVar[KeyAttrs] = ("schema_", None, "name", None)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (schema_key(self.schema_),)
