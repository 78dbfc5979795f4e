"""Foreign data wrappers, foreign servers and user mappings (foreign tables are Tables)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from pydantic import field_validator

from engine.model.base import Commented, Granted, KeyAttrs, Model, ObjectKey, Owned, SchemaObject


class Option(Model):
    """One generic option (`OPTIONS (name 'value')`), as pg_options_to_table splits it."""

    name: str
    value: str | None = None


def _sorted_options(value: tuple[Option, ...]) -> tuple[Option, ...]:
    return tuple(sorted(value, key=lambda o: o.name))


class ForeignDataWrapper(SchemaObject, Commented, Owned, Granted):
    kind: ClassVar[str] = "fdw"
    name: str
    handler: str | None = None  # schema-qualified function name, None for NO HANDLER
    validator: str | None = None  # schema-qualified function name, None for NO VALIDATOR
    options: tuple[Option, ...] = ()

    @field_validator("options")
    @classmethod
    def _sort(cls, value: tuple[Option, ...]) -> tuple[Option, ...]:
        return _sorted_options(value)

    key_attrs: ClassVar[KeyAttrs] = (None, None, "name", None)


class ForeignServer(SchemaObject, Commented, Owned, Granted):
    kind: ClassVar[str] = "server"
    implies: ClassVar[frozenset[str]] = frozenset({"fdw"})
    name: str
    fdw: str
    type: str | None = None
    version: str | None = None
    options: tuple[Option, ...] = ()

    @field_validator("options")
    @classmethod
    def _sort(cls, value: tuple[Option, ...]) -> tuple[Option, ...]:
        return _sorted_options(value)

    key_attrs: ClassVar[KeyAttrs] = (None, None, "name", None)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (ObjectKey(kind="fdw", name=self.fdw),)


class UserMapping(SchemaObject):
    """CREATE USER MAPPING. The `password` option is SKIPPED on purpose: it is never read from
    the catalog, compared, planned or printed (pg_user_mappings hides options from
    non-superusers anyway). A mapping's password is managed outside pg-flux.
    """

    kind: ClassVar[str] = "user_mapping"
    implies: ClassVar[frozenset[str]] = frozenset({"server"})
    server: str
    user: str  # role name or PUBLIC
    # None: the inspecting role may not see them (pg_user_mappings hides other roles' options
    # from non-superusers). Unknown options match any options: see same_as.
    options: tuple[Option, ...] | None = ()

    @field_validator("options")
    @classmethod
    def _no_password(cls, value: tuple[Option, ...] | None) -> tuple[Option, ...] | None:
        # Defence in depth: the catalog query already leaves the password out.
        if value is None:
            return None
        return _sorted_options(tuple(o for o in value if o.name != "password"))

    def same_as(self, other: SchemaObject) -> bool:
        if isinstance(other, UserMapping) and None in (self.options, other.options):
            return (self.server, self.user) == (other.server, other.user)
        return super().same_as(other)

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, parent=self.server, name=self.user)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (ObjectKey(kind="server", name=self.server),)
