"""The base of every schema model: frozen pydantic values with a stable identity key.

Every managed object is one flat value in `Schema` (columns and constraints too, each naming its
table), so that the differ can match objects by key alone and the planner can order statements by
a graph of keys. Fields listed in `not_compared` (statistics, column positions) are carried for
ordering and reporting but never make two objects differ. Dependencies read from pg_depend are kept
beside the objects, in `Schema.dependencies`, except those an object's own fields say (its schema,
its table, the columns an index or a constraint uses): `SchemaObject.implied_deps`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, field_validator

from engine.lean import LeanModel
from engine.sqltext import ident, qualname

# `schema` would shadow BaseModel.schema(); models store it as `schema_` and speak `schema` in JSON.
SchemaName = Annotated[str, Field(alias="schema")]


class Model(LeanModel):
    """Frozen, strict about unknown fields: a typo in a catalog query fails loudly. Lean: no
    field set per instance (engine.lean)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ObjectKey(Model):
    """Identity of a schema object.

    kind: one of the registered kinds ("table", "column", "index", "function", ...).
    schema: the object's schema; None for database-wide objects (schemas, extensions, event
        triggers, foreign data wrappers, servers, user mappings).
    name: the object's own name (for a column, the column's name).
    parent: the table (or domain, or server) a sub-object belongs to, else None.
    args: routine identity arguments (`integer, text`), else None.
    """

    kind: str
    schema_: str | None = Field(default=None, alias="schema")
    name: str
    parent: str | None = None
    args: str | None = None

    # Keys are the planner's dict keys and graph nodes, hashed and compared millions of times at
    # 10,000 tables: pydantic's generic __hash__/__eq__ cost 2-4 us each, a tuple a tenth of it.
    def __hash__(self) -> int:
        return hash((self.kind, self.schema_, self.name, self.parent, self.args))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not ObjectKey:
            return NotImplemented
        o: ObjectKey = other
        return (
            self.name == o.name
            and self.kind == o.kind
            and self.schema_ == o.schema_
            and self.parent == o.parent
            and self.args == o.args
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.display}"

    @classmethod
    def of(
        cls,
        kind: str,
        schema: str | None,
        name: str,
        parent: str | None = None,
        args: str | None = None,
    ) -> ObjectKey:
        """A key from parts that are already valid (fields of validated models), without a
        pydantic validation: every object's key is built once per schema, 250,000 at 10,000
        tables, and validation took 2-3 us of the ~4 each. The instance is what validation
        builds: the same fields, all of them set."""
        key = _new_object(cls)
        _set_slot(
            key,
            "__dict__",
            {"kind": kind, "schema_": schema, "name": name, "parent": parent, "args": args},
        )
        _set_slot(key, "__pydantic_extra__", None)
        _set_slot(key, "__pydantic_private__", None)
        return key

    @property
    def display(self) -> str:
        """Human form: `public.orders`, `public.orders.total`, `public.f(integer)`."""
        parts = [p for p in (self.schema_, self.parent, self.name) if p is not None]
        text = ".".join(parts)
        if self.args is not None:
            text += f"({self.args})"
        return text

    @property
    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.kind, self.schema_ or "", self.parent or "", self.name, self.args or "")

    @property
    def table_key(self) -> ObjectKey | None:
        """For a table-scoped object, the key of its table."""
        if self.parent is None or self.schema_ is None:
            return None
        return relation_key("table", self.schema_, self.parent)


_new_object = object.__new__
_set_slot = object.__setattr__


class Dependency(Model):
    """`dependent` needs `referenced` to exist (pg_depend, view rewrite rules, routine types)."""

    dependent: ObjectKey
    referenced: ObjectKey


class Privilege(Model):
    """One grant: `grantee` receives `privilege` (SELECT, USAGE, ...) from `grantor`."""

    grantee: str  # role name, or "PUBLIC"
    privilege: str
    grantable: bool = False


# The attributes an object's key is made of: (schema, parent, name, args), None where the key
# has no such part; the kind is the class's `kind`.
KeyAttrs = tuple[str | None, str | None, str, str | None]


class SchemaObject(Model):
    """A managed object. Subclasses set `kind`, `key_attrs` (or implement `key`) and
    `implied_deps`."""

    kind: ClassVar[str]
    key_attrs: ClassVar[KeyAttrs | None] = None
    # Fields carried for ordering or reporting that never make two objects differ.
    not_compared: ClassVar[frozenset[str]] = frozenset()
    # The kinds of key `implied_deps` can return: finding what depends on a dropped object
    # scans only the collections that can imply a dependency on its kind.
    implies: ClassVar[frozenset[str]] = frozenset()

    @property
    def key(self) -> ObjectKey:
        attrs = self.key_attrs
        if attrs is None:
            raise NotImplementedError
        schema, parent, name, args = attrs
        return ObjectKey.of(
            self.kind,
            None if schema is None else getattr(self, schema),
            getattr(self, name),
            None if parent is None else getattr(self, parent),
            None if args is None else getattr(self, args),
        )

    @property
    def sort_key(self) -> tuple[str, str, str, str, str]:
        """`self.key.sort_key` without building the key (a pydantic validation): sorting a
        10,000-table schema asks for 250,000 of them."""
        attrs = self.key_attrs
        if attrs is None:
            return self.key.sort_key
        schema, parent, name, args = attrs
        return (
            self.kind,
            "" if schema is None else getattr(self, schema) or "",
            "" if parent is None else getattr(self, parent) or "",
            getattr(self, name),
            "" if args is None else getattr(self, args) or "",
        )

    def implied_deps(self) -> Iterable[ObjectKey]:
        """Dependencies the model itself implies (its schema, its table, its types)."""
        return ()

    def implied_names(self) -> Iterable[str]:
        """The names of the keys `implied_deps` returns, without building them: finding what
        depends on a few keys skips the objects that cannot name one (cheap for a class to
        override where its keys are built)."""
        return [key.name for key in self.implied_deps()]

    def compared(self) -> dict[str, Any]:
        """The fields whose difference is a schema difference."""
        return self.model_dump(exclude=set(self.not_compared), by_alias=True)

    def same_as(self, other: SchemaObject) -> bool:
        if type(self) is not type(other):
            return False
        # Equal field by field is the common case and costs no model_dump.
        return self == other or self.compared() == other.compared()


# Keys are immutable, so the containers' keys (every object's schema, every column's table) are
# built once and shared: implied dependencies ask for them ~250,000 times at 10,000 tables, and a
# pydantic construction costs microseconds.
@functools.lru_cache(maxsize=1 << 16)
def schema_key(name: str) -> ObjectKey:
    return ObjectKey.of("schema", None, name)


@functools.lru_cache(maxsize=1 << 16)
def relation_key(kind: str, schema: str, name: str) -> ObjectKey:
    """The key of a table, view or materialized view (shared, see schema_key)."""
    return ObjectKey.of(kind, schema, name)


def column_key(schema: str, table: str, name: str) -> ObjectKey:
    """The key of a column of a table (or of another relation)."""
    return ObjectKey.of("column", schema, name, table)


__all__ = [
    "KeyAttrs",
    "ObjectKey",
    "Privilege",
    "SchemaObject",
    "column_key",
    "ident",
    "qualname",
    "relation_key",
    "schema_key",
]


class Commented(Model):
    """Mixin: the object can carry a COMMENT."""

    comment: str | None = None


class Owned(Model):
    """Mixin: the object has an owner (compared only when ownership management is on)."""

    owner: str | None = None


class Granted(Model):
    """Mixin: the object carries privileges.

    The catalog expands a NULL ACL to the defaults (acldefault) and leaves out the owner's own
    entries and every grantor, so that two databases whose owners differ compare equal.
    """

    acl: tuple[Privilege, ...] = ()

    @field_validator("acl")
    @classmethod
    def _fold_grantors(cls, value: tuple[Privilege, ...]) -> tuple[Privilege, ...]:
        return fold_acl(value)


def fold_acl(acl: Iterable[Privilege]) -> tuple[Privilege, ...]:
    """One entry per (grantee, privilege), sorted; grantable if any grantor gave the option.

    aclexplode lists a privilege once per grantor; grantors are not compared, so the same grant
    received from two roles must equal the same grant received once.
    """
    merged: dict[tuple[str, str], bool] = {}
    for p in acl:
        merged[(p.grantee, p.privilege)] = (
            merged.get((p.grantee, p.privilege), False) or p.grantable
        )
    return tuple(
        Privilege(grantee=g, privilege=priv, grantable=opt)
        for (g, priv), opt in sorted(merged.items())
    )


class TableScoped(Model):
    """Mixin for objects that belong to one table (columns, constraints, triggers, policies)."""

    schema_: SchemaName
    table: str
