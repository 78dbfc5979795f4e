"""Extended statistics objects: inspect and converge."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load
from tests.engine.test_constraints import assert_in_order

T = "CREATE TABLE t (a int, b int, c text);"
S = "CREATE STATISTICS s (ndistinct, dependencies) ON a, b FROM t;"

CASES: list[tuple[str, str, str, list[str]]] = [
    (
        "create",
        T,
        T + S,
        ["CREATE STATISTICS public.s (ndistinct, dependencies) ON a, b FROM public.t"],
    ),
    (
        "create_with_target",
        T,
        T + S + "ALTER STATISTICS s SET STATISTICS 200;",
        ["CREATE STATISTICS public.s", "ALTER STATISTICS public.s SET STATISTICS 200"],
    ),
    (
        "create_expression",
        T,
        T + "CREATE STATISTICS e ON a, (b + 1) FROM t;",
        ["CREATE STATISTICS public.e ON a, (b + 1) FROM public.t"],
    ),
    ("drop", T + S, T, ["DROP STATISTICS public.s"]),
    (
        "target_set",
        T + S,
        T + S + "ALTER STATISTICS s SET STATISTICS 50;",
        ["ALTER STATISTICS public.s SET STATISTICS 50"],
    ),
    (
        "target_reset",
        T + S + "ALTER STATISTICS s SET STATISTICS 50;",
        T + S,
        ["ALTER STATISTICS public.s SET STATISTICS -1"],
    ),
    (
        "kinds_change_recreates",
        T + S,
        T + "CREATE STATISTICS s (mcv) ON a, b FROM t;",
        ["DROP STATISTICS public.s", "CREATE STATISTICS public.s (mcv) ON a, b FROM public.t"],
    ),
    (
        "comment",
        T + S,
        T + S + "COMMENT ON STATISTICS s IS 'ab';",
        ["COMMENT ON STATISTICS public.s IS 'ab'"],
    ),
    ("new_table", "", T + S, ["CREATE STATISTICS public.s"]),
]


@pytest.mark.parametrize(("before", "after", "sql"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_statistics_converges(make_db: MakeDb, before: str, after: str, sql: list[str]) -> None:
    result = assert_converges(make_db, before, after, data="")
    assert_in_order(result.sql, sql)
    assert {
        h for s in result.statements if s.object.kind == "statistics" for h in s.hazards
    } == set()


def test_inspect_statistics(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        T + S + "ALTER STATISTICS s SET STATISTICS 20; COMMENT ON STATISTICS s IS 'x';",
    )
    (stat,) = inspect_dsn(db.admin_dsn).statistics
    assert (
        stat.definition
        == "CREATE STATISTICS public.s (ndistinct, dependencies) ON a, b FROM public.t"
    )
    assert stat.target == 20
    assert stat.comment == "x"


def test_all_kinds_spelled_out_plans_empty(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        T + "CREATE STATISTICS s ON a, b FROM t;",
        T + "create statistics public.s (ndistinct, dependencies, mcv) on b, a from public.t;",
    )
    assert result.hazard_codes == set()
    assert result.statements == []
