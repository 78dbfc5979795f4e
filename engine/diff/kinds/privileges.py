"""Default privileges: ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s] GRANT / REVOKE."""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.generic import acl_steps
from engine.diff.handler import Action, Handler, Step, register
from engine.model.base import Privilege
from engine.model.privileges import DefaultPrivilege
from engine.sqltext import ident


def _prefix(obj: DefaultPrivilege) -> str:
    text = f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(obj.role)} "
    if obj.in_schema is not None:
        text += f"IN SCHEMA {ident(obj.in_schema)} "
    return text


def _steps(
    obj: DefaultPrivilege,
    before: tuple[Privilege, ...],
    after: tuple[Privilege, ...],
    ctx: PlanContext,
    action: Action,
) -> list[Step]:
    steps = acl_steps(obj.key, obj.object_type.upper(), before, after, ctx, prefix=_prefix(obj))
    # Touches no relation: only pg_default_acl. The first step of a new entry is its "create".
    return [s.model_copy(update={"action": action}) for s in steps]


@register
class DefaultPrivilegeHandler(Handler[DefaultPrivilege]):
    """An absent entry means `baseline` (the hard-wired default, or nothing IN SCHEMA):
    creating an entry grants and revokes from there, dropping one returns to it, after which
    PostgreSQL removes the entry itself."""

    kind = "default_privilege"
    model = DefaultPrivilege

    def create(self, obj: DefaultPrivilege, ctx: PlanContext) -> list[Step]:
        return _steps(obj, obj.baseline, obj.acl, ctx, "create")

    def drop(self, obj: DefaultPrivilege, ctx: PlanContext) -> list[Step]:
        return _steps(obj, obj.acl, obj.baseline, ctx, "drop")

    def alter(
        self, old: DefaultPrivilege, new: DefaultPrivilege, ctx: PlanContext
    ) -> list[Step] | None:
        return _steps(new, old.acl, new.acl, ctx, "alter")
