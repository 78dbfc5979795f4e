"""Sequences: every option changes in place with ALTER SEQUENCE; state is never touched."""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step, register
from engine.model.sequences import Sequence
from engine.plan.model import HazardCode, Severity
from engine.sqltext import ident, qualname


def _options(seq: Sequence) -> str:
    return (
        f"AS {seq.data_type} INCREMENT BY {seq.increment} MINVALUE {seq.min_value} "
        f"MAXVALUE {seq.max_value} START WITH {seq.start} CACHE {seq.cache} "
        + ("CYCLE" if seq.cycle else "NO CYCLE")
    )


@register
class SequenceHandler(Handler[Sequence]):
    kind = "sequence"
    model = Sequence

    def create(self, obj: Sequence, ctx: PlanContext) -> list[Step]:
        steps = [
            Step(
                key=obj.key,
                action="create",
                sql=f"CREATE SEQUENCE {qualname(obj.schema_, obj.name)} {_options(obj)}",
            )
        ]
        if obj.owned_by is not None:
            steps.append(self._owned_by(obj, ctx))
        return steps

    def _owned_by(self, obj: Sequence, ctx: PlanContext) -> Step:
        ref = qualname(obj.schema_, obj.name)
        column = obj.owner_column_key
        if obj.owned_by is None or column is None:
            return Step(
                key=obj.key,
                action="alter",
                sql=f"ALTER SEQUENCE {ref} OWNED BY NONE",
                incidental=True,
            )
        target = f"{qualname(obj.schema_, obj.owned_by.table)}.{ident(obj.owned_by.column)}"
        # The column is created by another step (or inside CREATE TABLE): run after it.
        return Step(
            key=obj.key,
            action="alter",
            sql=f"ALTER SEQUENCE {ref} OWNED BY {target}",
            requires=(column,),
            incidental=True,
        )

    def drop(self, obj: Sequence, ctx: PlanContext) -> list[Step]:
        hazard = ctx.hazard(
            HazardCode.DATA_LOSS,
            Severity.HIGH,
            f"drops sequence {obj.key.display} and its current value",
        )
        # IF EXISTS: a sequence OWNED BY a column that this plan drops goes away with it first.
        return [
            Step(
                key=obj.key,
                action="drop",
                sql=f"DROP SEQUENCE IF EXISTS {qualname(obj.schema_, obj.name)}",
                hazards=(hazard,),
            )
        ]

    def alter(self, old: Sequence, new: Sequence, ctx: PlanContext) -> list[Step] | None:
        clauses: list[str] = []
        retyped = old.data_type != new.data_type
        if retyped:
            clauses.append(f"AS {new.data_type}")
        if old.increment != new.increment:
            clauses.append(f"INCREMENT BY {new.increment}")
        # AS <type> moves bounds that were the old type's defaults: spell them out after it.
        if retyped or old.min_value != new.min_value:
            clauses.append(f"MINVALUE {new.min_value}")
        if retyped or old.max_value != new.max_value:
            clauses.append(f"MAXVALUE {new.max_value}")
        if old.start != new.start:
            # START WITH only sets what RESTART goes back to; the current value is data.
            clauses.append(f"START WITH {new.start}")
        if old.cache != new.cache:
            clauses.append(f"CACHE {new.cache}")
        if old.cycle != new.cycle:
            clauses.append("CYCLE" if new.cycle else "NO CYCLE")
        steps: list[Step] = []
        if clauses:
            hazards = []
            if _narrows(old, new):
                hazards.append(
                    ctx.hazard(
                        HazardCode.BACKWARD_INCOMPATIBLE,
                        Severity.MEDIUM,
                        f"narrows the range of {new.key.display}: nextval() may fail or the "
                        "change is refused when the current value is outside it",
                    )
                )
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER SEQUENCE {qualname(new.schema_, new.name)} {' '.join(clauses)}",
                    lock="SHARE ROW EXCLUSIVE",
                    hazards=tuple(hazards),
                )
            )
        if old.owned_by != new.owned_by:
            steps.append(self._owned_by(new, ctx))
        return steps

    def ref(self, obj: Sequence) -> str:
        return f"SEQUENCE {qualname(obj.schema_, obj.name)}"


def _narrows(old: Sequence, new: Sequence) -> bool:
    return new.min_value > old.min_value or new.max_value < old.max_value
