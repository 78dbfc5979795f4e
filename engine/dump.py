"""`pg-flux dump`: SQL DDL that recreates the live schema in an empty database.

The planner writes it: plan from the schema of a fresh, empty database (made in the shadow, so
it has the same `public` schema a real CREATE DATABASE gives) to the live schema. The same path
verification uses to rebuild production, so what dump prints is what pg-flux can write.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.diff.handler import Step
from engine.model.schema import Schema
from engine.plan.model import Statement
from engine.plan.planner import Planner, to_statements
from engine.roles import roles_in
from engine.shadow import Shadow


def empty_baseline(shadow: Shadow, *, excluded_schemas: Sequence[str]) -> Schema:
    """The schema of a brand-new database on the shadow server."""
    with shadow.database() as scratch:
        return inspect_dsn(scratch.admin_dsn, excluded_schemas=excluded_schemas)


def recreate_steps(
    live: Schema,
    shadow: Shadow,
    options: PlanOptions,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
) -> list[Step]:
    """The planner's ordered steps from an empty database to `live` (with what each requires:
    `pull` cuts files by it)."""
    shadow.ensure_roles(roles_in(live))
    baseline = empty_baseline(shadow, excluded_schemas=excluded_schemas)
    return Planner(baseline, live, options).steps()


def recreate_statements(
    live: Schema,
    shadow: Shadow,
    options: PlanOptions,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
) -> list[Statement]:
    steps = recreate_steps(live, shadow, options, excluded_schemas=excluded_schemas)
    return to_statements(steps, options)


def render_dump(statements: Sequence[Statement], *, header: str = "") -> str:
    lines = [f"-- {line}" for line in header.splitlines()]
    for statement in statements:
        lines.append(statement.sql.rstrip().rstrip(";") + ";")
    return "\n".join(lines) + "\n"
