"""Introspection: catalog queries (kept as .sql files) -> engine.model.Schema."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from engine.catalog.runner import InspectStats, run_catalog_queries
from engine.model.schema import Schema


def inspect_dsn(
    dsn: str,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
    stats: InspectStats | None = None,
) -> Schema:
    """Connect, inspect in one read-only snapshot, disconnect."""
    with psycopg.connect(dsn) as conn:
        return run_catalog_queries(conn, excluded_schemas=excluded_schemas, stats=stats)


__all__ = ["InspectStats", "inspect_dsn", "run_catalog_queries"]
