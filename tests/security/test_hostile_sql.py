"""Hostile schema/ SQL: each attempt is refused with a clear error and leaves no trace outside the
shadow database (no file written, no role made, no server setting changed, production untouched).

Two layers refuse. The parse tree (engine.load) refuses statements that never belong in schema/
before any database is touched; the shadow refuses the rest at run time because the loader is an
unprivileged role under statement_timeout and temp_file_limit. Many cases below reach the second
layer on purpose (through DO / EXECUTE / set_config, which the parse tree cannot see into).

SELECT is allowed in schema/ (e.g. `SELECT setval(...)`, `SELECT set_config(...)`): it runs only
as the unprivileged loader inside the throw-away shadow database, so it can do no more than any
CREATE statement can; its result is discarded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.errors import SchemaLoadError
from engine.load import load_into, parse_schema_dir
from engine.pgbin import find_postgres_bin
from engine.shadow import EmbeddedCluster, ShadowDatabase

RunSql = Callable[..., list[tuple[Any, ...]]]

PROBE_FILE = f"/tmp/pgflux-hostile-probe-{os.getpid()}"


def _schema(tmp_path: Path, sql: str) -> Path:
    schema = tmp_path / "schema"
    schema.mkdir(exist_ok=True)
    (schema / "hostile.sql").write_text("CREATE TABLE ok (id int);\n" + sql + "\n", "utf-8")
    return schema


def _load_error(db: ShadowDatabase, tmp_path: Path, sql: str, **kw: Any) -> SchemaLoadError:
    loaded = parse_schema_dir(_schema(tmp_path, sql))
    with pytest.raises(SchemaLoadError) as info:
        load_into(db.dsn, loaded, **kw)
    return info.value


@pytest.fixture
def no_probe_file() -> Iterator[Path]:
    probe = Path(PROBE_FILE)
    probe.unlink(missing_ok=True)
    yield probe
    assert not probe.exists(), "hostile SQL wrote a file on the server's host"


def _cluster_state(run_sql: RunSql, dsn: str) -> tuple[Any, ...]:
    """What a hostile statement could change outside its own database."""
    roles = run_sql(dsn, "SELECT array_agg(rolname ORDER BY rolname) FROM pg_roles")[0][0]
    auto = run_sql(
        dsn,
        "SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%%postgresql.auto.conf'",
    )[0][0]
    dbs = run_sql(dsn, "SELECT array_agg(datname ORDER BY datname) FROM pg_database")[0][0]
    return roles, auto, dbs


@pytest.fixture
def production(make_db: Callable[..., ShadowDatabase], run_sql: RunSql) -> Iterator[str]:
    """A database beside the shadow, standing for production: it must never change."""
    prod = make_db()
    run_sql(prod.admin_dsn, "CREATE TABLE accounts (id int); INSERT INTO accounts VALUES (1)")
    yield prod.admin_dsn
    assert run_sql(prod.admin_dsn, "SELECT array_agg(id) FROM accounts") == [([1],)]


# Refused from the parse tree: nothing is sent to any server.
PARSE_REFUSALS = [
    ("copy-to-program", "COPY ok TO PROGRAM 'id > /tmp/x'", "COPY ... PROGRAM"),
    ("copy-from-program", "COPY ok FROM PROGRAM 'cat /etc/passwd'", "COPY ... PROGRAM"),
    ("copy-to-file", "COPY ok TO '/tmp/pgflux-x'", "server file"),
    ("copy-from-file", "COPY ok FROM '/etc/passwd'", "server file"),
    ("copy-query-to-program", "COPY (SELECT 1) TO PROGRAM 'id'", "COPY ... PROGRAM"),
    ("alter-system", "ALTER SYSTEM SET fsync = on", "ALTER SYSTEM"),
    ("alter-system-reset", "ALTER SYSTEM RESET ALL", "ALTER SYSTEM"),
    ("set-role", "SET ROLE pgflux_admin", "SET ROLE"),
    ("set-local-role", "SET LOCAL ROLE pgflux_admin", "SET ROLE"),
    ("set-session-authorization", "SET SESSION AUTHORIZATION pgflux_admin", "SESSION AUTH"),
    ("create-role", "CREATE ROLE evil SUPERUSER LOGIN PASSWORD 'x'", "roles are cluster-wide"),
    ("create-user", "CREATE USER evil", "roles are cluster-wide"),
    ("alter-role", "ALTER ROLE pgflux_loader SUPERUSER", "ALTER ROLE"),
    ("alter-role-set", "ALTER ROLE pgflux_loader SET statement_timeout = 0", "ALTER ROLE"),
    ("grant-role", "GRANT pgflux_admin TO pgflux_loader", "role membership"),
    ("set-statement-timeout", "SET statement_timeout = 0", "statement_timeout"),
    ("load-library", "LOAD '/tmp/evil.so'", "LOAD"),
    ("create-database", "CREATE DATABASE evil", "CREATE DATABASE"),
    ("create-tablespace", "CREATE TABLESPACE evil LOCATION '/tmp'", "CREATE TABLESPACE"),
    ("commit-escape", "COMMIT", "transaction control"),
    (
        "subscription",
        "CREATE SUBSCRIPTION s CONNECTION 'host=10.0.0.1' PUBLICATION p",
        "subscriptions",
    ),
]


@pytest.mark.parametrize(
    ("sql", "reason"), [(s, r) for _, s, r in PARSE_REFUSALS], ids=[i for i, _, _ in PARSE_REFUSALS]
)
def test_refused_before_any_database(tmp_path: Path, sql: str, reason: str) -> None:
    with pytest.raises(SchemaLoadError) as info:
        parse_schema_dir(_schema(tmp_path, sql))
    error = info.value
    assert reason.lower() in error.reason.lower()
    assert (error.file, error.line, error.column) == ("schema/hostile.sql", 2, 1)


# Refused by the shadow server at run time: (id, sql, SQLSTATE, fragment of the message).
RUNTIME_REFUSALS = [
    ("pg_read_file", "SELECT pg_read_file('/etc/passwd')", "42501", "pg_read_file"),
    ("pg_read_file-environ", "SELECT pg_read_file('/proc/self/environ')", "42501", "pg_read_file"),
    ("pg_read_binary_file", "SELECT pg_read_binary_file('/etc/hosts')", "42501", "pg_read_binary"),
    ("pg_ls_dir", "SELECT pg_ls_dir('/')", "42501", "pg_ls_dir"),
    ("pg_stat_file", "SELECT pg_stat_file('/etc/passwd')", "42501", "pg_stat_file"),
    ("lo_import", "SELECT lo_import('/etc/passwd')", "42501", "lo_import"),
    ("lo_export", f"SELECT lo_export(lo_from_bytea(0, 'x'), '{PROBE_FILE}')", "42501", "lo_export"),
    (
        "copy-program-via-do",
        f"DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {PROBE_FILE}'''; END $$",
        "42501",
        "program",
    ),
    (
        "copy-file-via-do",
        f"DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO ''{PROBE_FILE}'''; END $$",
        "42501",
        "file",
    ),
    (
        "alter-system-via-do",
        "DO $$ BEGIN EXECUTE 'ALTER SYSTEM SET work_mem = ''1GB'''; END $$",
        "25001",
        "ALTER SYSTEM",
    ),
    (
        "create-role-via-do",
        "DO $$ BEGIN EXECUTE 'CREATE ROLE evil SUPERUSER'; END $$",
        "42501",
        "create role",
    ),
    (
        "alter-role-via-do",
        "DO $$ BEGIN EXECUTE 'ALTER ROLE pgflux_loader SUPERUSER'; END $$",
        "42501",
        "superuser",
    ),
    ("set-role-via-set_config", "SELECT set_config('role', 'pgflux_admin', false)", "42501", ""),
    (
        "session-authorization-via-set_config",
        "SELECT set_config('session_authorization', 'pgflux_admin', false)",
        "42501",
        "",
    ),
    (
        "temp_file_limit-raise",
        "SELECT set_config('temp_file_limit', '-1', false)",
        "42501",
        "temp_file_limit",
    ),
    ("extension-dblink", "CREATE EXTENSION dblink", "42501", "dblink"),
    ("extension-postgres_fdw", "CREATE EXTENSION postgres_fdw", "42501", "postgres_fdw"),
    ("extension-file_fdw", "CREATE EXTENSION file_fdw", "42501", "file_fdw"),
    ("extension-adminpack", "CREATE EXTENSION adminpack", "42501", "adminpack"),
    # Untrusted languages: not installed here, so this checks the error path is clear.
    ("extension-plpython3u", "CREATE EXTENSION plpython3u", "", "plpython3u"),
    ("extension-plperlu", "CREATE EXTENSION plperlu", "", "plperlu"),
    (
        "language-c-system",
        "CREATE FUNCTION sh(cstring) RETURNS int LANGUAGE c AS 'libc.so.6', 'system'",
        "42501",
        "language c",
    ),
    (
        "load-time-function-in-ctas",
        "CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS "
        "$$ SELECT pg_read_file('/proc/self/environ') $$;\n"
        "CREATE TABLE stolen AS SELECT leak() AS env",
        "42501",
        "pg_read_file",
    ),
    (
        "load-time-function-in-matview",
        "CREATE FUNCTION leak() RETURNS text LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN pg_read_file('/etc/passwd'); END $$;\n"
        "CREATE MATERIALIZED VIEW stolen AS SELECT leak() AS env",
        "42501",
        "pg_read_file",
    ),
    (
        "load-time-default-on-insert",
        "CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS "
        "$$ SELECT pg_read_file('/etc/passwd') $$;\n"
        "CREATE TABLE t (env text DEFAULT leak());\nINSERT INTO t DEFAULT VALUES",
        "42501",
        "pg_read_file",
    ),
    (
        "load-time-index-expression",
        "CREATE TABLE t (x int);\nINSERT INTO t VALUES (1);\n"
        "CREATE FUNCTION leak(int) RETURNS text LANGUAGE sql IMMUTABLE AS "
        "$$ SELECT pg_read_file('/etc/passwd') $$;\n"
        "CREATE INDEX t_leak ON t (leak(x))",
        "42501",
        "pg_read_file",
    ),
    (
        "select-hostile-function",
        "CREATE FUNCTION hostile() RETURNS void LANGUAGE plpgsql AS "
        f"$$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {PROBE_FILE}'''; END $$;\n"
        "SELECT hostile()",
        "42501",
        "program",
    ),
    (
        "security-definer-owned-by-loader",
        "CREATE FUNCTION sd() RETURNS text LANGUAGE sql SECURITY DEFINER AS "
        "$$ SELECT pg_read_file('/etc/passwd') $$;\nSELECT sd()",
        "42501",
        "pg_read_file",
    ),
]


@pytest.mark.parametrize(
    ("sql", "sqlstate", "fragment"),
    [(s, c, f) for _, s, c, f in RUNTIME_REFUSALS],
    ids=[i for i, _, _, _ in RUNTIME_REFUSALS],
)
def test_refused_by_the_shadow(
    db: ShadowDatabase,
    tmp_path: Path,
    run_sql: RunSql,
    production: str,
    no_probe_file: Path,
    sql: str,
    sqlstate: str,
    fragment: str,
) -> None:
    before = _cluster_state(run_sql, db.admin_dsn)
    error = _load_error(db, tmp_path, sql)
    if sqlstate:
        assert error.sqlstate == sqlstate, error
    else:  # not installed: "extension ... is not available" / "could not open extension ..."
        assert error.sqlstate in {"0A000", "58P01", "42704"}, error
    assert fragment.lower() in (error.reason + " " + (error.details or "")).lower()
    assert error.file == "schema/hostile.sql"
    assert error.line is not None
    assert error.line >= 2
    # One transaction: even the harmless first statement is gone.
    assert run_sql(db.admin_dsn, "SELECT to_regclass('public.ok') IS NULL") == [(True,)]
    assert _cluster_state(run_sql, db.admin_dsn) == before


def test_select_in_schema_is_allowed_and_stays_in_the_shadow(
    db: ShadowDatabase, tmp_path: Path, run_sql: RunSql
) -> None:
    sql = "CREATE SEQUENCE s;\nSELECT setval('s', 42);\nSELECT set_config('work_mem', '1MB', true)"
    load_into(db.dsn, parse_schema_dir(_schema(tmp_path, sql)))
    assert run_sql(db.admin_dsn, "SELECT last_value FROM s") == [(42,)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT pg_sleep(3600)",
        "DO $$ BEGIN LOOP END LOOP; END $$",
        "CREATE FUNCTION spin() RETURNS int LANGUAGE plpgsql AS $$ BEGIN LOOP END LOOP; END $$;\n"
        "CREATE TABLE t AS SELECT spin()",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
        # The server's timeout switched off by SQL the parse tree cannot see: the client's
        # watchdog cancels it instead.
        "SELECT set_config('statement_timeout', '0', false);\nSELECT pg_sleep(3600)",
        "DO $$ BEGIN PERFORM set_config('statement_timeout', '0', true); "
        "PERFORM pg_sleep(3600); END $$",
    ],
    ids=["pg_sleep", "do-loop", "function-loop-at-load", "recursive-cte", "timeout-off", "do-off"],
)
def test_endless_statements_are_cancelled(db: ShadowDatabase, tmp_path: Path, sql: str) -> None:
    error = _load_error(db, tmp_path, sql, statement_timeout_ms=500)
    assert error.sqlstate == "57014", error
    assert "statement timeout" in error.reason or "cancel" in error.reason
    assert error.file == "schema/hostile.sql"


@pytest.fixture(scope="module")
def small_temp_cluster() -> Iterator[EmbeddedCluster]:
    """A shadow whose loader may write at most 1 MB of temp files (the default is 2 GB)."""
    with EmbeddedCluster(find_postgres_bin(), temp_file_limit="1MB") as cluster:
        yield cluster


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM generate_series(1, 50000000)",
        "SELECT count(*) FROM (SELECT g FROM generate_series(1, 5000000) g ORDER BY g DESC) s",
        "CREATE TABLE big AS SELECT g, repeat('x', 100) AS pad "
        "FROM generate_series(1, 5000000) g ORDER BY g DESC",
        # work_mem is the loader's to set, temp_file_limit is not.
        "SET work_mem = '64kB';\nSELECT count(*) FROM generate_series(1, 50000000)",
    ],
    ids=["generate_series", "sort-spill", "ctas-sort", "small-work_mem"],
)
def test_huge_temp_files_hit_temp_file_limit(
    small_temp_cluster: EmbeddedCluster, tmp_path: Path, sql: str
) -> None:
    with small_temp_cluster.database() as db:
        error = _load_error(db, tmp_path, sql)
    assert error.sqlstate == "53400", error
    assert "temp_file_limit" in error.reason


def test_loader_cannot_become_anyone_else(db: ShadowDatabase, run_sql: RunSql) -> None:
    """The loader has no role memberships, so no SET ROLE target exists for it."""
    rows = run_sql(
        db.admin_dsn,
        "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member "
        "WHERE r.rolname = 'pgflux_loader'",
    )
    assert rows == [(0,)]
    attrs = run_sql(
        db.admin_dsn,
        "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
        "FROM pg_roles WHERE rolname = 'pgflux_loader'",
    )
    assert attrs == [(False, False, False, False, False)]
