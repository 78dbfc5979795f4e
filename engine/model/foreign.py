"""Foreign data wrappers, foreign servers and user mappings (foreign tables are Tables)."""

from __future__ import annotations

from typing import ClassVar

from engine.model.base import Commented, Granted, ObjectKey, Owned, SchemaObject


class ForeignDataWrapper(SchemaObject, Commented, Owned, Granted):
    kind: ClassVar[str] = "fdw"
    name: str

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, name=self.name)


class ForeignServer(SchemaObject, Commented, Owned, Granted):
    kind: ClassVar[str] = "server"
    name: str

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, name=self.name)


class UserMapping(SchemaObject):
    kind: ClassVar[str] = "user_mapping"
    server: str
    user: str  # role name or PUBLIC

    @property
    def key(self) -> ObjectKey:
        return ObjectKey(kind=self.kind, parent=self.server, name=self.user)
