"""Functions, procedures and aggregates.

A changed function or procedure is replaced in place (CREATE OR REPLACE, from the desired
pg_get_functiondef) when PostgreSQL allows it: same result type, same parameter names and
modes (OUT parameters make the result's row type), no parameter default removed. Otherwise it
is dropped and created again, and the planner rebuilds its dependents. Aggregates are always
recreated. A different argument list is a different object (the key carries the identity
arguments): the old one is dropped, the new one created.

Ordering: routines come before tables by default, and after what pg_depend says they use. An
SQL function with a BEGIN ATOMIC body records the tables it reads, so it is created after them;
an SQL function with a string body is validated at creation (check_function_bodies) but records
nothing, so one that reads a table created in the same plan fails: write it with BEGIN ATOMIC.
Bodies in other languages (plpgsql) are validated lazily and tracked by nothing.
"""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step, register
from engine.model.routines import Routine
from engine.plan.model import Hazard, HazardCode, Severity
from engine.sqltext import qualname


def _ref(obj: Routine) -> str:
    word = obj.routine_kind.upper()
    args = "*" if obj.routine_kind == "aggregate" and not obj.signature else obj.signature
    return f"{word} {qualname(obj.schema_, obj.name)}({args})"


def _replaceable(old: Routine, new: Routine) -> bool:
    return (
        old.routine_kind == new.routine_kind != "aggregate"
        and old.result == new.result
        # names and modes of every parameter: OUT parameters define the result's row type
        and old.signature == new.signature
        and old.input_names == new.input_names
        and new.default_count >= old.default_count
    )


def _definer_hazard(old: Routine | None, new: Routine, ctx: PlanContext) -> list[Hazard]:
    was = old.security_definer if old is not None else False
    if new.security_definer and not was:
        return [
            ctx.hazard(
                HazardCode.AUTHZ_CHANGE,
                Severity.MEDIUM,
                f"{new.key.display} runs with its owner's privileges (SECURITY DEFINER)",
            )
        ]
    if was and not new.security_definer:
        return [
            ctx.hazard(
                HazardCode.AUTHZ_CHANGE,
                Severity.LOW,
                f"{new.key.display} no longer runs with its owner's privileges",
            )
        ]
    return []


class _RoutineHandler(Handler[Routine]):
    model = Routine

    def create(self, obj: Routine, ctx: PlanContext) -> list[Step]:
        old = ctx.current_objects.get(obj.key)
        before = old if isinstance(old, Routine) else None
        hazards = tuple(_definer_hazard(before, obj, ctx))
        return [
            Step(key=obj.key, action="create", sql=obj.definition, lock="NONE", hazards=hazards)
        ]

    def drop(self, obj: Routine, ctx: PlanContext) -> list[Step]:
        if obj.key in ctx.desired_objects:
            message = f"recreates {obj.key.display}: its result or parameters change for callers"
        else:
            message = f"drops {obj.key.display}; callers fail"
        hazard = ctx.hazard(HazardCode.BACKWARD_INCOMPATIBLE, Severity.MEDIUM, message)
        return [Step(key=obj.key, action="drop", sql=f"DROP {_ref(obj)}", hazards=(hazard,))]

    def alter(self, old: Routine, new: Routine, ctx: PlanContext) -> list[Step] | None:
        if not _replaceable(old, new):
            return None
        hazards = _definer_hazard(old, new, ctx)
        if not new.body_tracked and new.language != "sql":
            hazards.append(
                ctx.hazard(
                    HazardCode.UNTRACKABLE_DEPENDENCIES,
                    Severity.LOW,
                    f"{new.language} body of {new.key.display} is not dependency-tracked: "
                    "what it uses is checked only when it runs",
                )
            )
        return [
            Step(
                key=new.key, action="alter", sql=new.definition, lock="NONE", hazards=tuple(hazards)
            )
        ]

    def ref(self, obj: Routine) -> str:
        return _ref(obj)


@register
class FunctionHandler(_RoutineHandler):
    kind = "function"


@register
class ProcedureHandler(_RoutineHandler):
    kind = "procedure"


@register
class AggregateHandler(_RoutineHandler):
    kind = "aggregate"
