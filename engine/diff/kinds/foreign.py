"""Foreign data wrappers, foreign servers and user mappings."""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Action, Handler, Step, register
from engine.model.foreign import ForeignDataWrapper, ForeignServer, Option, UserMapping
from engine.plan.model import HazardCode, Severity
from engine.sqltext import ident, literal


def _value(option: Option) -> str:
    return literal(option.value if option.value is not None else "")


def options_clause(options: tuple[Option, ...]) -> str:
    """` OPTIONS (a '1', b '2')` for CREATE, or nothing."""
    if not options:
        return ""
    return " OPTIONS (" + ", ".join(f"{ident(o.name)} {_value(o)}" for o in options) + ")"


def options_change(before: tuple[Option, ...], after: tuple[Option, ...]) -> str | None:
    """`OPTIONS (ADD a '1', SET b '2', DROP c)` turning `before` into `after`, None if equal."""
    old = {o.name: o for o in before}
    new = {o.name: o for o in after}
    parts: list[str] = []
    for name in sorted(old.keys() - new.keys()):
        parts.append(f"DROP {ident(name)}")
    for name in sorted(new):
        if name not in old:
            parts.append(f"ADD {ident(name)} {_value(new[name])}")
        elif old[name] != new[name]:
            parts.append(f"SET {ident(name)} {_value(new[name])}")
    return "OPTIONS (" + ", ".join(parts) + ")" if parts else None


def _user(name: str) -> str:
    return "PUBLIC" if name == "PUBLIC" else ident(name)


@register
class ForeignDataWrapperHandler(Handler[ForeignDataWrapper]):
    kind = "fdw"
    model = ForeignDataWrapper

    def create(self, obj: ForeignDataWrapper, ctx: PlanContext) -> list[Step]:
        sql = f"CREATE FOREIGN DATA WRAPPER {ident(obj.name)}"
        if obj.handler is not None:
            sql += f" HANDLER {obj.handler}"
        if obj.validator is not None:
            sql += f" VALIDATOR {obj.validator}"
        sql += options_clause(obj.options)
        return [Step(key=obj.key, action="create", sql=sql, lock="NONE")]

    def drop(self, obj: ForeignDataWrapper, ctx: PlanContext) -> list[Step]:
        hazard = ctx.hazard(
            HazardCode.BACKWARD_INCOMPATIBLE,
            Severity.MEDIUM,
            f"drops foreign data wrapper {obj.name}",
        )
        sql = f"DROP FOREIGN DATA WRAPPER {ident(obj.name)}"
        return [Step(key=obj.key, action="drop", sql=sql, lock="NONE", hazards=(hazard,))]

    def alter(
        self, old: ForeignDataWrapper, new: ForeignDataWrapper, ctx: PlanContext
    ) -> list[Step]:
        clauses: list[str] = []
        # Handler and validator are already schema-qualified and quoted by the catalog query.
        if old.handler != new.handler:
            clauses.append("NO HANDLER" if new.handler is None else f"HANDLER {new.handler}")
        if old.validator != new.validator:
            clauses.append(
                "NO VALIDATOR" if new.validator is None else f"VALIDATOR {new.validator}"
            )
        change = options_change(old.options, new.options)
        if change is not None:
            clauses.append(change)
        if not clauses:
            return []
        sql = f"ALTER FOREIGN DATA WRAPPER {ident(new.name)} " + " ".join(clauses)
        return [Step(key=new.key, action="alter", sql=sql, lock="NONE")]

    def ref(self, obj: ForeignDataWrapper) -> str:
        return f"FOREIGN DATA WRAPPER {ident(obj.name)}"


@register
class ForeignServerHandler(Handler[ForeignServer]):
    kind = "server"
    model = ForeignServer

    def create(self, obj: ForeignServer, ctx: PlanContext) -> list[Step]:
        sql = f"CREATE SERVER {ident(obj.name)}"
        if obj.type is not None:
            sql += f" TYPE {literal(obj.type)}"
        if obj.version is not None:
            sql += f" VERSION {literal(obj.version)}"
        sql += f" FOREIGN DATA WRAPPER {ident(obj.fdw)}" + options_clause(obj.options)
        return [Step(key=obj.key, action="create", sql=sql, lock="NONE")]

    def drop(self, obj: ForeignServer, ctx: PlanContext) -> list[Step]:
        # Foreign tables and user mappings on it are dropped (or rebuilt) before it by the planner.
        hazard = ctx.hazard(
            HazardCode.BACKWARD_INCOMPATIBLE,
            Severity.MEDIUM,
            f"drops foreign server {obj.name}: queries through it fail",
        )
        sql = f"DROP SERVER {ident(obj.name)}"
        return [Step(key=obj.key, action="drop", sql=sql, lock="NONE", hazards=(hazard,))]

    def alter(self, old: ForeignServer, new: ForeignServer, ctx: PlanContext) -> list[Step] | None:
        # There is no ALTER SERVER ... TYPE or ... FOREIGN DATA WRAPPER.
        if old.fdw != new.fdw or old.type != new.type:
            return None
        if old.version is not None and new.version is None:
            return None  # VERSION cannot be unset, only replaced
        clauses: list[str] = []
        if old.version != new.version:
            clauses.append(f"VERSION {literal(new.version)}")
        change = options_change(old.options, new.options)
        if change is not None:
            clauses.append(change)
        if not clauses:
            return []
        sql = f"ALTER SERVER {ident(new.name)} " + " ".join(clauses)
        return [Step(key=new.key, action="alter", sql=sql, lock="NONE")]

    def ref(self, obj: ForeignServer) -> str:
        # GRANT spells it FOREIGN SERVER: engine.diff.generic.grant_target translates.
        return f"SERVER {ident(obj.name)}"


@register
class UserMappingHandler(Handler[UserMapping]):
    """User mappings, without their password (never read, so never written: see the model)."""

    kind = "user_mapping"
    model = UserMapping

    def create(self, obj: UserMapping, ctx: PlanContext) -> list[Step]:
        sql = (
            f"CREATE USER MAPPING FOR {_user(obj.user)} SERVER {ident(obj.server)}"
            + options_clause(obj.options or ())
        )
        return [self._step(obj, "create", sql, "creates", Severity.LOW, ctx)]

    def drop(self, obj: UserMapping, ctx: PlanContext) -> list[Step]:
        sql = f"DROP USER MAPPING FOR {_user(obj.user)} SERVER {ident(obj.server)}"
        return [self._step(obj, "drop", sql, "drops", Severity.MEDIUM, ctx)]

    def alter(self, old: UserMapping, new: UserMapping, ctx: PlanContext) -> list[Step]:
        if old.options is None or new.options is None:
            return []  # options we may not see cannot be diffed
        change = options_change(old.options, new.options)
        if change is None:
            return []
        sql = f"ALTER USER MAPPING FOR {_user(new.user)} SERVER {ident(new.server)} {change}"
        return [self._step(new, "alter", sql, "changes", Severity.LOW, ctx)]

    def _step(
        self,
        obj: UserMapping,
        action: Action,
        sql: str,
        verb: str,
        severity: Severity,
        ctx: PlanContext,
    ) -> Step:
        # A mapping decides which remote identity a local role acts as: an authorization change.
        hazard = ctx.hazard(
            HazardCode.AUTHZ_CHANGE,
            severity,
            f"{verb} the user mapping for {obj.user} on server {obj.server}",
        )
        return Step(key=obj.key, action=action, sql=sql, lock="NONE", hazards=(hazard,))
