"""Introspection: catalog queries (kept as .sql files) -> engine.model.Schema."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import psycopg

from engine import dsn as dsnlib
from engine.catalog.runner import InspectStats, available_families, run_catalog_queries
from engine.model.schema import Schema

log = logging.getLogger("engine.catalog")

# Two: the server's share of inspection splits over both cores of a small runner, and a
# production server gives the inspection one more (read-only, short) connection.
INSPECT_CONNECTIONS = 2


def inspect_dsn(
    dsn: str,
    *,
    excluded_schemas: Sequence[str] = ("_pgflux",),
    stats: InspectStats | None = None,
    connections: int = INSPECT_CONNECTIONS,
    families: Sequence[str] | None = None,
    like: Schema | None = None,
) -> Schema:
    """Connect, inspect in one read-only snapshot, disconnect.

    `connections` (2 by default) share the work; the extra ones import the first one's
    snapshot, so the picture is still one snapshot. With 1 only the first is opened; an extra
    connection the server refuses (a connection limit) is done without, with a warning.
    `families`: the catalog families to read (all by default; see `families_for_comparing`).
    `like`: a schema to share equal objects with (see `run_catalog_queries`).
    """
    with contextlib.ExitStack() as stack:
        conn = stack.enter_context(psycopg.connect(dsn))
        helpers: list[psycopg.Connection[Any]] = []
        for _ in range(connections - 1):
            try:
                helpers.append(stack.enter_context(psycopg.connect(dsn)))
            except psycopg.OperationalError as exc:
                # a connection limit (role or server): the connections there are do it all
                log.warning(
                    "inspection continues on %d connection(s): another was refused (%s)",
                    len(helpers) + 1,
                    dsnlib.scrub(str(exc).strip(), dsn) or type(exc).__name__,
                )
                break
        return run_catalog_queries(
            conn,
            excluded_schemas=excluded_schemas,
            stats=stats,
            helpers=helpers,
            families=families,
            like=like,
        )


def families_for_comparing() -> list[str]:
    """Every family but the dependencies: what a schema is compared by. Verification inspects
    the shadow only to compare it; pg_depend's rows (157,000 at 10,000 tables, the heaviest
    query and ~190 MB of model) only order plans."""
    return [family for family in available_families() if family != "dependencies"]


__all__ = [
    "InspectStats",
    "families_for_comparing",
    "inspect_dsn",
    "run_catalog_queries",
]
