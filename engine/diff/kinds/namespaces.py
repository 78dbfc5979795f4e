"""Schemas and extensions."""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step, register
from engine.model.namespaces import Extension, Namespace
from engine.plan.model import HazardCode, Severity
from engine.sqltext import ident, literal


@register
class SchemaHandler(Handler[Namespace]):
    kind = "schema"
    model = Namespace

    def create(self, obj: Namespace, ctx: PlanContext) -> list[Step]:
        return [Step(key=obj.key, action="create", sql=f"CREATE SCHEMA {ident(obj.name)}")]

    def drop(self, obj: Namespace, ctx: PlanContext) -> list[Step]:
        hazard = ctx.hazard(
            HazardCode.DATA_LOSS, Severity.HIGH, f"drops schema {obj.name} and anything left in it"
        )
        return [
            Step(
                key=obj.key,
                action="drop",
                sql=f"DROP SCHEMA {ident(obj.name)}",
                hazards=(hazard,),
            )
        ]

    def ref(self, obj: Namespace) -> str:
        return f"SCHEMA {ident(obj.name)}"


@register
class ExtensionHandler(Handler[Extension]):
    kind = "extension"
    model = Extension

    def create(self, obj: Extension, ctx: PlanContext) -> list[Step]:
        sql = (
            f"CREATE EXTENSION IF NOT EXISTS {ident(obj.name)} "
            f"WITH SCHEMA {ident(obj.schema_)} VERSION {literal(obj.version)}"
        )
        hazard = ctx.hazard(
            HazardCode.EXTENSION_CHANGE, Severity.MEDIUM, f"installs extension {obj.name}"
        )
        return [Step(key=obj.key, action="create", sql=sql, hazards=(hazard,))]

    def drop(self, obj: Extension, ctx: PlanContext) -> list[Step]:
        hazard = ctx.hazard(
            HazardCode.EXTENSION_CHANGE,
            Severity.HIGH,
            f"drops extension {obj.name} and the objects it owns",
        )
        return [
            Step(
                key=obj.key,
                action="drop",
                sql=f"DROP EXTENSION {ident(obj.name)}",
                hazards=(hazard,),
            )
        ]

    def alter(self, old: Extension, new: Extension, ctx: PlanContext) -> list[Step] | None:
        steps: list[Step] = []
        if old.version != new.version:
            hazard = ctx.hazard(
                HazardCode.EXTENSION_CHANGE,
                Severity.MEDIUM,
                f"upgrades extension {new.name} from {old.version} to {new.version}",
            )
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER EXTENSION {ident(new.name)} UPDATE TO {literal(new.version)}",
                    hazards=(hazard,),
                )
            )
        if old.schema_ != new.schema_:
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"ALTER EXTENSION {ident(new.name)} SET SCHEMA {ident(new.schema_)}",
                )
            )
        return steps

    def ref(self, obj: Extension) -> str:
        return f"EXTENSION {ident(obj.name)}"
