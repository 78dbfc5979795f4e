"""Tables: CREATE / DROP TABLE and the in-place ALTER TABLE forms of a table's own attributes.

Columns are written inside CREATE TABLE (engine.diff.kinds.columns.column_definition);
constraints and indexes are separate steps of their own handlers. A table is never dropped and
recreated to change it (that loses data): a change PostgreSQL cannot make in place is a PlanError.
Foreign tables hold no data of their own, so those are recreated when their server changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from engine.diff.context import PlanContext
from engine.diff.handler import Action, Handler, Step, register
from engine.diff.kinds.columns import (
    column_definition,
    identity_default_source,
    overrides_inherited_default,
)
from engine.diff.kinds.joining import given_checks, joining_steps
from engine.diff.kinds.sequences import owned_sequences_kept
from engine.errors import PlanError
from engine.model.base import ObjectKey, relation_key
from engine.model.constraints import Constraint
from engine.model.indexes import Index
from engine.model.tables import Option, Table, TableRef
from engine.plan.model import Hazard, HazardCode, LockMode, Severity
from engine.sqltext import ident, qualname

# Storage parameters that ALTER TABLE SET/RESET changes under SHARE UPDATE EXCLUSIVE.
_LIGHT_OPTIONS = (
    "fillfactor",
    "autovacuum_",
    "toast.",
    "parallel_workers",
    "vacuum_",
    "log_autovacuum_min_duration",
    "toast_tuple_target",
)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _option_name(name: str) -> str:
    # `toast.autovacuum_enabled`: a namespace and a name, each an identifier
    return ".".join(ident(part) for part in name.split("."))


def _with_options(options: tuple[Option, ...]) -> str:
    return ", ".join(f"{_option_name(o.name)}={_quote(o.value)}" for o in options)


def _generic_options(options: tuple[Option, ...]) -> str:
    return ", ".join(f"{ident(o.name)} {_quote(o.value)}" for o in options)


def _options_diff(before: tuple[Option, ...], after: tuple[Option, ...]) -> str:
    """`ADD k 'v', SET k 'v', DROP k` for ALTER ... OPTIONS (...)."""
    old = {o.name: o.value for o in before}
    new = {o.name: o.value for o in after}
    parts = [f"DROP {ident(k)}" for k in sorted(old.keys() - new.keys())]
    for k in sorted(new):
        if k not in old:
            parts.append(f"ADD {ident(k)} {_quote(new[k])}")
        elif old[k] != new[k]:
            parts.append(f"SET {ident(k)} {_quote(new[k])}")
    return ", ".join(parts)


def _name(obj: Table) -> str:
    return qualname(obj.schema_, obj.name)


def inheritance_change(
    old: Sequence[TableRef], new: Sequence[TableRef]
) -> tuple[list[TableRef], list[TableRef]]:
    """The parents a child leaves (`NO INHERIT`) and then joins (`INHERIT`), in order, to go from
    `old` to `new` inheritance parents. PostgreSQL appends a new parent and keeps the others'
    order, so the child keeps the longest start of `new` that `old` has in the same order, leaves
    the rest and joins the others after them (some of them again, when their order changes).
    Leaving a parent makes what it alone gave the child the child's own, for good: `attislocal`
    cannot be unset."""
    keep, at = 0, 0
    while keep < len(new):
        try:
            at = old.index(new[keep], at) + 1
        except ValueError:
            break
        keep += 1
    kept = set(new[:keep])
    return [p for p in old if p not in kept], list(new[keep:])


def _index_keys(table: Table, name: str) -> tuple[ObjectKey, ObjectKey]:
    """The keys that may make the table's index `name`: the index, or the primary key or
    unique constraint of that name that owns it."""
    return (
        ObjectKey(kind="index", schema_=table.schema_, name=name),
        ObjectKey(kind="constraint", schema_=table.schema_, parent=table.name, name=name),
    )


@register
class TableHandler(Handler[Table]):
    kind = "table"
    model = Table
    rebuildable = False

    def _step(
        self,
        obj: Table,
        action: Action,
        sql: str,
        *,
        hazards: tuple[Hazard, ...] = (),
        lock: LockMode = "ACCESS EXCLUSIVE",
        requires: tuple[ObjectKey, ...] = (),
        parent_link: Literal["leave", "join"] | None = None,
        incidental: bool = False,
    ) -> Step:
        return Step(
            key=obj.key,
            action=action,
            sql=sql,
            hazards=hazards,
            lock=lock,
            requires=requires,
            parent_link=parent_link,
            incidental=incidental,
        )

    # --- create / drop ------------------------------------------------------------------------

    def create(self, obj: Table, ctx: PlanContext) -> list[Step]:
        # an identity column's default comes from its parent's, as it is when the child is made
        sources = (identity_default_source(c, ctx) for c in ctx.columns_of(obj.schema_, obj.name))
        requires = tuple(key for key in sources if key is not None) if obj.inherits else ()
        steps = [self._step(obj, "create", self.create_sql(obj, ctx), requires=requires)]
        steps.extend(self._rls_steps(None, obj, ctx))
        if obj.replica_identity != "default":
            steps.append(self._replica_identity_step(obj))
        if obj.clustered_index is not None:
            steps.append(self._cluster_step(obj))
        return steps

    def create_sql(self, obj: Table, ctx: PlanContext) -> str:
        foreign = obj.table_kind == "foreign"
        unlogged = "UNLOGGED " if obj.persistence == "unlogged" else ""
        head = (
            f"CREATE FOREIGN TABLE {_name(obj)}"
            if foreign
            else (f"CREATE {unlogged}TABLE {_name(obj)}")
        )
        columns = ctx.columns_of(obj.schema_, obj.name)
        body = ",\n".join(
            "    "
            + column_definition(
                c,
                name_not_null=ctx.names_not_null,
                null_default=bool(obj.inherits) and overrides_inherited_default(c, ctx),
            )
            for c in columns
        )
        if obj.partition_of is not None:
            sql = f"{head} PARTITION OF {qualname(obj.partition_of.schema_, obj.partition_of.name)}"
            if body:
                sql += f" (\n{body}\n)"
            sql += f" {obj.partition_bound}"
        else:
            sql = f"{head} (\n{body}\n)" if body else f"{head} ()"
            if obj.inherits:
                parents = ", ".join(qualname(p.schema_, p.name) for p in obj.inherits)
                sql += f" INHERITS ({parents})"
        if obj.partition_key is not None:
            sql += f" PARTITION BY {obj.partition_key}"
        if obj.options:
            sql += f" WITH ({_with_options(obj.options)})"
        if foreign and obj.server is not None:
            sql += f" SERVER {ident(obj.server)}"
            if obj.foreign_options:
                sql += f" OPTIONS ({_generic_options(obj.foreign_options)})"
        return sql

    def drop(self, obj: Table, ctx: PlanContext) -> list[Step]:
        where = (obj.schema_, obj.name)
        if obj.table_kind == "foreign":
            hazards: tuple[Hazard, ...] = (
                ctx.hazard(
                    HazardCode.BACKWARD_INCOMPATIBLE,
                    Severity.MEDIUM,
                    f"drops foreign table {obj.key.display} (the remote data stays)",
                ),
            )
            return [self._step(obj, "drop", f"DROP FOREIGN TABLE {_name(obj)}", hazards=hazards)]
        hazards = (
            ctx.hazard(
                HazardCode.DATA_LOSS,
                Severity.CRITICAL,
                f"drops table {obj.key.display} and all its rows",
                table=where,
            ),
            ctx.hazard(
                HazardCode.BACKWARD_INCOMPATIBLE,
                Severity.HIGH,
                f"code that uses {obj.key.display} breaks",
                table=where,
            ),
        )
        return [self._step(obj, "drop", f"DROP TABLE {_name(obj)}", hazards=hazards)]

    # --- alter --------------------------------------------------------------------------------

    def alter(self, old: Table, new: Table, ctx: PlanContext) -> list[Step] | None:
        foreign = new.table_kind == "foreign"
        if old.table_kind != new.table_kind:
            if old.table_kind == "foreign" and foreign:
                return None
            raise PlanError(
                f"table {new.key.display} changes from {old.table_kind} to {new.table_kind}; "
                "pg-flux does not recreate a table (its rows would be lost)",
                details="Create a new table, copy the rows, drop the old one: separate steps.",
            )
        if old.partition_key != new.partition_key:
            raise PlanError(
                f"the partition key of {new.key.display} changes from {old.partition_key} to "
                f"{new.partition_key}; pg-flux does not recreate a table (its rows would be lost)",
                details="Create a new partitioned table, move the rows, and drop the old one.",
            )
        if foreign and old.server != new.server:
            return None  # a foreign table holds no rows: recreating it loses nothing
        where = (new.schema_, new.name)
        alter = f"ALTER {'FOREIGN ' if foreign else ''}TABLE {_name(new)}"
        steps: list[Step] = []
        # PostgreSQL attaches no table that has inheritance parents: it leaves them first
        parents = [self._partition_steps(old, new, ctx), self._inherit_steps(old, new, ctx)]
        if new.partition_of is not None:
            parents.reverse()
        steps.extend(step for part in parents for step in part)
        if old.persistence != new.persistence:
            target = "UNLOGGED" if new.persistence == "unlogged" else "LOGGED"
            hazards = ctx.rewrite_hazards(f"SET {target} rewrites {new.key.display}", where)
            steps.append(self._step(new, "alter", f"{alter} SET {target}", hazards=hazards))
            steps.extend(owned_sequences_kept(new, ctx))
        if old.options != new.options:
            steps.extend(self._options_steps(old, new, alter))
        if old.foreign_options != new.foreign_options:
            diff = _options_diff(old.foreign_options, new.foreign_options)
            steps.append(self._step(new, "alter", f"{alter} OPTIONS ({diff})"))
        steps.extend(self._rls_steps(old, new, ctx))
        if (old.replica_identity, old.replica_identity_index) != (
            new.replica_identity,
            new.replica_identity_index,
        ):
            steps.append(self._replica_identity_step(new))
        if old.clustered_index != new.clustered_index:
            steps.append(self._cluster_step(new))
        return steps

    def index_mark_steps(self, ctx: PlanContext, recreated: set[ObjectKey]) -> list[Step]:
        """A table's REPLICA IDENTITY USING INDEX and CLUSTER ON, set again where the plan
        makes the index (or the key constraint that owns it) again and the table itself keeps
        them: the new index carries neither mark."""
        steps: list[Step] = []
        tables = set()
        for made in recreated:
            obj = ctx.desired_objects.get(made) if made.kind in ("index", "constraint") else None
            if isinstance(obj, Index | Constraint):
                tables.add(relation_key("table", obj.schema_, obj.table))
        for key in sorted(tables - recreated, key=str):
            new = ctx.desired_objects.get(key)
            old = ctx.current_objects.get(key)
            if not (isinstance(new, Table) and isinstance(old, Table)):
                continue
            replica = new.replica_identity_index
            if (
                replica is not None
                and (new.replica_identity, replica)
                == (old.replica_identity, old.replica_identity_index)
                and recreated.intersection(_index_keys(new, replica))
            ):
                steps.append(self._replica_identity_step(new))
            if (
                new.clustered_index is not None
                and new.clustered_index == old.clustered_index
                and recreated.intersection(_index_keys(new, new.clustered_index))
            ):
                steps.append(self._cluster_step(new))
        return steps

    def _options_steps(self, old: Table, new: Table, alter: str) -> list[Step]:
        before = {o.name: o.value for o in old.options}
        after = {o.name: o.value for o in new.options}
        changed = [o for o in new.options if before.get(o.name) != o.value]
        gone = sorted(before.keys() - after.keys())
        touched = [o.name for o in changed] + gone
        lock: LockMode = (
            "SHARE UPDATE EXCLUSIVE"
            if all(name.startswith(_LIGHT_OPTIONS) for name in touched)
            else "ACCESS EXCLUSIVE"
        )
        steps = []
        if gone:
            names = ", ".join(_option_name(n) for n in gone)
            steps.append(self._step(new, "alter", f"{alter} RESET ({names})", lock=lock))
        if changed:
            steps.append(
                self._step(
                    new, "alter", f"{alter} SET ({_with_options(tuple(changed))})", lock=lock
                )
            )
        return steps

    def _partition_steps(self, old: Table, new: Table, ctx: PlanContext) -> list[Step]:
        if (old.partition_of, old.partition_bound) == (new.partition_of, new.partition_bound):
            return []
        steps: list[Step] = []
        if old.partition_of is not None:
            parent = qualname(old.partition_of.schema_, old.partition_of.name)
            hazard = ctx.hazard(
                HazardCode.BACKWARD_INCOMPATIBLE,
                Severity.MEDIUM,
                f"detaches {new.key.display}: queries on {parent} no longer see its rows",
                table=(new.schema_, new.name),
            )
            steps.append(
                self._step(
                    new,
                    "alter",
                    f"ALTER TABLE {parent} DETACH PARTITION {_name(new)}",
                    hazards=(hazard,),
                    parent_link="leave",
                )
            )
        if new.partition_of is not None:
            parent = qualname(new.partition_of.schema_, new.partition_of.name)
            hazard = ctx.hazard(
                HazardCode.FULL_SCAN_UNDER_LOCK,
                Severity.MEDIUM,
                f"ATTACH PARTITION scans {new.key.display} to check its bound",
                table=(new.schema_, new.name),
            )
            joining, added = joining_steps(old, new.partition_of, ctx)
            steps.extend(joining)
            steps.append(
                self._step(
                    new,
                    "alter",
                    f"ALTER TABLE {parent} ATTACH PARTITION {_name(new)} {new.partition_bound}",
                    hazards=(hazard,),
                    requires=(new.partition_of.key, *added),
                    parent_link="join",
                )
            )
        return steps

    def _inherit_steps(self, old: Table, new: Table, ctx: PlanContext) -> list[Step]:
        if old.inherits == new.inherits:
            return []
        left, joined = inheritance_change(old.inherits, new.inherits)
        leaving: list[Step] = []
        for parent in left:
            name = qualname(parent.schema_, parent.name)
            hazard = ctx.hazard(
                HazardCode.BACKWARD_INCOMPATIBLE,
                Severity.MEDIUM,
                f"queries on {name} no longer see the rows of {new.key.display}",
                table=(new.schema_, new.name),
            )
            leaving.append(
                self._step(
                    new,
                    "alter",
                    f"ALTER TABLE {_name(new)} NO INHERIT {name}",
                    hazards=(hazard,),
                    parent_link="leave",
                )
            )
        joining: list[Step] = []
        for parent in joined:
            added_steps, added = joining_steps(old, parent, ctx)
            joining.extend(added_steps)
            joining.append(
                self._step(
                    new,
                    "alter",
                    f"ALTER TABLE {_name(new)} INHERIT {qualname(parent.schema_, parent.name)}",
                    requires=(parent.key, *added, *given_checks(ctx, parent)),
                    parent_link="join",
                )
            )
        if any(parent in old.inherits for parent in joined):
            # a kept parent's order changes: it is left and joined again
            return leaving + joining
        # Joining first: a column or check the child also has from a parent it leaves stays
        # inherited (PostgreSQL counts its parents); leaving first would make it the child's own.
        return joining + leaving

    def _rls_steps(self, old: Table | None, new: Table, ctx: PlanContext) -> list[Step]:
        steps: list[Step] = []
        alter = f"ALTER TABLE {_name(new)}"
        was_enabled = old.rls_enabled if old else False
        was_forced = old.rls_forced if old else False
        severity = Severity.LOW if old is None else Severity.MEDIUM
        if new.rls_enabled != was_enabled:
            verb = "ENABLE" if new.rls_enabled else "DISABLE"
            effect = (
                "rows become visible only through policies"
                if new.rls_enabled
                else "policies stop filtering rows"
            )
            hazard = ctx.hazard(
                HazardCode.AUTHZ_CHANGE,
                severity,
                f"{verb} ROW LEVEL SECURITY on {new.key.display}: {effect}",
            )
            steps.append(
                self._step(
                    new,
                    "alter" if old else "create",
                    f"{alter} {verb} ROW LEVEL SECURITY",
                    hazards=(hazard,),
                    # no view, policy or other dependent needs it, nor waits on its drop
                    incidental=True,
                )
            )
        if new.rls_forced != was_forced:
            verb = "FORCE" if new.rls_forced else "NO FORCE"
            hazard = ctx.hazard(
                HazardCode.AUTHZ_CHANGE,
                severity,
                f"{verb} ROW LEVEL SECURITY on {new.key.display}: policies "
                f"{'now' if new.rls_forced else 'no longer'} apply to the table owner",
            )
            steps.append(
                self._step(
                    new,
                    "alter" if old else "create",
                    f"{alter} {verb} ROW LEVEL SECURITY",
                    hazards=(hazard,),
                    # no view, policy or other dependent needs it, nor waits on its drop
                    incidental=True,
                )
            )
        return steps

    def _replica_identity_step(self, new: Table) -> Step:
        if new.replica_identity == "index" and new.replica_identity_index is not None:
            name = new.replica_identity_index
            return self._step(
                new,
                "alter",
                f"ALTER TABLE {_name(new)} REPLICA IDENTITY USING INDEX {ident(name)}",
                requires=_index_keys(new, name),
                # a mark on the table that nothing of it waits for (its new columns come
                # before the index that needs them)
                incidental=True,
            )
        return self._step(
            new,
            "alter",
            f"ALTER TABLE {_name(new)} REPLICA IDENTITY {new.replica_identity.upper()}",
        )

    def _cluster_step(self, new: Table) -> Step:
        # a catalog mark for CLUSTER without an index name; no rows move
        if new.clustered_index is None:
            return self._step(
                new,
                "alter",
                f"ALTER TABLE {_name(new)} SET WITHOUT CLUSTER",
                lock="SHARE UPDATE EXCLUSIVE",
                incidental=True,
            )
        name = new.clustered_index
        return self._step(
            new,
            "alter",
            f"ALTER TABLE {_name(new)} CLUSTER ON {ident(name)}",
            lock="SHARE UPDATE EXCLUSIVE",
            requires=_index_keys(new, name),
            incidental=True,
        )

    def ref(self, obj: Table) -> str:
        prefix = "FOREIGN TABLE" if obj.table_kind == "foreign" else "TABLE"
        return f"{prefix} {_name(obj)}"

    def acl_ref(self, obj: Table) -> tuple[str, str]:
        return f"TABLE {_name(obj)}", ""
