"""What a table that exists must have before it joins a parent (ATTACH PARTITION, INHERIT).

PostgreSQL refuses to attach a table that lacks one of the parent's columns or CHECK constraints
(`child table is missing column "b"`, `... missing constraint "ck"`). A child made by PARTITION
OF or INHERITS gets them from the parent, so schema/ never declares them on the child, and a plan
that attaches an existing table (turning a table into a partition, a child into an inheritance
hierarchy) must add them first: each missing column with the child's desired default and NOT
NULL (the column handler's ADD COLUMN, with its hazards), each missing check under the parent's
name (the constraint handler's online form), and on PostgreSQL 18 each NOT NULL constraint
renamed to the name the child is to have (the parent's; it cannot be renamed once inherited).
The joining step requires them.

ATTACH PARTITION then holds them as the parent's (it clears `attislocal` and `conislocal`). An
inheritance child keeps them as its own as well: PostgreSQL has no statement that unsets that,
and pg-flux treats a column or check an inheritance child has both ways as no difference (the
column's own NOT NULL, default and storage still count: engine.diff.kinds.inherited_columns).
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.diff.context import PlanContext
from engine.diff.handler import HANDLERS, Step
from engine.diff.kinds.columns import not_null_constraint, rename_not_null_step
from engine.errors import PlanError
from engine.model.base import ObjectKey, column_key
from engine.model.constraints import Constraint
from engine.model.tables import (
    Column,
    Generated,
    InheritedColumn,
    NotNullConstraint,
    Table,
    TableRef,
)
from engine.plan.model import HazardCode, Severity
from engine.sqltext import ident, qualname


def _lineage(ctx: PlanContext, parents: list[TableRef], *, desired: bool = True) -> list[Table]:
    """`parents` and their ancestors in the desired (or current) schema, nearest first."""
    objects = ctx.desired_objects if desired else ctx.current_objects
    out: list[Table] = []
    seen: set[ObjectKey] = set()
    work = list(parents)
    while work:
        ref = work.pop(0)
        if ref.key in seen:
            continue
        seen.add(ref.key)
        table = objects.get(ref.key)
        if isinstance(table, Table):
            out.append(table)
            work.extend(table.parents)
    return out


def given_checks(ctx: PlanContext, parent: TableRef) -> tuple[ObjectKey, ...]:
    """The keys of the checks `parent` and its ancestors are to pass down. An inheritance child
    joins once they exist: a check it also has from a parent it then leaves stays inherited
    (PostgreSQL counts its parents); added to the new parent after, it would merge into the
    child's own copy, which stays its own."""
    return tuple(
        obj.key
        for table in _lineage(ctx, [parent])
        for obj in ctx.desired_objects.children(table.schema_, table.name)
        if isinstance(obj, Constraint) and obj.passed_down
    )


def held_columns(ctx: PlanContext, child: Table) -> dict[str, Column]:
    """The columns the existing table `child` has now, by name: its own, and those it holds
    from its current parents as the nearest ancestor declares them."""
    held: dict[str, Column] = {}
    for table in [child, *_lineage(ctx, child.parents, desired=False)]:
        for column in ctx.columns_of(table.schema_, table.name, desired=False):
            held.setdefault(column.name, column)
    return held


def not_null_steps(child: Table, parent: TableRef, ctx: PlanContext) -> list[Step]:
    """Steps that make NOT NULL each column `child` has where `parent`'s is NOT NULL:
    PostgreSQL refuses to attach it otherwise (`column "b" in child table must be marked NOT
    NULL`). On PostgreSQL 18 the constraint gets the name the child is to have. They run once
    the child has left its old parent (`Step.between_parents`), before it joins."""
    where = qualname(child.schema_, child.name)
    steps: list[Step] = []
    for obj in ctx.desired_objects.children(parent.schema_, parent.name):
        if not isinstance(obj, (Column, InheritedColumn)) or not obj.not_null:
            continue
        if isinstance(obj, Column) and obj.not_null_no_inherit:
            continue
        state = ctx.current_objects.get(column_key(child.schema_, child.name, obj.name))
        if state is None:
            state = ctx.current_objects.get(
                ObjectKey.of("inherited_column", child.schema_, obj.name, child.name)
            )
        if not isinstance(state, (Column, InheritedColumn)):
            continue  # lacking: added NOT NULL
        column = ident(obj.name)
        if state.not_null:
            # PostgreSQL 18 refuses a NOT VALID one of its own under a valid parent's
            # (`conflicts with NOT VALID constraint on child table`); SET NOT NULL validates
            # the table's own
            if (
                not isinstance(state, Column)
                or state.not_null_validated
                or not obj.not_null_validated
            ):
                continue
            sql = f"ALTER TABLE {where} ALTER COLUMN {column} SET NOT NULL"
        elif ctx.names_not_null:
            desired = ctx.desired_objects.get(
                ObjectKey.of("inherited_column", child.schema_, obj.name, child.name)
            )
            named = desired.not_null_name if isinstance(desired, InheritedColumn) else None
            name = ident(not_null_constraint(child.name, obj.name, named))
            sql = f"ALTER TABLE {where} ADD CONSTRAINT {name} NOT NULL {column}"
        else:
            sql = f"ALTER TABLE {where} ALTER COLUMN {column} SET NOT NULL"
        hazard = ctx.hazard(
            HazardCode.FULL_SCAN_UNDER_LOCK,
            Severity.MEDIUM,
            f"NOT NULL on {obj.name} scans {where} under ACCESS EXCLUSIVE before it joins"
            f" {qualname(parent.schema_, parent.name)}",
            table=(child.schema_, child.name),
        )
        steps.append(
            Step(
                key=column_key(child.schema_, child.name, obj.name),
                action="alter",
                sql=sql,
                hazards=(hazard,),
                between_parents=child.key,
            )
        )
    return steps


def _shared_columns(
    ctx: PlanContext, child: Table, parent: TableRef
) -> Iterator[tuple[Table, Column, Column]]:
    """(the ancestor that declares it, its column, the column `child` has now) for each column
    `child` has that `parent` and its ancestors are to give it, nearest declaration first."""
    held = held_columns(ctx, child)
    done: set[str] = set()
    for table in _lineage(ctx, [parent]):
        for column in ctx.columns_of(table.schema_, table.name, desired=True):
            has = held.get(column.name)
            if has is not None and column.name not in done:
                done.add(column.name)
                yield table, column, has


def type_steps(
    child: Table, parent: TableRef, ctx: PlanContext
) -> tuple[list[Step], tuple[ObjectKey, ...]]:
    """Steps that convert each column `child` has to the type (and collation) that `parent`
    gives it: PostgreSQL refuses to attach a table whose column types differ (`child table
    "c" has different type for column "b"`). They run once the child has left the parent it
    held the column from (`Step.between_parents`), before it joins."""
    steps: list[Step] = []
    keys: list[ObjectKey] = []
    for table, column, has in _shared_columns(ctx, child, parent):
        if (has.type, has.collation) == (column.type, column.collation):
            continue
        if (has.schema_, has.table) != (child.schema_, child.name) and child.inherits:
            # joined before the parent that gives it is left: ALTER TYPE refuses it then
            raise PlanError(
                f"{child.key.display} has column {has.name} as {has.type} from"
                f" {qualname(has.schema_, has.table)} and is to inherit it as {column.type}"
                f" from {qualname(table.schema_, table.name)}; pg-flux cannot change the"
                " type of a column the table inherits",
                details="Ship it in two changes: leave the old parent first (the column"
                " becomes the table's own), then join the new one.",
            )
        own = has.model_copy(update={"schema_": child.schema_, "table": child.name})
        converted = own.model_copy(update={"type": column.type, "collation": column.collation})
        for step in HANDLERS["column"].alter(own, converted, ctx) or []:
            steps.append(step.model_copy(update={"between_parents": child.key}))
        keys.append(own.key)
    return steps, tuple(keys)


def _kind_of(generated: Generated | None) -> str:
    return "plain" if generated is None else "virtual" if generated.virtual else "stored"


def _kind(col: Column) -> str:
    return _kind_of(col.generated)


def generation_steps(
    child: Table, parent: TableRef, ctx: PlanContext
) -> tuple[list[Step], tuple[ObjectKey, ...]]:
    """Steps that give each column `child` has the generation `schema/` gives it under
    `parent`, before it joins: PostgreSQL refuses the join otherwise. From 16 a child's column
    is of the parent's kind, plain, STORED or VIRTUAL (`column "v" in child table must be a
    generated column`, `... must not be ...`, `... inherits from generated column of different
    kind`), its expression its own; before 16 a plain parent may have a generated child, and a
    generated parent's child has the parent's expression (`conflicting generation expression`).
    No statement changes a column's kind: the column handler makes it again (with its
    hazards), or drops a stored expression; one the child is to declare, its own handler
    changes, and the join waits for it."""
    steps: list[Step] = []
    keys: list[ObjectKey] = []
    # from 17 a child's own expression is set after the join (SET EXPRESSION); 16 has none,
    # and before 16 the join wants the parent's expression
    set_after = ctx.current.server_version_num >= 170000
    for table, column, has in _shared_columns(ctx, child, parent):
        declared = ctx.desired_objects.get(column_key(child.schema_, child.name, column.name))
        state = ctx.desired_objects.get(
            ObjectKey.of("inherited_column", child.schema_, column.name, child.name)
        )
        if isinstance(declared, Column):
            target = declared.generated
        elif isinstance(state, InheritedColumn):
            target = None
            if state.generated is not None:
                virtual = column.generated is not None and column.generated.virtual
                target = Generated(expression=state.generated, virtual=virtual)
        else:
            continue
        if _kind(has) == _kind_of(target) and (set_after or has.generated == target):
            continue
        if (has.schema_, has.table) != (child.schema_, child.name):
            raise PlanError(
                f"{child.key.display} has column {has.name} from"
                f" {qualname(has.schema_, has.table)} generated otherwise than it is to"
                f" be under {qualname(table.schema_, table.name)}; a column the table"
                " inherits cannot be made again",
                details="Ship it in two changes: leave the old parent first (the column"
                " becomes the table's own), then join the new one.",
            )
        if isinstance(declared, Column):
            keys.append(declared.key)  # its own handler's steps
            continue
        own = has.model_copy(update={"schema_": child.schema_, "table": child.name})
        remade = own.model_copy(update={"generated": target, "default": None})
        # (as type_steps': after the child leaves a parent it held the column from)
        for step in HANDLERS["column"].alter(own, remade, ctx) or []:
            steps.append(step.model_copy(update={"between_parents": child.key}))
        keys.append(own.key)
    return steps, tuple(keys)


def held_names(ctx: PlanContext, child: Table) -> tuple[set[str], set[str]]:
    """The names of the columns and of the constraints `child` has now (its own and those it
    holds from its current parents)."""
    columns = {c.name for c in ctx.columns_of(child.schema_, child.name, desired=False)}
    constraints: set[str] = set()
    for obj in ctx.current_objects.children(child.schema_, child.name):
        if isinstance(obj, InheritedColumn):
            columns.add(obj.name)
        elif isinstance(obj, Constraint):
            constraints.add(obj.name)
    constraints |= {
        c.name
        for c in ctx.current.inherited_constraints
        if (c.schema_, c.table) == (child.schema_, child.name)
    }
    return columns, constraints


def _held_not_null_renames(child: Table, parent: TableRef, ctx: PlanContext) -> list[Step]:
    """PostgreSQL 18: the NOT NULL constraints a partition holds from the parent it leaves
    keep that parent's names once detached, and joining a parent keeps them: renamed to the
    names the child is to have in between (`Step.between_parents`), since an inherited one
    cannot be renamed. An inheritance child that joins before it leaves cannot: it keeps them."""
    target = ctx.desired_objects.get(parent.key)
    partitioned = isinstance(target, Table) and target.partition_key is not None
    if child.partition_of is None and not partitioned:
        return []
    steps: list[Step] = []
    for obj in ctx.current_objects.children(child.schema_, child.name):
        if not isinstance(obj, InheritedColumn) or not obj.not_null:
            continue
        state = ctx.desired_objects.get(obj.key)
        if not (isinstance(state, InheritedColumn) and state.not_null):
            continue
        was = not_null_constraint(child.name, obj.name, obj.not_null_name)
        now = not_null_constraint(child.name, obj.name, state.not_null_name)
        if was != now:
            where = qualname(child.schema_, child.name)
            # under the column's key: the child's own state's steps come after it joins
            key = column_key(child.schema_, child.name, obj.name)
            rename = rename_not_null_step(key, where, was, now)
            steps.append(rename.model_copy(update={"between_parents": child.key}))
    return steps


def joining_steps(
    child: Table, parent: TableRef, ctx: PlanContext
) -> tuple[list[Step], tuple[ObjectKey, ...]]:
    """Steps that give the existing table `child` the columns and checks of `parent` it lacks,
    and the keys of what they add (the joining step requires them)."""
    columns, constraints = held_names(ctx, child)
    converting, converted = type_steps(child, parent, ctx)
    remaking, remade = generation_steps(child, parent, ctx)
    steps: list[Step] = [*converting, *remaking]
    keys: list[ObjectKey] = [*converted, *remade]
    for own in ctx.columns_of(child.schema_, child.name, desired=False):
        # PostgreSQL 18: the child keeps its NOT NULL constraint's name when it joins, and
        # refuses to rename an inherited one afterwards: renamed now if the name differs
        state = ctx.desired_objects.get(
            ObjectKey.of("inherited_column", child.schema_, own.name, child.name)
        )
        if not (own.not_null and isinstance(state, InheritedColumn) and state.not_null):
            continue
        was = not_null_constraint(child.name, own.name, own.not_null_name)
        now = not_null_constraint(child.name, own.name, state.not_null_name)
        if was != now:
            where = qualname(child.schema_, child.name)
            steps.append(rename_not_null_step(own.key, where, was, now))
            keys.append(own.key)
    steps.extend(_held_not_null_renames(child, parent, ctx))
    steps.extend(not_null_steps(child, parent, ctx))
    # what the desired child declares itself, its own handlers add: the joining step waits
    for obj in ctx.desired_objects.children(child.schema_, child.name):
        if isinstance(obj, Column) and obj.name not in columns:
            columns.add(obj.name)
            keys.append(obj.key)
        elif isinstance(obj, Constraint) and obj.type == "check" and obj.name not in constraints:
            constraints.add(obj.name)
            keys.append(obj.key)
    for table in _lineage(ctx, [parent]):
        for column in ctx.columns_of(table.schema_, table.name, desired=True):
            if column.name in columns:
                continue
            columns.add(column.name)
            state = ctx.desired_objects.get(
                ObjectKey.of("inherited_column", child.schema_, column.name, child.name)
            )
            # the child's desired state of it (the parent's own where the child has none)
            held = state if isinstance(state, InheritedColumn) else None
            own = column.model_copy(
                update={
                    "schema_": child.schema_,
                    "table": child.name,
                    "identity": None,
                    "identity_options": None,
                    "identity_sequence": None,
                    "not_null": column.not_null if held is None else held.not_null,
                    "default": column.default if held is None else held.default,
                    "not_null_constraint": NotNullConstraint.of(
                        None if held is None else held.not_null_name,
                        validated=True,
                        no_inherit=False,
                    ),
                    "comment": None,
                    "statistics": None,
                    "attribute_options": (),
                    "storage": column.storage if held is None else held.storage,
                    "compression": column.compression if held is None else held.compression,
                    "acl": (),
                }
            )
            steps.extend(HANDLERS["column"].create(own, ctx))
            keys.append(own.key)
        for obj in ctx.desired_objects.children(table.schema_, table.name):
            if not isinstance(obj, Constraint) or not obj.passed_down or obj.name in constraints:
                continue
            constraints.add(obj.name)
            check = obj.model_copy(
                update={"schema_": child.schema_, "table": child.name, "comment": None}
            )
            steps.extend(HANDLERS["constraint"].create(check, ctx))
            keys.append(check.key)
    return steps, tuple(keys)
