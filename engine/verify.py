"""Verification: rebuild the current schema in a fresh shadow database, apply the plan there
exactly as apply will (same statements, same transaction grouping), inspect, and require the
result to equal the desired schema.

The current schema is rebuilt from its model by the planner itself (plan from an empty database
to current), so verification also proves that pg-flux can write every object it read.

On a large schema only the plan's scope is rebuilt (engine.verify_scope: what the plan changes,
what depends on that, what those need); should that verification fail, the whole current schema
is rebuilt and verification's verdict is that of the whole.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from engine.catalog import families_for_comparing, inspect_dsn
from engine.catalog.runner import analyze_catalogs
from engine.diff.context import PlanOptions
from engine.errors import PlanError
from engine.execute import execute_statements_in_shadow
from engine.model.base import ObjectKey
from engine.model.schema import OBJECT_FIELDS, Schema
from engine.plan.changes import compare_schemas
from engine.plan.model import Statement
from engine.plan.planner import plan_statements
from engine.roles import roles_in
from engine.shadow import Shadow, ShadowDatabase
from engine.verify_scope import VerificationScope, verification_scope

log = logging.getLogger("engine.verify")

MAX_REPORTED = 20

# Verification rebuilds only the plan's scope when the current schema has at least this many
# objects (~800 generated tables; below it a whole rebuild takes seconds and overlaps the load)
# and the scope is at most this share of them (a change to most of a schema gains nothing).
SCOPED_MIN_OBJECTS = 20_000
SCOPED_MAX_SHARE = 0.25


def object_count(schema: Schema) -> int:
    return sum(len(getattr(schema, field)) for field in OBJECT_FIELDS)


def prefers_scoped(current: Schema, options: PlanOptions) -> bool:
    """Should verification try the plan's scope first: is `current` large enough, and does the
    caller not ask for the whole schema (`PlanOptions.verify`)?"""
    return options.verify == "auto" and object_count(current) >= SCOPED_MIN_OBJECTS


def _order(key: ObjectKey) -> tuple[str, str, str, str, str]:
    return key.sort_key


def schema_differences(
    actual: Schema, expected: Schema, *, compare_owners: bool = True
) -> list[str]:
    """What differs, one line per object: `missing table public.t`, `extra ...`, `differs ...`.

    With `compare_owners` off an owner-only difference is none. Both schemas are walked side by
    side in key order (engine.plan.changes): keys are built only for what differs.
    """
    changes = compare_schemas(actual, expected, compare_owners)
    lines: list[str] = []
    for key in sorted(changes.added, key=_order):
        lines.append(f"missing {key}")
    for key in sorted(changes.removed, key=_order):
        lines.append(f"unexpected {key}")
    for key in sorted(changes.changed, key=_order):
        old, new = changes.changed[key]
        a, b = old.compared(), new.compared()
        if not compare_owners:
            a.pop("owner", None)
            b.pop("owner", None)
        if a != b:
            fields = sorted(f for f in a.keys() | b.keys() if a.get(f) != b.get(f))
            lines.append(f"differs {key}: {', '.join(fields)}")
    return lines


def _as_rebuildable(schema: Schema) -> Schema:
    """An INVALID index (a failed concurrent build) cannot be rebuilt as such in the shadow: the
    rebuild is compared with it as valid; the plan's own DROP + CREATE then runs on that copy."""
    if all(index.valid for index in schema.indexes):
        return schema
    rebuildable = schema.model_copy(
        update={
            "indexes": tuple(
                index if index.valid else index.model_copy(update={"valid": True})
                for index in schema.indexes
            )
        }
    )
    return rebuildable.mark_ordered() if schema.is_ordered else rebuildable


# The model of a fresh, empty scratch database: the same for every scratch database of one shadow
# (same server, same template), so it is inspected once per shadow and excluded schemas.
_BASELINES: weakref.WeakKeyDictionary[Shadow, dict[tuple[str, ...], Schema]] = (
    weakref.WeakKeyDictionary()
)
_BASELINES_LOCK = threading.Lock()


def empty_baseline(shadow: Shadow, scratch: ShadowDatabase, excluded: Sequence[str]) -> Schema:
    """The model of `scratch`, a database just created (still empty) in `shadow`."""
    key = tuple(excluded)
    with _BASELINES_LOCK:
        cached = _BASELINES.get(shadow, {}).get(key)
    if cached is not None:
        return cached
    baseline = inspect_dsn(scratch.admin_dsn, excluded_schemas=excluded)
    with _BASELINES_LOCK:
        _BASELINES.setdefault(shadow, {})[key] = baseline
    return baseline


@dataclass
class Rebuilt:
    """A scratch database holding the current schema, rebuilt from its model (or why not)."""

    scratch: ShadowDatabase
    problems: list[str]


def rebuild_current(
    shadow: Shadow,
    scratch: ShadowDatabase,
    current: Schema,
    options: PlanOptions,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
) -> Rebuilt:
    """Rebuild `current` in the empty `scratch` and check it reads back identically.

    Needs nothing of the desired schema, so it can run while the desired schema loads.
    """
    baseline = empty_baseline(shadow, scratch, excluded_schemas)
    rebuild = plan_statements(baseline, current, options)
    try:
        with psycopg.connect(scratch.dsn) as conn:
            # the same statements and transactions, fewer round trips: a throw-away database
            execute_statements_in_shadow(conn, rebuild)
    except psycopg.Error as exc:
        return Rebuilt(
            scratch, [f"could not rebuild the current schema in the shadow: {exc}".strip()]
        )
    analyze_catalogs(scratch.admin_dsn)
    rebuilt = inspect_dsn(
        scratch.admin_dsn, excluded_schemas=excluded_schemas, families=families_for_comparing()
    )
    gaps = schema_differences(
        rebuilt, _as_rebuildable(current), compare_owners=options.manage_ownership
    )
    if gaps:
        return Rebuilt(
            scratch,
            ["the current schema did not rebuild identically in the shadow:", *gaps[:MAX_REPORTED]],
        )
    return Rebuilt(scratch, [])


def verify_rebuilt(
    rebuilt: Rebuilt,
    desired: Schema,
    statements: Sequence[Statement],
    options: PlanOptions,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
) -> list[str]:
    """Apply the plan to the rebuilt current schema; problems, or [] when it verified."""
    if rebuilt.problems:
        return rebuilt.problems
    try:
        with psycopg.connect(rebuilt.scratch.dsn) as conn:
            # the same statements and transactions as apply, in fewer round trips; a failing
            # group runs again statement by statement, so the error is apply's own
            execute_statements_in_shadow(conn, statements)
    except psycopg.Error as exc:
        return [f"the plan failed in the shadow: {exc}".strip()]
    result = inspect_dsn(
        rebuilt.scratch.admin_dsn,
        excluded_schemas=excluded_schemas,
        families=families_for_comparing(),
    )
    differences = schema_differences(result, desired, compare_owners=options.manage_ownership)
    if differences:
        return ["after applying the plan the shadow still differs:", *differences[:MAX_REPORTED]]
    return []


@contextmanager
def rebuilding_current(
    shadow: Shadow,
    current: Schema,
    options: PlanOptions,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
) -> Iterator[Future[Rebuilt]]:
    """Rebuild `current` in a scratch database on a background thread (psycopg waits release the
    GIL), so that verification's rebuild overlaps the load of the desired schema. The scratch
    database lives until the block exits."""
    shadow.ensure_roles(roles_in(current))
    with shadow.database() as scratch, ThreadPoolExecutor(1, "pgflux-rebuild") as pool:
        future = pool.submit(
            rebuild_current, shadow, scratch, current, options, excluded_schemas=excluded_schemas
        )
        try:
            yield future
        finally:
            # never drop the scratch database under a running rebuild
            future.exception()


def verify_plan(
    shadow: Shadow,
    current: Schema,
    desired: Schema,
    statements: Sequence[Statement],
    options: PlanOptions,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
    rebuilt: Rebuilt | None = None,
    trace: list[str] | None = None,
) -> list[str]:
    """Problems found; an empty list means the plan verified.

    `rebuilt`: the current schema already rebuilt (see `rebuilding_current`); else it is
    rebuilt here, in a scratch database of its own: only the plan's scope when the schema is
    large (`prefers_scoped`) and the scope small, the whole schema otherwise or when the
    scope's verification fails. `trace` receives what was rebuilt: "scope N/M" (N of the
    current schema's M objects) and/or "whole".
    """
    trace = trace if trace is not None else []
    shadow.ensure_roles(roles_in(current) | roles_in(desired))
    if rebuilt is not None:
        trace.append("whole")
        return verify_rebuilt(
            rebuilt, desired, statements, options, excluded_schemas=excluded_schemas
        )
    if prefers_scoped(current, options) and _verified_on_scope(
        shadow, current, desired, statements, options, excluded_schemas, trace
    ):
        return []
    trace.append("whole")
    with shadow.database() as scratch:
        done = rebuild_current(shadow, scratch, current, options, excluded_schemas=excluded_schemas)
        return verify_rebuilt(done, desired, statements, options, excluded_schemas=excluded_schemas)


def _verified_on_scope(
    shadow: Shadow,
    current: Schema,
    desired: Schema,
    statements: Sequence[Statement],
    options: PlanOptions,
    excluded_schemas: Sequence[str],
    trace: list[str],
) -> bool:
    """Whether the plan verified on its scope (not tried when the scope is more than
    SCOPED_MAX_SHARE of the schema). False is no verdict: the caller verifies the whole."""
    scope = verification_scope(current, desired, manage_ownership=options.manage_ownership)
    if scope.size > SCOPED_MAX_SHARE * scope.current_size:
        return False
    trace.append(f"scope {scope.size}/{scope.current_size}")
    log.info(
        "verifying the plan on its scope: %d of the current schema's %d objects",
        scope.size,
        scope.current_size,
    )
    try:
        problems = verify_in_scope(
            shadow, scope, statements, options, excluded_schemas=excluded_schemas
        )
    except PlanError as exc:  # the part's own create plan (a gap in the scope, say)
        problems = [f"could not plan the rebuild of the scope: {exc}"]
    if not problems:
        return True
    # The scope is an optimisation: its failure may be a gap in the scope itself, so the
    # verdict is the whole schema's.
    log.warning(
        "verifying the plan's scope (%d of %d objects) failed, verifying against the whole "
        "current schema: %s",
        scope.size,
        scope.current_size,
        "; ".join(problems[:3]),
    )
    return False


def verify_in_scope(
    shadow: Shadow,
    scope: VerificationScope,
    statements: Sequence[Statement],
    options: PlanOptions,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
) -> list[str]:
    """Verify on the plan's scope alone: rebuild the current schema's part (and check it reads
    back identically), apply the plan, and compare with the desired schema's part (what the
    plan creates included). Problems, or [] when it verified."""
    part = scope.current
    shadow.ensure_roles(roles_in(part) | roles_in(scope.expected))
    with shadow.database() as scratch:
        rebuilt = rebuild_current(shadow, scratch, part, options, excluded_schemas=excluded_schemas)
        return verify_rebuilt(
            rebuilt,
            scope.expected,
            statements,
            options,
            excluded_schemas=excluded_schemas,
        )
