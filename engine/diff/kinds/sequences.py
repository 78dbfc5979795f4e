"""Sequences: every option changes in place with ALTER SEQUENCE; a used sequence's state is
never touched (see bounds_alter_sql for the one restart there is)."""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step, register
from engine.model.base import relation_key
from engine.model.sequences import Sequence
from engine.model.tables import Table
from engine.plan.model import HazardCode, Severity
from engine.sqltext import do_statement, ident, literal, qualname


def bounds_alter_sql(alter: str, sequence: str, old_start: int, low: int, high: int) -> str:
    """`alter` (an ALTER SEQUENCE, or an identity's ALTER TABLE ... ALTER COLUMN ... SET), which
    sets the bounds [low, high], with RESTART when the sequence was never used and its value
    lies outside them. `sequence`: a SQL expression giving the sequence's name as text.

    PostgreSQL refuses bounds that leave out the sequence's current value, and the current value
    of a sequence never used (is_called false) is its start: a copy of production rebuilt for
    verification, or a sequence created and reconfigured before any nextval(), would refuse the
    desired schema's bounds while production's, further along, takes them. An unused sequence
    restarts at its new start, which is what creating it from the desired schema gives; a used
    one is never restarted (the values it handed out may be in use), so ALTER refuses it as
    before, inside the plan's transaction. Only when the old start itself is outside the bounds:
    otherwise an unused sequence is within them and a plain ALTER does.
    """
    if low <= old_start <= high:
        return alter
    return do_statement(
        "DECLARE unused_outside boolean;\nBEGIN\n"
        "EXECUTE 'SELECT NOT is_called AND last_value NOT BETWEEN "
        f"{low} AND {high} FROM ' || {sequence} INTO unused_outside;\n"
        f"IF unused_outside THEN\n{alter} RESTART;\nELSE\n{alter};\nEND IF;\nEND"
    )


def _options(seq: Sequence) -> str:
    return (
        f"AS {seq.data_type} INCREMENT BY {seq.increment} MINVALUE {seq.min_value} "
        f"MAXVALUE {seq.max_value} START WITH {seq.start} CACHE {seq.cache} "
        + ("CYCLE" if seq.cycle else "NO CYCLE")
    )


def persistence_step(seq: Sequence) -> Step:
    """SET LOGGED / UNLOGGED (PostgreSQL 15+), after the owning table's steps: its own SET
    [UN]LOGGED changes the sequence too."""
    target = "UNLOGGED" if seq.persistence == "unlogged" else "LOGGED"
    owner = seq.owned_by
    return Step(
        key=seq.key,
        action="alter",
        sql=f"ALTER SEQUENCE {qualname(seq.schema_, seq.name)} SET {target}",
        requires=(relation_key("table", seq.schema_, owner.table),) if owner else (),
        # nothing waits for it: a table whose default calls nextval() on it must not (a cycle)
        incidental=True,
    )


def owned_sequences_kept(table: Table, ctx: PlanContext) -> list[Step]:
    """The table's SET [UN]LOGGED changes the sequences it owns as well (PostgreSQL 15+): each
    whose persistence `schema/` leaves as it was, and other than the table's, gets it back."""
    if not ctx.unlogged_sequences:
        return []
    steps = []
    for seq in ctx.desired.sequences:
        owner = seq.owned_by
        if owner is None or (seq.schema_, owner.table) != (table.schema_, table.name):
            continue
        old = ctx.current_objects.get(seq.key)
        if isinstance(old, Sequence) and old.persistence == seq.persistence != table.persistence:
            steps.append(persistence_step(seq))
    return steps


@register
class SequenceHandler(Handler[Sequence]):
    kind = "sequence"
    model = Sequence

    def create(self, obj: Sequence, ctx: PlanContext) -> list[Step]:
        unlogged = "UNLOGGED " if obj.persistence == "unlogged" else ""
        steps = [
            Step(
                key=obj.key,
                action="create",
                sql=f"CREATE {unlogged}SEQUENCE {qualname(obj.schema_, obj.name)} {_options(obj)}",
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
                        f"narrows the range of {new.key.display}: nextval() may fail, and the "
                        "change is refused when a used sequence's current value is outside it "
                        "(one never used restarts at its new start)",
                    )
                )
            name = qualname(new.schema_, new.name)
            alter = f"ALTER SEQUENCE {name} {' '.join(clauses)}"
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=bounds_alter_sql(
                        alter, literal(name), old.start, new.min_value, new.max_value
                    ),
                    lock="SHARE ROW EXCLUSIVE",
                    hazards=tuple(hazards),
                )
            )
        if old.owned_by != new.owned_by:
            steps.append(self._owned_by(new, ctx))
        if old.persistence != new.persistence:
            steps.append(persistence_step(new))
        return steps

    def ref(self, obj: Sequence) -> str:
        return f"SEQUENCE {qualname(obj.schema_, obj.name)}"


def _narrows(old: Sequence, new: Sequence) -> bool:
    return new.min_value > old.min_value or new.max_value < old.max_value
