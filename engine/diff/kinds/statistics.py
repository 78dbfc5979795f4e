"""Extended statistics objects: CREATE from PostgreSQL's own definition, target in place."""

from __future__ import annotations

from engine.diff.context import PlanContext
from engine.diff.handler import Handler, Step, register
from engine.model.statistics import Statistics
from engine.sqltext import qualname


def _target_sql(obj: Statistics) -> str:
    # -1 means "the default" on every supported major (17 also spells it DEFAULT).
    target = -1 if obj.target is None else obj.target
    return f"ALTER STATISTICS {qualname(obj.schema_, obj.name)} SET STATISTICS {target}"


@register
class StatisticsHandler(Handler[Statistics]):
    kind = "statistics"
    model = Statistics

    def create(self, obj: Statistics, ctx: PlanContext) -> list[Step]:
        # Only catalog rows: the statistics are gathered by the next ANALYZE.
        steps = [
            Step(key=obj.key, action="create", sql=obj.definition, lock="SHARE UPDATE EXCLUSIVE")
        ]
        if obj.target is not None:
            steps.append(self._target_step(obj))
        return steps

    def drop(self, obj: Statistics, ctx: PlanContext) -> list[Step]:
        return [
            Step(
                key=obj.key,
                action="drop",
                sql=f"DROP STATISTICS {qualname(obj.schema_, obj.name)}",
                lock="SHARE UPDATE EXCLUSIVE",
            )
        ]

    def alter(self, old: Statistics, new: Statistics, ctx: PlanContext) -> list[Step] | None:
        if old.definition != new.definition:
            return None
        return [self._target_step(new)]

    def _target_step(self, obj: Statistics) -> Step:
        return Step(
            key=obj.key, action="alter", sql=_target_sql(obj), lock="SHARE UPDATE EXCLUSIVE"
        )

    def ref(self, obj: Statistics) -> str:
        return f"STATISTICS {qualname(obj.schema_, obj.name)}"
