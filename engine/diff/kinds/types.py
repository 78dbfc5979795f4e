"""Enums, composites, domains, ranges and collations.

Enum values are added in place; removing or reordering them recreates the type under a temporary
name and converts every column that uses it through text (the planner cannot rebuild columns, so
the handler does the whole dance itself). Composite attributes are added, dropped and retyped in
place; domains change default, NOT NULL and CHECK constraints in place; ranges and collations
have no ALTER for their definition and are recreated.
"""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.generic import generic_steps
from engine.diff.handler import Action, Handler, Step, register, validated_alone
from engine.errors import PlanError
from engine.model.base import ObjectKey, SchemaObject
from engine.model.namespaces import Collation
from engine.model.tables import Column
from engine.model.types import (
    CompositeAttribute,
    CompositeType,
    DomainConstraint,
    DomainType,
    EnumType,
    RangeType,
)
from engine.plan.model import Hazard, HazardCode, Severity
from engine.sqltext import ident, literal, qualname

# Suffix of the temporary name an enum takes while it is recreated.
_OLD_SUFFIX = "__pgflux_old"


def columns_using(key: ObjectKey, ctx: PlanContext) -> list[Column]:
    """Current columns whose type is `key` (or an array of it), from pg_depend."""
    keys = ctx.current_deps.dependents_of(key)
    found = [ctx.current_objects.get(k) for k in keys if k.kind == "column"]
    return sorted((c for c in found if isinstance(c, Column)), key=lambda c: c.key.sort_key)


def _drop_hazards(
    what: str, key: ObjectKey, ctx: PlanContext, *, data: bool = True
) -> tuple[Hazard, ...]:
    """Dropping a type: critical when columns still use it (they go with it)."""
    used = columns_using(key, ctx)
    severity = Severity.CRITICAL if used else Severity.HIGH
    users = f"; used by {', '.join(c.key.display for c in used)}" if used else ""
    hazards = []
    if data:
        hazards.append(ctx.hazard(HazardCode.DATA_LOSS, severity, f"drops {what}{users}"))
    hazards.append(
        ctx.hazard(
            HazardCode.BACKWARD_INCOMPATIBLE,
            Severity.MEDIUM,
            f"application code that uses {what} breaks",
        )
    )
    return tuple(hazards)


def _type_ref(obj: SchemaObject) -> str:
    schema = getattr(obj, "schema_", None)
    name = getattr(obj, "name", "")
    return qualname(schema, name)


# --------------------------------------------------------------------------------------- enums


@register
class EnumHandler(Handler[EnumType]):
    kind = "enum"
    model = EnumType

    def __init__(self) -> None:
        # Columns converted by the last recreate, handed from alter() to invalidated_columns():
        # the planner calls them one after the other for the same object.
        self._converted: dict[ObjectKey, set[ObjectKey]] = {}

    def create(self, obj: EnumType, ctx: PlanContext) -> list[Step]:
        labels = ", ".join(literal(v) for v in obj.labels)
        return [
            Step(
                key=obj.key, action="create", sql=f"CREATE TYPE {_type_ref(obj)} AS ENUM ({labels})"
            )
        ]

    def drop(self, obj: EnumType, ctx: PlanContext) -> list[Step]:
        hazards = _drop_hazards(f"type {obj.key.display}", obj.key, ctx)
        return [
            Step(key=obj.key, action="drop", sql=f"DROP TYPE {_type_ref(obj)}", hazards=hazards)
        ]

    def alter(self, old: EnumType, new: EnumType, ctx: PlanContext) -> list[Step] | None:
        if _is_subsequence(old.labels, new.labels):
            return self._add_values(old, new, ctx)
        return self._recreate(old, new, ctx)

    def _add_values(self, old: EnumType, new: EnumType, ctx: PlanContext) -> list[Step]:
        # ADD VALUE may run in a transaction block (PG 12+), but the new value cannot be used
        # before that transaction commits ("unsafe use of new value"). Later steps of the same
        # plan (a default, a CHECK, a view, a routine) may well use it, so each ADD VALUE runs
        # alone in autocommit; IF NOT EXISTS makes a rerun after a partial failure harmless.
        ref = _type_ref(new)
        steps: list[Step] = []
        present = set(old.labels)
        for index, label in enumerate(new.labels):
            if label in present:
                continue
            if index > 0:
                where = f" AFTER {literal(new.labels[index - 1])}"
            elif old.labels:
                first_old = next(v for v in new.labels if v in set(old.labels))
                where = f" BEFORE {literal(first_old)}"
            else:
                where = ""
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER TYPE {ref} ADD VALUE IF NOT EXISTS {literal(label)}{where}",
                    transactional=False,
                    lock="EXCLUSIVE",
                )
            )
            present.add(label)
        return steps

    def _recreate(self, old: EnumType, new: EnumType, ctx: PlanContext) -> list[Step]:
        """Rename the old type away, create the new one, convert columns through text, drop old."""
        temp = (new.name[: 63 - len(_OLD_SUFFIX)]) + _OLD_SUFFIX
        temp_ref = qualname(new.schema_, temp)
        ref = _type_ref(new)
        removed = [v for v in old.labels if v not in new.labels]
        used = columns_using(old.key, ctx)
        steps = [
            Step(key=new.key, action="alter", sql=f"ALTER TYPE {ref} RENAME TO {ident(temp)}"),
            *self.create(new, ctx),
        ]
        steps[-1] = steps[-1].model_copy(update={"action": "alter"})
        converted: set[ObjectKey] = set()
        for column in used:
            desired = ctx.desired_objects.get(column.key)
            if not isinstance(desired, Column):
                continue  # dropped by this plan before we get here
            converted.add(column.key)
            steps.extend(self._convert_column(column, desired, new, removed, ctx))
        # A reissued type starts from the defaults: restore comment, grants and owner.
        steps.extend(
            s.model_copy(update={"key": new.key})
            for s in generic_steps(self, None, new, ctx)  # type: ignore[arg-type]
        )
        hazards: list[Hazard] = []
        if removed:
            severity = Severity.CRITICAL if used else Severity.HIGH
            hazards.append(
                ctx.hazard(
                    HazardCode.DATA_LOSS,
                    severity,
                    f"removes value(s) {', '.join(removed)} from {new.key.display}; "
                    "rows holding them make the conversion fail",
                )
            )
            hazards.append(
                ctx.hazard(
                    HazardCode.BACKWARD_INCOMPATIBLE,
                    Severity.MEDIUM,
                    f"application code that uses the removed value(s) of {new.key.display} breaks",
                )
            )
        # Keyed apart from the enum so that it can follow the column conversions, which the
        # dependency graph orders after every step of the enum itself.
        temp_key = ObjectKey(kind="enum", schema_=new.schema_, name=temp)
        steps.append(
            Step(
                key=temp_key,
                action="alter",
                sql=f"DROP TYPE {temp_ref}",
                hazards=tuple(hazards),
                requires=(new.key, *sorted(converted, key=lambda k: k.sort_key)),
            )
        )
        self._converted[new.key] = converted
        return steps

    def _convert_column(
        self, column: Column, desired: Column, new: EnumType, removed: list[str], ctx: PlanContext
    ) -> list[Step]:
        table_ref = qualname(column.schema_, column.table)
        col = ident(column.name)
        dims = "[]" * column.type.count("[]")
        target = f"{_type_ref(new)}{dims}"
        prefix = f"ALTER TABLE {table_ref} ALTER COLUMN {col}"
        where = (column.schema_, column.table)
        steps: list[Step] = []
        if column.default is not None:
            # The old default names the old type; no cast leads from it to the new one.
            steps.append(
                Step(
                    key=column.key,
                    action="alter",
                    sql=f"{prefix} DROP DEFAULT",
                    requires=(new.key,),
                )
            )
        hazards = [
            ctx.hazard(
                HazardCode.TABLE_REWRITE,
                Severity.MEDIUM,
                f"rewrites {column.schema_}.{column.table} to convert {column.name} to the new "
                f"{new.key.display}",
                table=where,
            ),
        ]
        if removed:
            hazards.append(
                ctx.hazard(
                    HazardCode.DATA_LOSS,
                    Severity.HIGH,
                    f"rows of {column.key.display} holding {', '.join(removed)} "
                    "fail the conversion",
                    table=where,
                )
            )
        steps.append(
            Step(
                key=column.key,
                action="alter",
                sql=f"{prefix} TYPE {target} USING {col}::text{dims}::{target}",
                hazards=tuple(hazards),
                requires=(new.key,),
            )
        )
        if desired.default is not None:
            steps.append(
                Step(key=column.key, action="alter", sql=f"{prefix} SET DEFAULT {desired.default}")
            )
        return steps

    def invalidated_columns(self, old: EnumType, new: EnumType) -> set[ObjectKey]:
        return self._converted.pop(new.key, set())

    def ref(self, obj: EnumType) -> str:
        return f"TYPE {_type_ref(obj)}"


def _is_subsequence(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """Every old label kept, in the same relative order (so only additions)."""
    remaining = iter(new)
    return all(label in remaining for label in old)


# ---------------------------------------------------------------------------------- composites


def _attribute_sql(attr: CompositeAttribute) -> str:
    collate = f" COLLATE {attr.collation}" if attr.collation else ""
    return f"{ident(attr.name)} {attr.type}{collate}"


def _comment_on(key: ObjectKey, target: str, comment: str | None, action: Action) -> Step:
    """COMMENT ON a part of a type (`target`): set, or removed (NULL)."""
    return Step(
        key=key, action=action, sql=f"COMMENT ON {target} IS {literal(comment)}", incidental=True
    )


def _attribute_comment_step(
    composite: CompositeType, attr: CompositeAttribute, action: Action
) -> Step:
    target = f"COLUMN {_type_ref(composite)}.{ident(attr.name)}"
    return _comment_on(composite.key, target, attr.comment, action)


@register
class CompositeHandler(Handler[CompositeType]):
    kind = "composite"
    model = CompositeType

    def create(self, obj: CompositeType, ctx: PlanContext) -> list[Step]:
        body = ", ".join(_attribute_sql(a) for a in obj.attributes)
        steps = [
            Step(key=obj.key, action="create", sql=f"CREATE TYPE {_type_ref(obj)} AS ({body})")
        ]
        steps.extend(_attribute_comment_step(obj, a, "create") for a in obj.attributes if a.comment)
        return steps

    def drop(self, obj: CompositeType, ctx: PlanContext) -> list[Step]:
        hazards = _drop_hazards(f"type {obj.key.display}", obj.key, ctx)
        return [
            Step(key=obj.key, action="drop", sql=f"DROP TYPE {_type_ref(obj)}", hazards=hazards)
        ]

    def alter(self, old: CompositeType, new: CompositeType, ctx: PlanContext) -> list[Step] | None:
        before = {a.name: a for a in old.attributes}
        after = {a.name: a for a in new.attributes}
        # a column the plan drops goes before this type's steps: it does not hold them back
        used = [c for c in columns_using(old.key, ctx) if c.key in ctx.desired_objects]
        # In place, dropped attributes vanish and added ones go last: anything else is a reorder.
        kept = [a.name for a in old.attributes if a.name in after]
        added = [a.name for a in new.attributes if a.name not in before]
        if kept + added != [a.name for a in new.attributes]:
            return self._recreate_or_refuse(new, used, "reorders its attributes")
        retyped = [n for n in kept if _attribute_sql(before[n]) != _attribute_sql(after[n])]
        if retyped and used:
            # PostgreSQL refuses ALTER ATTRIBUTE TYPE on a type that a column stores.
            return self._recreate_or_refuse(new, used, f"changes the type of {', '.join(retyped)}")
        ref = _type_ref(new)
        steps: list[Step] = []
        # CASCADE carries the change to typed tables (CREATE TABLE ... OF type).
        for attr in old.attributes:
            if attr.name in after:
                continue
            hazards = (
                ctx.hazard(
                    HazardCode.DATA_LOSS,
                    Severity.CRITICAL if used else Severity.HIGH,
                    f"drops attribute {attr.name} of {new.key.display} and the values stored in it",
                ),
                ctx.hazard(
                    HazardCode.BACKWARD_INCOMPATIBLE,
                    Severity.MEDIUM,
                    f"application code that reads {new.key.display}.{attr.name} breaks",
                ),
            )
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER TYPE {ref} DROP ATTRIBUTE {ident(attr.name)} CASCADE",
                    hazards=hazards,
                )
            )
        for name in retyped:
            attr = after[name]
            collate = f" COLLATE {attr.collation}" if attr.collation else ""
            hazard = ctx.hazard(
                HazardCode.BACKWARD_INCOMPATIBLE,
                Severity.LOW,
                f"changes attribute {name} of {new.key.display} from {before[name].type} "
                f"to {attr.type}",
            )
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER TYPE {ref} ALTER ATTRIBUTE {ident(name)} SET DATA TYPE "
                    f"{attr.type}{collate} CASCADE",
                    hazards=(hazard,),
                )
            )
        for name in added:
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER TYPE {ref} ADD ATTRIBUTE {_attribute_sql(after[name])} CASCADE",
                )
            )
        # a new attribute starts without a comment; a retyped one keeps its own
        steps.extend(
            _attribute_comment_step(new, a, "alter")
            for a in new.attributes
            if a.comment != (before[a.name].comment if a.name in before else None)
        )
        return steps

    def _recreate_or_refuse(
        self, new: CompositeType, used: list[Column], why: str
    ) -> list[Step] | None:
        if used:
            raise PlanError(
                f"{new.key} {why}, which PostgreSQL cannot do in place while columns use it "
                f"({', '.join(c.key.display for c in used)})",
                details="Move the columns to a new type in one change and drop the old type "
                "in a later one.",
            )
        return None

    def ref(self, obj: CompositeType) -> str:
        return f"TYPE {_type_ref(obj)}"


# ------------------------------------------------------------------------------------- domains


def _check_sql(con: DomainConstraint) -> str:
    return f"CONSTRAINT {ident(con.name)} {con.definition}"


def _comment_step(domain: DomainType, con: DomainConstraint, action: Action) -> Step:
    """COMMENT ON a domain's constraint: set, or removed (NULL)."""
    return _constraint_comment_step(domain, con.name, con.comment, action)


def _constraint_comment_step(
    domain: DomainType, name: str, comment: str | None, action: Action
) -> Step:
    target = f"CONSTRAINT {ident(name)} ON DOMAIN {_type_ref(domain)}"
    return _comment_on(domain.key, target, comment, action)


@register
class DomainHandler(Handler[DomainType]):
    kind = "domain"
    model = DomainType

    def create(self, obj: DomainType, ctx: PlanContext) -> list[Step]:
        ref = _type_ref(obj)
        parts = [f"CREATE DOMAIN {ref} AS {obj.base_type}"]
        if obj.collation:
            parts.append(f"COLLATE {obj.collation}")
        if obj.default is not None:
            parts.append(f"DEFAULT {obj.default}")
        if obj.not_null:
            name = f"CONSTRAINT {ident(obj.not_null_name)} " if obj.not_null_name else ""
            parts.append(f"{name}NOT NULL")
        # CREATE DOMAIN has no NOT VALID: those constraints are added afterwards.
        parts.extend(_check_sql(c) for c in obj.constraints if c.validated)
        steps = [Step(key=obj.key, action="create", sql=" ".join(parts))]
        steps.extend(
            Step(
                key=obj.key,
                action="create",
                sql=f"ALTER DOMAIN {ref} ADD {_check_sql(c)} NOT VALID",
            )
            for c in obj.constraints
            if not c.validated
        )
        steps.extend(_comment_step(obj, c, "create") for c in obj.constraints if c.comment)
        if obj.not_null and obj.not_null_comment:
            steps.append(
                _constraint_comment_step(
                    obj, obj.not_null_constraint, obj.not_null_comment, "create"
                )
            )
        return steps

    def drop(self, obj: DomainType, ctx: PlanContext) -> list[Step]:
        hazards = _drop_hazards(f"domain {obj.key.display}", obj.key, ctx)
        return [
            Step(key=obj.key, action="drop", sql=f"DROP DOMAIN {_type_ref(obj)}", hazards=hazards)
        ]

    def alter(self, old: DomainType, new: DomainType, ctx: PlanContext) -> list[Step] | None:
        if old.base_type != new.base_type or old.collation != new.collation:
            # Columns that the desired schema drops, or moves to another type, go first (the
            # dependents' steps precede the domain's drop); only those that keep it are in the way.
            keeping = ctx.desired_deps.dependents_of(new.key)
            used = [c for c in columns_using(old.key, ctx) if c.key in keeping]
            if used:
                raise PlanError(
                    f"{new.key} changes its base type or collation, which PostgreSQL cannot do "
                    f"in place, and columns use it ({', '.join(c.key.display for c in used)})",
                    details="Create a new domain, move the columns to it, and drop the old one "
                    "in a later change.",
                )
            return None
        ref = _type_ref(new)
        steps: list[Step] = []
        if old.default != new.default:
            sql = (
                f"ALTER DOMAIN {ref} DROP DEFAULT"
                if new.default is None
                else f"ALTER DOMAIN {ref} SET DEFAULT {new.default}"
            )
            steps.append(Step(key=new.key, action="alter", sql=sql, ignores_dependents=True))
        if old.not_null and not new.not_null:
            steps.append(Step(key=new.key, action="alter", sql=f"ALTER DOMAIN {ref} DROP NOT NULL"))
        elif old.not_null and old.not_null_constraint != new.not_null_constraint:
            # PostgreSQL 17+: a name only (no row to rename before 17, where both are None)
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER DOMAIN {ref} RENAME CONSTRAINT"
                    f" {ident(old.not_null_constraint)} TO {ident(new.not_null_constraint)}",
                )
            )
        before = {c.name: c for c in old.constraints}
        after = {c.name: c for c in new.constraints}
        for con in old.constraints:
            target = after.get(con.name)
            keep = (
                target is not None
                and target.definition == con.definition
                and (target.validated or not con.validated)
            )
            if not keep:
                steps.append(
                    Step(
                        key=new.key,
                        action="alter",
                        sql=f"ALTER DOMAIN {ref} DROP CONSTRAINT {ident(con.name)}",
                    )
                )
        for con in new.constraints:
            prior = before.get(con.name)
            if prior is not None and prior.definition == con.definition:
                kept = prior.validated == con.validated or con.validated
                if kept and prior.comment != con.comment:
                    steps.append(_comment_step(new, con, "alter"))
                if prior.validated == con.validated:
                    continue
                if con.validated:
                    steps.append(self._validate(new, con, ctx))
                    continue
                # valid -> NOT VALID: dropped above, added again below without validation
                # (and its comment with it, set again below)
            # Added NOT VALID (no scan under lock), then validated when the model wants it.
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER DOMAIN {ref} ADD {_check_sql(con)} NOT VALID",
                )
            )
            if con.validated:
                steps.append(self._validate(new, con, ctx))
            if con.comment:  # a constraint added again starts without one
                steps.append(_comment_step(new, con, "alter"))
        if new.not_null and not old.not_null:
            hazards = (
                ctx.hazard(
                    HazardCode.FULL_SCAN_UNDER_LOCK,
                    Severity.MEDIUM,
                    f"SET NOT NULL on {new.key.display} scans every column that uses it",
                ),
                ctx.hazard(
                    HazardCode.BACKWARD_INCOMPATIBLE,
                    Severity.MEDIUM,
                    f"writes of NULL through {new.key.display} start failing",
                ),
            )
            # PostgreSQL 17+ names it: ADD CONSTRAINT ... NOT NULL does the same, named
            sql = (
                f"ALTER DOMAIN {ref} ADD CONSTRAINT {ident(new.not_null_name)} NOT NULL"
                if new.not_null_name
                else f"ALTER DOMAIN {ref} SET NOT NULL"
            )
            steps.append(Step(key=new.key, action="alter", sql=sql, lock="SHARE", hazards=hazards))
        # the NOT NULL constraint's comment (17+): a new constraint starts without one, a
        # renamed one keeps its own
        had = old.not_null_comment if old.not_null else None
        if new.not_null and new.not_null_comment != had:
            steps.append(
                _constraint_comment_step(
                    new, new.not_null_constraint, new.not_null_comment, "alter"
                )
            )
        return steps

    def _validate(self, new: DomainType, con: DomainConstraint, ctx: PlanContext) -> Step:
        hazard = ctx.hazard(
            HazardCode.FULL_SCAN_UNDER_LOCK,
            Severity.MEDIUM,
            f"VALIDATE CONSTRAINT {con.name} scans every column that uses {new.key.display}",
        )
        return Step(
            key=new.key,
            action="alter",
            sql=f"ALTER DOMAIN {_type_ref(new)} VALIDATE CONSTRAINT {ident(con.name)}",
            lock="SHARE",
            hazards=(hazard, validated_alone(con.name)),
            # Its own transaction: the scan must not keep the ADD's locks on the domain.
            transactional=False,
        )

    def ref(self, obj: DomainType) -> str:
        # COMMENT ON DOMAIN, ALTER DOMAIN ... OWNER TO and GRANT USAGE ON DOMAIN all exist.
        return f"DOMAIN {_type_ref(obj)}"


# -------------------------------------------------------------------------------------- ranges


@register
class RangeHandler(Handler[RangeType]):
    kind = "range"
    model = RangeType

    def create(self, obj: RangeType, ctx: PlanContext) -> list[Step]:
        opts = [f"SUBTYPE = {obj.subtype}"]
        if obj.subtype_opclass:
            opts.append(f"SUBTYPE_OPCLASS = {obj.subtype_opclass}")
        if obj.collation:
            opts.append(f"COLLATION = {obj.collation}")
        if obj.canonical:
            opts.append(f"CANONICAL = {obj.canonical}")
        if obj.subtype_diff:
            opts.append(f"SUBTYPE_DIFF = {obj.subtype_diff}")
        if obj.multirange:
            opts.append(f"MULTIRANGE_TYPE_NAME = {obj.multirange}")
        sql = f"CREATE TYPE {_type_ref(obj)} AS RANGE ({', '.join(opts)})"
        return [Step(key=obj.key, action="create", sql=sql)]

    def drop(self, obj: RangeType, ctx: PlanContext) -> list[Step]:
        hazards = _drop_hazards(f"type {obj.key.display}", obj.key, ctx)
        return [
            Step(key=obj.key, action="drop", sql=f"DROP TYPE {_type_ref(obj)}", hazards=hazards)
        ]

    # No ALTER changes a range's definition: alter() stays None (drop and create).

    def ref(self, obj: RangeType) -> str:
        return f"TYPE {_type_ref(obj)}"


# ---------------------------------------------------------------------------------- collations


@register
class CollationHandler(Handler[Collation]):
    kind = "collation"
    model = Collation

    def create(self, obj: Collation, ctx: PlanContext) -> list[Step]:
        opts = [f"PROVIDER = {obj.provider}"]
        if obj.provider == "libc":
            opts.append(f"LC_COLLATE = {literal(obj.lc_collate)}")
            opts.append(f"LC_CTYPE = {literal(obj.lc_ctype)}")
        else:
            # PG 14 keeps an ICU locale in collcollate; 15+ in colliculocale / colllocale.
            opts.append(f"LOCALE = {literal(obj.locale or obj.lc_collate)}")
        if not obj.deterministic:
            opts.append("DETERMINISTIC = false")
        if obj.icu_rules is not None:
            opts.append(f"RULES = {literal(obj.icu_rules)}")
        sql = f"CREATE COLLATION {_type_ref(obj)} ({', '.join(opts)})"
        return [Step(key=obj.key, action="create", sql=sql)]

    def drop(self, obj: Collation, ctx: PlanContext) -> list[Step]:
        hazard = ctx.hazard(
            HazardCode.BACKWARD_INCOMPATIBLE,
            Severity.MEDIUM,
            f"drops collation {obj.key.display}; queries that name it break",
        )
        return [
            Step(
                key=obj.key,
                action="drop",
                sql=f"DROP COLLATION {_type_ref(obj)}",
                hazards=(hazard,),
            )
        ]

    # Collations have no ALTER for their definition (only REFRESH VERSION): recreate.

    def ref(self, obj: Collation) -> str:
        return f"COLLATION {_type_ref(obj)}"
