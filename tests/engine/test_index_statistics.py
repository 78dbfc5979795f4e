"""An index expression column's statistics target (`ALTER INDEX ... ALTER COLUMN n SET
STATISTICS t`): inspected, planned in place (a partitioned index's too, without a rebuild), set
again on an index built again, and converging with pg_dump; a partition's attached index and a
constraint's index keep theirs reported as unmanaged."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.model.indexes import ColumnStatistics
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

TABLE = "CREATE TABLE t (id int, a int, b text);"
ROWS = "INSERT INTO t (id, a, b) SELECT g, g % 7, 'x' || g FROM generate_series(1, 50) g;"
EXPR = "CREATE INDEX t_lower ON t (lower(b), a, (a + id));"
PARTS = (
    "CREATE TABLE p (k int, b text) PARTITION BY RANGE (k);"
    " CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);"
    " CREATE INDEX p_lower ON p (lower(b));"
)
MATVIEW = (
    "CREATE MATERIALIZED VIEW mv AS SELECT id, b FROM t; CREATE INDEX mv_lower ON mv (lower(b));"
)


def _stat(index: str, column: int, target: int) -> str:
    return f"ALTER INDEX {index} ALTER COLUMN {column} SET STATISTICS {target};"


# (before, after, hazards, the plan's exact statements)
CASES = [
    pytest.param(
        TABLE + EXPR,
        TABLE + EXPR + _stat("t_lower", 1, 500),
        set(),
        ["ALTER INDEX public.t_lower ALTER COLUMN 1 SET STATISTICS 500"],
        id="set",
    ),
    pytest.param(
        TABLE + EXPR + _stat("t_lower", 1, 500) + _stat("t_lower", 3, 20),
        TABLE + EXPR + _stat("t_lower", 1, 800),
        set(),
        [
            "ALTER INDEX public.t_lower ALTER COLUMN 1 SET STATISTICS 800,"
            " ALTER COLUMN 3 SET STATISTICS -1"
        ],
        id="change-one-reset-other",
    ),
    pytest.param(
        TABLE + EXPR + _stat("t_lower", 3, 0),
        TABLE + EXPR,
        set(),
        ["ALTER INDEX public.t_lower ALTER COLUMN 3 SET STATISTICS -1"],
        id="reset-a-zero",
    ),
    pytest.param(
        TABLE,
        TABLE + EXPR + _stat("t_lower", 1, 300),
        {"INDEX_BUILD", "NON_TRANSACTIONAL"},
        [
            "CREATE INDEX CONCURRENTLY t_lower ON public.t ((lower(b)), a, (a + id))",
            "ALTER INDEX public.t_lower ALTER COLUMN 1 SET STATISTICS 300",
        ],
        id="new-index",
    ),
    pytest.param(
        "",
        TABLE + EXPR + _stat("t_lower", 3, 300),
        set(),
        [
            "CREATE TABLE public.t (\n    id integer,\n    a integer,\n    b text\n)",
            "CREATE INDEX t_lower ON public.t USING btree (lower(b), a, ((a + id)))",
            "ALTER INDEX public.t_lower ALTER COLUMN 3 SET STATISTICS 300",
        ],
        id="new-table",
    ),
    pytest.param(
        # a new definition builds the index again: its targets are set again after it
        TABLE + EXPR + _stat("t_lower", 1, 500),
        TABLE + "CREATE INDEX t_lower ON t (lower(b), a);" + _stat("t_lower", 1, 500),
        {"INDEX_BUILD", "INDEX_DROPPED", "NON_TRANSACTIONAL"},
        [
            "DROP INDEX CONCURRENTLY public.t_lower",
            "CREATE INDEX CONCURRENTLY t_lower ON public.t ((lower(b)), a)",
            "ALTER INDEX public.t_lower ALTER COLUMN 1 SET STATISTICS 500",
        ],
        id="rebuilt-index",
    ),
    pytest.param(
        # storage parameters and targets together, in place
        TABLE + EXPR,
        TABLE
        + "CREATE INDEX t_lower ON t (lower(b), a, (a + id)) WITH (fillfactor = 70);"
        + _stat("t_lower", 1, 50),
        set(),
        [
            "ALTER INDEX public.t_lower SET (fillfactor = '70')",
            "ALTER INDEX public.t_lower ALTER COLUMN 1 SET STATISTICS 50",
        ],
        id="with-storage-parameters",
    ),
    pytest.param(
        # a partitioned index's own target: in place, no rebuild; its partitions' keep theirs
        PARTS,
        PARTS + _stat("p_lower", 1, 400),
        set(),
        ["ALTER INDEX public.p_lower ALTER COLUMN 1 SET STATISTICS 400"],
        id="partitioned-index",
    ),
    pytest.param(
        # a new partitioned index: ON ONLY the parent, the partition's, attached, then the target
        "CREATE TABLE p (k int, b text) PARTITION BY RANGE (k);"
        " CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);",
        PARTS + _stat("p_lower", 1, 400),
        {"INDEX_BUILD", "NON_TRANSACTIONAL"},
        [
            "CREATE INDEX p_lower ON ONLY public.p ((lower(b)))",
            "CREATE INDEX CONCURRENTLY p1_lower_idx ON public.p1 ((lower(b)))",
            "ALTER INDEX public.p_lower ATTACH PARTITION public.p1_lower_idx",
            "ALTER INDEX public.p_lower ALTER COLUMN 1 SET STATISTICS 400",
        ],
        id="new-partitioned-index",
    ),
    pytest.param(
        TABLE + MATVIEW,
        TABLE + MATVIEW + _stat("mv_lower", 1, 250),
        set(),
        ["ALTER INDEX public.mv_lower ALTER COLUMN 1 SET STATISTICS 250"],
        id="matview-index",
    ),
]


@pytest.mark.parametrize(("before", "after", "hazards", "statements"), CASES)
def test_index_statistics(
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


def test_inspect_index_statistics(db: ShadowDatabase) -> None:
    load(db.admin_dsn, TABLE + EXPR + _stat("t_lower", 3, 40) + _stat("t_lower", 1, 0))
    schema = inspect_dsn(db.admin_dsn)
    (index,) = schema.indexes
    assert index.statistics == (
        ColumnStatistics(position=1, target=0),
        ColumnStatistics(position=3, target=40),
    )
    assert not any("statistics target" in str(u) for u in schema.unmanaged)


def test_an_attached_partition_index_and_a_constraint_index_stay_unmanaged(
    db: ShadowDatabase,
) -> None:
    """A partition's index attached to its parent's comes with the parent's (the model holds
    its name and definition only), and a constraint's index with its constraint: their targets
    are reported, not planned."""
    load(
        db.admin_dsn,
        PARTS
        + _stat("p1_lower_idx", 1, 90)
        + "CREATE TABLE r (a int, b int, EXCLUDE USING btree ((a + b) WITH =));"
        + _stat("r_expr_excl", 1, 70),
    )
    schema = inspect_dsn(db.admin_dsn)
    assert all(index.statistics == () for index in schema.indexes)
    reported = sorted(str(u) for u in schema.unmanaged if "statistics target" in str(u))
    assert len(reported) == 2, reported
    assert any("p1_lower_idx" in line and " 90 " in line for line in reported), reported
    assert any("r_expr_excl" in line and " 70 " in line for line in reported), reported
