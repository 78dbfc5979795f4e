"""Columns: ADD / DROP COLUMN and every in-place ALTER COLUMN form.

A column of a table created in the same plan is written inside CREATE TABLE (see
`column_definition`), so its own create step is empty (or only SET STORAGE, which CREATE TABLE
cannot say before PG 16).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.diff.context import PlanContext
from engine.diff.generic import (
    acl_steps,
    cleared_steps,
    default_privilege_grantees,
    generic_steps,
)
from engine.diff.handler import Action, Handler, Step, register, validated_alone
from engine.diff.kinds.not_valid_copies import added_again, children_first, descendant_tables
from engine.diff.kinds.sequences import bounds_alter_sql
from engine.errors import PlanError
from engine.model.base import ObjectKey, Privilege, column_key, relation_key
from engine.model.tables import Column, IdentityOptions, InheritedColumn, Option, Table
from engine.plan.model import Hazard, HazardCode, LockMode, Severity
from engine.sqltext import ident, literal, qualname

_IDENTITY_SQL = {"always": "ALWAYS", "by_default": "BY DEFAULT"}


def identity_options_sql(opts: IdentityOptions) -> str:
    cycle = "CYCLE" if opts.cycle else "NO CYCLE"
    return (
        f"START WITH {opts.start} INCREMENT BY {opts.increment} MINVALUE {opts.min_value} "
        f"MAXVALUE {opts.max_value} CACHE {opts.cache} {cycle}"
    )


def identity_sql(col: Column) -> str:
    """`GENERATED ALWAYS AS IDENTITY (...)` for a column that has an identity; the sequence is
    named, not left to PostgreSQL's choice (which takes the next free name)."""
    assert col.identity is not None
    options = []
    if col.identity_sequence is not None:
        options.append(f"SEQUENCE NAME {qualname(col.schema_, col.identity_sequence.name)}")
    if col.identity_options is not None:
        options.append(identity_options_sql(col.identity_options))
    opts = f" ({' '.join(options)})" if options else ""
    return f"GENERATED {_IDENTITY_SQL[col.identity]} AS IDENTITY{opts}"


def _sequence_ref(col: Column, name: str) -> str:
    return f"SEQUENCE {qualname(col.schema_, name)}"


def identity_sequence_steps(old: Column | None, new: Column, ctx: PlanContext) -> list[Step]:
    """Rename, GRANT / REVOKE and COMMENT ON the identity sequence of `new`, from `old`'s (None,
    or `old` without an identity: the plan makes the sequence, with the column or its ADD
    GENERATED, under the name it is given there)."""
    seq = new.identity_sequence
    if new.identity is None or seq is None:
        return []
    before = old.identity_sequence if old is not None and old.identity is not None else None
    ref = _sequence_ref(new, seq.name)
    steps: list[Step] = []
    if before is None:
        # a new sequence starts with its owner's privileges only, and whatever default
        # privileges for SEQUENCES give it (see default_privilege_grantees)
        before_acl: tuple[Privilege, ...] = ()
        cleared = (
            default_privilege_grantees("sequence", new.schema_, ctx)
            if ctx.current.default_privileges or ctx.desired.default_privileges
            else []
        )
        steps.extend(cleared_steps(new.key, ref, cleared, ctx))
    else:
        before_acl = before.acl
        if before.name != seq.name:
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER SEQUENCE {qualname(new.schema_, before.name)} "
                    f"RENAME TO {ident(seq.name)}",
                )
            )
    steps.extend(acl_steps(new.key, ref, before_acl, seq.acl, ctx))
    if seq.comment != (before.comment if before is not None else None):
        steps.append(
            Step(
                key=new.key,
                action="alter",
                sql=f"COMMENT ON {ref} IS {literal(seq.comment)}",
                lock="SHARE UPDATE EXCLUSIVE",
                incidental=True,
            )
        )
    return steps


def _options_sql(options: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{ident(k)} '{v.replace(chr(39), chr(39) * 2)}'" for k, v in options)


def column_definition(
    col: Column, *, name_not_null: bool = False, null_default: bool = False
) -> str:
    """`name type [COLLATE c] [COMPRESSION m] [DEFAULT ... | GENERATED ...] [NOT NULL]`.

    `name_not_null` (PostgreSQL 18): name the NOT NULL constraint even when its name is the
    default one, which PostgreSQL gives only when it is free in the schema. `null_default`:
    `DEFAULT NULL` instead of no default or an identity (`overrides_inherited_default`)."""
    parts = [ident(col.name), col.type]
    if col.fdw_options:
        parts.append(f"OPTIONS ({_options_sql(tuple((o.name, o.value) for o in col.fdw_options))})")
    if col.collation is not None:
        parts.append(f"COLLATE {col.collation}")
    if col.compression is not None:
        parts.append(f"COMPRESSION {col.compression}")
    if col.generated is not None:
        parts.append(col.generated.sql)
    elif null_default:
        parts.append("DEFAULT NULL")
    elif col.identity is not None:
        parts.append(identity_sql(col))
    elif col.default is not None:
        parts.append(f"DEFAULT {col.default}")
    if col.not_null and col.not_null_validated and col.not_null_local:
        # NOT VALID has no column-constraint form: ColumnHandler.create adds it after. A child's
        # declared column that is to hold only its parents' copy gets it from them (INHERITS,
        # or the parent's SET NOT NULL that reaches it): written here it would be its own
        if col.not_null_name is not None or name_not_null:
            name = not_null_constraint(col.table, col.name, col.not_null_name)
            parts.append(f"CONSTRAINT {ident(name)}")
        parts.append("NOT NULL NO INHERIT" if col.not_null_no_inherit else "NOT NULL")
    return " ".join(parts)


def overrides_inherited_default(col: Column, ctx: PlanContext) -> bool:
    """Whether a new inheritance child's CREATE TABLE declares `col` with `DEFAULT NULL`:
    `schema/` gives it no default while a parent's column has one (now or in `schema/`), which
    INHERITS would copy. PostgreSQL stores no NULL default, and the child's own declaration
    wins. An identity column is added after (ColumnHandler.create): a column with a default
    refuses ADD IDENTITY, and no statement drops an identity column's default."""
    if col.default is not None or col.generated is not None:
        return False
    table = ctx.desired_objects.get(relation_key("table", col.schema_, col.table))
    if not isinstance(table, Table):
        return False
    for ref in table.inherits:
        for objects in (ctx.desired_objects, ctx.current_objects):
            holder = objects.get(column_key(ref.schema_, ref.name, col.name)) or objects.get(
                ObjectKey.of("inherited_column", ref.schema_, col.name, ref.name)
            )
            if isinstance(holder, (Column, InheritedColumn)) and holder.default is not None:
                return True
    return False


def _parent_holders(col: Column, ctx: PlanContext) -> list[Column | InheritedColumn]:
    """What `col`'s table's inheritance parents hold of the column in `schema/`."""
    table = ctx.desired_objects.get(relation_key("table", col.schema_, col.table))
    found: list[Column | InheritedColumn] = []
    for ref in table.inherits if isinstance(table, Table) else ():
        holder = ctx.desired_objects.get(
            column_key(ref.schema_, ref.name, col.name)
        ) or ctx.desired_objects.get(
            ObjectKey.of("inherited_column", ref.schema_, col.name, ref.name)
        )
        if isinstance(holder, (Column, InheritedColumn)):
            found.append(holder)
    return found


def identity_default_source(col: Column, ctx: PlanContext) -> ObjectKey | None:
    """The parent's column whose default a new inheritance child's identity column is to have:
    only CREATE TABLE ... INHERITS gives it that, so the CREATE TABLE waits for the parent's
    steps. A PlanError where no parent has that default once its steps have run."""
    if col.identity is None or col.default is None:
        return None
    holders = _parent_holders(col, ctx)
    for holder in holders:
        if holder.default == col.default:
            return holder.key
    raise PlanError(
        f"column {qualname(col.schema_, col.table)}.{ident(col.name)} of a new table is an"
        f" identity column with the default {col.default}, which its parent's column does not"
        " have once the plan has changed it; PostgreSQL gives an identity column a default"
        " only from its parent, in CREATE TABLE ... INHERITS",
        details="In schema/, change the parent's default with ALTER TABLE ONLY after the"
        " child's CREATE TABLE, so that the child's identity column has the default it gets.",
    )


def not_null_clause(col: Column) -> str:
    """`CONSTRAINT name NOT NULL col [NO INHERIT]`: the table-constraint form (PostgreSQL 18)."""
    name = not_null_constraint(col.table, col.name, col.not_null_name)
    no_inherit = " NO INHERIT" if col.not_null_no_inherit else ""
    return f"CONSTRAINT {ident(name)} NOT NULL {ident(col.name)}{no_inherit}"


def not_null_constraint(table: str, column: str, name: str | None) -> str:
    """The name of a NOT NULL constraint (PostgreSQL 18): `name`, or the one PostgreSQL gives."""
    return name if name is not None else f"{table}_{column}_not_null"


def rename_not_null_step(
    key: ObjectKey, table: str, old: str, new: str, requires: tuple[ObjectKey, ...] = ()
) -> Step:
    """RENAME CONSTRAINT of a NOT NULL constraint (on a parent it renames the children's too)."""
    return Step(
        key=key,
        action="alter",
        sql=f"ALTER TABLE {table} RENAME CONSTRAINT {ident(old)} TO {ident(new)}",
        requires=requires,
    )


def statistics_step(
    key: ObjectKey, table: str, column: str, target: int | None, action: Action = "alter"
) -> Step:
    """`SET STATISTICS` on this table only: a parent's would reach every child, and each
    child's target is its own (engine.model.tables.InheritedColumn). -1 is the default."""
    return Step(
        key=key,
        action=action,
        sql=f"ALTER TABLE ONLY {table} ALTER COLUMN {ident(column)} SET STATISTICS "
        f"{-1 if target is None else target}",
        lock="SHARE UPDATE EXCLUSIVE",
    )


def attribute_options_step(
    key: ObjectKey,
    table: str,
    column: str,
    before: tuple[Option, ...],
    after: tuple[Option, ...],
    action: Action = "alter",
) -> Step:
    """`RESET` / `SET` of a column's attribute options (n_distinct, n_distinct_inherited) on
    this table only, as pg_dump writes them: a parent's reaches no child (measured on 15 and
    18). The planner uses them from the table's next ANALYZE."""
    old = {o.name: o.value for o in before}
    alter = f"ALTER COLUMN {ident(column)}"
    parts = []
    gone = sorted(old.keys() - {o.name for o in after})
    if gone:
        parts.append(f"{alter} RESET ({', '.join(ident(name) for name in gone)})")
    changed = [o for o in after if old.get(o.name) != o.value]
    if changed:
        values = ", ".join(f"{ident(o.name)} = {literal(o.value)}" for o in changed)
        parts.append(f"{alter} SET ({values})")
    return Step(
        key=key,
        action=action,
        sql=f"ALTER TABLE ONLY {table} {', '.join(parts)}",
        lock="SHARE UPDATE EXCLUSIVE",
    )


# --- type changes -----------------------------------------------------------------------------

_STRINGS = {"text", "character varying", "character"}
_NUMBERS = {"smallint": 1, "integer": 2, "bigint": 3, "numeric": 4}
_FLOATS = {"real": 1, "double precision": 2}
_PRECISION_TYPES = {
    "timestamp without time zone",
    "timestamp with time zone",
    "time without time zone",
    "time with time zone",
    "interval",
}


def _split_type(text: str) -> tuple[str, tuple[int, ...]]:
    """`numeric(10,2)` -> (`numeric`, (10, 2)); `timestamp(3) without time zone` likewise.

    The input is format_type's canonical output, not user SQL.
    """
    head, paren, rest = text.partition("(")
    if not paren:
        return text, ()
    mods, _, tail = rest.partition(")")
    base = (head + tail).strip()
    return base, tuple(int(m) for m in mods.split(",") if m.strip().lstrip("-").isdigit())


@dataclass(frozen=True)
class TypeChange:
    rewrite: bool  # PostgreSQL rewrites the table (not binary-coercible)
    narrowing: bool  # values may be truncated or rejected
    unrelated: bool  # a different family of types: values may fail to convert
    using: bool  # needs an explicit USING cast


def classify_type_change(old: str, new: str) -> TypeChange:
    """Mirror ATColumnChangeRequiresRewrite for the common binary-coercible cases."""
    ob, om = _split_type(old)
    nb, nm = _split_type(new)
    if ob.endswith("[]") and nb.endswith("[]"):
        inner = classify_type_change(old[:-2], new[:-2])
        # an array's elements are coerced one by one: always a rewrite
        return TypeChange(True, inner.narrowing, inner.unrelated, inner.using)
    if ob.endswith("[]") or nb.endswith("[]"):
        return TypeChange(True, False, True, True)
    if ob == nb:
        if ob in ("character varying", "bit varying") or ob in _PRECISION_TYPES:
            if not nm or (om and nm[0] >= om[0]):
                return TypeChange(False, False, False, False)
            return TypeChange(True, True, False, False)
        if ob == "numeric":
            if not nm:
                return TypeChange(False, False, False, False)
            if not om:
                return TypeChange(True, True, False, False)
            (op, os_), (np_, ns) = (*om, 0)[:2], (*nm, 0)[:2]
            if ns == os_ and np_ >= op:
                return TypeChange(False, False, False, False)
            narrowing = ns < os_ or (np_ - ns) < (op - os_)
            return TypeChange(True, narrowing, False, False)
        narrowing = bool(om and nm and nm[0] < om[0]) or (bool(nm) and not om)
        return TypeChange(True, narrowing, False, False)
    if ob in _STRINGS and nb in _STRINGS:
        varying = ("text", "character varying")
        if ob in varying and nb in varying and not nm:
            return TypeChange(False, False, False, False)
        return TypeChange(True, bool(nm), False, False)
    if ob == "cidr" and nb == "inet":
        return TypeChange(False, False, False, False)
    if ob in _NUMBERS and nb in _NUMBERS:
        narrowing = _NUMBERS[nb] < _NUMBERS[ob] or (nb == "numeric" and bool(nm))
        return TypeChange(True, narrowing, False, False)
    if ob in _FLOATS and nb in _FLOATS:
        return TypeChange(True, _FLOATS[nb] < _FLOATS[ob], False, False)
    if (ob in _NUMBERS and nb in _FLOATS) or (ob in _FLOATS and nb in _NUMBERS):
        return TypeChange(True, True, False, False)
    if ob in _PRECISION_TYPES and nb in _PRECISION_TYPES:
        return TypeChange(True, ob.startswith("time ") or nb.startswith("time "), False, False)
    return TypeChange(True, False, True, True)


# --- the handler ------------------------------------------------------------------------------


def _table(col: Column) -> str:
    return qualname(col.schema_, col.table)


def _virtual(col: Column) -> bool:
    """A virtual generated column (PostgreSQL 18): computed on read, nothing stored."""
    return col.generated is not None and col.generated.virtual


def _virtual_not_null_scan(col: Column, what: str, ctx: PlanContext) -> Hazard:
    """A virtual NOT NULL column's values are checked by computing them: ADD COLUMN and SET
    EXPRESSION scan the table (measured on 18: "column ... contains null values")."""
    return ctx.hazard(
        HazardCode.FULL_SCAN_UNDER_LOCK,
        Severity.MEDIUM,
        f"{what} computes NOT NULL virtual column {col.key.display} for every row under ACCESS"
        " EXCLUSIVE, and fails where one is NULL",
        table=(col.schema_, col.table),
    )


def _checks_on_or_below(col: Column, ctx: PlanContext) -> bool:
    """Whether the column's table, or a partition or child a recursing statement reaches, has
    a CHECK constraint now or in `schema/` (its own or inherited)."""
    tables = {(col.schema_, col.table)}
    tables.update((t.schema_, t.name) for t in descendant_tables(ctx, col.schema_, col.table))
    return any(
        c.type == "check" and (c.schema_, c.table) in tables
        for schema in (ctx.current, ctx.desired)
        for c in (*schema.constraints, *schema.inherited_constraints)
    )


def _cannot_remake_inherited(old: Column, new: Column, ctx: PlanContext) -> PlanError:
    """A column the child declares and inherits whose generation changes where SET EXPRESSION
    cannot do it: PostgreSQL refuses to drop an inherited column, so it cannot be made again."""
    if ctx.current.server_version_num < 170000:
        why = "PostgreSQL before 17 has no ALTER TABLE ... SET EXPRESSION"
    elif (old.generated is None) != (new.generated is None) or _virtual(old) != _virtual(new):
        why = "PostgreSQL changes no column's kind (plain, STORED, VIRTUAL) in place"
    else:
        why = (
            "PostgreSQL 18 refuses SET EXPRESSION on a virtual generated column of a table"
            " with CHECK constraints"
        )
    was = "not generated" if old.generated is None else old.generated.sql
    to = "not generated" if new.generated is None else new.generated.sql
    return PlanError(
        f"column {_table(new)}.{ident(new.name)} is to be {to} and is {was}; {why}, and a"
        " column the table inherits cannot be dropped and added again",
        details="Make the child again (a new table, its rows copied), or change the column in"
        " steps PostgreSQL can take.",
    )


def changes_default(old: Column, new: Column) -> bool:
    """Whether the plan sets or drops `new`'s default (a new type drops and sets it again)."""
    return (old.default, old.type) != (new.default, new.type) and (
        old.default is not None or new.default is not None
    )


def _not_null_check_name(col: Column) -> str:
    return f"pgflux_nn_{col.name}"[:63]


def _inherited_names(ctx: PlanContext, schema: str, table: str, *, desired: bool) -> set[str]:
    """Names of the columns `table` gets from its partition parent or inheritance parents."""
    objects = ctx.desired_objects if desired else ctx.current_objects
    names: set[str] = set()
    seen: set[ObjectKey] = set()
    work = [ObjectKey(kind="table", schema_=schema, name=table)]
    while work:
        obj = objects.get(work.pop())
        if not isinstance(obj, Table):
            continue
        parents = list(obj.inherits) + ([obj.partition_of] if obj.partition_of else [])
        for parent in parents:
            if parent.key in seen:
                continue
            seen.add(parent.key)
            names.update(
                c.name for c in ctx.columns_of(parent.schema_, parent.name, desired=desired)
            )
            work.append(parent.key)
    return names


def _declared(col: Column, ctx: PlanContext, *, desired: bool = True) -> bool:
    """Whether the child declares `col` and also inherits it (engine.diff.kinds.
    inherited_columns, imported here: it builds on this module)."""
    from engine.diff.kinds.inherited_columns import declares

    table = (ctx.desired_objects if desired else ctx.current_objects).get(
        relation_key("table", col.schema_, col.table)
    )
    if not isinstance(table, Table) or not table.inherits:
        return False  # a partition never declares a column of its parent's
    return declares(ctx.desired_objects if desired else ctx.current_objects, col)


def _children_declare_not_null(col: Column, ctx: PlanContext) -> bool:
    """PostgreSQL 18: whether a descendant of `col`'s table declares the column NOT NULL too
    (its constraint may be its own as well as the parent's copy, under its own name)."""
    if not ctx.names_not_null:
        return False
    parent = (col.schema_, col.table)
    for table in ctx.current.tables:
        if not table.inherits:
            continue
        if parent not in _ancestors(ctx, table):
            continue
        own = ctx.current_objects.get(column_key(table.schema_, table.name, col.name))
        if isinstance(own, Column) and own.not_null:
            return True
    return False


def _ancestors(ctx: PlanContext, table: Table, *, desired: bool = False) -> set[tuple[str, str]]:
    """The inheritance ancestors of `table` (current ones unless `desired`)."""
    objects = ctx.desired_objects if desired else ctx.current_objects
    found: set[tuple[str, str]] = set()
    work = list(table.inherits)
    while work:
        ref = work.pop()
        if (ref.schema_, ref.name) in found:
            continue
        found.add((ref.schema_, ref.name))
        parent = objects.get(ref.key)
        if isinstance(parent, Table):
            work.extend(parent.inherits)
    return found


def identity_below(col: Column, ctx: PlanContext) -> bool:
    """Whether an inheritance descendant of `col`'s table has the column as an identity column,
    now or in `schema/`. PostgreSQL refuses SET / DROP DEFAULT on an identity column, also when
    the parent's statement recurses to it: the parent's default then changes with ONLY, and
    each other descendant writes its own (engine.diff.kinds.inherited_columns)."""
    parent = (col.schema_, col.table)
    return any(
        name == col.name and parent in _ancestors(ctx, table, desired=desired)
        for desired, table, name in ctx.identity_children
    )


def identities_dropped_below(col: Column, ctx: PlanContext) -> list[tuple[str, str, str]]:
    """(schema, table, column) of each inheritance descendant of `col`'s table whose identity
    column stops being one while `col` gets a new type: PostgreSQL's new type there rebuilds
    the inert default of such a column (engine.diff.kinds.columns.check_identity_default) as
    depending on the identity's sequence, and DROP IDENTITY then fails (measured on 15 and
    18), so the parent's steps drop the identity first."""
    parent = (col.schema_, col.table)
    found: list[tuple[str, str, str]] = []
    for desired, table, name in ctx.identity_children:
        if desired or name != col.name or parent not in _ancestors(ctx, table):
            continue
        now = ctx.desired_objects.get(column_key(table.schema_, table.name, name))
        if isinstance(now, Column) and now.identity is None:
            found.append((table.schema_, table.name, name))
    return found


def check_no_identity_default_below(col: Column, ctx: PlanContext) -> None:
    """Refuse a new type for `col` over a descendant's identity column that keeps a default
    (the parent's, copied by CREATE TABLE ... INHERITS): PostgreSQL's new type rewrites that
    default as `nextval()` of the identity's sequence (measured on 15 and 18), a state
    `schema/` cannot describe and no statement undoes."""
    parent = (col.schema_, col.table)
    for desired, table, name in ctx.identity_children:
        if desired or name != col.name or parent not in _ancestors(ctx, table):
            continue
        key = column_key(table.schema_, table.name, name)
        was, now = ctx.current_objects.get(key), ctx.desired_objects.get(key)
        if isinstance(was, Column) and isinstance(now, Column) and now.identity is not None:
            if was.default is None:
                continue
            raise PlanError(
                f"column {qualname(col.schema_, col.table)}.{ident(col.name)} is to become"
                f" {col.type}, and {qualname(table.schema_, table.name)}.{ident(name)} below"
                f" it is an identity column with the default {was.default}; PostgreSQL's new"
                " type rewrites that default as nextval() of the identity's sequence",
                details="Make the child's column a plain one first (a change of its own), or"
                " make the child again without its parent's default.",
            )


def drops_not_null_alone(col: Column, ctx: PlanContext) -> bool:
    """Whether `col`'s DROP NOT NULL uses ONLY: before PostgreSQL 18 it recurses to every
    descendant, and an identity column there refuses it. (On 18 the identity column's NOT NULL
    constraint is its own as well, and stays.)"""
    return not ctx.names_not_null and identity_below(col, ctx)


def check_identity_default(new: Column, start: object) -> None:
    """Refuse a change of an identity column's default, which no statement makes: PostgreSQL
    refuses SET / DROP DEFAULT on an identity column and ADD IDENTITY on a column with a
    default, yet gives an inheritance child's identity column its parent's default in
    `CREATE TABLE ... INHERITS`. `start` is its default when its steps run."""
    if new.identity is None or start == new.default:
        return
    had = (
        "no default"
        if start is None
        else f"the default {start}"
        if isinstance(start, str)
        else "a default that depends on the order of the plan's steps"
    )
    wants = "none" if new.default is None else new.default
    raise PlanError(
        f"column {qualname(new.schema_, new.table)}.{ident(new.name)} is an identity column"
        f" with {had} and is to have {wants}; PostgreSQL neither sets nor drops the default"
        " of an identity column (an inheritance child's identity column gets its parent's"
        " default only in CREATE TABLE ... INHERITS)",
        details="In schema/, change the parent's default with ALTER TABLE ONLY after the"
        " child's CREATE TABLE, so that the child's identity column keeps the default it has.",
    )


def _declared_steps(old: Column | InheritedColumn, new: Column, ctx: PlanContext) -> list[Step]:
    from engine.diff.kinds.inherited_columns import declared_column_steps

    return declared_column_steps(old, new, ctx)


def _composite_names(ctx: PlanContext) -> set[str]:
    """The desired composite types as format_type prints them (schema-qualified)."""
    return {qualname(t.schema_, t.name) for t in ctx.desired.composites}


@register
class ColumnHandler(Handler[Column]):
    kind = "column"
    model = Column
    rebuildable = False

    def _step(
        self,
        col: Column,
        action: Action,
        clause: str,
        *,
        hazards: tuple[Hazard, ...] = (),
        lock: LockMode = "ACCESS EXCLUSIVE",
        transactional: bool = True,
        requires: tuple[ObjectKey, ...] = (),
        only: str = "",
    ) -> Step:
        return Step(
            key=col.key,
            action=action,
            sql=f"ALTER TABLE {only}{_table(col)} {clause}",
            hazards=hazards,
            lock=lock,
            transactional=transactional,
            requires=requires,
        )

    def _add_not_valid(self, col: Column, action: Action, ctx: PlanContext) -> Step:
        # no scan: rows are checked from now on (PostgreSQL 18); after every child is made,
        # so that each holds a NOT VALID copy (engine.diff.kinds.not_valid_copies)
        return self._step(
            col,
            action,
            f"ADD {not_null_clause(col)} NOT VALID",
            requires=children_first(ctx, col),
        )

    def create(self, obj: Column, ctx: PlanContext) -> list[Step]:
        steps: list[Step] = []
        where = (obj.schema_, obj.table)
        table_existed = not ctx.table_is_new(obj.schema_, obj.table)
        if table_existed and obj.name in _inherited_names(
            ctx, obj.schema_, obj.table, desired=False
        ):
            held = ctx.current_objects.get(
                ObjectKey.of("inherited_column", obj.schema_, obj.name, obj.table)
            )
            if isinstance(held, InheritedColumn) and _declared(obj, ctx):
                # declared now, inherited still: whether the child declares it is no
                # difference (no statement changes it); its own state is
                return _declared_steps(held, obj, ctx)
            # DETACH PARTITION / NO INHERIT leaves the inherited column in place, now local.
            table_existed = False
        if table_existed:
            hazards: list[Hazard] = []
            if (
                obj.not_null
                and obj.not_null_validated
                and obj.default is None
                and obj.identity is None
                and not obj.generated
            ):
                hazards.append(
                    ctx.hazard(
                        HazardCode.BACKWARD_INCOMPATIBLE,
                        Severity.HIGH,
                        f"adds NOT NULL column {obj.name} without a default: "
                        "fails if the table has rows",
                        table=where,
                    )
                )
            if (
                ctx.desired.default_is_volatile(obj.key)
                or obj.identity is not None
                or (obj.generated is not None and not obj.generated.virtual)
            ):
                hazards.append(
                    ctx.hazard(
                        HazardCode.TABLE_REWRITE,
                        Severity.HIGH,
                        f"adding {obj.name} computes a value for every row: rewrites the table",
                        table=where,
                    )
                )
                hazards.append(
                    ctx.hazard(
                        HazardCode.BLOCKS_READS_WRITES,
                        Severity.HIGH,
                        "holds ACCESS EXCLUSIVE while the table is rewritten",
                        table=where,
                    )
                )
            if _virtual(obj) and obj.not_null:
                hazards.append(_virtual_not_null_scan(obj, "adding", ctx))
            steps.append(
                self._step(
                    obj,
                    "create",
                    f"ADD COLUMN {column_definition(obj, name_not_null=ctx.names_not_null)}",
                    hazards=tuple(hazards),
                )
            )
        elif (
            ctx.table_is_new(obj.schema_, obj.table)
            and obj.identity is not None
            and overrides_inherited_default(obj, ctx)
        ):
            # made with DEFAULT NULL, over the parent's default (TableHandler.create_sql)
            add = f"ALTER COLUMN {ident(obj.name)} ADD {identity_sql(obj)}"
            steps.append(self._step(obj, "create", add))
        if obj.storage is not None:
            steps.append(
                self._step(
                    obj,
                    "create",
                    f"ALTER COLUMN {ident(obj.name)} SET STORAGE {obj.storage.upper()}",
                )
            )
        if obj.not_null and not obj.not_null_validated:
            steps.append(self._add_not_valid(obj, "create", ctx))
        if obj.statistics is not None:
            steps.append(statistics_step(obj.key, _table(obj), obj.name, obj.statistics, "create"))
        if obj.attribute_options:
            steps.append(
                attribute_options_step(
                    obj.key, _table(obj), obj.name, (), obj.attribute_options, "create"
                )
            )
        steps.extend(identity_sequence_steps(None, obj, ctx))
        return steps

    def drop(self, obj: Column, ctx: PlanContext) -> list[Step]:
        if obj.name in _inherited_names(ctx, obj.schema_, obj.table, desired=True):
            return []  # ATTACH PARTITION merges it with the parent's column
        where = (obj.schema_, obj.table)
        hazards = [
            ctx.hazard(
                HazardCode.BACKWARD_INCOMPATIBLE,
                Severity.MEDIUM,
                f"code that reads or writes {obj.name} breaks",
                table=where,
            ),
        ]
        if not _virtual(obj):  # a virtual column's values are computed, never stored
            hazards.insert(
                0,
                ctx.hazard(
                    HazardCode.DATA_LOSS,
                    Severity.HIGH,
                    f"drops column {obj.key.display} and its data",
                    table=where,
                ),
            )
        return [self._step(obj, "drop", f"DROP COLUMN {ident(obj.name)}", hazards=tuple(hazards))]

    def alter(self, old: Column, new: Column, ctx: PlanContext) -> list[Step] | None:
        declared = _declared(new, ctx) and _declared(old, ctx, desired=False)
        if declared and (old.generated, old.identity, old.identity_options) == (
            new.generated,
            new.identity,
            new.identity_options,
        ):
            return _declared_steps(old, new, ctx)
        check_identity_default(new, old.default if old.identity is not None else None)
        if declared and old.generated is None and new.generated is None:
            return self._declared_identity_steps(old, new, ctx)
        expression: Step | None = None
        if old.generated != new.generated and (new.generated is not None or _virtual(old)):
            if not self._sets_expression(old, new, ctx):
                if declared:
                    raise _cannot_remake_inherited(old, new, ctx)
                return self._recreate(old, new, ctx)
            expression = self._set_expression(new, ctx)
            if declared:  # after the parent's own, which reaches it
                from engine.diff.kinds.inherited_columns import ancestors_first

                return [expression.model_copy(update={"requires": ancestors_first(new, ctx)})]
        steps: list[Step] = []
        name = ident(new.name)
        alter = f"ALTER COLUMN {name}"
        if old.generated is not None and new.generated is None:
            # PG 13+: keeps the computed values as plain data (a stored column's: a virtual
            # one is made again, `_recreate`)
            steps.append(self._step(new, "alter", f"{alter} DROP EXPRESSION"))
        if old.identity is not None and new.identity is None:
            steps.append(self._step(new, "alter", f"{alter} DROP IDENTITY"))
        # ONLY where a descendant's identity column would refuse the recursing statement
        only = "ONLY " if changes_default(old, new) and identity_below(new, ctx) else ""
        if old.default is not None and (new.default != old.default or new.type != old.type):
            steps.append(self._step(new, "alter", f"{alter} DROP DEFAULT", only=only))
        if old.type != new.type or old.collation != new.collation:
            check_no_identity_default_below(new, ctx)
            for schema, table, column in identities_dropped_below(new, ctx):
                drop = f"ALTER TABLE {qualname(schema, table)} ALTER COLUMN {ident(column)}"
                steps.insert(0, Step(key=new.key, action="alter", sql=f"{drop} DROP IDENTITY"))
            readd = old.not_null and _children_declare_not_null(old, ctx)
            if readd:
                # PostgreSQL 18 refuses the new type while a child holds a NOT NULL
                # constraint of its own under another name ("cannot create not-null
                # constraint"): the parent's goes first, and comes back after
                steps.append(self._step(new, "alter", f"{alter} DROP NOT NULL"))
            steps.append(self._type_step(old, new, ctx))
            if readd and new.not_null:
                steps.append(self._readd_not_null(new, ctx))
                old = old.model_copy(update={"not_null_constraint": new.not_null_constraint})
            elif readd:
                old = old.model_copy(update={"not_null": False, "not_null_constraint": None})
        if expression is not None:  # under the new type: its value is cast to the column's
            steps.append(expression)
        if new.default is not None and (new.default != old.default or new.type != old.type):
            steps.append(self._step(new, "alter", f"{alter} SET DEFAULT {new.default}", only=only))
        steps.extend(self.not_null_steps(old, new, ctx))
        if new.identity is not None:
            # after SET NOT NULL: an identity column must be NOT NULL already
            steps.extend(self._identity_steps(old, new))
            steps.extend(identity_sequence_steps(old, new, ctx))
        if old.storage != new.storage:
            # no `SET STORAGE DEFAULT` before PG 16: name the type's own default
            storage = (new.storage or new.type_storage).upper()
            steps.append(self._step(new, "alter", f"{alter} SET STORAGE {storage}"))
        if old.compression != new.compression:
            method = new.compression or "default"
            steps.append(self._step(new, "alter", f"{alter} SET COMPRESSION {method}"))
        if old.fdw_options != new.fdw_options:
            steps.append(self._fdw_options_step(old, new))
        if old.statistics != new.statistics:
            steps.append(statistics_step(new.key, _table(new), new.name, new.statistics))
        if old.attribute_options != new.attribute_options:
            steps.append(
                attribute_options_step(
                    new.key, _table(new), new.name, old.attribute_options, new.attribute_options
                )
            )
        return steps

    def _declared_identity_steps(self, old: Column, new: Column, ctx: PlanContext) -> list[Step]:
        """A column the child declares and inherits that becomes an identity column, stops
        being one or changes its options: its own state as a declared column's (the type is
        the parent's to change), the identity dropped before and added after it (ADD
        IDENTITY needs NOT NULL and no default)."""
        from engine.diff.kinds.inherited_columns import ancestors_first, parent_changes_type

        steps: list[Step] = []
        if old.identity is not None and new.identity is None and not parent_changes_type(new, ctx):
            # (under a new type it is the parent's step: identities_dropped_below)
            steps.append(self._step(new, "alter", f"ALTER COLUMN {ident(new.name)} DROP IDENTITY"))
        plain = {"identity": None, "identity_options": None, "identity_sequence": None}
        steps.extend(
            _declared_steps(old.model_copy(update=plain), new.model_copy(update=plain), ctx)
        )
        if new.identity is not None:
            steps.extend(self._identity_steps(old, new))
            steps.extend(identity_sequence_steps(old, new, ctx))
        first = ancestors_first(new, ctx)
        # (a NOT NULL of its own that goes before the parents' is keyed apart: owns_not_null_first)
        return [
            s.model_copy(update={"requires": (*s.requires, *first)}) if s.key == new.key else s
            for s in steps
        ]

    def _identity_steps(self, old: Column, new: Column) -> list[Step]:
        assert new.identity is not None
        alter = f"ALTER COLUMN {ident(new.name)}"
        if old.identity is None:
            return [self._step(new, "alter", f"{alter} ADD {identity_sql(new)}")]
        clauses = []
        if old.identity != new.identity:
            clauses.append(f"SET GENERATED {_IDENTITY_SQL[new.identity]}")
        bounds: IdentityOptions | None = None
        if old.identity_options != new.identity_options and new.identity_options:
            o = bounds = new.identity_options
            clauses.append(
                f"SET START WITH {o.start} SET INCREMENT BY {o.increment} "
                f"SET MINVALUE {o.min_value} SET MAXVALUE {o.max_value} "
                f"SET CACHE {o.cache} SET {'CYCLE' if o.cycle else 'NO CYCLE'}"
            )
        if not clauses:
            return []
        step = self._step(new, "alter", f"{alter} " + " ".join(clauses))
        if bounds is not None and old.identity_options is not None:
            # the identity's own sequence, by name at run time
            sequence = f"pg_get_serial_sequence({literal(_table(new))}, {literal(new.name)})"
            sql = bounds_alter_sql(
                step.sql, sequence, old.identity_options.start, bounds.min_value, bounds.max_value
            )
            step = step.model_copy(update={"sql": sql})
        return [step]

    def _fdw_options_step(self, old: Column, new: Column) -> Step:
        before = {o.name: o.value for o in old.fdw_options}
        after = {o.name: o.value for o in new.fdw_options}
        parts = [f"DROP {ident(k)}" for k in sorted(before.keys() - after.keys())]
        for k in sorted(after):
            value = after[k].replace("'", "''")
            if k not in before:
                parts.append(f"ADD {ident(k)} '{value}'")
            elif before[k] != after[k]:
                parts.append(f"SET {ident(k)} '{value}'")
        return Step(
            key=new.key,
            action="alter",
            sql=f"ALTER FOREIGN TABLE {_table(new)} ALTER COLUMN {ident(new.name)} "
            f"OPTIONS ({', '.join(parts)})",
        )

    def _type_step(self, old: Column, new: Column, ctx: PlanContext) -> Step:
        where = (new.schema_, new.table)
        change = classify_type_change(old.type, new.type)
        # a virtual generated column stores nothing: its new type rewrites nothing (measured
        # on 18)
        rewrite = (change.rewrite or old.collation != new.collation) and not (
            _virtual(old) and _virtual(new)
        )
        hazards: list[Hazard] = []
        what = f"{new.key.display} from {old.type} to {new.type}"
        if rewrite:
            hazards.append(
                ctx.hazard(
                    HazardCode.TABLE_REWRITE,
                    Severity.MEDIUM,
                    f"changing {what} rewrites the table and its indexes",
                    table=where,
                )
            )
            hazards.append(
                ctx.hazard(
                    HazardCode.BLOCKS_READS_WRITES,
                    Severity.MEDIUM,
                    "holds ACCESS EXCLUSIVE while the table is rewritten",
                    table=where,
                )
            )
        if change.narrowing:
            hazards.append(
                ctx.hazard(
                    HazardCode.DATA_LOSS,
                    Severity.HIGH,
                    f"narrowing {what} can truncate or reject values",
                    table=where,
                )
            )
        if change.narrowing or change.unrelated:
            hazards.append(
                ctx.hazard(
                    HazardCode.BACKWARD_INCOMPATIBLE,
                    Severity.MEDIUM,
                    f"changing {what} can break code that writes the old values",
                    table=where,
                )
            )
        clause = f"ALTER COLUMN {ident(new.name)} TYPE {new.type}"
        if new.collation is not None:
            clause += f" COLLATE {new.collation}"
        if change.using and new.generated is None:
            # (a generated column's expression is cast to the new type: PostgreSQL refuses
            # USING there) No cast joins two composite types (one moved to another schema is
            # a new type): through their text form, which converts when the attributes fit.
            through = "::text" if new.type in _composite_names(ctx) else ""
            clause += f" USING {ident(new.name)}{through}::{new.type}"
        return self._step(new, "alter", clause, hazards=tuple(hazards))

    def not_null_steps(self, old: Column, new: Column, ctx: PlanContext) -> list[Step]:
        """NOT NULL set, dropped or changed; on PostgreSQL 18 also its constraint's name, NOT
        VALID and NO INHERIT (a valid constraint cannot become NOT VALID: dropped, added again)."""
        steps: list[Step] = []
        alter = f"ALTER COLUMN {ident(new.name)}"
        # a valid constraint made NOT VALID, or a NOT VALID one added again so that a child's
        # copy is NOT VALID too
        unvalidated = (old.not_null_validated and not new.not_null_validated) or added_again(
            ctx, old, new
        )
        if old.not_null and (not new.not_null or unvalidated):
            only = "ONLY " if drops_not_null_alone(new, ctx) else ""
            steps.append(self._step(new, "alter", f"{alter} DROP NOT NULL", only=only))
        if not new.not_null:
            return steps
        name = not_null_constraint(new.table, new.name, new.not_null_name)
        if not old.not_null or unvalidated:
            if not new.not_null_validated:
                steps.append(self._add_not_valid(new, "alter", ctx))
                return steps
            from engine.diff.kinds.inherited_columns import own_not_null_keys

            # after the constraints of their own that children add first (PostgreSQL 18)
            first = own_not_null_keys(new, ctx)
            steps.extend(
                s.model_copy(update={"requires": (*s.requires, *first)}) if first else s
                for s in self._set_not_null(new, ctx)
            )
            was = name if ctx.names_not_null else not_null_constraint(new.table, new.name, None)
            validated, no_inherit = True, new.not_null_no_inherit and ctx.names_not_null
        else:
            was = not_null_constraint(old.table, old.name, old.not_null_name)
            validated, no_inherit = old.not_null_validated, old.not_null_no_inherit
        if was != name:
            steps.append(rename_not_null_step(new.key, _table(new), was, name))
        if not validated:
            steps.append(self._validate(new, name, f"the NOT NULL constraint {name}"))
        if no_inherit != new.not_null_no_inherit:
            mode = "NO INHERIT" if new.not_null_no_inherit else "INHERIT"
            steps.append(self._step(new, "alter", f"ALTER CONSTRAINT {ident(name)} {mode}"))
        return steps

    def _readd_not_null(self, col: Column, ctx: PlanContext) -> Step:
        """The NOT NULL constraint a new type made the plan drop, added back (it merges with
        the children's own); NOT VALID as it was, or a scan under the rewrite's lock."""
        if not col.not_null_validated:
            return self._add_not_valid(col, "alter", ctx)
        scan = ctx.hazard(
            HazardCode.FULL_SCAN_UNDER_LOCK,
            Severity.MEDIUM,
            f"NOT NULL on {col.name} is added back after the new type: a scan of "
            f"{col.schema_}.{col.table} and its children under ACCESS EXCLUSIVE",
            table=(col.schema_, col.table),
        )
        return self._step(col, "alter", f"ADD {not_null_clause(col)}", hazards=(scan,))

    def _validate(self, col: Column, constraint: str, what: str) -> Step:
        # Its own transaction, so that the scan holds only SHARE UPDATE EXCLUSIVE.
        return self._step(
            col,
            "alter",
            f"VALIDATE CONSTRAINT {ident(constraint)}",
            lock="SHARE UPDATE EXCLUSIVE",
            transactional=False,
            hazards=(validated_alone(what),),
        )

    def _set_not_null(self, col: Column, ctx: PlanContext) -> list[Step]:
        where = (col.schema_, col.table)
        incompatible = ctx.hazard(
            HazardCode.BACKWARD_INCOMPATIBLE,
            Severity.MEDIUM,
            f"{col.key.display} becomes NOT NULL: code that writes NULL breaks",
            table=where,
        )
        alter = f"ALTER COLUMN {ident(col.name)} SET NOT NULL"
        if ctx.names_not_null:
            # the same on PostgreSQL 18, but under its name: SET NOT NULL picks one that is
            # free in the schema (another table's inherited constraint may hold the default)
            alter = f"ADD {not_null_clause(col)}"
        if not ctx.use_online_forms(col.schema_, col.table):
            scan = ctx.hazard(
                HazardCode.FULL_SCAN_UNDER_LOCK,
                Severity.MEDIUM,
                f"SET NOT NULL scans every row of {col.schema_}.{col.table} under ACCESS EXCLUSIVE",
                table=where,
            )
            return [self._step(col, "alter", alter, hazards=(incompatible, scan))]
        check = ident(_not_null_check_name(col))
        return [
            self._step(
                col,
                "alter",
                f"ADD CONSTRAINT {check} CHECK ({ident(col.name)} IS NOT NULL) NOT VALID",
            ),
            self._validate(
                col, _not_null_check_name(col), f"the NOT NULL check on {col.key.display}"
            ),
            # The validated CHECK proves the column has no NULL: no scan (PG 12+).
            self._step(col, "alter", alter, hazards=(incompatible,)),
            self._step(col, "alter", f"DROP CONSTRAINT {check}"),
        ]

    def _sets_expression(self, old: Column, new: Column, ctx: PlanContext) -> bool:
        """Whether `SET EXPRESSION` (PostgreSQL 17+) gives `new`'s expression in place; else the
        column is made again. It keeps the kind (STORED or VIRTUAL), and PostgreSQL 18 refuses
        it on a virtual column while the table or a descendant it recurses to has a CHECK
        constraint (NOT VALID ones too; measured on 18)."""
        if old.generated is None or new.generated is None:
            return False
        if old.generated.virtual != new.generated.virtual:
            return False
        if ctx.current.server_version_num < 170000:
            return False
        return not (new.generated.virtual and _checks_on_or_below(new, ctx))

    def _set_expression(self, new: Column, ctx: PlanContext) -> Step:
        """PG 17+: recompute a stored generated column in place (a rewrite, but no drop); a
        virtual one's expression is only the catalog's (nothing is stored)."""
        assert new.generated is not None
        hazards: tuple[Hazard, ...] = ()
        if not new.generated.virtual:
            hazards = ctx.rewrite_hazards(
                f"SET EXPRESSION recomputes {new.key.display} for every row",
                (new.schema_, new.table),
            )
        elif new.not_null:
            hazards = (_virtual_not_null_scan(new, "its new expression", ctx),)
        return self._step(
            new,
            "alter",
            f"ALTER COLUMN {ident(new.name)} SET EXPRESSION AS ({new.generated.expression})",
            hazards=hazards,
        )

    def _recreate(self, old: Column, new: Column, ctx: PlanContext) -> list[Step]:
        """A column becomes generated, changes its generated expression where SET EXPRESSION
        cannot (before PostgreSQL 17, another kind, a virtual column under CHECK constraints),
        or stops being a virtual generated column (no DROP EXPRESSION for those): drop and add,
        with its comment and privileges given back."""
        ctx.remade_columns.add(new.key)
        where = (new.schema_, new.table)
        hazards: list[Hazard] = []
        if _virtual(old) and new.generated is None:
            hazards.append(
                ctx.hazard(
                    HazardCode.DATA_LOSS,
                    Severity.HIGH,
                    f"drops and re-adds {new.key.display} as a plain column: PostgreSQL cannot"
                    " keep a virtual generated column's values (no DROP EXPRESSION), so it"
                    " starts empty",
                    table=where,
                )
            )
        elif _virtual(old):
            # nothing stored is lost; what a reader sees is where the column comes
            hazards.append(
                ctx.hazard(
                    HazardCode.BACKWARD_INCOMPATIBLE,
                    Severity.LOW,
                    f"drops and re-adds {new.key.display}: it moves to the end of the table's"
                    " columns (SELECT * order)",
                    table=where,
                )
            )
        elif old.generated is None:
            hazards.append(
                ctx.hazard(
                    HazardCode.DATA_LOSS,
                    Severity.MEDIUM,
                    f"drops {new.key.display} and its data, and adds it back generated",
                    table=where,
                )
            )
        else:
            hazards.append(
                ctx.hazard(
                    HazardCode.DATA_LOSS,
                    Severity.MEDIUM,
                    f"drops and re-adds {new.key.display} to change its generated expression "
                    "(computed values are recomputed)",
                    table=where,
                )
            )
        if new.generated is not None and not new.generated.virtual:
            hazards.append(
                ctx.hazard(
                    HazardCode.TABLE_REWRITE,
                    Severity.MEDIUM,
                    f"adding generated column {new.name} rewrites the table",
                    table=where,
                )
            )
        elif _virtual(new) and new.not_null:
            hazards.append(_virtual_not_null_scan(new, "adding", ctx))
        steps = [
            self._step(new, "alter", f"DROP COLUMN {ident(old.name)}", hazards=tuple(hazards)),
            self._step(
                new,
                "alter",
                f"ADD COLUMN {column_definition(new, name_not_null=ctx.names_not_null)}",
            ),
        ]
        if new.storage is not None:
            steps.append(
                self._step(
                    new,
                    "alter",
                    f"ALTER COLUMN {ident(new.name)} SET STORAGE {new.storage.upper()}",
                )
            )
        if new.statistics is not None:
            steps.append(statistics_step(new.key, _table(new), new.name, new.statistics))
        if new.attribute_options:
            steps.append(
                attribute_options_step(new.key, _table(new), new.name, (), new.attribute_options)
            )
        # the column made again has no comment and the default privileges; the planner's own
        # generic steps go from `old`'s, which went with the column dropped
        steps.extend(generic_steps(self, None, new, ctx))  # type: ignore[arg-type]
        return steps

    def ref(self, obj: Column) -> str:
        return f"COLUMN {_table(obj)}.{ident(obj.name)}"

    def acl_ref(self, obj: Column) -> tuple[str, str]:
        return f"TABLE {_table(obj)}", f"({ident(obj.name)})"

    def invalidated_columns(self, old: Column, new: Column) -> set[ObjectKey]:
        if old.type != new.type or old.collation != new.collation:
            return {new.key}
        if old.generated != new.generated and (new.generated is not None or _virtual(old)):
            return {new.key}
        return set()
