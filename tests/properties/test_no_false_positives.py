"""No false positives: schemas that differ only in spelling plan empty (and dump identically)."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.plan.planner import plan_statements
from tests.engine.convergence import MakeDb, load

CASES = [
    ("CREATE TABLE t (a int);", "CREATE TABLE t (a integer);", "int-integer"),
    ("CREATE TABLE t (a int4);", "CREATE TABLE t (a integer);", "int4-integer"),
    ("CREATE TABLE t (a int8, b int2);", "CREATE TABLE t (a bigint, b smallint);", "int8-int2"),
    ("CREATE TABLE t (a varchar(10));", "CREATE TABLE t (a character varying(10));", "varchar"),
    ("CREATE TABLE t (a bool);", "CREATE TABLE t (a boolean);", "bool"),
    ("CREATE TABLE t (a timestamptz);", "CREATE TABLE t (a timestamp with time zone);", "tstz"),
    ("CREATE TABLE t (a decimal(5,2));", "CREATE TABLE t (a numeric(5, 2));", "decimal"),
    ("create table T (A INT not null);", "CREATE TABLE t (a integer NOT NULL);", "keyword-case"),
    ("CREATE   TABLE t(\n\ta   int\n);", "CREATE TABLE t (a int);", "whitespace"),
    ("CREATE TABLE public.t (a int);", "CREATE TABLE t (a int);", "implicit-public"),
    (
        "CREATE TABLE t (a int PRIMARY KEY, b int UNIQUE);",
        "CREATE TABLE t (a int, b int, CONSTRAINT t_pkey PRIMARY KEY (a),"
        " CONSTRAINT t_b_key UNIQUE (b));",
        "default-constraint-names",
    ),
    (
        "CREATE TABLE t (a int); CREATE INDEX ON t (a);",
        "CREATE TABLE t (a int); CREATE INDEX t_a_idx ON t USING btree (a);",
        "default-index-name",
    ),
    (
        "CREATE TABLE t (id serial);",
        "CREATE SEQUENCE t_id_seq AS integer;"
        " CREATE TABLE t (id integer NOT NULL DEFAULT nextval('t_id_seq'));"
        " ALTER SEQUENCE t_id_seq OWNED BY t.id;",
        "serial-vs-sequence",
    ),
    ("CREATE TABLE t (a int DEFAULT NULL);", "CREATE TABLE t (a int);", "default-null"),
    (
        "CREATE TABLE t (a int CHECK (a > 0));",
        "CREATE TABLE t (a int, CONSTRAINT t_a_check CHECK (((a > 0))));",
        "check-parentheses",
    ),
    (
        "CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t WHERE a>1;",
        "CREATE TABLE t (a int);\nCREATE VIEW v AS\n  select t.a\n"
        "  from public.t\n  where (t.a > 1);",
        "view-reformatted",
    ),
    (
        "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT x+1; END;",
        "CREATE FUNCTION f(x integer) RETURNS integer LANGUAGE sql\n"
        "BEGIN ATOMIC\n    select (x + 1);\nEND;",
        "begin-atomic-reformatted",
    ),
    (
        "CREATE TYPE e AS ENUM ('a', 'b');",
        "CREATE TYPE \"e\" AS ENUM (E'a', U&'\\0062');",
        "enum-literals-quoted",
    ),
    (
        "CREATE TABLE t (a text DEFAULT 'x');",
        "CREATE TABLE t (a text DEFAULT 'x'::text);",
        "default-cast-spelled",
    ),
    (
        "CREATE TABLE t (a int); CREATE INDEX i ON t (a ASC NULLS LAST);",
        "CREATE TABLE t (a int); CREATE INDEX i ON t (a);",
        "index-default-ordering",
    ),
    (
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p int REFERENCES p);",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (p int,"
        " CONSTRAINT c_p_fkey FOREIGN KEY (p) REFERENCES p (id) MATCH SIMPLE"
        " ON UPDATE NO ACTION ON DELETE NO ACTION);",
        "fk-defaults-spelled",
    ),
]

# "Order of files": the same statements in another order (dependencies allowing).
ORDER = (
    "CREATE TABLE a (id int); CREATE TABLE b (id int); CREATE INDEX b_i ON b (id);",
    "CREATE TABLE b (id int); CREATE INDEX b_i ON b (id); CREATE TABLE a (id int);",
)


@pytest.mark.parametrize(
    ("one", "other"),
    [pytest.param(a, b, id=name) for a, b, name in CASES] + [pytest.param(*ORDER, id="order")],
)
def test_spelling_plans_empty(make_db: MakeDb, one: str, other: str) -> None:
    x, y = make_db(), make_db()
    load(x.admin_dsn, one)
    load(y.admin_dsn, other)
    a, b = inspect_dsn(x.admin_dsn), inspect_dsn(y.admin_dsn)
    assert [s.sql for s in plan_statements(a, b)] == []
    assert a.fingerprint() == b.fingerprint()
