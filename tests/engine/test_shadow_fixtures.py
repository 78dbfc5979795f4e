"""The conftest fixtures themselves: what other tests rely on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from engine.shadow import EmbeddedCluster, ShadowDatabase
from tests.pgtools import normalise_dump, pg_dump_schema


def test_db_is_fresh_and_owned_by_loader(db: ShadowDatabase, run_sql: Callable[..., Any]) -> None:
    rows = run_sql(
        db.admin_dsn,
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()",
    )
    assert rows == [("pgflux_loader",)]
    assert run_sql(
        db.admin_dsn, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
    ) == [(0,)]


def test_loader_is_not_superuser_admin_is(db: ShadowDatabase, run_sql: Callable[..., Any]) -> None:
    assert run_sql(
        db.dsn, "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
    ) == [("pgflux_loader", False)]
    assert run_sql(db.admin_dsn, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == [
        (True,)
    ]


def test_loader_can_build_a_schema(db: ShadowDatabase, run_sql: Callable[..., Any]) -> None:
    run_sql(db.dsn, "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, v text)")
    assert run_sql(db.admin_dsn, "SELECT to_regclass('app.t')::text") == [("app.t",)]


def test_make_db_gives_distinct_databases_dropped_after(
    pg_cluster: EmbeddedCluster, make_db: Callable[..., ShadowDatabase], run_sql: Callable[..., Any]
) -> None:
    a, b = make_db(), make_db()
    assert a.name != b.name
    run_sql(a.dsn, "CREATE TABLE only_in_a (x int)")
    assert run_sql(b.dsn, "SELECT to_regclass('only_in_a')") == [(None,)]


def test_pg_major_matches_server(
    pg_major: int, db: ShadowDatabase, run_sql: Callable[..., Any]
) -> None:
    (num,) = run_sql(db.admin_dsn, "SHOW server_version_num")[0]
    assert int(num) // 10000 == pg_major


def test_dumps_of_equal_schemas_compare_equal(
    make_db: Callable[..., ShadowDatabase], run_sql: Callable[..., Any]
) -> None:
    ddl = (
        "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v text NOT NULL);"
        "COMMENT ON TABLE t IS 'kept';"
    )
    a, b = make_db(), make_db()
    run_sql(a.dsn, ddl)
    run_sql(b.dsn, ddl)
    dump_a, dump_b = pg_dump_schema(a.admin_dsn), pg_dump_schema(b.admin_dsn)
    assert dump_a == dump_b
    assert "COMMENT ON TABLE public.t IS 'kept';" in dump_a
    assert "OWNER TO pgflux_loader" in dump_a  # owners are kept
    assert "-- Dumped" not in dump_a


def test_dumps_of_different_schemas_differ(
    make_db: Callable[..., ShadowDatabase], run_sql: Callable[..., Any]
) -> None:
    a, b = make_db(), make_db()
    run_sql(a.dsn, "CREATE TABLE t (v text)")
    run_sql(b.dsn, "CREATE TABLE t (v varchar)")
    assert pg_dump_schema(a.admin_dsn) != pg_dump_schema(b.admin_dsn)


def test_normalise_dump_strips_volatile_lines() -> None:
    raw = (
        "--\n-- Dumped from database version 17.6\n-- Dumped by pg_dump version 17.6\n\n\n"
        "\\restrict AbCdEf123\nSET x = 1;\n\n\nCREATE TABLE t ();\n\\unrestrict AbCdEf123\n"
    )
    assert normalise_dump(raw) == "--\n\nSET x = 1;\n\nCREATE TABLE t ();\n"


def test_pg_dump_errors_hide_password() -> None:
    with pytest.raises(RuntimeError) as info:
        pg_dump_schema("host=/nonexistent-dir port=1 user=u password=s3cr3t-value dbname=x")
    assert "s3cr3t-value" not in str(info.value)


def test_statement_timeout_applies_to_loader(db: ShadowDatabase) -> None:
    with psycopg.connect(db.dsn) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1min",)


def test_normalise_dump_sorts_a_run_of_grants_only() -> None:
    """The same grants made in another order are the same schema; other lines keep theirs."""
    raw = (
        "REVOKE ALL ON TABLE t FROM PUBLIC;\nGRANT SELECT ON TABLE t TO b;\n"
        "GRANT SELECT ON TABLE t TO a;\n\nCREATE TABLE z ();\nCREATE TABLE y ();\n"
    )
    assert normalise_dump(raw) == (
        "REVOKE ALL ON TABLE t FROM PUBLIC;\nGRANT SELECT ON TABLE t TO a;\n"
        "GRANT SELECT ON TABLE t TO b;\n\nCREATE TABLE z ();\nCREATE TABLE y ();\n"
    )
