"""Row-level security policies (RLS enable/force live on the table)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from pydantic import field_validator

from engine.model.base import (
    Commented,
    KeyAttrs,
    ObjectKey,
    SchemaObject,
    TableScoped,
    relation_key,
)

PolicyCommand = Literal["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"]


class Policy(SchemaObject, TableScoped, Commented):
    """CREATE POLICY. Expressions are compared as pg_get_expr prints them.

    table_rls: whether the table has row security enabled (for the drop hazard); never compared,
        the table owns that attribute.
    """

    kind: ClassVar[str] = "policy"
    not_compared: ClassVar[frozenset[str]] = frozenset({"table_rls"})
    name: str
    permissive: bool = True
    command: PolicyCommand = "ALL"
    roles: tuple[str, ...] = ("PUBLIC",)  # role names, "PUBLIC" for everyone; sorted
    using: str | None = None  # pg_get_expr(polqual)
    with_check: str | None = None  # pg_get_expr(polwithcheck)
    table_rls: bool = False

    @field_validator("roles")
    @classmethod
    def _sorted_roles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # pg_policy keeps roles in the order they were written: that order means nothing.
        return tuple(sorted(set(value)))

    key_attrs: ClassVar[KeyAttrs] = ("schema_", "table", "name", None)
    implies: ClassVar[frozenset[str]] = frozenset({"table"})

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (relation_key("table", self.schema_, self.table),)
