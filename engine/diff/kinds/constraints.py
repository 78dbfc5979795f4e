"""Table constraints, added in the form that does not block on live tables.

On a table that exists (and online forms are on):
- CHECK and FOREIGN KEY: ADD ... NOT VALID (no scan), then VALIDATE CONSTRAINT alone, in its own
  transaction, which scans under SHARE UPDATE EXCLUSIVE and so lets reads and writes go on.
- PRIMARY KEY and UNIQUE: CREATE UNIQUE INDEX CONCURRENTLY under the constraint's own name, then
  ADD CONSTRAINT ... USING INDEX, a catalog update. Partitioned tables cannot build indexes
  concurrently, and a temporal key's GiST index (WITHOUT OVERLAPS, PostgreSQL 18) cannot be
  built UNIQUE on its own: there the constraint is added plainly.
- EXCLUDE: no online form exists; added plainly, with the hazards that says.
A desired NOT VALID constraint is added NOT VALID and never validated; a NOT ENFORCED one
(PostgreSQL 18) is added as it is, which scans nothing. A changed definition drops
and re-adds the constraint (the planner recreates it, rebuilding foreign keys that rely on it).
"""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step, register, validated_alone
from engine.diff.kinds.indexes import build_hazard, index_sql
from engine.model.constraints import Constraint
from engine.plan.model import Hazard, HazardCode, LockMode, Severity
from engine.sqltext import ident, qualname

_KEYWORDS = {"primary_key": "PRIMARY KEY", "unique": "UNIQUE"}


def _table(obj: Constraint) -> str:
    return qualname(obj.schema_, obj.table)


def _add_sql(obj: Constraint, *, not_valid: bool) -> str:
    suffix = " NOT VALID" if not_valid else ""
    return f"ALTER TABLE {_table(obj)} ADD CONSTRAINT {ident(obj.name)} {obj.definition}{suffix}"


def _validate_step(obj: Constraint, *, adding: bool = False) -> Step:
    # Part of adding the constraint: a "create" step, ordered with the other creates.
    return Step(
        key=obj.key,
        action="create" if adding else "alter",
        sql=f"ALTER TABLE {_table(obj)} VALIDATE CONSTRAINT {ident(obj.name)}",
        # Scans the table, but SHARE UPDATE EXCLUSIVE lets reads and writes go on: only in its
        # own transaction, since one shared with the ADD would hold that ACCESS EXCLUSIVE lock
        # through the scan.
        lock="SHARE UPDATE EXCLUSIVE",
        transactional=False,
        hazards=(validated_alone(obj.name),),
    )


def _inherited_in_desired(obj: Constraint, ctx: PlanContext) -> bool:
    """Does the desired table have a check of this name from a parent?"""
    return any(
        (c.schema_, c.table, c.name) == (obj.schema_, obj.table, obj.name)
        for c in ctx.desired.inherited_constraints
    )


@register
class ConstraintHandler(Handler[Constraint]):
    kind = "constraint"
    model = Constraint

    def create(self, obj: Constraint, ctx: PlanContext) -> list[Step]:
        lock: LockMode = "SHARE ROW EXCLUSIVE" if obj.type == "foreign_key" else "ACCESS EXCLUSIVE"
        if not obj.enforced:
            # PostgreSQL 18's NOT ENFORCED checks no row, now or later: a catalog change, and
            # PostgreSQL refuses to VALIDATE it
            sql = _add_sql(obj, not_valid=False)
            return [Step(key=obj.key, action="create", sql=sql, lock=lock)]
        if ctx.table_is_new(obj.schema_, obj.table):
            # An empty table: the plain form costs nothing.
            sql = _add_sql(obj, not_valid=not obj.validated)
            return [Step(key=obj.key, action="create", sql=sql, lock=lock)]
        if not ctx.use_online_forms(obj.schema_, obj.table):
            return [self._plain(obj, ctx, lock)]
        # PostgreSQL before 18 refuses a NOT VALID foreign key on a partitioned table.
        fk_on_partitioned = obj.type == "foreign_key" and obj.on_partitioned
        if obj.type in ("check", "foreign_key") and not fk_on_partitioned:
            steps = [
                Step(
                    key=obj.key,
                    action="create",
                    sql=_add_sql(obj, not_valid=True),
                    lock=lock,
                )
            ]
            if obj.validated:
                steps.append(_validate_step(obj, adding=True))
            return steps
        if obj.type in _KEYWORDS and not obj.on_partitioned and obj.index_definition:
            return self._using_index(obj, ctx)
        return [self._plain(obj, ctx, lock)]

    def _using_index(self, obj: Constraint, ctx: PlanContext) -> list[Step]:
        assert obj.index_definition is not None
        build = Step(
            key=obj.key,
            action="create",
            sql=index_sql(obj.index_definition, concurrent=True),
            transactional=False,
            lock="SHARE UPDATE EXCLUSIVE",
            hazards=(build_hazard(ctx, obj.schema_, obj.table, f"the index of {obj.name}"),),
        )
        # The index carries the constraint's name, so the catalog ends up as a plain ADD would.
        timing = ""
        if obj.deferrable:
            timing = " DEFERRABLE INITIALLY DEFERRED" if obj.deferred else " DEFERRABLE"
        attach = Step(
            key=obj.key,
            action="create",
            sql=(
                f"ALTER TABLE {_table(obj)} ADD CONSTRAINT {ident(obj.name)} "
                f"{_KEYWORDS[obj.type]} USING INDEX {ident(obj.name)}{timing}"
            ),
            lock="ACCESS EXCLUSIVE",
        )
        return [build, attach]

    def _plain(self, obj: Constraint, ctx: PlanContext, lock: LockMode) -> Step:
        """The blocking form on a live table, with the hazards it carries."""
        table = (obj.schema_, obj.table)
        hazards: list[Hazard] = []
        if obj.validated or obj.type not in ("check", "foreign_key"):
            what = (
                "builds its index"
                if obj.type in _KEYWORDS or obj.type == "exclusion"
                else ("checks every row")
            )
            hazards.append(
                ctx.hazard(
                    HazardCode.FULL_SCAN_UNDER_LOCK,
                    Severity.HIGH,
                    f"adding {obj.name} {what} while holding a {lock} lock",
                    table=table,
                )
            )
            if lock == "ACCESS EXCLUSIVE":
                hazards.append(
                    ctx.hazard(
                        HazardCode.BLOCKS_READS_WRITES,
                        Severity.HIGH,
                        f"{obj.table} can be neither read nor written until {obj.name} is added",
                        table=table,
                    )
                )
            else:
                hazards.append(
                    ctx.hazard(
                        HazardCode.BLOCKS_WRITES,
                        Severity.MEDIUM,
                        f"{obj.table} and the referenced table cannot be written until "
                        f"{obj.name} is added",
                        table=table,
                    )
                )
        return Step(
            key=obj.key,
            action="create",
            sql=_add_sql(obj, not_valid=not obj.validated),
            lock=lock,
            hazards=tuple(hazards),
        )

    def drop(self, obj: Constraint, ctx: PlanContext) -> list[Step]:
        if obj.type == "check" and _inherited_in_desired(obj, ctx):
            # an inheritance child's check it now also has from a parent it joined
            # (engine.diff.kinds.joining): PostgreSQL cannot drop it, nor make it the parent's only
            return []
        hazards: tuple[Hazard, ...] = ()
        if obj.type in ("primary_key", "unique", "exclusion"):
            hazards = (
                ctx.hazard(
                    HazardCode.INDEX_DROPPED,
                    Severity.MEDIUM,
                    f"dropping {obj.name} drops its index; queries that relied on it get slower",
                    table=(obj.schema_, obj.table),
                ),
            )
        return [
            Step(
                key=obj.key,
                action="drop",
                sql=f"ALTER TABLE {_table(obj)} DROP CONSTRAINT {ident(obj.name)}",
                lock="ACCESS EXCLUSIVE",
                hazards=hazards,
            )
        ]

    def alter(self, old: Constraint, new: Constraint, ctx: PlanContext) -> list[Step] | None:
        """Only NOT VALID -> valid changes in place; anything else drops and re-adds."""
        same_otherwise = old.model_copy(update={"validated": new.validated}).same_as(new)
        if same_otherwise and not old.validated and new.validated:
            return [_validate_step(new)]
        return None

    def ref(self, obj: Constraint) -> str:
        return f"CONSTRAINT {ident(obj.name)} ON {_table(obj)}"
