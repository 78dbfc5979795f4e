"""A child's generation expression of a column it has from its parent (PostgreSQL 17+).

A child may generate an inherited column by an expression of its own: declared so when it is made
(`CREATE TABLE c (b int GENERATED ALWAYS AS (a * 5) STORED) INHERITS (p)`, PostgreSQL 16+) or set
with `ALTER TABLE ONLY c ALTER COLUMN b SET EXPRESSION AS (...)` (17+). The parent's SET EXPRESSION
and DROP EXPRESSION reach every child, overwriting such an expression; the plan writes it back
with ONLY. Each case fails on the code before this file unless marked as coverage.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from engine import dsn as dsnlib
from engine.cli import main
from engine.load import load_into, parse_schema_dir
from tests.conftest import DatabaseFactory
from tests.engine.convergence import MakeDb, apply_and_read, assert_converges, load


def _parent(expression: str = "a * 2", partitioned: bool = False) -> str:
    by = " PARTITION BY RANGE (a)" if partitioned else ""
    return f"CREATE TABLE p (a int, b int GENERATED ALWAYS AS ({expression}) STORED){by};"


def _own(expression: str, table: str = "c") -> str:
    return f" ALTER TABLE ONLY {table} ALTER COLUMN b SET EXPRESSION AS ({expression});"


DECLARES = " CREATE TABLE c (b int GENERATED ALWAYS AS (a * 5) STORED) INHERITS (p);"
INHERITS = " CREATE TABLE c () INHERITS (p);"
PARTITION = " CREATE TABLE c PARTITION OF p FOR VALUES FROM (0) TO (100);"
GRANDCHILD = " CREATE TABLE g () INHERITS (c);"
ROW = "INSERT INTO c (a) VALUES (1);"

CASES = {
    "the parent's new expression, a child declaring its own keeps it": (
        _parent() + DECLARES,
        _parent("a * 3") + DECLARES,
    ),
    "the parent's new expression, a child's own set with ONLY kept": (
        _parent() + INHERITS + _own("a * 5"),
        _parent("a * 3") + INHERITS + _own("a * 5"),
    ),
    "a child gets an expression of its own": (
        _parent() + INHERITS,
        _parent() + INHERITS + _own("a * 5"),
    ),
    "a child's own expression goes, the parent's again": (
        _parent() + INHERITS + _own("a * 5"),
        _parent() + INHERITS,
    ),
    "a partition's own expression": (
        _parent(partitioned=True) + PARTITION,
        _parent(partitioned=True) + PARTITION + _own("a * 5"),
    ),
    "the parent's new expression, a partition keeps its own": (
        _parent(partitioned=True) + PARTITION + _own("a * 5"),
        _parent("a * 3", partitioned=True) + PARTITION + _own("a * 5"),
    ),
    "a grandchild under a child with its own expression": (
        _parent() + DECLARES + GRANDCHILD,
        _parent("a * 3") + DECLARES + GRANDCHILD,
    ),
    "a new child with its own expression while the parent's changes": (
        _parent(),
        _parent("a * 3") + INHERITS + _own("a * 5"),
    ),
    "from nothing, a child's own expression": ("", _parent() + INHERITS + _own("a * 5")),
    # coverage: these passed on the code before too
    "a declared child's own expression changes": (
        _parent() + DECLARES,
        _parent() + DECLARES.replace("a * 5", "a * 6"),
    ),
    "the parent's new expression reaches a child": (
        _parent() + INHERITS,
        _parent("a * 3") + INHERITS,
    ),
    "a new child while the parent's expression changes": (
        _parent(),
        _parent("a * 3") + INHERITS,
    ),
}


@pytest.fixture(autouse=True)
def _needs_17(pg_major: int) -> None:
    if pg_major < 17:
        pytest.skip("a child's own generation expression is set with SET EXPRESSION (17+)")


EXPRESSIONS = """
SELECT a.attrelid::regclass::text, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attgenerated = 's' ORDER BY 1
"""


def _expressions(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(EXPRESSIONS).fetchall()


@pytest.mark.parametrize(("before", "after"), CASES.values(), ids=CASES.keys())
def test_a_childs_generation_expression(make_db: DatabaseFactory, before: str, after: str) -> None:
    assert_converges(make_db, before, after, data=ROW if "TABLE c" in before else "")
    # pg_dump leaves out a child's own expression of a column it does not declare (measured
    # on 18.6): compared here from the catalog
    a, b = make_db.made[:2]
    assert _expressions(a.admin_dsn) == _expressions(b.admin_dsn)


def test_a_parents_expression_set_with_only_is_written_back(make_db: MakeDb) -> None:
    done = assert_converges(
        make_db,
        _parent() + INHERITS + _own("a * 5"),
        _parent("a * 3") + INHERITS + _own("a * 5"),
        data=ROW,
    )
    assert done.sql == [
        "ALTER TABLE public.p ALTER COLUMN b SET EXPRESSION AS ((a * 3))",
        "ALTER TABLE ONLY public.c ALTER COLUMN b SET EXPRESSION AS ((a * 5))",
    ]
    assert done.hazards_of("ONLY public.c") == {"TABLE_REWRITE", "BLOCKS_READS_WRITES"}


def test_a_child_that_no_longer_declares_its_expression_gets_the_parents(make_db: MakeDb) -> None:
    # Whether the child declares the column is no difference (no statement changes it, so
    # pg_dump still declares it there); its expression is.
    query = (
        "SELECT pg_get_expr(adbin, adrelid), (SELECT b FROM c) FROM pg_attrdef"
        " WHERE adrelid = 'c'::regclass"
    )
    rows = apply_and_read(make_db, _parent() + DECLARES, _parent() + INHERITS, query, data=ROW)
    assert rows == [("(a * 2)", 2)]


def test_dump_and_pull_keep_a_childs_own_expression(
    tmp_path: Path, make_db: DatabaseFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # pg_dump leaves it out (the child does not declare the column); pg-flux's own do not
    live, dumped, pulled = make_db(), make_db(), make_db()
    load(live.admin_dsn, _parent() + INHERITS + _own("a * 5"))
    shadow = ["--dsn", live.admin_dsn, "--shadow", dsnlib.with_dbname(live.admin_dsn, "postgres")]
    out = tmp_path / "dump.sql"
    assert main(["dump", *shadow, "--out", str(out)]) == 0
    load(dumped.admin_dsn, out.read_text(encoding="utf-8"))
    tree = tmp_path / "pulled"
    assert main(["pull", *shadow, "--out", str(tree)]) == 0
    load_into(pulled.admin_dsn, parse_schema_dir(tree))
    want = [("c", "(a * 5)"), ("p", "(a * 2)")]
    assert _expressions(live.admin_dsn) == want
    assert _expressions(dumped.admin_dsn) == want
    assert _expressions(pulled.admin_dsn) == want
