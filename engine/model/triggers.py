"""Triggers on tables and views, and event triggers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal

from engine.model.base import (
    Commented,
    KeyAttrs,
    ObjectKey,
    Owned,
    SchemaObject,
    TableScoped,
    relation_key,
)

# tgenabled / evtenabled: O origin (fires normally), D disabled, R replica only, A always.
Enabled = Literal["origin", "disabled", "replica", "always"]


class Trigger(SchemaObject, TableScoped, Commented):
    """A trigger on a table or view (`table` names either).

    definition: pg_get_triggerdef(oid): timing, events, UPDATE OF columns, FOR EACH ROW or
        STATEMENT, REFERENCING transition tables, WHEN, function and arguments, CONSTRAINT
        trigger with DEFERRABLE / INITIALLY. Triggers cloned onto partitions are not objects.
    enabled: ALTER TABLE ... ENABLE / DISABLE / ENABLE REPLICA / ENABLE ALWAYS TRIGGER.
    """

    kind: ClassVar[str] = "trigger"
    name: str
    definition: str
    enabled: Enabled = "origin"
    constraint: bool = False
    function: str = ""  # the trigger function, schema-qualified
    on_view: bool = False

    key_attrs: ClassVar[KeyAttrs] = ("schema_", "table", "name", None)
    implies: ClassVar[frozenset[str]] = frozenset({"table", "view"})

    @property
    def relation_key(self) -> ObjectKey:
        kind = "view" if self.on_view else "table"
        return relation_key(kind, self.schema_, self.table)

    def implied_deps(self) -> Iterable[ObjectKey]:
        return (self.relation_key,)


class EventTrigger(SchemaObject, Commented, Owned):
    """An event trigger (database-wide; creating one needs a superuser)."""

    kind: ClassVar[str] = "event_trigger"
    implies: ClassVar[frozenset[str]] = frozenset({"function"})
    name: str
    event: str  # ddl_command_start, ddl_command_end, sql_drop, table_rewrite, login (17+)
    tags: tuple[str, ...] = ()  # WHEN TAG IN (...), sorted
    function_schema: str
    function_name: str
    enabled: Enabled = "origin"

    key_attrs: ClassVar[KeyAttrs] = (None, None, "name", None)

    def implied_deps(self) -> Iterable[ObjectKey]:
        # Event trigger functions take no arguments.
        return (
            ObjectKey(
                kind="function", schema_=self.function_schema, name=self.function_name, args=""
            ),
        )
