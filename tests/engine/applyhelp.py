"""Helpers shared by the apply tests: plans between two real databases, tracking reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.plan.build import make_plan
from engine.plan.model import Plan
from engine.shadow import EmbeddedCluster, ShadowDatabase
from tests.engine.convergence import load
from tests.pgtools import pg_dump_schema


def plan_between(
    pg_cluster: EmbeddedCluster,
    make_db: Callable[..., ShadowDatabase],
    before: str,
    after: str,
    *,
    data: str = "",
) -> tuple[ShadowDatabase, ShadowDatabase, Plan]:
    """Production loaded with `before` (+ data), a reference database with `after`, the plan."""
    prod, ref = make_db(), make_db()
    if before:
        load(prod.admin_dsn, before)
    if data:
        load(prod.admin_dsn, data)
    if after:
        load(ref.admin_dsn, after)
    plan = make_plan(
        inspect_dsn(prod.admin_dsn),
        inspect_dsn(ref.admin_dsn),
        shadow=pg_cluster,
        options=PlanOptions(),
    )
    assert plan.verified, plan.verification_errors
    return prod, ref, plan


def migrations(dsn: str, schema: str = "_pgflux") -> list[dict[str, Any]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            f"SELECT id, status, statements, hazards, origin, error, applied_by, finished_at"
            f" FROM {schema}.migrations ORDER BY id"
        ).fetchall()
    keys = ("id", "status", "statements", "hazards", "origin", "error", "applied_by", "finished")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def fingerprint(dsn: str) -> str:
    return inspect_dsn(dsn).fingerprint()


def dump(dsn: str) -> str:
    """pg_dump of the managed schema: the tracking schema is pg-flux's own, not the user's."""
    return pg_dump_schema(dsn, extra_args=["--exclude-schema=_pgflux"])
