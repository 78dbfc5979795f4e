"""Indexes: built concurrently on live tables, plainly on new ones; storage parameters and
expression columns' statistics targets in place.

The SQL always comes from what PostgreSQL printed for the desired index (pg_get_indexdef). A
plain build is that text as it is (`inspect` shows the same text as the index's definition).
The other forms are derived by parsing it with pglast and flipping flags on the IndexStmt
(`concurrent`, `relation.inh`), then deparsing: never by editing SQL text.
"""

from __future__ import annotations

from pglast import ast, parse_sql
from pglast.stream import RawStream

from engine.diff.context import PlanContext
from engine.diff.handler import Action, Handler, Step, register
from engine.model.base import ObjectKey
from engine.model.indexes import ColumnStatistics, Index
from engine.plan.model import Hazard, HazardCode, Severity
from engine.sqltext import ident, literal, qualname


def index_stmt(definition: str) -> ast.IndexStmt:
    """The parse tree of a pg_get_indexdef text."""
    stmt = parse_sql(definition)[0].stmt
    if not isinstance(stmt, ast.IndexStmt):
        raise ValueError(f"not an index definition: {definition}")
    return stmt


def index_sql(definition: str, *, concurrent: bool = False, only: bool | None = None) -> str:
    """`definition` as CREATE INDEX [CONCURRENTLY] ... ON [ONLY] ...

    only=None keeps what the definition says (pg_get_indexdef prints ON ONLY for an index on a
    partitioned table); False builds it on every partition too.
    """
    if not concurrent and only is None:
        # Nothing to change: pg_get_indexdef's text (schema-qualified, inspected under an empty
        # search_path) is the statement. A full create plan has tens of thousands of these,
        # and parsing and printing each cost ~0.1 ms.
        return definition
    stmt = index_stmt(definition)
    stmt.concurrent = concurrent
    if only is not None and stmt.relation is not None:
        stmt.relation.inh = not only
    return str(RawStream()(stmt))


def _options(stmt: ast.IndexStmt) -> dict[str, str]:
    """Storage parameters (WITH (...)) as name -> SQL value."""
    result: dict[str, str] = {}
    for option in stmt.options or ():
        arg = option.arg
        if isinstance(arg, ast.String):
            value = literal(arg.sval)
        elif arg is None:
            value = "true"
        else:
            value = str(RawStream()(arg))
        result[option.defname] = value
    return result


def _without_options(definition: str) -> str:
    stmt = index_stmt(definition)
    stmt.options = None
    return str(RawStream()(stmt))


def build_hazard(ctx: PlanContext, schema: str, table: str, what: str) -> Hazard:
    return ctx.hazard(
        HazardCode.INDEX_BUILD,
        Severity.MEDIUM,
        f"builds {what} concurrently: long, outside a transaction; a failure leaves an "
        "INVALID index that the next plan repairs",
        table=(schema, table),
    )


def _concurrent_build(
    key: ObjectKey, definition: str, ctx: PlanContext, schema: str, table: str, name: str
) -> Step:
    """CREATE INDEX CONCURRENTLY on a live table: outside a transaction, writes go on."""
    return Step(
        key=key,
        action="create",
        sql=index_sql(definition, concurrent=True),
        transactional=False,
        lock="SHARE UPDATE EXCLUSIVE",
        hazards=(build_hazard(ctx, schema, table, f"index {name}"),),
    )


@register
class IndexHandler(Handler[Index]):
    kind = "index"
    model = Index

    def _online(self, obj: Index, ctx: PlanContext) -> bool:
        return ctx.options.online and ctx.existed(obj.relation_key)

    def create(self, obj: Index, ctx: PlanContext) -> list[Step]:
        steps = self._build(obj, ctx)
        targets = statistics_sql(obj, ())
        if targets:  # a new index has the default targets
            steps.append(self._set_step(obj, targets, action="create"))
        return steps

    def _build(self, obj: Index, ctx: PlanContext) -> list[Step]:
        table = (obj.schema_, obj.table)
        online = self._online(obj, ctx)
        if obj.table_kind == "partitioned":
            return self._create_partitioned(obj, ctx, online=online)
        if online:
            return [_concurrent_build(obj.key, obj.definition, ctx, *table, obj.name)]
        hazards: tuple[Hazard, ...] = ()
        if ctx.existed(obj.relation_key):  # online forms switched off
            hazards = (
                ctx.hazard(
                    HazardCode.BLOCKS_WRITES,
                    Severity.MEDIUM,
                    f"CREATE INDEX {obj.name} blocks writes to {obj.table} while it builds",
                    table=table,
                ),
            )
        return [
            Step(
                key=obj.key,
                action="create",
                sql=index_sql(obj.definition),
                lock="SHARE",
                hazards=hazards,
            )
        ]

    def _create_partitioned(self, obj: Index, ctx: PlanContext, *, online: bool) -> list[Step]:
        """ON ONLY the parent, each partition's index by its own name, then ATTACH PARTITION.

        The partitions' index names are those of the desired catalog, so the result matches it
        (a cascading CREATE INDEX would name them itself). The parent's step waits for every
        partition to exist: a partition created after it would get an index of its own. Indexes
        of live partitions are built concurrently when online forms are on. Partitions that are
        themselves partitioned cannot be built that way: then the whole tree is built by one
        plain CREATE INDEX.
        """
        table = (obj.schema_, obj.table)
        live = {
            (p.schema_, p.table)
            for p in obj.partitions
            if ctx.existed(_table_key(p.schema_, p.table))
        }
        if not obj.partitions or any(p.partitioned for p in obj.partitions):
            hazards: tuple[Hazard, ...] = ()
            if live:  # rows to index under the lock
                hazards = (
                    ctx.hazard(
                        HazardCode.BLOCKS_WRITES,
                        Severity.MEDIUM,
                        f"CREATE INDEX {obj.name} blocks writes to {obj.table} and its "
                        "partitions while it builds",
                        table=table,
                    ),
                )
            return [
                Step(
                    key=obj.key,
                    action="create",
                    sql=index_sql(obj.definition, only=False),
                    lock="SHARE",
                    hazards=hazards,
                )
            ]
        steps = [
            Step(
                key=obj.key,
                action="create",
                sql=index_sql(obj.definition, only=True),
                lock="SHARE",
                requires=tuple(_table_key(p.schema_, p.table) for p in obj.partitions),
            )
        ]
        for part in obj.partitions:
            if (part.schema_, part.table) not in live:  # created by this plan: empty
                steps.append(
                    Step(key=obj.key, action="create", sql=index_sql(part.definition), lock="SHARE")
                )
            elif online:
                steps.append(
                    _concurrent_build(
                        obj.key, part.definition, ctx, part.schema_, part.table, part.name
                    )
                )
            else:
                steps.append(
                    Step(
                        key=obj.key,
                        action="create",
                        sql=index_sql(part.definition),
                        lock="SHARE",
                        hazards=(
                            ctx.hazard(
                                HazardCode.BLOCKS_WRITES,
                                Severity.MEDIUM,
                                f"CREATE INDEX {part.name} blocks writes to {part.table} "
                                "while it builds",
                                table=(part.schema_, part.table),
                            ),
                        ),
                    )
                )
            steps.append(
                Step(
                    key=obj.key,
                    action="create",
                    sql=(
                        f"ALTER INDEX {qualname(obj.schema_, obj.name)} "
                        f"ATTACH PARTITION {qualname(part.schema_, part.name)}"
                    ),
                    lock="SHARE UPDATE EXCLUSIVE",
                )
            )
        return steps

    def drop(self, obj: Index, ctx: PlanContext) -> list[Step]:
        rel = obj.relation_key
        if rel not in ctx.desired_objects or rel in ctx.rebuilt:
            return []  # DROP of its table or materialized view takes it along
        hazards: tuple[Hazard, ...] = ()
        if obj.valid:  # an INVALID index serves no query: dropping it loses nothing
            hazards = (
                ctx.hazard(
                    HazardCode.INDEX_DROPPED,
                    Severity.MEDIUM,
                    f"drops index {obj.name}; queries that relied on it get slower",
                    table=(obj.schema_, obj.table),
                ),
            )
        name = qualname(obj.schema_, obj.name)
        # DROP INDEX CONCURRENTLY does not support partitioned indexes.
        if self._online(obj, ctx) and obj.table_kind != "partitioned":
            return [
                Step(
                    key=obj.key,
                    action="drop",
                    sql=f"DROP INDEX CONCURRENTLY {name}",
                    transactional=False,
                    lock="SHARE UPDATE EXCLUSIVE",
                    hazards=hazards,
                )
            ]
        return [Step(key=obj.key, action="drop", sql=f"DROP INDEX {name}", hazards=hazards)]

    def alter(self, old: Index, new: Index, ctx: PlanContext) -> list[Step] | None:
        """Storage parameters (not a partitioned index's) and statistics targets change in
        place; anything else (or an INVALID index) rebuilds."""
        if (
            not old.valid
            or old.table_kind != new.table_kind
            or old.table != new.table
            or (new.table_kind == "partitioned" and old.definition != new.definition)
            or _without_options(old.definition) != _without_options(new.definition)
        ):
            return None
        before, after = _options(index_stmt(old.definition)), _options(index_stmt(new.definition))
        name = qualname(new.schema_, new.name)
        steps: list[Step] = []
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if changed:
            pairs = ", ".join(f"{ident(k)} = {v}" for k, v in sorted(changed.items()))
            steps.append(self._set_step(new, f"ALTER INDEX {name} SET ({pairs})"))
        removed = sorted(set(before) - set(after))
        if removed:
            names = ", ".join(ident(k) for k in removed)
            steps.append(self._set_step(new, f"ALTER INDEX {name} RESET ({names})"))
        targets = statistics_sql(new, old.statistics)
        if targets:
            steps.append(self._set_step(new, targets))
        return steps

    def _set_step(self, obj: Index, sql: str, *, action: Action = "alter") -> Step:
        # Storage parameters apply to pages written from now on, statistics targets to the next
        # ANALYZE; nothing is rebuilt.
        return Step(key=obj.key, action=action, sql=sql, lock="SHARE UPDATE EXCLUSIVE")

    def ref(self, obj: Index) -> str:
        return f"INDEX {qualname(obj.schema_, obj.name)}"


def statistics_sql(index: Index, before: tuple[ColumnStatistics, ...]) -> str | None:
    """The ALTER INDEX that takes `index`'s expression columns from the statistics targets
    `before` to its own (-1: the default), or None when they are the same."""
    old = {s.position: s.target for s in before}
    new = {s.position: s.target for s in index.statistics}
    clauses = [
        f"ALTER COLUMN {position} SET STATISTICS {new.get(position, -1)}"
        for position in sorted(old.keys() | new.keys())
        if old.get(position, -1) != new.get(position, -1)
    ]
    if not clauses:
        return None
    return f"ALTER INDEX {qualname(index.schema_, index.name)} " + ", ".join(clauses)


def _table_key(schema: str, table: str) -> ObjectKey:
    return ObjectKey(kind="table", schema_=schema, name=table)
