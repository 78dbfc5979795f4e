"""Real PostgreSQL for the test suite: one embedded cluster per session, a fresh database per test.

Which binaries: $PGFLUX_POSTGRES_BIN (a bin folder) wins; else $PGFLUX_TEST_PG_MAJOR picks a
major among those found (system, pip packages); else the first found (the system's newest).

Fixtures:
  pg_cluster  (session)  EmbeddedCluster, loader is NOT a superuser
  pg_major    (session)  int, e.g. 15
  db          (function) ShadowDatabase: db.admin_dsn = superuser ("production"), db.dsn = loader
  make_db     (function) factory: make_db() -> ShadowDatabase, all dropped after the test
  run_sql     (function) run_sql(dsn, sql, params=None) -> rows of the last statement returning
                         rows. Autocommit; several ';'-separated statements (no params) run as ONE
                         implicit transaction, so CREATE/DROP DATABASE need a call of their own.
Helpers: tests.pgtools.pg_dump_schema(dsn) -> normalised `pg_dump --schema-only` text (owners and
comments kept), made with the session cluster's own pg_dump.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from engine.pgbin import PgBin, find_postgres_bin
from engine.shadow import EmbeddedCluster, ShadowDatabase

_SESSION_PGBIN: PgBin | None = None


def session_pgbin() -> PgBin | None:
    """The binaries of the running session cluster (pg_dump of the same major), if started."""
    return _SESSION_PGBIN


def wanted_pg_major() -> int:
    """The major of the binaries the session cluster uses (hypothesis strategies draw a
    server's own syntax by it, before any cluster starts)."""
    return _wanted_pgbin().major


def _wanted_pgbin() -> PgBin:
    explicit = os.environ.get("PGFLUX_POSTGRES_BIN") or None
    major_env = os.environ.get("PGFLUX_TEST_PG_MAJOR") or None
    want = int(major_env) if major_env else None
    pgbin = find_postgres_bin(want, explicit=explicit)
    if want is not None and explicit is None and pgbin.major != want:
        pytest.exit(f"PGFLUX_TEST_PG_MAJOR={want} but only found PostgreSQL {pgbin.major}", 2)
    return pgbin


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[EmbeddedCluster]:
    global _SESSION_PGBIN
    cluster = EmbeddedCluster(_wanted_pgbin(), superuser_loader=False)
    _SESSION_PGBIN = cluster.pgbin
    try:
        yield cluster
    finally:
        cluster.close()
        _SESSION_PGBIN = None


@pytest.fixture(scope="session")
def pg_major(pg_cluster: EmbeddedCluster) -> int:
    return pg_cluster.major


@pytest.fixture
def db(pg_cluster: EmbeddedCluster) -> Iterator[ShadowDatabase]:
    with pg_cluster.database() as database:
        yield database


class DatabaseFactory:
    """make_db: fresh databases in the session's cluster (`cluster`, for tests that also need
    the cluster as a shadow), dropped at the end of the test."""

    def __init__(self, cluster: EmbeddedCluster) -> None:
        self.cluster = cluster
        self.made: list[ShadowDatabase] = []

    def __call__(self, *, template: str | None = None) -> ShadowDatabase:
        database = self.cluster.create_database(template=template)
        self.made.append(database)
        return database

    def cleanup(self) -> None:
        for database in reversed(self.made):
            self.cluster.drop_database(database)
        self.made.clear()


@pytest.fixture
def make_db(pg_cluster: EmbeddedCluster) -> Iterator[Callable[..., ShadowDatabase]]:
    factory = DatabaseFactory(pg_cluster)
    yield factory
    factory.cleanup()


def _run_sql(dsn: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run `sql` in autocommit; several statements are fine when no params are given."""
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.encode() if params is None else sql, params)  # type: ignore[arg-type]
        rows: list[tuple[Any, ...]] = []
        # The rows of the last statement that returned any.
        while True:
            if cur.description is not None:
                rows = cur.fetchall()
            if not cur.nextset():
                break
        return rows


@pytest.fixture
def run_sql() -> Callable[..., list[tuple[Any, ...]]]:
    return _run_sql
