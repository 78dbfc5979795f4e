"""User-defined collations: inspect, converge, recreate on change, no false positives."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.errors import PlanError
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

LIBC_C = "CREATE COLLATION public.c_bin (PROVIDER = libc, LC_COLLATE = 'C', LC_CTYPE = 'C')"
ICU_CI = (
    "CREATE COLLATION public.ci (PROVIDER = icu, LOCALE = 'und-u-ks-level2', DETERMINISTIC = false)"
)

# (id, before, after, exact SQL, exact hazard codes)
CASES = [
    ("create-libc", "", "CREATE COLLATION c_bin (locale = 'C');", [LIBC_C], set()),
    (
        "create-libc-split-locale",
        "",
        "CREATE COLLATION c_bin (lc_collate = 'C', lc_ctype = 'POSIX');",
        ["CREATE COLLATION public.c_bin (PROVIDER = libc, LC_COLLATE = 'C', LC_CTYPE = 'POSIX')"],
        set(),
    ),
    (
        "create-icu-nondeterministic",
        "",
        "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
        [ICU_CI],
        set(),
    ),
    (
        "create-in-schema-quoted",
        "CREATE SCHEMA app;",
        """CREATE SCHEMA app; CREATE COLLATION app."Case Blind" (provider = icu,
           locale = 'und-u-ks-level2', deterministic = false);""",
        [
            """CREATE COLLATION app."Case Blind" (PROVIDER = icu, LOCALE = 'und-u-ks-level2', """
            "DETERMINISTIC = false)"
        ],
        set(),
    ),
    (
        "drop",
        "CREATE COLLATION c_bin (locale = 'C');",
        "",
        ["DROP COLLATION public.c_bin"],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "deterministic-recreates",
        "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2');",
        "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
        ["DROP COLLATION public.ci", ICU_CI],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "locale-recreates",
        "CREATE COLLATION c_bin (locale = 'POSIX');",
        "CREATE COLLATION c_bin (locale = 'C');",
        ["DROP COLLATION public.c_bin", LIBC_C],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "provider-recreates",
        "CREATE COLLATION ci (locale = 'C');",
        "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);",
        ["DROP COLLATION public.ci", ICU_CI],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "comment",
        "CREATE COLLATION c_bin (locale = 'C');",
        "CREATE COLLATION c_bin (locale = 'C'); COMMENT ON COLLATION c_bin IS 'bytes';",
        ["COMMENT ON COLLATION public.c_bin IS 'bytes'"],
        set(),
    ),
    (
        "collation-before-domain-using-it",
        "",
        "CREATE COLLATION c_bin (locale = 'C'); CREATE DOMAIN code AS text COLLATE c_bin;",
        [LIBC_C, "CREATE DOMAIN public.code AS text COLLATE public.c_bin"],
        set(),
    ),
    (
        "collation-before-composite-using-it",
        "",
        "CREATE COLLATION c_bin (locale = 'C'); CREATE TYPE p AS (a text COLLATE c_bin);",
        [LIBC_C, "CREATE TYPE public.p AS (a text COLLATE public.c_bin)"],
        set(),
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "sql", "hazards"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_collation_converges(
    make_db: MakeDb, before: str, after: str, sql: list[str], hazards: set[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


def test_collation_change_used_by_column_is_refused(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE COLLATION c1 (locale = 'POSIX'); CREATE TABLE t (a text COLLATE c1);")
    load(b.admin_dsn, "CREATE COLLATION c1 (locale = 'C'); CREATE TABLE t (a text COLLATE c1);")
    with pytest.raises(PlanError, match=r"depends on collation public\.c1"):
        plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))


SAME_SCHEMA = [
    (
        "locale-vs-split",
        "CREATE COLLATION c_bin (locale = 'C');",
        "CREATE COLLATION public.c_bin (provider = libc, lc_collate = 'C', lc_ctype = 'C');",
    ),
    (
        "from-existing",
        'CREATE COLLATION c_bin FROM "C";',
        "create collation C_BIN ( LOCALE = 'C' );",
    ),
    (
        "icu-deterministic-default",
        "CREATE COLLATION x (provider = icu, locale = 'de-DE');",
        "CREATE COLLATION x (provider = icu, locale = 'de-DE', deterministic = true);",
    ),
]


@pytest.mark.parametrize(
    ("first", "second"), [pytest.param(*case[1:], id=case[0]) for case in SAME_SCHEMA]
)
def test_same_collation_spelled_differently_plans_nothing(
    make_db: MakeDb, first: str, second: str
) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, first)
    load(b.admin_dsn, second)
    assert plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)) == []


def test_inspect_collations(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        """
        CREATE COLLATION c_bin (lc_collate = 'C', lc_ctype = 'POSIX');
        CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
        COMMENT ON COLLATION ci IS 'case blind';
        """,
    )
    by_name = {c.name: c for c in inspect_dsn(db.admin_dsn).collations}
    assert set(by_name) == {"c_bin", "ci"}
    c_bin, ci = by_name["c_bin"], by_name["ci"]
    assert (c_bin.provider, c_bin.lc_collate, c_bin.lc_ctype, c_bin.deterministic) == (
        "libc",
        "C",
        "POSIX",
        True,
    )
    assert (ci.provider, ci.locale, ci.deterministic, ci.comment) == (
        "icu",
        "und-u-ks-level2",
        False,
        "case blind",
    )
    # the ICU library's version is reported, never compared
    assert "version" not in ci.compared()
