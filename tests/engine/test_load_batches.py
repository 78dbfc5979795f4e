"""engine.load sends statements in batches: the result and every error must be what sending
each statement on its own gives (tests/engine/test_load.py checks the errors themselves)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from engine import load, sqltext
from engine.errors import SchemaLoadError
from engine.load import load_into, parse_schema_dir
from engine.shadow import ShadowDatabase
from tests.engine.test_load import write_tree

RunSql = Callable[..., list[tuple[Any, ...]]]


def _defaults(run_sql: RunSql, dsn: str) -> list[tuple[Any, ...]]:
    return run_sql(
        dsn,
        "SELECT c.relname, pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
        " JOIN pg_class c ON c.oid = d.adrelid ORDER BY 1",
    )


def test_batches_keep_files_search_paths_and_order(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "_BATCH_STATEMENTS", 2)
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE SCHEMA app;\nSET search_path = app;\nCREATE TABLE a1 (x int);\n"
            "CREATE TABLE a2 (x int);\nCREATE TABLE a3 (x int) -- no semicolon, a comment",
            "b.sql": "CREATE TABLE b1 (x int);\nCREATE VIEW v AS SELECT * FROM app.a1;\n"
            "COMMENT ON VIEW v IS 'semi;colon -- and dashes';\n",
        },
    )
    load_into(db.dsn, parse_schema_dir(schema))
    rows = run_sql(
        db.admin_dsn,
        "SELECT relnamespace::regnamespace::text || '.' || relname FROM pg_class"
        " WHERE relkind IN ('r', 'v') AND relnamespace::regnamespace::text IN ('app', 'public')"
        " ORDER BY oid",
    )
    assert [r[0] for r in rows] == ["app.a1", "app.a2", "app.a3", "public.b1", "public.v"]
    assert run_sql(db.admin_dsn, "SELECT obj_description('public.v'::regclass)") == [
        ("semi;colon -- and dashes",)
    ]


def test_an_error_late_in_a_batch_points_at_its_statement(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    tables = "".join(f"CREATE TABLE t{i} (x int);\n" for i in range(30))
    schema = write_tree(
        tmp_path,
        {"a.sql": tables + "CREATE VIEW v3 AS SELECT nope FROM t3;\nCREATE TABLE later (x int);\n"},
    )
    with pytest.raises(SchemaLoadError) as info:
        load_into(db.dsn, parse_schema_dir(schema))
    assert (info.value.file, info.value.line, info.value.column) == ("schema/a.sql", 31, 26)
    assert info.value.reason == 'column "nope" does not exist'
    assert run_sql(db.admin_dsn, "SELECT to_regclass('public.t0') IS NULL") == [(True,)]


def test_set_ends_a_batch_so_later_statements_lex_under_it(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE TABLE before (a text DEFAULT 'x\\\\y');\n"
            "SET standard_conforming_strings = off;\n"
            "CREATE TABLE after (a text DEFAULT 'x\\\\y');\n"
        },
    )
    load_into(db.dsn, parse_schema_dir(schema))
    assert _defaults(run_sql, db.admin_dsn) == [
        ("after", "'x\\y'::text"),
        ("before", "'x\\\\y'::text"),
    ]


def test_a_batch_that_changed_lexing_runs_again_one_by_one(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    # DDL that runs user code (a CHECK validated over a row) turns standard_conforming_strings
    # off: the statements after it in the same message were lexed with it on.
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n"
            "CREATE FUNCTION f(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN\n"
            "  PERFORM set_config('standard_conforming_strings', 'off', false); RETURN $1;\n"
            "END $$;\n"
            "ALTER TABLE t ADD CONSTRAINT positive CHECK (f(a) > 0);\n"
            "CREATE TABLE u (b text DEFAULT 'x\\\\y');\n"
        },
    )
    load_into(db.dsn, parse_schema_dir(schema))
    assert _defaults(run_sql, db.admin_dsn) == [("u", "'x\\y'::text")]


def test_a_slow_batch_of_quick_statements_is_not_cancelled(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    # each check runs 0.6 s, under the 1 s statement_timeout; the batch runs 1.8 s, over the
    # client's per-message limit (1 s + grace): it is cancelled, then runs one by one.
    checks = "".join(f"ALTER TABLE t ADD CONSTRAINT c{i} CHECK (slow(a));\n" for i in range(3))
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1);\n"
            "CREATE FUNCTION slow(int) RETURNS boolean LANGUAGE sql IMMUTABLE\n"
            "  AS $$ SELECT pg_sleep(0.6) IS NOT NULL $$;\n" + checks
        },
    )
    load_into(db.dsn, parse_schema_dir(schema), statement_timeout_ms=1000)
    assert run_sql(
        db.admin_dsn, "SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.t'::regclass"
    ) == [(3,)]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every message the load sends (bytes queries), in order."""
    messages: list[bytes] = []
    real_execute = psycopg.Cursor.execute

    def spy(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(query, bytes):
            messages.append(query)
        return real_execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    return messages


def test_statements_run_in_do_blocks_keep_their_text(
    tmp_path: Path,
    db: ShadowDatabase,
    run_sql: RunSql,
    monkeypatch: pytest.MonkeyPatch,
    sent: list[bytes],
) -> None:
    # quotes, backslashes (literal under standard_conforming_strings), the block's own
    # dollar tag inside a function body, a trailing comment, and more statements than a block
    monkeypatch.setattr(sqltext, "DO_BLOCK_STATEMENTS", 3)
    body = "BEGIN RETURN 'it''s $pgflux$ a \\ path'; END"
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE SCHEMA app;\n"
            "CREATE TABLE app.t (x text DEFAULT 'don''t \\n');\n"
            "COMMENT ON TABLE app.t IS 'it''s a \\ backslash'; -- trailing\n"
            f"CREATE FUNCTION app.f() RETURNS text LANGUAGE plpgsql AS $body${body}$body$;\n"
            "CREATE TABLE app.u (y int);\nCREATE TABLE app.w (z int)\n-- no semicolon\n",
        },
    )
    load_into(db.dsn, parse_schema_dir(schema))
    assert any(b"DO $pgflux1$" in message for message in sent)  # its tag was in a body
    # two blocks of three statements, each one loop over an array of the statements' texts
    assert sum(message.count(b"FOREACH s IN ARRAY ARRAY[") for message in sent) == 2
    assert sum(message.count(b"\nEXECUTE s;") for message in sent) == 2
    assert run_sql(db.admin_dsn, "SELECT obj_description('app.t'::regclass)") == [
        ("it's a \\ backslash",)
    ]
    assert run_sql(db.admin_dsn, "SELECT app.f()") == [("it's $pgflux$ a \\ path",)]
    assert _defaults(run_sql, db.admin_dsn) == [("t", "'don''t \\n'::text")]
    tables = run_sql(db.admin_dsn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'app'")
    assert tables == [(3,)]


def test_do_blocks_split_and_pick_a_free_tag() -> None:
    statements = [f"SELECT {i}" for i in range(sqltext.DO_BLOCK_STATEMENTS * 2 + 1)]
    blocks = sqltext.do_blocks(statements)
    assert len(blocks) == 3
    assert blocks[-1] == statements[-1]  # a block of one is the statement itself
    assert blocks[0].startswith(
        "DO $pgflux$DECLARE s text;\nBEGIN\nFOREACH s IN ARRAY ARRAY[\n'SELECT 0',\n'SELECT 1',"
    )
    assert sqltext.do_blocks(["SELECT '$pgflux$'", "SELECT '$pgflux1$'"])[0].startswith(
        "DO $pgflux2$"
    )


def test_a_failing_batch_after_good_ones_replays_them_and_blames_its_statement(
    tmp_path: Path,
    db: ShadowDatabase,
    run_sql: RunSql,
    monkeypatch: pytest.MonkeyPatch,
    sent: list[bytes],
) -> None:
    monkeypatch.setattr(load, "_BATCH_STATEMENTS", 3)
    tables = "".join(f"CREATE TABLE t{i} (x int);\n" for i in range(10))
    schema = write_tree(
        tmp_path, {"a.sql": tables + "CREATE VIEW v AS SELECT nope FROM t3;\nCREATE TABLE z ();\n"}
    )
    with pytest.raises(SchemaLoadError) as info:
        load_into(db.dsn, parse_schema_dir(schema))
    assert (info.value.file, info.value.line, info.value.column) == ("schema/a.sql", 11, 25)
    # the first three batches ran twice (before the failure, and replayed after the rollback);
    # the failing batch ran once whole and then one statement at a time
    assert sum(b"CREATE TABLE t0 " in message for message in sent) == 2
    assert sum(b"CREATE TABLE t8 " in message for message in sent) == 2
    assert sum(b"CREATE TABLE t9 " in message for message in sent) == 2  # batch 4, whole + alone
    assert sum(b"CREATE TABLE z" in message for message in sent) == 1  # never alone
    assert run_sql(db.admin_dsn, "SELECT to_regclass('public.t0') IS NULL") == [(True,)]


def test_a_lexing_change_in_a_later_batch_is_replayed(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "_BATCH_STATEMENTS", 2)
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE TABLE t (a int);\nCREATE TABLE s (b text DEFAULT 'p\\\\q');\n"
            "INSERT INTO t VALUES (1);\n"
            "CREATE FUNCTION f(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN\n"
            "  PERFORM set_config('standard_conforming_strings', 'off', false); RETURN $1;\n"
            "END $$;\n"
            "ALTER TABLE t ADD CONSTRAINT positive CHECK (f(a) > 0);\n"
            "CREATE TABLE u (b text DEFAULT 'x\\\\y');\n"
        },
    )
    load_into(db.dsn, parse_schema_dir(schema))
    assert _defaults(run_sql, db.admin_dsn) == [("s", "'p\\\\q'::text"), ("u", "'x\\y'::text")]
    assert run_sql(db.admin_dsn, "SELECT count(*) FROM t") == [(1,)]
