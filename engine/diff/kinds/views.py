"""Views and materialized views.

A view's definition changes in place with CREATE OR REPLACE VIEW when PostgreSQL allows it: the
new output columns must start with the old ones, same names, types and collations (compared
here from the catalog; anything subtler, verification in the shadow catches). Otherwise the
view is dropped and created again, and the planner rebuilds whatever depends on it. A
materialized view cannot be replaced: any change of its query recreates it and repopulates it.
"""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step, register
from engine.model.views import MaterializedView, View, ViewColumn
from engine.plan.model import Hazard, HazardCode, Severity
from engine.sqltext import ident, literal, qualname

Relation = View | MaterializedView


def _shape(columns: tuple[ViewColumn, ...]) -> tuple[tuple[str, str, str | None], ...]:
    return tuple(c.shape for c in columns)


def _column_comments(obj: Relation, before: tuple[ViewColumn, ...] = ()) -> list[Step]:
    """COMMENT ON COLUMN for every column whose comment differs from `before`."""
    old = {c.name: c.comment for c in before}
    steps = []
    for column in obj.columns:
        if column.comment != old.get(column.name):
            target = f"{qualname(obj.schema_, obj.name)}.{ident(column.name)}"
            steps.append(
                Step(
                    key=obj.key,
                    action="alter",
                    sql=f"COMMENT ON COLUMN {target} IS {literal(column.comment)}",
                    lock="SHARE UPDATE EXCLUSIVE",
                )
            )
    return steps


def _with(options: dict[str, str]) -> str:
    if not options:
        return ""
    return " WITH (" + ", ".join(f"{k}={v}" for k, v in sorted(options.items())) + ")"


def _view_sql(view: View, *, replace: bool) -> str:
    verb = "CREATE OR REPLACE VIEW" if replace else "CREATE VIEW"
    return (
        f"{verb} {qualname(view.schema_, view.name)}{_with(view.options())} AS\n{view.definition}"
    )


@register
class ViewHandler(Handler[View]):
    kind = "view"
    model = View
    rebuilt_on_column_change = True

    def create(self, obj: View, ctx: PlanContext) -> list[Step]:
        create = Step(key=obj.key, action="create", sql=_view_sql(obj, replace=False))
        return [create, *_column_comments(obj)]

    def drop(self, obj: View, ctx: PlanContext) -> list[Step]:
        desired = ctx.desired_objects.get(obj.key)
        hazards: tuple[Hazard, ...] = ()
        if not isinstance(desired, View):
            hazards = (
                ctx.hazard(
                    HazardCode.BACKWARD_INCOMPATIBLE,
                    Severity.MEDIUM,
                    f"drops view {obj.key.display}; queries that read it fail",
                ),
            )
        elif not {c.name for c in obj.columns} <= {c.name for c in desired.columns}:
            # Recreated without some of its columns: readers of those columns break.
            gone = sorted({c.name for c in obj.columns} - {c.name for c in desired.columns})
            hazards = (
                ctx.hazard(
                    HazardCode.BACKWARD_INCOMPATIBLE,
                    Severity.MEDIUM,
                    f"recreates view {obj.key.display} without column(s) {', '.join(gone)}",
                ),
            )
        sql = f"DROP VIEW {qualname(obj.schema_, obj.name)}"
        return [Step(key=obj.key, action="drop", sql=sql, hazards=hazards)]

    def alter(self, old: View, new: View, ctx: PlanContext) -> list[Step] | None:
        comments = _column_comments(new, old.columns)
        old_shape, new_shape = _shape(old.columns), _shape(new.columns)
        if old.definition != new.definition or old_shape != new_shape:
            if new_shape[: len(old_shape)] != old_shape:
                return None  # a column removed, renamed, retyped or moved: drop and create
            # CREATE OR REPLACE sets the options too, and keeps the existing columns' comments.
            return [Step(key=new.key, action="alter", sql=_view_sql(new, replace=True)), *comments]
        before, after = old.options(), new.options()
        steps: list[Step] = comments
        name = qualname(new.schema_, new.name)
        reset = sorted(set(before) - set(after))
        if reset:
            steps.append(
                Step(
                    key=new.key, action="alter", sql=f"ALTER VIEW {name} RESET ({', '.join(reset)})"
                )
            )
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if changed:
            pairs = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
            sql = f"ALTER VIEW {name} SET ({pairs})"
            steps.append(Step(key=new.key, action="alter", sql=sql))
        return steps

    def ref(self, obj: View) -> str:
        return f"VIEW {qualname(obj.schema_, obj.name)}"


@register
class MaterializedViewHandler(Handler[MaterializedView]):
    kind = "matview"
    model = MaterializedView
    rebuilt_on_column_change = True

    def create(self, obj: MaterializedView, ctx: PlanContext) -> list[Step]:
        storage = f" WITH ({', '.join(obj.storage)})" if obj.storage else ""
        data = "WITH DATA" if obj.populated else "WITH NO DATA"
        sql = (
            f"CREATE MATERIALIZED VIEW {qualname(obj.schema_, obj.name)}{storage} AS\n"
            f"{obj.definition}\n{data}"
        )
        return [Step(key=obj.key, action="create", sql=sql), *_column_comments(obj)]

    def drop(self, obj: MaterializedView, ctx: PlanContext) -> list[Step]:
        name = obj.key.display
        if obj.key in ctx.desired_objects:
            # The data is derived: nothing is lost, but it is unavailable until repopulated.
            hazard = ctx.hazard(
                HazardCode.BLOCKS_READS_WRITES,
                Severity.MEDIUM,
                f"drops and recreates materialized view {name}; readers wait while it "
                "repopulates (and its indexes are rebuilt)",
            )
        else:
            hazard = ctx.hazard(
                HazardCode.BACKWARD_INCOMPATIBLE,
                Severity.MEDIUM,
                f"drops materialized view {name}; queries that read it fail",
            )
        sql = f"DROP MATERIALIZED VIEW {qualname(obj.schema_, obj.name)}"
        return [Step(key=obj.key, action="drop", sql=sql, hazards=(hazard,))]

    def alter(
        self, old: MaterializedView, new: MaterializedView, ctx: PlanContext
    ) -> list[Step] | None:
        if old.definition != new.definition or _shape(old.columns) != _shape(new.columns):
            return None
        name = qualname(new.schema_, new.name)
        steps: list[Step] = _column_comments(new, old.columns)
        before = dict(o.split("=", 1) for o in old.storage)
        after = dict(o.split("=", 1) for o in new.storage)
        reset = sorted(set(before) - set(after))
        if reset:
            sql = f"ALTER MATERIALIZED VIEW {name} RESET ({', '.join(reset)})"
            steps.append(Step(key=new.key, action="alter", sql=sql))
        changed = sorted(f"{k}={v}" for k, v in after.items() if before.get(k) != v)
        if changed:
            sql = f"ALTER MATERIALIZED VIEW {name} SET ({', '.join(changed)})"
            steps.append(Step(key=new.key, action="alter", sql=sql))
        if old.populated != new.populated:
            data = "" if new.populated else " WITH NO DATA"
            what = "fills" if new.populated else "empties"
            hazard = ctx.hazard(
                HazardCode.BLOCKS_READS_WRITES,
                Severity.MEDIUM,
                f"REFRESH {what} materialized view {new.key.display} under ACCESS EXCLUSIVE",
            )
            steps.append(
                Step(
                    key=new.key,
                    action="alter",
                    sql=f"REFRESH MATERIALIZED VIEW {name}{data}",
                    hazards=(hazard,),
                )
            )
        return steps

    def ref(self, obj: MaterializedView) -> str:
        return f"MATERIALIZED VIEW {qualname(obj.schema_, obj.name)}"
