"""Triggers and event triggers.

A changed trigger is replaced with CREATE OR REPLACE TRIGGER (PostgreSQL 14+), except
constraint triggers, which PostgreSQL cannot replace: those are dropped and created again.
CREATE TRIGGER takes SHARE ROW EXCLUSIVE on its table, which blocks writes while it waits.
"""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step, register
from engine.model.triggers import Enabled, EventTrigger, Trigger
from engine.plan.model import Hazard, HazardCode, Severity
from engine.sqltext import ident, literal, qualname

_ENABLE: dict[Enabled, str] = {
    "origin": "ENABLE",
    "disabled": "DISABLE",
    "replica": "ENABLE REPLICA",
    "always": "ENABLE ALWAYS",
}

_CREATE = "CREATE TRIGGER "


def _blocks_writes(obj: Trigger, ctx: PlanContext, what: str) -> tuple[Hazard, ...]:
    if obj.on_view or ctx.table_is_new(obj.schema_, obj.table):
        return ()
    return (
        ctx.hazard(
            HazardCode.BLOCKS_WRITES,
            Severity.LOW,
            f"{what} trigger {obj.name} takes SHARE ROW EXCLUSIVE on {obj.schema_}.{obj.table}",
            table=(obj.schema_, obj.table),
        ),
    )


def _relation(obj: Trigger) -> str:
    return qualname(obj.schema_, obj.table)


def _enable_step(obj: Trigger, ctx: PlanContext) -> Step:
    sql = f"ALTER TABLE {_relation(obj)} {_ENABLE[obj.enabled]} TRIGGER {ident(obj.name)}"
    return Step(key=obj.key, action="alter", sql=sql, lock="SHARE ROW EXCLUSIVE")


@register
class TriggerHandler(Handler[Trigger]):
    kind = "trigger"
    model = Trigger
    rebuilt_on_column_change = True  # WHEN and UPDATE OF name columns

    def create(self, obj: Trigger, ctx: PlanContext) -> list[Step]:
        steps = [
            Step(
                key=obj.key,
                action="create",
                sql=obj.definition,
                lock="SHARE ROW EXCLUSIVE",
                hazards=_blocks_writes(obj, ctx, "creating"),
            )
        ]
        if obj.enabled != "origin":
            steps.append(_enable_step(obj, ctx))
        return steps

    def drop(self, obj: Trigger, ctx: PlanContext) -> list[Step]:
        sql = f"DROP TRIGGER {ident(obj.name)} ON {_relation(obj)}"
        return [Step(key=obj.key, action="drop", sql=sql)]

    def alter(self, old: Trigger, new: Trigger, ctx: PlanContext) -> list[Step] | None:
        steps: list[Step] = []
        if old.definition != new.definition or old.on_view != new.on_view:
            if old.constraint or new.constraint or not new.definition.startswith(_CREATE):
                return None
            sql = "CREATE OR REPLACE TRIGGER " + new.definition[len(_CREATE) :]
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=sql,
                    lock="SHARE ROW EXCLUSIVE",
                    hazards=_blocks_writes(new, ctx, "replacing"),
                )
            )
        if old.enabled != new.enabled:
            steps.append(_enable_step(new, ctx))
        return steps

    def ref(self, obj: Trigger) -> str:
        return f"TRIGGER {ident(obj.name)} ON {_relation(obj)}"


@register
class EventTriggerHandler(Handler[EventTrigger]):
    kind = "event_trigger"
    model = EventTrigger

    def create(self, obj: EventTrigger, ctx: PlanContext) -> list[Step]:
        when = ""
        if obj.tags:
            when = f" WHEN TAG IN ({', '.join(literal(t) for t in obj.tags)})"
        function = qualname(obj.function_schema, obj.function_name)
        sql = (
            f"CREATE EVENT TRIGGER {ident(obj.name)} ON {ident(obj.event)}{when} "
            f"EXECUTE FUNCTION {function}()"
        )
        steps = [Step(key=obj.key, action="create", sql=sql, lock="NONE")]
        if obj.enabled != "origin":
            steps.append(self._enable(obj))
        return steps

    def drop(self, obj: EventTrigger, ctx: PlanContext) -> list[Step]:
        sql = f"DROP EVENT TRIGGER {ident(obj.name)}"
        return [Step(key=obj.key, action="drop", sql=sql, lock="NONE")]

    def alter(self, old: EventTrigger, new: EventTrigger, ctx: PlanContext) -> list[Step] | None:
        if (old.event, old.tags, old.function_schema, old.function_name) != (
            new.event,
            new.tags,
            new.function_schema,
            new.function_name,
        ):
            return None
        return [self._enable(new)]

    def _enable(self, obj: EventTrigger) -> Step:
        sql = f"ALTER EVENT TRIGGER {ident(obj.name)} {_ENABLE[obj.enabled]}"
        return Step(key=obj.key, action="alter", sql=sql, lock="NONE")

    def ref(self, obj: EventTrigger) -> str:
        return f"EVENT TRIGGER {ident(obj.name)}"
