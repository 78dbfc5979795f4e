"""Default privileges (ALTER DEFAULT PRIVILEGES). Object ACLs live on the objects themselves."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from engine.model.base import ObjectKey, Privilege, SchemaObject, schema_key

DefaultObjectType = Literal["tables", "sequences", "functions", "types", "schemas"]


class DefaultPrivilege(SchemaObject):
    """One pg_default_acl entry: what `role` grants on objects it creates later.

    acl: the entry's privileges exactly as the catalog stores them, owner entries included (the
        role is part of the key, so they compare across databases).
    baseline: what the entry means when it is absent (never compared): for a database-wide entry,
        PostgreSQL's hard-wired default (acldefault); for an IN SCHEMA entry, nothing, since
        per-schema entries only add to the database-wide ones. Creating an entry starts from it and
        dropping one returns to it.
    """

    kind: ClassVar[str] = "default_privilege"
    implies: ClassVar[frozenset[str]] = frozenset({"schema"})
    not_compared: ClassVar[frozenset[str]] = frozenset({"baseline"})
    role: str  # FOR ROLE
    in_schema: str | None = None  # IN SCHEMA, None for database-wide
    object_type: DefaultObjectType
    acl: tuple[Privilege, ...] = ()
    baseline: tuple[Privilege, ...] = ()

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(
            kind=self.kind, schema_=self.in_schema, parent=self.role, name=self.object_type
        )

    def implied_deps(self) -> Iterable[ObjectKey]:
        return () if self.in_schema is None else (schema_key(self.in_schema),)
