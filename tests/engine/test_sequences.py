"""Sequences: inspect, converge every option, OWNED BY ordering, identity sequences left out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from engine.catalog import inspect_dsn
from engine.execute import execute_statements
from engine.model.sequences import OwnedBy
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

DEFAULTS = (
    "AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE"
)

# (id, before, after, exact SQL, exact hazard codes)
CASES = [
    (
        "create",
        "",
        "CREATE SEQUENCE s;",
        [f"CREATE SEQUENCE public.s {DEFAULTS}"],
        set(),
    ),
    (
        "create-every-option",
        "",
        "CREATE SEQUENCE s AS integer INCREMENT BY -2 MINVALUE -100 MAXVALUE -1"
        " START WITH -5 CACHE 10 CYCLE;",
        [
            "CREATE SEQUENCE public.s AS integer INCREMENT BY -2 MINVALUE -100 MAXVALUE -1 "
            "START WITH -5 CACHE 10 CYCLE"
        ],
        set(),
    ),
    (
        "create-quoted-in-schema",
        "CREATE SCHEMA app;",
        'CREATE SCHEMA app; CREATE SEQUENCE app."Order Numbers";',
        [f'CREATE SEQUENCE app."Order Numbers" {DEFAULTS}'],
        set(),
    ),
    (
        "drop",
        "CREATE SEQUENCE s;",
        "",
        ["DROP SEQUENCE IF EXISTS public.s"],
        {"DATA_LOSS"},
    ),
    (
        "data-type",
        "CREATE SEQUENCE s AS integer;",
        "CREATE SEQUENCE s AS bigint MAXVALUE 2147483647;",
        ["ALTER SEQUENCE public.s AS bigint MINVALUE 1 MAXVALUE 2147483647"],
        set(),
    ),
    (
        "data-type-widens-max",
        "CREATE SEQUENCE s AS integer;",
        "CREATE SEQUENCE s AS bigint;",
        ["ALTER SEQUENCE public.s AS bigint MINVALUE 1 MAXVALUE 9223372036854775807"],
        set(),
    ),
    (
        "data-type-narrows",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s AS smallint;",
        ["ALTER SEQUENCE public.s AS smallint MINVALUE 1 MAXVALUE 32767"],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "increment",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s INCREMENT BY 10;",
        ["ALTER SEQUENCE public.s INCREMENT BY 10"],
        set(),
    ),
    (
        "min-value-lowered",
        "CREATE SEQUENCE s MINVALUE 5;",
        "CREATE SEQUENCE s MINVALUE 1 START 5;",
        ["ALTER SEQUENCE public.s MINVALUE 1"],
        set(),
    ),
    (
        "max-value-lowered",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s MAXVALUE 1000;",
        ["ALTER SEQUENCE public.s MAXVALUE 1000"],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "start",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s START WITH 100;",
        ["ALTER SEQUENCE public.s START WITH 100"],
        set(),
    ),
    (
        "cache",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s CACHE 20;",
        ["ALTER SEQUENCE public.s CACHE 20"],
        set(),
    ),
    (
        "cycle-on",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s CYCLE;",
        ["ALTER SEQUENCE public.s CYCLE"],
        set(),
    ),
    (
        "cycle-off",
        "CREATE SEQUENCE s CYCLE;",
        "CREATE SEQUENCE s NO CYCLE;",
        ["ALTER SEQUENCE public.s NO CYCLE"],
        set(),
    ),
    (
        "several-options-one-statement",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s INCREMENT 3 CACHE 5 CYCLE;",
        ["ALTER SEQUENCE public.s INCREMENT BY 3 CACHE 5 CYCLE"],
        set(),
    ),
    (
        "comment",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s; COMMENT ON SEQUENCE s IS 'ids';",
        ["COMMENT ON SEQUENCE public.s IS 'ids'"],
        set(),
    ),
    (
        "grant",
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s; GRANT USAGE ON SEQUENCE s TO PUBLIC;",
        ["GRANT USAGE ON SEQUENCE public.s TO PUBLIC"],
        {"AUTHZ_CHANGE"},
    ),
    (
        "owned-by-with-new-table",
        "",
        "CREATE TABLE t (id bigint); CREATE SEQUENCE s OWNED BY t.id;",
        [
            f"CREATE SEQUENCE public.s {DEFAULTS}",
            "CREATE TABLE public.t (\n    id bigint\n)",
            "ALTER SEQUENCE public.s OWNED BY public.t.id",
        ],
        set(),
    ),
    (
        "owned-by-set",
        "CREATE TABLE t (id bigint); CREATE SEQUENCE s;",
        "CREATE TABLE t (id bigint); CREATE SEQUENCE s OWNED BY t.id;",
        ["ALTER SEQUENCE public.s OWNED BY public.t.id"],
        set(),
    ),
    (
        "owned-by-none",
        "CREATE TABLE t (id bigint); CREATE SEQUENCE s OWNED BY t.id;",
        "CREATE TABLE t (id bigint); CREATE SEQUENCE s;",
        ["ALTER SEQUENCE public.s OWNED BY NONE"],
        set(),
    ),
    (
        "owned-by-other-column",
        "CREATE TABLE t (a bigint, b bigint); CREATE SEQUENCE s OWNED BY t.a;",
        "CREATE TABLE t (a bigint, b bigint); CREATE SEQUENCE s OWNED BY t.b;",
        ["ALTER SEQUENCE public.s OWNED BY public.t.b"],
        set(),
    ),
]


CASES += [
    (
        "owned-by-in-other-schema",
        "CREATE SCHEMA app; CREATE TABLE app.t (id bigint); CREATE SEQUENCE app.s;",
        "CREATE SCHEMA app; CREATE TABLE app.t (id bigint);"
        " CREATE SEQUENCE app.s OWNED BY app.t.id;",
        ["ALTER SEQUENCE app.s OWNED BY app.t.id"],
        set(),
    ),
    (
        "sequence-before-table-default-using-it",
        "",
        "CREATE SEQUENCE z_ids; CREATE TABLE a (id bigint DEFAULT nextval('z_ids'));",
        [
            f"CREATE SEQUENCE public.z_ids {DEFAULTS}",
            "CREATE TABLE public.a (\n    id bigint DEFAULT nextval('public.z_ids'::regclass)\n)",
        ],
        set(),
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "sql", "hazards"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_sequence_converges(
    make_db: MakeDb, before: str, after: str, sql: list[str], hazards: set[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


# PostgreSQL 15+: unlogged sequences. A table's SET [UN]LOGGED changes the sequences it owns
# too (measured on 15 and 18), so one that schema/ keeps other than its table gets its own back.
UNLOGGED_CASES = [
    pytest.param(
        "",
        "CREATE UNLOGGED SEQUENCE s;",
        set(),
        [
            "CREATE UNLOGGED SEQUENCE public.s AS bigint INCREMENT BY 1 MINVALUE 1"
            " MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE"
        ],
        id="created-unlogged",
    ),
    # a sequence's persistence rewrites its one row: no hazard of its own
    pytest.param(
        "CREATE SEQUENCE s;",
        "CREATE UNLOGGED SEQUENCE s;",
        set(),
        ["ALTER SEQUENCE public.s SET UNLOGGED"],
        id="set-unlogged",
    ),
    pytest.param(
        "CREATE UNLOGGED SEQUENCE s;",
        "CREATE SEQUENCE s;",
        set(),
        ["ALTER SEQUENCE public.s SET LOGGED"],
        id="set-logged",
    ),
    pytest.param(
        "CREATE TABLE t (id serial); CREATE SEQUENCE o; ALTER SEQUENCE o OWNED BY t.id;",
        "CREATE UNLOGGED TABLE t (id serial); CREATE SEQUENCE o; ALTER SEQUENCE o OWNED BY t.id;"
        " ALTER SEQUENCE o SET LOGGED;",
        {"TABLE_REWRITE", "BLOCKS_READS_WRITES"},
        [
            "ALTER TABLE public.t SET UNLOGGED",
            "ALTER SEQUENCE public.o SET LOGGED",
            "ALTER SEQUENCE public.t_id_seq SET UNLOGGED",
        ],
        id="a-table-set-unlogged-with-an-owned-sequence-kept-logged",
    ),
]


@pytest.mark.parametrize(("before", "after", "hazards", "sql"), UNLOGGED_CASES)
def test_unlogged_sequences(
    make_db: MakeDb, pg_major: int, before: str, after: str, hazards: set[str], sql: list[str]
) -> None:
    if pg_major < 15:
        pytest.skip("unlogged sequences are PostgreSQL 15's")
    assert_converges(make_db, before, after).expect(hazards, sql)


def test_identity_sequence_is_left_to_its_column(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db, "", "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY);"
    )
    assert result.hazard_codes == set()
    assert len(result.sql) == 1
    assert result.sql[0].startswith("CREATE TABLE public.t")
    assert result.current.sequences == result.desired.sequences == ()


def test_sequence_state_is_not_compared(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE SEQUENCE s; SELECT nextval('s'), nextval('s');")
    load(b.admin_dsn, "CREATE SEQUENCE s;")
    assert plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)) == []


def test_alter_keeps_sequence_state(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE SEQUENCE s;",
        "CREATE SEQUENCE s INCREMENT BY 2 START WITH 7;",
        data="SELECT setval('s', 41);",
    )
    assert result.hazard_codes == set()
    assert result.sql == ["ALTER SEQUENCE public.s INCREMENT BY 2 START WITH 7"]


def test_serial_column_sequence_converges(make_db: MakeDb) -> None:
    result = assert_converges(make_db, "", "CREATE TABLE t (id serial, name text);")
    assert result.hazard_codes == set()
    seq_steps = [s for s in result.sql if "t_id_seq" in s and "SEQUENCE" in s]
    assert seq_steps[0].startswith("CREATE SEQUENCE public.t_id_seq AS integer")
    assert seq_steps[-1] == "ALTER SEQUENCE public.t_id_seq OWNED BY public.t.id"
    create_table = next(i for i, s in enumerate(result.sql) if s.startswith("CREATE TABLE"))
    assert result.sql.index(seq_steps[0]) < create_table < result.sql.index(seq_steps[-1])


def test_drop_table_with_owned_sequence(make_db: MakeDb) -> None:
    result = assert_converges(make_db, "CREATE TABLE t (id serial, name text);", "")
    assert "DROP SEQUENCE IF EXISTS public.t_id_seq" in result.sql
    assert "DATA_LOSS" in result.hazards_of("DROP SEQUENCE")


SAME_SCHEMA = [
    ("int-spellings", "CREATE SEQUENCE s AS int4;", "CREATE SEQUENCE public.s AS integer;"),
    (
        "defaults-spelled-out",
        "CREATE SEQUENCE s;",
        "create sequence S as BIGINT increment by 1 minvalue 1 no maxvalue"
        " start 1 cache 1 no cycle;",
    ),
]


@pytest.mark.parametrize(
    ("first", "second"), [pytest.param(*case[1:], id=case[0]) for case in SAME_SCHEMA]
)
def test_same_sequence_spelled_differently_plans_nothing(
    make_db: MakeDb, first: str, second: str
) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, first)
    load(b.admin_dsn, second)
    assert plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)) == []


def test_inspect_sequences(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        """
        CREATE SEQUENCE s AS integer INCREMENT 5 MINVALUE 0 MAXVALUE 1000 START 10 CACHE 3 CYCLE;
        CREATE TABLE t (id serial, ident bigint GENERATED ALWAYS AS IDENTITY);
        SELECT nextval('s');
        """,
    )
    schema = inspect_dsn(db.admin_dsn)
    by_name = {s.name: s for s in schema.sequences}
    # the identity column's sequence belongs to its column
    assert set(by_name) == {"s", "t_id_seq"}
    s = by_name["s"]
    assert (s.data_type, s.increment, s.min_value, s.max_value, s.start, s.cache, s.cycle) == (
        "integer",
        5,
        0,
        1000,
        10,
        3,
        True,
    )
    assert s.owned_by is None
    assert by_name["t_id_seq"].owned_by == OwnedBy(table="t", column="id")


# New bounds that leave out the old start: PostgreSQL refuses them while the sequence's current
# value is outside, which an unused sequence's (its start) is; a used one must keep its value.
NARROWED = "CREATE SEQUENCE s MINVALUE 10;"


def test_unused_sequence_restarts_at_the_new_start_when_the_bounds_leave_out_the_old(
    make_db: MakeDb,
) -> None:
    result = assert_converges(make_db, "CREATE SEQUENCE s;", NARROWED)
    (statement,) = result.sql
    assert statement.startswith("DO $pgflux$")
    assert "ALTER SEQUENCE public.s MINVALUE 10 START WITH 10 RESTART;" in statement
    assert "BACKWARD_INCOMPATIBLE" in result.hazard_codes


def test_unused_sequence_whose_increment_changes_sign_restarts(make_db: MakeDb) -> None:
    result = assert_converges(make_db, "CREATE SEQUENCE s;", "CREATE SEQUENCE s INCREMENT BY -1;")
    assert "RESTART" in result.sql[0]


def test_used_sequence_inside_the_new_bounds_keeps_its_value(
    make_db: MakeDb, run_sql: Callable[..., list[tuple[Any, ...]]]
) -> None:
    """Production's sequence is further along than the verification's fresh copy: both take
    the plan, and production's value is untouched."""
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE SEQUENCE s; SELECT setval('s', 500);")
    load(b.admin_dsn, NARROWED)
    statements = plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))
    with psycopg.connect(a.admin_dsn) as conn:
        execute_statements(conn, statements)
    assert run_sql(a.admin_dsn, "SELECT nextval('s')") == [(501,)]
    assert plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)) == []
    # the same pair through assert_converges: verified in the shadow on a fresh copy too
    assert_converges(make_db, "CREATE SEQUENCE s;", NARROWED, data="SELECT setval('s', 500);")


def test_used_sequence_outside_the_new_bounds_is_refused_not_restarted(
    make_db: MakeDb, run_sql: Callable[..., list[tuple[Any, ...]]]
) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE SEQUENCE s; SELECT setval('s', 5);")
    load(b.admin_dsn, NARROWED)
    statements = plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))
    with (
        psycopg.connect(a.admin_dsn) as conn,
        pytest.raises(psycopg.errors.InvalidParameterValue, match="MINVALUE"),
    ):
        execute_statements(conn, statements)
    assert run_sql(a.admin_dsn, "SELECT min_value, last_value FROM pg_sequences") == [(1, 5)]


def test_unused_identity_restarts_when_its_new_bounds_leave_out_the_old_start(
    make_db: MakeDb,
) -> None:
    result = assert_converges(
        make_db,
        'CREATE TABLE "T t" (id bigint GENERATED BY DEFAULT AS IDENTITY);',
        'CREATE TABLE "T t" (id bigint GENERATED BY DEFAULT AS IDENTITY (MINVALUE 10));',
    )
    (statement,) = result.sql
    assert "pg_get_serial_sequence('public.\"T t\"', 'id')" in statement
    assert "SET MINVALUE 10" in statement
    assert "RESTART;" in statement
