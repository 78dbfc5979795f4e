"""PostgreSQL 18's virtual generated columns: inspected, made, changed and dropped, with exact
statements and hazards; each case converges (pg_dump) and re-plans empty.

A virtual column stores nothing: adding one, its new expression and its new type rewrite
nothing (each case below that says so checks the table's relfilenode). PostgreSQL has no
DROP EXPRESSION for it, no kind change in place, and refuses SET EXPRESSION on it while the
table has a CHECK constraint: the plan makes the column again there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from engine.catalog import inspect_dsn
from engine.errors import PlanError
from engine.execute import execute_statements
from engine.model.tables import Generated
from engine.plan.planner import plan_statements
from tests.engine.convergence import MakeDb, apply_and_read, assert_converges, load

BASE = "CREATE TABLE t (id int"
ROWS = "INSERT INTO t (id) SELECT g FROM generate_series(1, 20) g;"
VIRTUAL = "GENERATED ALWAYS AS (id * 2) VIRTUAL"


@pytest.fixture(autouse=True)
def _needs_18(pg_major: int) -> None:
    if pg_major < 18:
        pytest.skip("virtual generated columns are PostgreSQL 18's")


def _table(columns: str, extra: str = "") -> str:
    return f"{BASE}{', ' if columns else ''}{columns});{extra}"


def test_inspect_virtual_and_stored(make_db: MakeDb) -> None:
    db = make_db()
    load(
        db.admin_dsn,
        "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2),"
        " w int GENERATED ALWAYS AS (a * 3) VIRTUAL NOT NULL,"
        " s int GENERATED ALWAYS AS (a * 4) STORED);"
        "CREATE TABLE p (a int, v int GENERATED ALWAYS AS (a * 2)) PARTITION BY RANGE (a);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
        "CREATE TABLE p2 (a int, v int GENERATED ALWAYS AS (a * 5));"
        "ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (10) TO (20);",
    )
    schema = inspect_dsn(db.admin_dsn)
    cols = {c.name: c for c in schema.columns if c.table == "t"}
    # 18's default kind, when neither is written, is VIRTUAL
    assert cols["v"].generated == Generated(expression="(a * 2)", virtual=True)
    assert cols["w"].generated == Generated(expression="(a * 3)", virtual=True)
    assert cols["w"].not_null
    assert cols["s"].generated == Generated(expression="(a * 4)")
    assert cols["a"].generated is None
    assert all(c.default is None for c in cols.values())
    held = {(c.table, c.name): c.generated for c in schema.inherited_columns}
    assert held[("p1", "v")] == "(a * 2)"
    assert held[("p2", "v")] == "(a * 5)"  # its own, attached with it
    assert schema.unmanaged == ()


# (before, after, data, hazards, statements: exact, in order)
CASES = [
    pytest.param(
        "",
        f"c integer {VIRTUAL}",
        ROWS,
        set(),
        ["ALTER TABLE public.t ADD COLUMN c integer GENERATED ALWAYS AS ((id * 2)) VIRTUAL"],
        id="add",
    ),
    pytest.param(
        f"c integer {VIRTUAL}",
        "",
        ROWS,
        {"BACKWARD_INCOMPATIBLE"},  # nothing stored: no DATA_LOSS
        ["ALTER TABLE public.t DROP COLUMN c"],
        id="drop",
    ),
    pytest.param(
        f"c integer {VIRTUAL}",
        "c integer GENERATED ALWAYS AS (id * 3) VIRTUAL",
        ROWS,
        set(),
        ["ALTER TABLE public.t ALTER COLUMN c SET EXPRESSION AS ((id * 3))"],
        id="new-expression",
    ),
    pytest.param(
        f"c integer {VIRTUAL}",
        f"c bigint {VIRTUAL}",
        ROWS,
        set(),
        ["ALTER TABLE public.t ALTER COLUMN c TYPE bigint"],
        id="new-type",
    ),
    pytest.param(
        f"c integer {VIRTUAL}",
        "c text GENERATED ALWAYS AS (id::text || 'x') VIRTUAL",
        ROWS,
        {"BACKWARD_INCOMPATIBLE"},  # an unrelated type
        [
            "ALTER TABLE public.t ALTER COLUMN c TYPE text",
            "ALTER TABLE public.t ALTER COLUMN c SET EXPRESSION AS (((id)::text || 'x'::text))",
        ],
        id="new-type-and-expression",
    ),
    pytest.param(
        f"k int CHECK (k > 0), c integer {VIRTUAL}",
        "k int CHECK (k > 0), c integer GENERATED ALWAYS AS (id * 3) VIRTUAL",
        ROWS,
        {"BACKWARD_INCOMPATIBLE"},
        [
            "ALTER TABLE public.t DROP COLUMN c",
            "ALTER TABLE public.t ADD COLUMN c integer GENERATED ALWAYS AS ((id * 3)) VIRTUAL",
        ],
        id="new-expression-under-a-check",
    ),
    pytest.param(
        "c integer GENERATED ALWAYS AS (id * 2) STORED",
        f"c integer {VIRTUAL}",
        ROWS,
        {"DATA_LOSS"},
        [
            "ALTER TABLE public.t DROP COLUMN c",
            "ALTER TABLE public.t ADD COLUMN c integer GENERATED ALWAYS AS ((id * 2)) VIRTUAL",
        ],
        id="stored-to-virtual",
    ),
    pytest.param(
        f"c integer {VIRTUAL}",
        "c integer GENERATED ALWAYS AS (id * 2) STORED",
        ROWS,
        {"BACKWARD_INCOMPATIBLE", "TABLE_REWRITE"},
        [
            "ALTER TABLE public.t DROP COLUMN c",
            "ALTER TABLE public.t ADD COLUMN c integer GENERATED ALWAYS AS ((id * 2)) STORED",
        ],
        id="virtual-to-stored",
    ),
    pytest.param(
        "c integer",
        f"c integer {VIRTUAL}",
        "INSERT INTO t (id, c) SELECT g, g FROM generate_series(1, 20) g;",
        {"DATA_LOSS"},
        [
            "ALTER TABLE public.t DROP COLUMN c",
            "ALTER TABLE public.t ADD COLUMN c integer GENERATED ALWAYS AS ((id * 2)) VIRTUAL",
        ],
        id="plain-to-virtual",
    ),
    pytest.param(
        f"c integer {VIRTUAL}",
        "c integer",
        ROWS,
        {"DATA_LOSS"},
        ["ALTER TABLE public.t DROP COLUMN c", "ALTER TABLE public.t ADD COLUMN c integer"],
        id="virtual-to-plain",
    ),
    pytest.param(
        "",
        f"c integer {VIRTUAL} NOT NULL",
        ROWS,
        {"FULL_SCAN_UNDER_LOCK"},  # every row's value computed and checked
        [
            "ALTER TABLE public.t ADD COLUMN c integer GENERATED ALWAYS AS ((id * 2)) VIRTUAL"
            " CONSTRAINT t_c_not_null NOT NULL"
        ],
        id="add-not-null",
    ),
    pytest.param(
        f"c integer {VIRTUAL} NOT NULL",
        "c integer GENERATED ALWAYS AS (id * 3) VIRTUAL NOT NULL",
        ROWS,
        {"FULL_SCAN_UNDER_LOCK"},
        ["ALTER TABLE public.t ALTER COLUMN c SET EXPRESSION AS ((id * 3))"],
        id="new-expression-not-null",
    ),
    pytest.param(
        f"c integer {VIRTUAL}",
        f"c integer {VIRTUAL} NOT NULL",
        ROWS,
        {"BACKWARD_INCOMPATIBLE", "NON_TRANSACTIONAL"},
        None,  # the online SET NOT NULL (its CHECK validated alone), under 18's name
        id="set-not-null",
    ),
]


@pytest.mark.parametrize(("before", "after", "data", "hazards", "statements"), CASES)
def test_virtual_column_change(
    make_db: MakeDb,
    run_sql: Callable[..., list[tuple[Any, ...]]],
    before: str,
    after: str,
    data: str,
    hazards: set[str],
    statements: list[str] | None,
) -> None:
    assert_converges(make_db, _table(before), _table(after), data=data).expect(hazards, statements)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("", f"c integer {VIRTUAL}", id="add"),
        pytest.param(f"c integer {VIRTUAL}", f"c bigint {VIRTUAL}", id="new-type"),
        pytest.param(
            f"c integer {VIRTUAL}", "c integer GENERATED ALWAYS AS (id + 1) VIRTUAL", id="expr"
        ),
    ],
)
def test_what_says_no_rewrite_rewrites_nothing(
    make_db: MakeDb, run_sql: Callable[..., list[tuple[Any, ...]]], before: str, after: str
) -> None:
    # PostgreSQL's own verdict: a rewrite gives the table a new relfilenode
    a, b = make_db(), make_db()
    load(a.admin_dsn, _table(before) + ROWS)
    load(b.admin_dsn, _table(after))
    node = run_sql(a.admin_dsn, "SELECT pg_relation_filenode('t')")[0][0]
    statements = plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))
    assert statements
    assert not any(h.code.value == "TABLE_REWRITE" for s in statements for h in s.hazards)
    with psycopg.connect(a.admin_dsn) as conn:
        execute_statements(conn, statements)
    assert run_sql(a.admin_dsn, "SELECT pg_relation_filenode('t')")[0][0] == node
    assert run_sql(a.admin_dsn, "SELECT count(*) FROM t WHERE c IS NULL")[0][0] == 0


def test_made_again_keeps_comment_and_grants(make_db: MakeDb) -> None:
    extra = "COMMENT ON COLUMN t.c IS 'doubled'; GRANT SELECT (c) ON t TO PUBLIC;"
    result = assert_converges(
        make_db,
        _table(f"k int CHECK (k > 0), c integer {VIRTUAL}", extra),
        _table("k int CHECK (k > 0), c integer GENERATED ALWAYS AS (id * 3) VIRTUAL", extra),
        data=ROWS,
    )
    assert "COMMENT ON COLUMN public.t.c IS 'doubled'" in result.sql


def test_a_view_on_the_column_is_rebuilt_when_it_is_made_again(make_db: MakeDb) -> None:
    view = "CREATE VIEW v AS SELECT id, c FROM t;"
    result = assert_converges(
        make_db,
        _table(f"c integer {VIRTUAL}", view),
        _table("c integer", view),
        data=ROWS,
    )
    assert result.sql[0] == "DROP VIEW public.v"


def test_a_check_on_the_column_comes_back_when_it_is_made_again(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        _table(f"c integer {VIRTUAL} CONSTRAINT c_pos CHECK (c > 0)"),
        _table("c integer GENERATED ALWAYS AS (id * 3) VIRTUAL CONSTRAINT c_pos CHECK (c > 0)"),
        data=ROWS,
    )
    assert any("ADD CONSTRAINT c_pos" in sql for sql in result.sql), result.sql


def test_create_table_and_partitions(make_db: MakeDb) -> None:
    after = (
        "CREATE TABLE p (a int, v int GENERATED ALWAYS AS (a * 2) VIRTUAL)"
        " PARTITION BY RANGE (a);"
        "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
    )
    result = assert_converges(make_db, "", after)
    assert "v integer GENERATED ALWAYS AS ((a * 2)) VIRTUAL" in result.sql[0]


PARTITIONED = (
    "CREATE TABLE p (a int, v int GENERATED ALWAYS AS (a * 2) VIRTUAL) PARTITION BY RANGE (a);"
    "CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
)


def test_the_parents_new_expression_reaches_its_partitions(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        PARTITIONED,
        PARTITIONED.replace("(a * 2)", "(a * 7)"),
        data="INSERT INTO p SELECT g FROM generate_series(0, 9) g;",
    )
    assert result.sql == ["ALTER TABLE public.p ALTER COLUMN v SET EXPRESSION AS ((a * 7))"]
    assert result.hazard_codes == set()


def test_a_partitions_own_expression(make_db: MakeDb) -> None:
    attached = (
        "CREATE TABLE p2 (a int, v int GENERATED ALWAYS AS (a * {n}) VIRTUAL);"
        "ALTER TABLE p ATTACH PARTITION p2 FOR VALUES FROM (10) TO (20);"
    )
    result = assert_converges(
        make_db, PARTITIONED + attached.format(n=3), PARTITIONED + attached.format(n=4)
    )
    assert result.sql == ["ALTER TABLE ONLY public.p2 ALTER COLUMN v SET EXPRESSION AS ((a * 4))"]
    assert result.hazard_codes == set()


def test_a_childs_own_expression_under_a_check_is_refused(make_db: MakeDb) -> None:
    # PostgreSQL refuses the child's SET EXPRESSION, and its inherited column cannot be made
    # again: the plan stops and says so before anything runs
    base = "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2) VIRTUAL);"
    child = (
        "CREATE TABLE c (v int GENERATED ALWAYS AS (a * {n}) VIRTUAL, CHECK (a > 0)) INHERITS (t);"
    )
    a, b = make_db(), make_db()
    load(a.admin_dsn, base + child.format(n=3))
    load(b.admin_dsn, base + child.format(n=4))
    with pytest.raises(PlanError, match=r"public\.c\.v .*CHECK constraints"):
        plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))


def test_the_parents_new_expression_over_a_child_with_a_check(make_db: MakeDb) -> None:
    # the recursing SET EXPRESSION would meet the child's CHECK: the column is made again on
    # the parent, which takes the children's along
    base = "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * {n}) VIRTUAL);"
    child = "CREATE TABLE c (CHECK (a > 0)) INHERITS (t);"
    rows = apply_and_read(
        make_db,
        base.format(n=2) + child,
        base.format(n=5) + child,
        "SELECT v FROM c",
        data="INSERT INTO c (a) VALUES (1);",
    )
    assert rows == [(5,)]


# A table that joins a parent must have its columns of the parent's kind: the plan makes the
# table's column again before the join (engine.diff.kinds.joining.generation_steps)
V2 = "GENERATED ALWAYS AS (a * 2) VIRTUAL"
JOIN_CASES = {
    "attach: stored to the parent's virtual": (
        f"CREATE TABLE p (a int, v int {V2}) PARTITION BY RANGE (a);",
        "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 2) STORED);",
        f"CREATE TABLE t (a int, v int {V2});",
        "ALTER TABLE p ATTACH PARTITION t FOR VALUES FROM (0) TO (10);",
    ),
    "attach: virtual to the parent's plain": (
        "CREATE TABLE p (a int, v int) PARTITION BY RANGE (a);",
        f"CREATE TABLE t (a int, v int {V2});",
        "CREATE TABLE t (a int, v int);",
        "ALTER TABLE p ATTACH PARTITION t FOR VALUES FROM (0) TO (10);",
    ),
    "attach: its own expression, of the parent's kind": (
        f"CREATE TABLE p (a int, v int {V2}) PARTITION BY RANGE (a);",
        "CREATE TABLE t (a int, v int);",
        "CREATE TABLE t (a int, v int GENERATED ALWAYS AS (a * 5) VIRTUAL);",
        "ALTER TABLE p ATTACH PARTITION t FOR VALUES FROM (0) TO (10);",
    ),
    "inherit: plain to the parent's virtual, declared": (
        f"CREATE TABLE p (a int, v int {V2});",
        "CREATE TABLE t (a int, v int);",
        f"CREATE TABLE t (a int, v int {V2});",
        "ALTER TABLE t INHERIT p;",
    ),
}


@pytest.mark.parametrize(
    ("parent", "before", "after", "join"), JOIN_CASES.values(), ids=JOIN_CASES.keys()
)
def test_a_joining_table_takes_its_parents_column_kind(
    make_db: MakeDb, parent: str, before: str, after: str, join: str
) -> None:
    result = assert_converges(
        make_db, parent + before, parent + after + join, data="INSERT INTO t (a) VALUES (1);"
    )
    joins = next(i for i, sql in enumerate(result.sql) if "ATTACH" in sql or "INHERIT" in sql)
    assert "ALTER TABLE public.t DROP COLUMN v" in result.sql[:joins]
