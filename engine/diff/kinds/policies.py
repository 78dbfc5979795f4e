"""Row-level security policies: CREATE / DROP / ALTER POLICY."""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Action, Handler, Step, register
from engine.model.policies import Policy
from engine.plan.model import Hazard, HazardCode, Severity
from engine.sqltext import ident, qualname


def _roles(roles: tuple[str, ...]) -> str:
    return ", ".join("PUBLIC" if r == "PUBLIC" else ident(r) for r in roles)


def _on(obj: Policy) -> str:
    return f"{ident(obj.name)} ON {qualname(obj.schema_, obj.table)}"


@register
class PolicyHandler(Handler[Policy]):
    kind = "policy"
    model = Policy
    # A policy's expressions name columns: a retyped column means re-creating the policy.
    rebuilt_on_column_change = True

    def create(self, obj: Policy, ctx: PlanContext) -> list[Step]:
        sql = f"CREATE POLICY {_on(obj)}"
        if not obj.permissive:
            sql += " AS RESTRICTIVE"
        if obj.command != "ALL":
            sql += f" FOR {obj.command}"
        if obj.roles != ("PUBLIC",):
            sql += f" TO {_roles(obj.roles)}"
        if obj.using is not None:
            sql += f" USING ({obj.using})"
        if obj.with_check is not None:
            sql += f" WITH CHECK ({obj.with_check})"
        return [self._step(obj, "create", sql, f"creates policy {obj.name}", ctx)]

    def drop(self, obj: Policy, ctx: PlanContext) -> list[Step]:
        # With RLS on, dropping a permissive policy can deny every row; a restrictive one,
        # expose rows it used to hide: either way access changes at once.
        severity = Severity.HIGH if obj.table_rls else Severity.MEDIUM
        what = f"drops policy {obj.name}" + (
            " from a table with RLS enabled" if obj.table_rls else ""
        )
        return [self._step(obj, "drop", f"DROP POLICY {_on(obj)}", what, ctx, severity)]

    def alter(self, old: Policy, new: Policy, ctx: PlanContext) -> list[Step] | None:
        # ALTER POLICY cannot change the command or AS clause, nor remove USING / WITH CHECK.
        if old.command != new.command or old.permissive != new.permissive:
            return None
        if (old.using is not None and new.using is None) or (
            old.with_check is not None and new.with_check is None
        ):
            return None
        clauses: list[str] = []
        if old.roles != new.roles:
            clauses.append(f"TO {_roles(new.roles)}")
        if old.using != new.using:
            clauses.append(f"USING ({new.using})")
        if old.with_check != new.with_check:
            clauses.append(f"WITH CHECK ({new.with_check})")
        if not clauses:
            return []
        sql = f"ALTER POLICY {_on(new)} " + " ".join(clauses)
        return [self._step(new, "alter", sql, f"changes policy {new.name}", ctx)]

    def ref(self, obj: Policy) -> str:
        return f"POLICY {_on(obj)}"

    def _step(
        self,
        obj: Policy,
        action: Action,
        sql: str,
        what: str,
        ctx: PlanContext,
        severity: Severity = Severity.MEDIUM,
    ) -> Step:
        hazard: Hazard = ctx.hazard(
            HazardCode.AUTHZ_CHANGE,
            severity,
            f"{what} on {qualname(obj.schema_, obj.table)}",
            table=(obj.schema_, obj.table),
        )
        # CREATE / ALTER / DROP POLICY take ACCESS EXCLUSIVE on the table, briefly.
        return Step(
            key=obj.key,
            action=action,
            sql=sql,
            lock="ACCESS EXCLUSIVE",
            hazards=(hazard,),
        )
