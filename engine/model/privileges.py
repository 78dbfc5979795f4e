"""Default privileges (ALTER DEFAULT PRIVILEGES). Object ACLs live on the objects themselves."""

from __future__ import annotations

from typing import ClassVar

from engine.model.base import ObjectKey, Privilege, SchemaObject


class DefaultPrivilege(SchemaObject):
    kind: ClassVar[str] = "default_privilege"
    role: str  # FOR ROLE
    in_schema: str | None = None  # IN SCHEMA, None for database-wide
    object_type: str  # tables | sequences | functions | types | schemas
    acl: tuple[Privilege, ...] = ()

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(
            kind=self.kind, schema_=self.in_schema, parent=self.role, name=self.object_type
        )
