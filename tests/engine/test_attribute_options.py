"""A column's attribute options (`ALTER COLUMN ... SET (n_distinct = ...)`): inspected, planned on
each table alone (a parent's reaches no child, a new child has none, ATTACH keeps the table's),
and converging with pg_dump."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.model.tables import Option
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

TABLE = "CREATE TABLE t (id int, a int, b text);"
ROWS = "INSERT INTO t (id, a, b) SELECT g, g % 7, 'x' FROM generate_series(1, 50) g;"
PARTS = (
    "CREATE TABLE p (k int, b text) PARTITION BY RANGE (k);"
    " CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
)
INHERITS = "CREATE TABLE q (a int); CREATE TABLE q1 (a int, extra int) INHERITS (q);"


def _set(table: str, column: str, options: str) -> str:
    return f"ALTER TABLE {table} ALTER COLUMN {column} SET ({options});"


# (before, after, hazards, the plan's exact statements)
CASES = [
    pytest.param(
        TABLE,
        TABLE + _set("t", "a", "n_distinct = 100"),
        set(),
        ["ALTER TABLE ONLY public.t ALTER COLUMN a SET (n_distinct = '100')"],
        id="set",
    ),
    pytest.param(
        TABLE + _set("t", "a", "n_distinct = 100"),
        TABLE + _set("t", "a", "n_distinct = -0.25"),
        set(),
        ["ALTER TABLE ONLY public.t ALTER COLUMN a SET (n_distinct = '-0.25')"],
        id="change",
    ),
    pytest.param(
        TABLE + _set("t", "a", "n_distinct = 100, n_distinct_inherited = 5"),
        TABLE + _set("t", "a", "n_distinct_inherited = 6"),
        set(),
        [
            "ALTER TABLE ONLY public.t ALTER COLUMN a RESET (n_distinct),"
            " ALTER COLUMN a SET (n_distinct_inherited = '6')"
        ],
        id="reset-one-change-other",
    ),
    pytest.param(
        TABLE + _set("t", "a", "n_distinct = 100") + _set("t", "b", "n_distinct = 2"),
        TABLE + _set("t", "b", "n_distinct = 2"),
        set(),
        ["ALTER TABLE ONLY public.t ALTER COLUMN a RESET (n_distinct)"],
        id="reset",
    ),
    pytest.param(
        "",
        TABLE + _set("t", "b", "n_distinct = -1"),
        set(),
        [
            "CREATE TABLE public.t (\n    id integer,\n    a integer,\n    b text\n)",
            "ALTER TABLE ONLY public.t ALTER COLUMN b SET (n_distinct = '-1')",
        ],
        id="new-table",
    ),
    pytest.param(
        TABLE,
        "CREATE TABLE t (id int, a int, b text, c int);" + _set("t", "c", "n_distinct = 9"),
        set(),
        [
            "ALTER TABLE public.t ADD COLUMN c integer",
            "ALTER TABLE ONLY public.t ALTER COLUMN c SET (n_distinct = '9')",
        ],
        id="new-column",
    ),
    pytest.param(
        # ALTER COLUMN TYPE keeps them (measured on 15 and 18): nothing to set again
        TABLE + _set("t", "a", "n_distinct = 100"),
        "CREATE TABLE t (id int, a bigint, b text);" + _set("t", "a", "n_distinct = 100"),
        {"TABLE_REWRITE", "BLOCKS_READS_WRITES"},
        ["ALTER TABLE public.t ALTER COLUMN a TYPE bigint"],
        id="kept-across-type-change",
    ),
    pytest.param(
        # a plain column made generated is made again (last, as pg_dump's oracle then has it):
        # its options are set again after it
        "CREATE TABLE t (id int, b text, a int);" + _set("t", "a", "n_distinct = 100"),
        "CREATE TABLE t (id int, b text, a int GENERATED ALWAYS AS (id % 7) STORED);"
        + _set("t", "a", "n_distinct = 100"),
        {"DATA_LOSS", "TABLE_REWRITE"},
        [
            "ALTER TABLE public.t DROP COLUMN a",
            "ALTER TABLE public.t ADD COLUMN a integer GENERATED ALWAYS AS ((id % 7)) STORED",
            "ALTER TABLE ONLY public.t ALTER COLUMN a SET (n_distinct = '100')",
        ],
        id="kept-across-remake",
    ),
    pytest.param(
        # the parent's own: its partition keeps none
        PARTS,
        PARTS + _set("p", "b", "n_distinct = 3"),
        set(),
        ["ALTER TABLE ONLY public.p ALTER COLUMN b SET (n_distinct = '3')"],
        id="partitioned-parent",
    ),
    pytest.param(
        # a partition's own (an inherited column's), apart from its parent's
        PARTS + _set("p", "b", "n_distinct = 3"),
        PARTS + _set("p", "b", "n_distinct = 3") + _set("p1", "b", "n_distinct = 8"),
        set(),
        ["ALTER TABLE ONLY public.p1 ALTER COLUMN b SET (n_distinct = '8')"],
        id="partition-own",
    ),
    pytest.param(
        PARTS + _set("p1", "b", "n_distinct = 8"),
        PARTS,
        set(),
        ["ALTER TABLE ONLY public.p1 ALTER COLUMN b RESET (n_distinct)"],
        id="partition-reset",
    ),
    pytest.param(
        # a new partition has none of its parent's
        PARTS + _set("p", "b", "n_distinct = 3"),
        PARTS
        + "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);"
        + _set("p", "b", "n_distinct = 3")
        + _set("p2", "b", "n_distinct = 4"),
        set(),
        [
            "CREATE TABLE public.p2 PARTITION OF public.p FOR VALUES FROM (10) TO (20)",
            "ALTER TABLE ONLY public.p2 ALTER COLUMN b SET (n_distinct = '4')",
        ],
        id="new-partition",
    ),
    pytest.param(
        # ATTACH PARTITION keeps the table's own
        PARTS + "CREATE TABLE p2 (k int, b text);" + _set("p2", "b", "n_distinct = 4"),
        PARTS
        + "CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (10) TO (20);"
        + _set("p2", "b", "n_distinct = 4"),
        {"FULL_SCAN_UNDER_LOCK"},
        ["ALTER TABLE public.p ATTACH PARTITION public.p2 FOR VALUES FROM (10) TO (20)"],
        id="attached-keeps-its-own",
    ),
    pytest.param(
        # a detached partition's column is its own, options and all
        PARTS + _set("p1", "b", "n_distinct = 8"),
        "CREATE TABLE p (k int, b text) PARTITION BY RANGE (k);"
        " CREATE TABLE p1 (k int, b text);" + _set("p1", "b", "n_distinct = 8"),
        {"BACKWARD_INCOMPATIBLE"},
        ["ALTER TABLE public.p DETACH PARTITION public.p1"],
        id="detached-keeps-its-own",
    ),
    pytest.param(
        # a column the inheritance child declares and inherits: its own, with ONLY
        INHERITS + _set("q", "a", "n_distinct = 2"),
        INHERITS + _set("q", "a", "n_distinct = 2") + _set("q1", "a", "n_distinct = 5"),
        set(),
        ["ALTER TABLE ONLY public.q1 ALTER COLUMN a SET (n_distinct = '5')"],
        id="declared-inherited-column",
    ),
    pytest.param(
        # a foreign table's column takes them too
        "CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w;"
        " CREATE FOREIGN TABLE ft (a int) SERVER s;",
        "CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s FOREIGN DATA WRAPPER w;"
        " CREATE FOREIGN TABLE ft (a int) SERVER s;" + _set("ft", "a", "n_distinct = 10"),
        set(),
        ["ALTER TABLE ONLY public.ft ALTER COLUMN a SET (n_distinct = '10')"],
        id="foreign-table",
    ),
]


@pytest.mark.parametrize(("before", "after", "hazards", "statements"), CASES)
def test_attribute_options(
    make_db: MakeDb,
    before: str,
    after: str,
    hazards: set[str],
    statements: list[str],
) -> None:
    result = assert_converges(
        make_db, before, after, data=ROWS if "CREATE TABLE t " in before else ""
    )
    result.expect(hazards, statements)


def test_the_order_options_were_set_in_is_no_difference(make_db: MakeDb) -> None:
    # PostgreSQL keeps them in the order given (pg_dump prints that order): the same options
    a, b = make_db(), make_db()
    load(a.admin_dsn, TABLE + _set("t", "a", "n_distinct = 1, n_distinct_inherited = 2"))
    load(b.admin_dsn, TABLE + _set("t", "a", "n_distinct_inherited = 2, n_distinct = 1"))
    assert plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)) == []


def test_inspect_attribute_options(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        PARTS
        + _set("p", "b", "n_distinct_inherited = 7, n_distinct = 3.0")
        + _set("p1", "b", "n_distinct = -0.5"),
    )
    schema = inspect_dsn(db.admin_dsn)
    (parent,) = [c for c in schema.columns if c.table == "p" and c.name == "b"]
    # by name, and as PostgreSQL keeps the text given
    assert parent.attribute_options == (
        Option(name="n_distinct", value="3.0"),
        Option(name="n_distinct_inherited", value="7"),
    )
    (child,) = [c for c in schema.inherited_columns if c.table == "p1" and c.name == "b"]
    assert child.attribute_options == (Option(name="n_distinct", value="-0.5"),)
    assert schema.unmanaged == ()
