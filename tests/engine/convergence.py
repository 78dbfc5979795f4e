"""The central property, as a helper: plan(A -> B) applied to A gives B, and re-planning is empty.

`pg_dump --schema-only` is the oracle: it knows nothing of our inspector. Write B with new
columns at the end of their table (column order is not a difference to pg-flux, but pg_dump
prints columns in their physical order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.execute import execute_statements
from engine.model.schema import Schema
from engine.plan.model import Statement
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from engine.verify import verify_in_scope, verify_plan
from engine.verify_scope import verification_scope
from tests.pgtools import pg_dump_schema

MakeDb = Callable[..., ShadowDatabase]


@dataclass
class Convergence:
    statements: list[Statement]
    current: Schema
    desired: Schema

    @property
    def sql(self) -> list[str]:
        return [s.sql for s in self.statements]

    @property
    def hazard_codes(self) -> set[str]:
        return {h.code.value for s in self.statements for h in s.hazards}

    def hazards_of(self, fragment: str) -> set[str]:
        """Hazard codes of the statements whose SQL contains `fragment`."""
        return {h.code.value for s in self.statements if fragment in s.sql for h in s.hazards}

    def expect(self, hazards: set[str] | None, statements: list[str] | None) -> None:
        """A table-driven case's expectations: the plan's hazard codes and its exact
        statements, in order (None: not checked)."""
        if hazards is not None:
            assert self.hazard_codes == hazards, f"hazards: {sorted(self.hazard_codes)}"
        if statements is not None:
            assert self.sql == statements, "statements:\n" + "\n".join(self.sql)


def load(dsn: str, sql: str) -> None:
    if not sql.strip():
        return
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.encode())


def assert_converges(
    make_db: MakeDb,
    before: str,
    after: str,
    *,
    options: PlanOptions | None = None,
    data: str = "",
) -> Convergence:
    """Load `before` (+ `data`) into A and `after` into B; plan A -> B, apply, compare dumps."""
    a, b = make_db(), make_db()
    load(a.admin_dsn, before)
    load(a.admin_dsn, data)
    load(b.admin_dsn, after)
    current = inspect_dsn(a.admin_dsn)
    desired = inspect_dsn(b.admin_dsn)
    statements = plan_statements(current, desired, options)
    # Verification on the plan's scope (what a large schema gets) must verify every plan the
    # whole verification verifies: a gap in the scope for some object kind shows here. (The
    # session's shadow loads as a non-superuser: event triggers and other roles' default
    # privileges fail there either way.)
    cluster = getattr(make_db, "cluster", None)
    if cluster is not None and statements:
        verifying = options or PlanOptions()
        scope = verification_scope(current, desired, manage_ownership=verifying.manage_ownership)
        problems = verify_in_scope(cluster, scope, statements, verifying)
        if problems:
            whole = verify_plan(cluster, current, desired, statements, verifying)
            assert whole, "only the verification on the plan's scope failed:\n" + "\n".join(
                problems
            )
    with psycopg.connect(a.admin_dsn) as conn:
        execute_statements(conn, statements)
    dump_a, dump_b = pg_dump_schema(a.admin_dsn), pg_dump_schema(b.admin_dsn)
    assert dump_a == dump_b, _dump_diff(dump_a, dump_b, statements)
    after_apply = inspect_dsn(a.admin_dsn)
    again = plan_statements(after_apply, desired, options)
    assert again == [], "re-planning after apply is not empty:\n" + "\n".join(s.sql for s in again)
    assert after_apply.fingerprint() == desired.fingerprint()
    return Convergence(statements=statements, current=current, desired=desired)


def _dump_diff(a: str, b: str, statements: list[Statement]) -> str:
    import difflib

    diff = "\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "applied", "desired"))
    plan = "\n".join(s.sql for s in statements)
    return f"schema after apply differs from desired:\n{diff}\nplan was:\n{plan}"


def apply_and_read(
    make_db: MakeDb, before: str, after: str, query: str, *, data: str = ""
) -> list[tuple[Any, ...]]:
    """Plan A -> B, apply it to A, assert that re-planning is empty, and return `query`'s rows
    on A: where `pg_dump` shows a difference no statement removes (a column the child declares)."""
    a, b = make_db(), make_db()
    load(a.admin_dsn, before)
    load(a.admin_dsn, data)
    load(b.admin_dsn, after)
    desired = inspect_dsn(b.admin_dsn)
    statements = plan_statements(inspect_dsn(a.admin_dsn), desired)
    with psycopg.connect(a.admin_dsn) as conn:
        execute_statements(conn, statements)
        rows = conn.execute(query).fetchall()
    assert plan_statements(inspect_dsn(a.admin_dsn), desired) == []
    return rows
