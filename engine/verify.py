"""Verification: rebuild the current schema in a fresh shadow database, apply the plan there
exactly as apply will (same statements, same transaction grouping), inspect, and require the
result to equal the desired schema.

The current schema is rebuilt from its model by the planner itself (plan from an empty database
to current), so verification also proves that pg-flux can write every object it read.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.execute import execute_statements
from engine.model.base import ObjectKey
from engine.model.schema import Schema
from engine.plan.model import Statement
from engine.plan.planner import normalise_schema, plan_statements
from engine.roles import roles_in
from engine.shadow import Shadow

MAX_REPORTED = 20


def _order(key: ObjectKey) -> tuple[str, str, str, str, str]:
    return key.sort_key


def schema_differences(actual: Schema, expected: Schema) -> list[str]:
    """What differs, one line per object: `missing table public.t`, `extra ...`, `differs ...`."""
    have, want = actual.by_key(), expected.by_key()
    lines: list[str] = []
    for key in sorted(want.keys() - have.keys(), key=_order):
        lines.append(f"missing {key}")
    for key in sorted(have.keys() - want.keys(), key=_order):
        lines.append(f"unexpected {key}")
    for key in sorted(have.keys() & want.keys(), key=_order):
        a, b = have[key].compared(), want[key].compared()
        if a != b:
            fields = sorted(f for f in a.keys() | b.keys() if a.get(f) != b.get(f))
            lines.append(f"differs {key}: {', '.join(fields)}")
    return lines


def _as_rebuildable(schema: Schema) -> Schema:
    """An INVALID index (a failed concurrent build) cannot be rebuilt as such in the shadow: the
    rebuild is compared with it as valid; the plan's own DROP + CREATE then runs on that copy."""
    if all(index.valid for index in schema.indexes):
        return schema
    return schema.model_copy(
        update={
            "indexes": tuple(
                index if index.valid else index.model_copy(update={"valid": True})
                for index in schema.indexes
            )
        }
    )


def verify_plan(
    shadow: Shadow,
    current: Schema,
    desired: Schema,
    statements: Sequence[Statement],
    options: PlanOptions,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
) -> list[str]:
    """Problems found; an empty list means the plan verified."""
    shadow.ensure_roles(roles_in(current) | roles_in(desired))
    with shadow.database() as scratch:
        baseline = inspect_dsn(scratch.admin_dsn, excluded_schemas=excluded_schemas)
        rebuild = plan_statements(baseline, current, options)
        try:
            with psycopg.connect(scratch.dsn) as conn:
                execute_statements(conn, rebuild)
        except psycopg.Error as exc:
            return [f"could not rebuild the current schema in the shadow: {exc}".strip()]
        rebuilt = inspect_dsn(scratch.admin_dsn, excluded_schemas=excluded_schemas)
        gaps = schema_differences(
            normalise_schema(rebuilt, options),
            normalise_schema(_as_rebuildable(current), options),
        )
        if gaps:
            return [
                "the current schema did not rebuild identically in the shadow:",
                *gaps[:MAX_REPORTED],
            ]
        try:
            with psycopg.connect(scratch.dsn) as conn:
                execute_statements(conn, statements)
        except psycopg.Error as exc:
            return [f"the plan failed in the shadow: {exc}".strip()]
        result = inspect_dsn(scratch.admin_dsn, excluded_schemas=excluded_schemas)
    differences = schema_differences(
        normalise_schema(result, options), normalise_schema(desired, options)
    )
    if differences:
        return ["after applying the plan the shadow still differs:", *differences[:MAX_REPORTED]]
    return []
