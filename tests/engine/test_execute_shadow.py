"""engine.execute.execute_statements_in_shadow: the same statements and transactions as
execute_statements, sent in batches; a failing group runs again one statement at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from engine import execute
from engine.execute import execute_statements, execute_statements_in_shadow
from engine.plan.model import ObjectRef, Statement
from engine.shadow import ShadowDatabase
from engine.sqlsplit import split_statements
from tests.pgtools import pg_dump_schema

MakeDb = Callable[..., ShadowDatabase]
RunSql = Callable[..., list[tuple[Any, ...]]]

OBJ = ObjectRef(kind="table", schema_="public", name="t")


def _st(sql: str, **kwargs: Any) -> Statement:
    return Statement(sql=sql, object=OBJ, **kwargs)


SCHEMA = """
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('ok', 'sad');
CREATE TABLE app.zeta (id bigserial PRIMARY KEY, mood app.mood DEFAULT 'ok', note text);
CREATE TABLE app.alpha (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    zeta_id bigint REFERENCES app.zeta (id), amount numeric(10, 2) CHECK (amount > 0));
CREATE INDEX alpha_amount ON app.alpha (amount) WHERE amount > 10;
COMMENT ON TABLE app.alpha IS 'it''s -- not a comment';
CREATE FUNCTION app.f(x int) RETURNS int LANGUAGE sql AS $$ SELECT x + 1 -- trailing
$$;
CREATE VIEW app.v AS SELECT id, amount FROM app.alpha;
"""


@pytest.mark.parametrize("batch", [1, 3, 500])
def test_batches_build_what_one_by_one_builds(
    make_db: MakeDb, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(execute, "_BATCH_STATEMENTS", batch)
    one, batched = make_db(), make_db()
    statements = [_st(s.text) for s in split_statements(SCHEMA)]
    statements.insert(
        5, _st("CREATE INDEX CONCURRENTLY zeta_note ON app.zeta (note)", transactional=False)
    )
    assert len(statements) == 9
    with psycopg.connect(one.admin_dsn) as conn:
        execute_statements(conn, statements)
    with psycopg.connect(batched.admin_dsn) as conn:
        execute_statements_in_shadow(conn, statements)
    dump = pg_dump_schema(batched.admin_dsn)
    assert "it''s -- not a comment" in dump
    assert dump == pg_dump_schema(one.admin_dsn)


def test_a_failing_group_raises_the_one_by_one_error_and_leaves_nothing(
    db: ShadowDatabase, run_sql: RunSql
) -> None:
    statements = [
        _st("CREATE TABLE kept (a int)"),
        _st("CREATE INDEX CONCURRENTLY kept_a ON kept (a)", transactional=False),
        _st("CREATE TABLE gone (a int)"),
        _st("CREATE VIEW broken AS\n  SELECT nope FROM gone"),
        _st("CREATE TABLE never (a int)"),
    ]
    with pytest.raises(psycopg.Error) as batched, psycopg.connect(db.admin_dsn) as conn:
        execute_statements_in_shadow(conn, statements)
    tables = "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relkind = 'r'"
    tables += " AND relnamespace = 'public'::regnamespace"
    assert run_sql(db.admin_dsn, tables) == [("kept",)]
    assert run_sql(db.admin_dsn, "SELECT to_regclass('public.kept_a') IS NOT NULL") == [(True,)]
    run_sql(db.admin_dsn, "DROP TABLE kept")
    with pytest.raises(psycopg.Error) as plain, psycopg.connect(db.admin_dsn) as conn:
        execute_statements(conn, statements)
    assert type(batched.value) is type(plain.value)
    assert str(batched.value) == str(plain.value)
    assert batched.value.diag.statement_position == plain.value.diag.statement_position == "32"


def test_batches_run_under_the_loosest_timeouts() -> None:
    batch = (
        _st("SELECT 1", lock_timeout_ms=100, statement_timeout_ms=5_000),
        _st("SELECT 2", lock_timeout_ms=3_000, statement_timeout_ms=1_000),
    )
    message = execute._batch_message(batch).decode()
    assert message.startswith(
        "SET LOCAL lock_timeout = 3000\n;\nSET LOCAL statement_timeout = 5000\n;\n"
    )
    unbounded = (*batch, _st("SELECT 3", statement_timeout_ms=0))
    assert "SET LOCAL statement_timeout = 0\n" in execute._batch_message(unbounded).decode()


def test_a_change_of_lexing_runs_the_group_again(db: ShadowDatabase, run_sql: RunSql) -> None:
    # The server lexes a whole message first: sent together, the default would be lexed with
    # standard_conforming_strings on (two backslashes) although the SET before it turned it off.
    statements = [
        _st("SET LOCAL standard_conforming_strings = off"),
        _st("CREATE TABLE t (a text DEFAULT 'x\\\\y')"),
    ]
    with psycopg.connect(db.admin_dsn) as conn:
        execute_statements_in_shadow(conn, statements)
    rows = run_sql(
        db.admin_dsn,
        "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'public.t'::regclass",
    )
    assert rows == [("'x\\y'::text",)]
