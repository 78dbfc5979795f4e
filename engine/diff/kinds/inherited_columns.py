"""A child's own state of a column it has from its parent: NOT NULL, default, comment, statistics
target, attribute options, storage, compression, privileges.

What the child starts from depends on how it came to hold the column (engine.model.tables.
InheritedColumn): a child made by PARTITION OF / INHERITS copies its parent's NOT NULL, default,
storage and compression, a table attached keeps its own, and the parent's SET / DROP DEFAULT, SET /
DROP NOT NULL and SET STORAGE (and a new type, which resets the storage) reach every child whenever
they run. The child's own steps use ONLY. The steps here come after the child's table steps and the
parent column's, so a change the parent passes down has happened; where the order of an ATTACH or
CREATE against the parent's change decides the value, it is written out explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from engine.diff.context import PlanContext
from engine.diff.generic import acl_steps, own_fields_differ
from engine.diff.handler import Handler, Step, register, validated_alone
from engine.diff.kinds.columns import (
    ColumnHandler,
    attribute_options_step,
    changes_default,
    check_identity_default,
    drops_not_null_alone,
    identity_below,
    not_null_constraint,
    rename_not_null_step,
    statistics_step,
)
from engine.diff.kinds.not_valid_copies import (
    added_again,
    adds_not_valid,
    descendant_tables,
    kept_copy_validated,
    validates,
)
from engine.errors import PlanError
from engine.model.base import ObjectKey, Privilege, SchemaObject, column_key, relation_key
from engine.model.schema import Schema
from engine.model.tables import Column, InheritedColumn, Option, Storage, Table, TableRef
from engine.plan.index import ObjectIndex
from engine.plan.model import Hazard, HazardCode, Severity
from engine.sqltext import ident, literal, qualname

# A value that depends on the order of steps the plan does not fix: written out explicitly.
_UNKNOWN = object()


def _holder(objects: ObjectIndex, ref: TableRef, name: str) -> Column | InheritedColumn | None:
    """What the table `ref` holds of the column `name`: its own, or one from its parent."""
    own = objects.get(column_key(ref.schema_, ref.name, name))
    if isinstance(own, Column):
        return own
    held = objects.get(ObjectKey.of("inherited_column", ref.schema_, name, ref.name))
    return held if isinstance(held, InheritedColumn) else None


def _chain(objects: ObjectIndex, table: Table, name: str) -> list[Column | InheritedColumn]:
    """The column `name` up the child's first parents: what each ancestor holds, nearest
    first, ending with the ancestor that declares it (a table that declares a column it also
    inherits is a holder on the way: `declares`)."""
    chain: list[Column | InheritedColumn] = []
    seen: set[tuple[str, str]] = set()
    parents = table.parents
    while parents and (parents[0].schema_, parents[0].name) not in seen:
        ref = parents[0]
        seen.add((ref.schema_, ref.name))
        holder = _holder(objects, ref, name)
        if holder is not None:
            chain.append(holder)
        parent = objects.get(relation_key("table", ref.schema_, ref.name))
        parents = parent.parents if isinstance(parent, Table) else []
        if isinstance(holder, Column) and not (
            parents and _holder(objects, parents[0], name) is not None
        ):
            break
    return chain


def declares(objects: ObjectIndex, col: Column) -> bool:
    """Whether `col` is a column its table also inherits from its first parent: PostgreSQL
    merges the two (`attislocal` and `attinhcount`), and the parent's changes reach it."""
    table = objects.get(relation_key("table", col.schema_, col.table))
    return (
        isinstance(table, Table)
        and bool(table.parents)
        and _holder(objects, table.parents[0], col.name) is not None
    )


@dataclass(frozen=True)
class _PassedDown:
    """What the plan's changes up a child's ancestors pass down to it (None: nothing).

    A default comes down only from the column's declaration (SET / DROP DEFAULT, or a new type,
    which drops and sets it again, on the declaring table, which reaches every descendant);
    children set theirs with ONLY. NOT NULL comes down from every ancestor that changes it,
    the nearest last (its step waits for those above it).
    """

    default: tuple[str | None] | None
    not_null: bool | None
    # the declaration's SET STORAGE (or new type) reaches every child; children use ONLY
    storage: tuple[Storage | None] | None = None
    # the declaration's new generation expression (SET EXPRESSION, or the column made again
    # before PostgreSQL 17) reaches every child; children use ONLY
    generated: tuple[str | None] | None = None


def expression_of(col: Column | InheritedColumn) -> str | None:
    """The generation expression: a child's is its own text, its kind the declaration's."""
    if isinstance(col, InheritedColumn):
        return col.generated
    return None if col.generated is None else col.generated.expression


def _passed_down(ctx: PlanContext, table: Table, name: str) -> _PassedDown:
    chain = _chain(ctx.desired_objects, table, name)
    default: tuple[str | None] | None = None
    not_null: bool | None = None
    storage: tuple[Storage | None] | None = None
    generated: tuple[str | None] | None = None
    for at, holder in enumerate(reversed(chain)):  # root first: nearer ancestors act last
        old = ctx.current_objects.get(holder.key)
        if isinstance(holder, Column) and at == 0:
            if not isinstance(old, Column):
                continue  # a new declaration: nothing runs down an existing child
            if old.generated != holder.generated:
                generated = (expression_of(holder),)
            if changes_default(old, holder) and not identity_below(holder, ctx):
                default = (holder.default,)  # (with ONLY under an identity column: none)
            if (old.storage, old.type) != (holder.storage, holder.type):
                storage = (holder.storage,)
        if isinstance(old, (Column, InheritedColumn)) and old.not_null != holder.not_null:
            if not (
                at == 0
                and isinstance(holder, Column)
                and old.not_null
                and drops_not_null_alone(holder, ctx)
            ):
                not_null = holder.not_null  # (with ONLY under an identity column: none)
        elif not_null is not None and not_null != holder.not_null:
            # a child above writes its own NOT NULL back (or keeps it, on PostgreSQL 18, as
            # its own constraint): that reaches down too
            not_null = holder.not_null
    return _PassedDown(default, not_null, storage, generated)


@dataclass(frozen=True)
class _Start:
    """The child's state when its step runs; `_UNKNOWN` where the plan's order decides."""

    not_null: object
    default: object
    comment: str | None
    acl: tuple[Privilege, ...]
    # ONLY in every plan step: a child's target changes only by its own (columns.statistics_step)
    statistics: int | None = None
    # likewise, though a parent's never reaches it (columns.attribute_options_step)
    attribute_options: tuple[Option, ...] = ()
    storage: object = None
    compression: object = None
    # PostgreSQL 18: the copy of the parent's NOT NULL constraint validated
    not_null_validated: object = True
    # PostgreSQL 18: the name of a constraint the child kept as its own through the parent's
    # DROP NOT NULL: its own alone now, so it can be renamed
    kept_not_null_name: str | None = None
    # the generation expression; None where the plan leaves it alone (not generated, or unknown
    # before PostgreSQL 17, which cannot set it)
    generated: object = None


def _copy_validated(ctx: PlanContext, now: Table, new: InheritedColumn) -> object:
    """Whether the child's copy of its parent's NOT NULL constraint is validated when its
    step runs (engine.diff.kinds.not_valid_copies)."""
    chain = _chain(ctx.desired_objects, now, new.name)
    declared = chain[-1] if chain else None
    if isinstance(declared, Column) and declared.not_null:
        if adds_not_valid(ctx, declared):
            return False  # added after every child is made: a NOT VALID copy each
        if validates(ctx, declared):
            return True
    return kept_copy_validated(ctx, new)


def _ancestor_keys(objects: ObjectIndex, table: Table, name: str) -> list[ObjectKey]:
    """The keys of the column `name` up the child's ancestors (declared or held)."""
    keys: list[ObjectKey] = []
    work = table.parents
    seen: set[tuple[str, str]] = set()
    while work:
        ref = work.pop(0)
        if (ref.schema_, ref.name) in seen:
            continue
        seen.add((ref.schema_, ref.name))
        keys.append(column_key(ref.schema_, ref.name, name))
        keys.append(ObjectKey.of("inherited_column", ref.schema_, name, ref.name))
        parent = objects.get(relation_key("table", ref.schema_, ref.name))
        if isinstance(parent, Table):
            work.extend(parent.parents)
    return keys


def _start(
    old: InheritedColumn | None, new: InheritedColumn, ctx: PlanContext, *, declared: bool = False
) -> _Start:
    start = _start_state(old, new, ctx, child_declares=declared)
    if not new.not_null_validated or not ctx.names_not_null:
        return start  # a NOT VALID copy is never validated by the plan; none before 18
    table = ctx.desired_objects.get(relation_key("table", new.schema_, new.table))
    assert isinstance(table, Table)
    return replace(start, not_null_validated=_copy_validated(ctx, table, new))


def _kept_not_null(
    old: InheritedColumn, passed: bool | None, declared: bool, ctx: PlanContext
) -> object:
    """The child's NOT NULL once what comes down has run. On PostgreSQL 18 a constraint the
    child has as its own as well survives the parent's DROP NOT NULL; whether a column the child
    declares has one of its own the model does not say, so the plan writes it out."""
    if passed is None:
        return old.not_null
    if passed or not old.not_null or not ctx.names_not_null:
        return passed
    if declared:
        return _UNKNOWN
    return old.not_null_local


def _start_state(
    old: InheritedColumn | None,
    new: InheritedColumn,
    ctx: PlanContext,
    *,
    child_declares: bool = False,
) -> _Start:
    table_key = relation_key("table", new.schema_, new.table)
    was = ctx.current_objects.get(table_key)
    now = ctx.desired_objects.get(table_key)
    assert isinstance(now, Table)
    passed = _passed_down(ctx, now, new.name)
    same_parents = isinstance(was, Table) and was.parents == now.parents
    local = ctx.current_objects.get(column_key(new.schema_, new.table, new.name))
    if old is None and same_parents and not isinstance(local, Column):
        # the parent's new column (ADD COLUMN reaches every child, with its default and NOT
        # NULL)
        chain = _chain(ctx.desired_objects, now, new.name)
        if not chain:
            return _Start(_UNKNOWN, _UNKNOWN, None, ())
        # the declaration's default, storage and compression (children above set theirs with
        # ONLY); NOT NULL also from any child above that sets it (it reaches down)
        declared = chain[-1]
        return _Start(
            any(h.not_null for h in chain),
            declared.default,
            None,
            (),
            storage=declared.storage,
            compression=declared.compression,
            generated=expression_of(declared),
        )
    if old is not None and same_parents:
        # the same child under the same parent: its state, with what comes down to it
        not_null = _kept_not_null(old, passed.not_null, child_declares, ctx)
        return _Start(
            not_null=not_null,
            kept_not_null_name=not_null_constraint(old.table, old.name, old.not_null_name)
            if not_null is True and passed.not_null is False
            else None,
            default=old.default if passed.default is None else passed.default[0],
            comment=old.comment,
            acl=old.acl,
            statistics=old.statistics,
            attribute_options=old.attribute_options,
            storage=old.storage if passed.storage is None else passed.storage[0],
            compression=old.compression,
            generated=old.generated if passed.generated is None else passed.generated[0],
        )
    if old is None and not isinstance(was, Table):
        # made by PARTITION OF / INHERITS: a copy of the parent's as it is when the child is
        # made, before or after the parent's own change
        chain = _chain(ctx.desired_objects, now, new.name)
        if not chain:
            return _Start(_UNKNOWN, _UNKNOWN, None, ())
        parent = chain[0]
        before = ctx.current_objects.get(parent.key)
        if not isinstance(before, (Column, InheritedColumn)):
            before = parent  # the parent is new too: one value
        # NOT NULL: the parent's new state either way, since its SET / DROP NOT NULL reaches
        # every child made before it (a NO INHERIT one none); a needless SET NOT NULL on the
        # child makes its copy its own on PostgreSQL 18 (pg_dump then declares it there)
        passed_on = not (isinstance(parent, Column) and parent.not_null_no_inherit)
        return _Start(
            not_null=parent.not_null
            if before.not_null == parent.not_null or passed_on
            else _UNKNOWN,
            default=parent.default if before.default == parent.default else _UNKNOWN,
            comment=None,
            acl=(),
            storage=parent.storage if before.storage == parent.storage else _UNKNOWN,
            compression=parent.compression
            if before.compression == parent.compression
            else _UNKNOWN,
            generated=expression_of(parent)
            if expression_of(before) == expression_of(parent)
            else _UNKNOWN,
        )
    # attached (a table of its own before) or moved to another parent: what it held, unless
    # something comes down to it, before or after the ATTACH
    held: Column | InheritedColumn | None = local if isinstance(local, Column) else old
    if held is None and isinstance(was, Table):
        # a table that lacked the column: the plan adds it before the table joins, with this
        # NOT NULL and default (engine.diff.kinds.joining)
        held = new.model_copy(
            update={"comment": None, "acl": (), "statistics": None, "attribute_options": ()}
        )
    if held is None:
        return _Start(_UNKNOWN, _UNKNOWN, None, ())
    # NOT NULL where the parent's is: the plan sets it before the table joins (joining.py)
    chain = _chain(ctx.desired_objects, now, new.name)
    above = chain[0] if chain else None
    required = above is not None and above.not_null
    if isinstance(above, Column) and above.not_null_no_inherit:
        required = False
    return _Start(
        not_null=(held.not_null or required) if passed.not_null is None else _UNKNOWN,
        default=held.default if passed.default is None else _UNKNOWN,
        comment=held.comment,
        acl=held.acl,
        statistics=held.statistics,
        attribute_options=held.attribute_options,
        storage=held.storage if passed.storage is None else _UNKNOWN,
        compression=held.compression,
        # a column made again before the join has the generation schema/ gives it there
        # (engine.diff.kinds.joining.generation_steps)
        generated=new.generated
        if held.key in ctx.remade_columns
        else expression_of(held)
        if passed.generated is None
        else _UNKNOWN,
    )


@register
class InheritedColumnHandler(Handler[InheritedColumn]):
    kind = "inherited_column"
    model = InheritedColumn
    rebuildable = False

    def create(self, obj: InheritedColumn, ctx: PlanContext) -> list[Step]:
        return self._steps(_start(None, obj, ctx), obj, ctx)

    def drop(self, obj: InheritedColumn, ctx: PlanContext) -> list[Step]:
        return []  # the child goes, or keeps the column as its own (engine.plan.detached)

    def alter(
        self, old: InheritedColumn, new: InheritedColumn, ctx: PlanContext
    ) -> list[Step] | None:
        return self._steps(_start(old, new, ctx), new, ctx)

    def _steps(self, start: _Start, new: InheritedColumn, ctx: PlanContext) -> list[Step]:
        table = qualname(new.schema_, new.table)
        column = ident(new.name)
        now = ctx.desired_objects.get(relation_key("table", new.schema_, new.table))
        assert isinstance(now, Table)
        requires = (now.key, *_ancestor_keys(ctx.desired_objects, now, new.name))
        steps: list[Step] = []

        def step(sql: str, hazards: tuple[Hazard, ...] = (), incidental: bool = False) -> None:
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=sql,
                    requires=requires,
                    hazards=hazards,
                    lock="SHARE UPDATE EXCLUSIVE" if incidental else "ACCESS EXCLUSIVE",
                    incidental=incidental,
                )
            )

        if start.default is _UNKNOWN or start.default != new.default:
            # ONLY: a partitioned child's own children hold their own state
            if new.default is None:
                step(f"ALTER TABLE ONLY {table} ALTER COLUMN {column} DROP DEFAULT")
            else:
                step(f"ALTER TABLE ONLY {table} ALTER COLUMN {column} SET DEFAULT {new.default}")
        if start.not_null is _UNKNOWN or start.not_null != new.not_null:
            if new.not_null:
                hazards: tuple[Hazard, ...] = ()
                if not ctx.table_is_new(new.schema_, new.table):
                    hazards = (
                        ctx.hazard(
                            HazardCode.FULL_SCAN_UNDER_LOCK,
                            Severity.MEDIUM,
                            f"SET NOT NULL on {new.name} scans {table} under ACCESS EXCLUSIVE"
                            " (none when it is NOT NULL already)",
                            table=(new.schema_, new.table),
                        ),
                    )
                step(f"ALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL", hazards=hazards)
            else:
                step(f"ALTER TABLE {table} ALTER COLUMN {column} DROP NOT NULL")
        name = not_null_constraint(new.table, new.name, new.not_null_name)
        if new.not_null and start.kept_not_null_name not in (None, name):
            assert start.kept_not_null_name is not None
            steps.append(
                rename_not_null_step(new.key, table, start.kept_not_null_name, name, requires)
            )
        if new.not_null and start.not_null is not False and start.not_null_validated is not True:
            # PostgreSQL 18: the copy validated alone, in its own transaction (SHARE UPDATE
            # EXCLUSIVE); a SET NOT NULL above does not validate a NOT VALID copy
            name = not_null_constraint(new.table, new.name, new.not_null_name)
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER TABLE {table} VALIDATE CONSTRAINT {ident(name)}",
                    requires=requires,
                    hazards=(validated_alone(f"the NOT NULL constraint {name} on {table}"),),
                    lock="SHARE UPDATE EXCLUSIVE",
                    transactional=False,
                )
            )
        if new.generated is not None and start.generated not in (None, new.generated):
            steps.extend(_expression_steps(start.generated, new, ctx, requires))
        if start.comment != new.comment:
            step(f"COMMENT ON COLUMN {table}.{column} IS {literal(new.comment)}", incidental=True)
        if start.statistics != new.statistics:
            stats = statistics_step(new.key, table, new.name, new.statistics)
            steps.append(stats.model_copy(update={"requires": requires}))
        if start.attribute_options != new.attribute_options:
            options = attribute_options_step(
                new.key, table, new.name, start.attribute_options, new.attribute_options
            )
            steps.append(options.model_copy(update={"requires": requires}))
        if start.storage is _UNKNOWN or start.storage != new.storage:
            # no `SET STORAGE DEFAULT` before PostgreSQL 16: the type's own, by name
            chain = _chain(ctx.desired_objects, now, new.name)
            type_storage = chain[-1].type_storage if isinstance(chain[-1], Column) else "extended"
            storage = (new.storage or type_storage).upper()
            step(f"ALTER TABLE ONLY {table} ALTER COLUMN {column} SET STORAGE {storage}")
        if start.compression is _UNKNOWN or start.compression != new.compression:
            method = new.compression or "default"
            step(f"ALTER TABLE ONLY {table} ALTER COLUMN {column} SET COMPRESSION {method}")
        for grant in acl_steps(
            new.key, f"TABLE {table}", start.acl, new.acl, ctx, columns=f"({column})"
        ):
            steps.append(grant.model_copy(update={"requires": requires}))
        return steps


def _expression_steps(
    start: object, new: InheritedColumn, ctx: PlanContext, requires: tuple[ObjectKey, ...]
) -> list[Step]:
    """The child's own generation expression, with ONLY after what its ancestors pass down
    (PostgreSQL 17+). Before 17 no statement sets it: a PlanError where the child's is known
    to differ (where the plan's order decides, the parent's made-again column gives the
    parent's to every child)."""
    table = qualname(new.schema_, new.table)
    where = (new.schema_, new.table)
    if ctx.current.server_version_num < 170000:
        if start is _UNKNOWN:
            return []
        raise PlanError(
            f"column {table}.{ident(new.name)} is to be generated by ({new.generated}) and is"
            f" generated by ({start}) when the plan reaches it; PostgreSQL before 17 has no"
            " ALTER TABLE ... SET EXPRESSION, and a child's own generation expression is set"
            " only when the child is made",
            details="Make the child again (a new table, its rows copied), or upgrade to"
            " PostgreSQL 17.",
        )
    now = ctx.desired_objects.get(relation_key("table", new.schema_, new.table))
    chain = _chain(ctx.desired_objects, now, new.name) if isinstance(now, Table) else []
    declared = chain[-1] if chain else None
    hazards: tuple[Hazard, ...] = ()
    if isinstance(declared, Column) and declared.generated and declared.generated.virtual:
        if any(
            c.type == "check" and (c.schema_, c.table) == where
            for schema in (ctx.current, ctx.desired)
            for c in (*schema.constraints, *schema.inherited_constraints)
        ):
            raise PlanError(
                f"column {table}.{ident(new.name)} is to be generated by ({new.generated}) and"
                f" is generated by ({start}) when the plan reaches it; PostgreSQL 18 refuses"
                " ALTER TABLE ... SET EXPRESSION on a virtual generated column of a table with"
                " CHECK constraints, and a child's inherited column cannot be made again",
                details="Drop the child's CHECK constraints in one change and set the"
                " expression in the next, or make the child again.",
            )
    else:
        hazards = ctx.rewrite_hazards(
            f"SET EXPRESSION recomputes {new.name} for every row of {table}", where
        )
    column = ident(new.name)
    sql = f"ALTER TABLE ONLY {table} ALTER COLUMN {column} SET EXPRESSION AS ({new.generated})"
    return [Step(key=new.key, action="alter", sql=sql, requires=requires, hazards=hazards)]


def as_held(col: Column) -> InheritedColumn:
    """A column the child declares and inherits, as the child's state of an inherited one."""
    return InheritedColumn(
        schema_=col.schema_,
        table=col.table,
        name=col.name,
        not_null=col.not_null,
        not_null_name=col.not_null_name,
        not_null_validated=col.not_null_validated,
        default=col.default,
        generated=expression_of(col),
        comment=col.comment,
        statistics=col.statistics,
        attribute_options=col.attribute_options,
        storage=col.storage,
        compression=col.compression,
        acl=col.acl,
    )


def parent_changes_type(col: Column, ctx: PlanContext) -> bool:
    """Whether the plan gives the column a new type (or collation) where it is declared, up
    `col`'s ancestors."""
    now = ctx.desired_objects.get(relation_key("table", col.schema_, col.table))
    chain = _chain(ctx.desired_objects, now, col.name) if isinstance(now, Table) else []
    root = chain[-1] if chain else None
    old = ctx.current_objects.get(root.key) if isinstance(root, Column) else None
    return (
        isinstance(root, Column)
        and isinstance(old, Column)
        and ((old.type, old.collation) != (root.type, root.collation))
    )


def ancestors_first(col: Column, ctx: PlanContext) -> tuple[ObjectKey, ...]:
    """What a step of a column the child declares and inherits waits for: its table, and the
    column up its ancestors (a new type there reaches it)."""
    now = ctx.desired_objects.get(relation_key("table", col.schema_, col.table))
    assert isinstance(now, Table)
    return (now.key, *_ancestor_keys(ctx.desired_objects, now, col.name))


def declared_column_steps(
    old: Column | InheritedColumn, new: Column, ctx: PlanContext
) -> list[Step]:
    """The steps of a column the child declares and inherits (engine.diff.kinds.columns hands
    them over): its NOT NULL, default, statistics target, attribute options, storage and
    compression are the child's own, set with ONLY after what its ancestors' changes pass down,
    exactly as an inherited column's. Its type and collation are its parent's (PostgreSQL
    refuses to change them on the child: the parent's change reaches it). A declared column's
    comment and privileges are its own objects' steps (Commented, Granted)."""
    held = as_held(new)
    was = as_held(old) if isinstance(old, Column) else old
    start = _start(was, held, ctx, declared=True)
    if isinstance(old, Column):
        start = replace(start, comment=held.comment, acl=held.acl)
    check_identity_default(new, start.default)
    steps = [
        step.model_copy(update={"key": new.key})
        for step in InheritedColumnHandler()._steps(start, held, ctx)
    ]
    if ctx.names_not_null and new.not_null and new.not_null_local and not _local_before(old):
        # PostgreSQL 18: the child's declaration is a NOT NULL constraint of its own, which
        # pg_dump tells from the parent's copy that a parent's SET NOT NULL gives it
        table = qualname(new.schema_, new.table)
        sets = f"ALTER TABLE {table} ALTER COLUMN {ident(new.name)} SET NOT NULL"
        if owns_not_null_first(new, ctx):
            steps.append(_own_not_null_first(new, ctx))
        elif not any(step.sql == sets for step in steps):
            # the parent's copy it holds made its own too, with no scan (under the parent's
            # name: PostgreSQL refuses to rename an inherited constraint)
            now = ctx.desired_objects.get(relation_key("table", new.schema_, new.table))
            assert isinstance(now, Table)
            requires = (now.key, *_ancestor_keys(ctx.desired_objects, now, new.name))
            sql = f"ALTER TABLE ONLY {table} ALTER COLUMN {ident(new.name)} SET NOT NULL"
            steps.append(Step(key=new.key, action="alter", sql=sql, requires=requires))
    return steps


def _local_before(old: Column | InheritedColumn) -> bool:
    """Whether the child's NOT NULL constraint is its own before the plan: the parents' SET
    and DROP NOT NULL leave that as it is (PostgreSQL 18)."""
    return old.not_null and old.not_null_local


def owns_not_null_first(col: Column, ctx: PlanContext) -> bool:
    """Whether a column the child declares and inherits, nullable now, is to hold a NOT NULL
    constraint of its own while a parent's SET NOT NULL in this plan reaches it (PostgreSQL
    18). Its own goes first: the parent's then merges into it and the child keeps its name;
    after, it would hold the parent's copy under the parent's name, which PostgreSQL refuses
    to rename (measured on 18)."""
    if not (ctx.names_not_null and col.not_null and col.not_null_local):
        return False
    old = ctx.current_objects.get(col.key) or ctx.current_objects.get(_held_key(col))
    if not isinstance(old, (Column, InheritedColumn)) or old.not_null:
        return False
    now = ctx.desired_objects.get(relation_key("table", col.schema_, col.table))
    return isinstance(now, Table) and _passed_down(ctx, now, col.name).not_null is True


def _held_key(col: Column) -> ObjectKey:
    return ObjectKey.of("inherited_column", col.schema_, col.name, col.table)


def _own_not_null_first(col: Column, ctx: PlanContext) -> Step:
    """`ADD CONSTRAINT name NOT NULL` on the child, before its parents' steps (keyed as its
    inherited state, which their NOT NULL steps wait for: engine.diff.kinds.columns). Not ONLY:
    PostgreSQL refuses a NOT NULL constraint on a table alone that has children."""
    table = qualname(col.schema_, col.table)
    name = not_null_constraint(col.table, col.name, col.not_null_name)
    scan = ctx.hazard(
        HazardCode.FULL_SCAN_UNDER_LOCK,
        Severity.MEDIUM,
        f"the NOT NULL constraint {name} of its own scans {table} and its children under"
        " ACCESS EXCLUSIVE,"
        " before its parent's NOT NULL reaches it",
        table=(col.schema_, col.table),
    )
    return Step(
        key=_held_key(col),
        action="alter",
        sql=f"ALTER TABLE {table} ADD CONSTRAINT {ident(name)} NOT NULL {ident(col.name)}",
        requires=(relation_key("table", col.schema_, col.table),),
        hazards=(scan,),
    )


def own_not_null_keys(col: Column, ctx: PlanContext) -> tuple[ObjectKey, ...]:
    """What a parent's NOT NULL steps wait for: the children's own constraints that go first
    (owns_not_null_first)."""
    if not ctx.names_not_null:
        return ()
    keys = []
    for child in descendant_tables(ctx, col.schema_, col.table):
        declared = ctx.desired_objects.get(column_key(child.schema_, child.name, col.name))
        if isinstance(declared, Column) and owns_not_null_first(declared, ctx):
            keys.append(_held_key(declared))
    return tuple(keys)


def receivers(
    objects: ObjectIndex, desired: Schema, changed: Mapping[ObjectKey, object]
) -> list[InheritedColumn | Column]:
    """The desired children's column states, unchanged themselves, to which a change up
    their ancestors may come down (see _PassedDown): inherited columns, and columns a child
    declares and inherits."""
    touched = {key for key in changed if key.kind in ("column", "inherited_column")}
    if not touched:
        return []
    children = {(t.schema_, t.name): t for t in desired.tables if t.inherits}
    found: list[InheritedColumn | Column] = []
    candidates: list[InheritedColumn | Column] = list(desired.inherited_columns)
    if children:
        candidates.extend(c for c in desired.columns if (c.schema_, c.table) in children)
    for held in candidates:
        if held.key in changed:
            continue
        table = objects.get(relation_key("table", held.schema_, held.table))
        if isinstance(table, Table) and any(
            key in touched for key in _ancestor_keys(objects, table, held.name)
        ):
            if isinstance(held, Column) and not declares(objects, held):
                continue
            found.append(held)
    return found


def passed_down_steps(
    ctx: PlanContext, changed: Mapping[ObjectKey, object], done: Iterable[ObjectKey] = ()
) -> list[Step]:
    """Steps that write a child's own value back where a change up its ancestors would
    overwrite it; none for the children in `done`, which have theirs already."""
    handler = InheritedColumnHandler()
    steps: list[Step] = []
    skip = set(done)
    for held in receivers(ctx.desired_objects, ctx.desired, changed):
        if held.key in skip:
            continue
        old = ctx.current_objects.get(held.key)
        if isinstance(held, Column):
            if isinstance(old, Column) and declares(ctx.current_objects, old):
                steps.extend(declared_column_steps(old, held, ctx))
        elif isinstance(old, InheritedColumn):
            steps.extend(handler.alter(old, held, ctx) or [])
    return steps


def not_valid_copy_origins(
    objects: ObjectIndex, copies: Iterable[SchemaObject]
) -> dict[ObjectKey, None]:
    """The declared columns whose NOT VALID constraint the plan may add again for these new or
    changed copies (readded_not_valid_steps): every other copy of theirs changes with it."""
    origins: dict[ObjectKey, None] = {}
    for held in copies:
        if not isinstance(held, InheritedColumn) or not held.not_null or held.not_null_validated:
            continue
        table = objects.get(relation_key("table", held.schema_, held.table))
        chain = _chain(objects, table, held.name) if isinstance(table, Table) else []
        if chain and isinstance(chain[-1], Column):
            origins[chain[-1].key] = None
    return origins


def readded_not_valid_steps(
    ctx: PlanContext,
    added: Mapping[ObjectKey, SchemaObject],
    changed: Mapping[ObjectKey, tuple[SchemaObject, SchemaObject]],
) -> list[Step]:
    """A parent's NOT VALID NOT NULL constraint the plan would keep, dropped and added NOT VALID
    again where a new or changed child must hold a NOT VALID copy that would be validated
    (engine.diff.kinds.not_valid_copies); a parent that changes itself does it in its own
    steps."""
    if not ctx.names_not_null:
        return []
    children = [obj for obj in added.values() if isinstance(obj, InheritedColumn)]
    children.extend(new for _, new in changed.values() if isinstance(new, InheritedColumn))
    handler = ColumnHandler()
    steps: list[Step] = []
    done: set[ObjectKey] = set()
    for held in children:
        if not held.not_null or held.not_null_validated:
            continue
        table = ctx.desired_objects.get(relation_key("table", held.schema_, held.table))
        if not isinstance(table, Table):
            continue
        chain = _chain(ctx.desired_objects, table, held.name)
        declared = chain[-1] if chain else None
        if not isinstance(declared, Column) or declared.key in done:
            continue
        if declared.key in changed and own_fields_differ(*changed[declared.key]):
            continue  # its own steps (engine.diff.kinds.columns)
        old = ctx.current_objects.get(declared.key)
        if isinstance(old, Column) and added_again(ctx, old, declared):
            done.add(declared.key)
            steps.extend(handler.not_null_steps(old, declared, ctx))
    # the children left as they are get a NOT VALID copy from the constraint added again:
    # each meant to hold a validated one is validated after it (their alter's start state)
    if done:
        planned = {*added, *changed}
        planned.update(held.key for held in receivers(ctx.desired_objects, ctx.desired, changed))
        steps.extend(passed_down_steps(ctx, dict.fromkeys(done), planned))
    return steps
