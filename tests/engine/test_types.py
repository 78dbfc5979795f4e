"""Enums, composites, domains and ranges: inspect, converge, hazards, no false positives."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.errors import PlanError
from engine.model.types import CompositeAttribute, DomainConstraint
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

# Roles are cluster-wide: both databases of a case run this.
ROLE = "DO $$BEGIN CREATE ROLE enum_reader; EXCEPTION WHEN duplicate_object THEN NULL; END$$;"

# (id, before, after, exact SQL of the plan, exact hazard codes)
ENUM_CASES = [
    (
        "create",
        "",
        "CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');",
        ["CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy')"],
        set(),
    ),
    (
        "create-empty",
        "",
        "CREATE TYPE public.nothing AS ENUM ();",
        ["CREATE TYPE public.nothing AS ENUM ()"],
        set(),
    ),
    (
        "create-quoted",
        "CREATE SCHEMA app;",
        """CREATE SCHEMA app; CREATE TYPE app."Mood Type" AS ENUM ('it''s', 'b"c');""",
        ["""CREATE TYPE app."Mood Type" AS ENUM ('it''s', 'b"c')"""],
        set(),
    ),
    (
        "drop",
        "CREATE TYPE public.mood AS ENUM ('a');",
        "",
        ["DROP TYPE public.mood"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "add-value-last",
        "CREATE TYPE public.mood AS ENUM ('a', 'b');",
        "CREATE TYPE public.mood AS ENUM ('a', 'b', 'c');",
        ["ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'c' AFTER 'b'"],
        {"NON_TRANSACTIONAL"},
    ),
    (
        "add-value-first",
        "CREATE TYPE public.mood AS ENUM ('a', 'b');",
        "CREATE TYPE public.mood AS ENUM ('z', 'a', 'b');",
        ["ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'z' BEFORE 'a'"],
        {"NON_TRANSACTIONAL"},
    ),
    (
        "add-values-middle-and-ends",
        "CREATE TYPE public.mood AS ENUM ('b', 'd');",
        "CREATE TYPE public.mood AS ENUM ('a0', 'a', 'b', 'c', 'd', 'e');",
        [
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'a0' BEFORE 'b'",
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'a' AFTER 'a0'",
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'c' AFTER 'b'",
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'e' AFTER 'd'",
        ],
        {"NON_TRANSACTIONAL"},
    ),
    (
        "add-value-to-empty",
        "CREATE TYPE public.mood AS ENUM ();",
        "CREATE TYPE public.mood AS ENUM ('a', 'b');",
        [
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'a'",
            "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'b' AFTER 'a'",
        ],
        {"NON_TRANSACTIONAL"},
    ),
    (
        "remove-value-unused",
        "CREATE TYPE public.mood AS ENUM ('a', 'b', 'c');",
        "CREATE TYPE public.mood AS ENUM ('a', 'c');",
        [
            "ALTER TYPE public.mood RENAME TO mood__pgflux_old",
            "CREATE TYPE public.mood AS ENUM ('a', 'c')",
            "DROP TYPE public.mood__pgflux_old",
        ],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "reorder-values",
        "CREATE TYPE public.mood AS ENUM ('a', 'b', 'c');",
        "CREATE TYPE public.mood AS ENUM ('c', 'b', 'a');",
        [
            "ALTER TYPE public.mood RENAME TO mood__pgflux_old",
            "CREATE TYPE public.mood AS ENUM ('c', 'b', 'a')",
            "DROP TYPE public.mood__pgflux_old",
        ],
        set(),
    ),
    (
        "rename-value-is-drop-and-add",
        "CREATE TYPE public.mood AS ENUM ('a', 'b');",
        "CREATE TYPE public.mood AS ENUM ('a', 'bee');",
        [
            "ALTER TYPE public.mood RENAME TO mood__pgflux_old",
            "CREATE TYPE public.mood AS ENUM ('a', 'bee')",
            "DROP TYPE public.mood__pgflux_old",
        ],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "recreate-keeps-comment-and-grant",
        ROLE + "CREATE TYPE public.mood AS ENUM ('a', 'b');"
        " COMMENT ON TYPE public.mood IS 'how'; GRANT USAGE ON TYPE public.mood TO enum_reader;",
        ROLE + "CREATE TYPE public.mood AS ENUM ('b', 'a'); COMMENT ON TYPE public.mood IS 'how';"
        " GRANT USAGE ON TYPE public.mood TO enum_reader;",
        [
            "ALTER TYPE public.mood RENAME TO mood__pgflux_old",
            "CREATE TYPE public.mood AS ENUM ('b', 'a')",
            "COMMENT ON TYPE public.mood IS 'how'",
            "GRANT USAGE ON TYPE public.mood TO enum_reader",
            "DROP TYPE public.mood__pgflux_old",
        ],
        {"AUTHZ_CHANGE"},
    ),
    (
        "comment",
        "CREATE TYPE public.mood AS ENUM ('a');",
        "CREATE TYPE public.mood AS ENUM ('a'); COMMENT ON TYPE public.mood IS 'feelings';",
        ["COMMENT ON TYPE public.mood IS 'feelings'"],
        set(),
    ),
    (
        "revoke-public-usage",
        "CREATE TYPE public.mood AS ENUM ('a');",
        "CREATE TYPE public.mood AS ENUM ('a'); REVOKE USAGE ON TYPE public.mood FROM PUBLIC;",
        ["REVOKE USAGE ON TYPE public.mood FROM PUBLIC"],
        {"AUTHZ_CHANGE"},
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "sql", "hazards"),
    [pytest.param(*case[1:], id=case[0]) for case in ENUM_CASES],
)
def test_enum_converges(
    make_db: MakeDb, before: str, after: str, sql: list[str], hazards: set[str]
) -> None:
    if "CREATE ROLE" in before:
        pytest.importorskip("psycopg")  # roles are cluster-wide: created once below
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


ENUM_TABLE = "CREATE TABLE t (id int, m mood DEFAULT 'a', ms mood[]);"


def test_enum_and_table_created_in_one_plan(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db, "", "CREATE TYPE public.mood AS ENUM ('a', 'b');" + ENUM_TABLE
    )
    assert result.hazard_codes == set()
    assert result.sql[0] == "CREATE TYPE public.mood AS ENUM ('a', 'b')"
    assert any(s.startswith("CREATE TABLE") for s in result.sql[1:])


def test_enum_add_value_used_by_column(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE TYPE public.mood AS ENUM ('a', 'b');" + ENUM_TABLE,
        "CREATE TYPE public.mood AS ENUM ('a', 'b', 'c');" + ENUM_TABLE,
        data="INSERT INTO t VALUES (1, 'b', '{a,b}');",
    )
    assert result.hazard_codes == {"NON_TRANSACTIONAL"}
    assert result.sql == ["ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'c' AFTER 'b'"]
    assert not result.statements[0].transactional


def test_enum_new_value_used_by_later_default(make_db: MakeDb) -> None:
    """The new value is committed before the statement that uses it runs."""
    result = assert_converges(
        make_db,
        "CREATE TYPE public.mood AS ENUM ('a', 'b');" + ENUM_TABLE,
        "CREATE TYPE public.mood AS ENUM ('a', 'b', 'c');"
        "CREATE TABLE t (id int, m mood DEFAULT 'c', ms mood[]);",
    )
    assert result.hazard_codes == {"NON_TRANSACTIONAL"}
    assert result.sql[0] == "ALTER TYPE public.mood ADD VALUE IF NOT EXISTS 'c' AFTER 'b'"


def test_enum_remove_value_rewrites_columns(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE TYPE public.mood AS ENUM ('a', 'b', 'c');" + ENUM_TABLE,
        "CREATE TYPE public.mood AS ENUM ('a', 'b');" + ENUM_TABLE,
        data="INSERT INTO t VALUES (1, 'b', '{a,b}'), (2, DEFAULT, NULL);",
    )
    assert result.sql == [
        "ALTER TYPE public.mood RENAME TO mood__pgflux_old",
        "CREATE TYPE public.mood AS ENUM ('a', 'b')",
        "ALTER TABLE public.t ALTER COLUMN m DROP DEFAULT",
        "ALTER TABLE public.t ALTER COLUMN m TYPE public.mood USING m::text::public.mood",
        "ALTER TABLE public.t ALTER COLUMN m SET DEFAULT 'a'::public.mood",
        "ALTER TABLE public.t ALTER COLUMN ms TYPE public.mood[] USING ms::text[]::public.mood[]",
        "DROP TYPE public.mood__pgflux_old",
    ]
    assert result.hazard_codes == {"DATA_LOSS", "BACKWARD_INCOMPATIBLE", "TABLE_REWRITE"}
    assert result.hazards_of("USING m::text::public.mood") == {"TABLE_REWRITE", "DATA_LOSS"}
    drop_old = result.statements[-1]
    assert {h.severity.value for h in drop_old.hazards if h.code.value == "DATA_LOSS"} == {
        "critical"
    }


def test_enum_remove_value_with_column_dropped_in_same_plan(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE TYPE mood AS ENUM ('a', 'b', 'c');" + ENUM_TABLE,
        "CREATE TYPE mood AS ENUM ('a', 'b'); CREATE TABLE t (id int, ms mood[]);",
    )
    assert result.hazard_codes == {"BACKWARD_INCOMPATIBLE", "DATA_LOSS", "TABLE_REWRITE"}
    assert not [s for s in result.sql if "ALTER COLUMN m " in s]
    assert result.sql.index("ALTER TABLE public.t DROP COLUMN m") < result.sql.index(
        "ALTER TYPE public.mood RENAME TO mood__pgflux_old"
    )


def test_enum_reorder_in_other_schema_with_quoted_names(make_db: MakeDb) -> None:
    ddl = 'CREATE TABLE app."Orders" ("State" app."Order State");'
    result = assert_converges(
        make_db,
        """CREATE SCHEMA app; CREATE TYPE app."Order State" AS ENUM ('new', 'paid');""" + ddl,
        """CREATE SCHEMA app; CREATE TYPE app."Order State" AS ENUM ('paid', 'new');""" + ddl,
        data="""INSERT INTO app."Orders" VALUES ('paid'), ('new');""",
    )
    assert result.sql == [
        'ALTER TYPE app."Order State" RENAME TO "Order State__pgflux_old"',
        """CREATE TYPE app."Order State" AS ENUM ('paid', 'new')""",
        'ALTER TABLE app."Orders" ALTER COLUMN "State" TYPE app."Order State" '
        'USING "State"::text::app."Order State"',
        'DROP TYPE app."Order State__pgflux_old"',
    ]
    assert result.hazard_codes == {"TABLE_REWRITE"}


def test_enum_remove_value_rebuilds_view_on_column(make_db: MakeDb) -> None:
    view = "CREATE VIEW v AS SELECT id, m FROM t;"
    result = assert_converges(
        make_db,
        "CREATE TYPE public.mood AS ENUM ('a', 'b', 'c');" + ENUM_TABLE + view,
        "CREATE TYPE public.mood AS ENUM ('a', 'b');" + ENUM_TABLE + view,
    )
    assert result.hazard_codes == {"BACKWARD_INCOMPATIBLE", "DATA_LOSS", "TABLE_REWRITE"}
    sql = result.sql
    assert sql.index("DROP VIEW public.v") < sql.index(
        "ALTER TABLE public.t ALTER COLUMN m TYPE public.mood USING m::text::public.mood"
    )


def test_enum_drop_used_by_column_is_critical(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE TYPE public.mood AS ENUM ('a');" + ENUM_TABLE,
        "CREATE TABLE t (id int);",
    )
    drop = [s for s in result.statements if s.sql == "DROP TYPE public.mood"]
    assert drop
    assert {h.code.value: h.severity.value for h in drop[0].hazards}["DATA_LOSS"] == "critical"


def test_enum_drop_with_removed_value_row_fails(make_db: MakeDb) -> None:
    """A row holding a removed value makes the conversion fail: DATA_LOSS is not a lie."""
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE TYPE public.mood AS ENUM ('a', 'b');" + ENUM_TABLE)
    load(a.admin_dsn, "INSERT INTO t VALUES (1, 'b', NULL);")
    load(b.admin_dsn, "CREATE TYPE public.mood AS ENUM ('a');" + ENUM_TABLE)
    statements = plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))
    import psycopg

    from engine.execute import execute_statements

    with psycopg.connect(a.admin_dsn) as conn, pytest.raises(psycopg.errors.DataError):
        execute_statements(conn, statements)


# ---------------------------------------------------------------------------------- composites

COMPOSITE_CASES = [
    (
        "create",
        "",
        'CREATE TYPE public.pair AS (a int, b text COLLATE "C", c varchar(10));',
        [
            'CREATE TYPE public.pair AS (a integer, b text COLLATE pg_catalog."C",'
            " c character varying(10))"
        ],
        set(),
    ),
    (
        "drop",
        "CREATE TYPE public.pair AS (a int);",
        "",
        ["DROP TYPE public.pair"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "add-attribute",
        "CREATE TYPE public.pair AS (a int);",
        "CREATE TYPE public.pair AS (a int, b numeric(10,2));",
        ["ALTER TYPE public.pair ADD ATTRIBUTE b numeric(10,2) CASCADE"],
        set(),
    ),
    (
        "drop-attribute",
        "CREATE TYPE public.pair AS (a int, b text);",
        "CREATE TYPE public.pair AS (a int);",
        ["ALTER TYPE public.pair DROP ATTRIBUTE b CASCADE"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "retype-attribute",
        "CREATE TYPE public.pair AS (a int, b text);",
        "CREATE TYPE public.pair AS (a bigint, b text);",
        ["ALTER TYPE public.pair ALTER ATTRIBUTE a SET DATA TYPE bigint CASCADE"],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "attribute-collation",
        "CREATE TYPE public.pair AS (a int, b text);",
        'CREATE TYPE public.pair AS (a int, b text COLLATE "C");',
        [
            "ALTER TYPE public.pair ALTER ATTRIBUTE b SET DATA TYPE text COLLATE"
            ' pg_catalog."C" CASCADE'
        ],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "reorder-recreates",
        "CREATE TYPE public.pair AS (a int, b text);",
        "CREATE TYPE public.pair AS (b text, a int);",
        ["DROP TYPE public.pair", "CREATE TYPE public.pair AS (b text, a integer)"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "used-by-column-add-and-drop",
        "CREATE TYPE public.pair AS (a int, b text); CREATE TABLE t (p pair);",
        "CREATE TYPE public.pair AS (a int, c date); CREATE TABLE t (p pair);",
        [
            "ALTER TYPE public.pair DROP ATTRIBUTE b CASCADE",
            "ALTER TYPE public.pair ADD ATTRIBUTE c date CASCADE",
        ],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "comment",
        "CREATE TYPE public.pair AS (a int);",
        "CREATE TYPE public.pair AS (a int); COMMENT ON TYPE public.pair IS 'two';",
        ["COMMENT ON TYPE public.pair IS 'two'"],
        set(),
    ),
    (
        "attribute-comments-made-changed-and-removed",
        "CREATE TYPE public.pair AS (a int, b text); COMMENT ON COLUMN pair.a IS 'one';"
        " COMMENT ON COLUMN pair.b IS 'bee';",
        "CREATE TYPE public.pair AS (a bigint, b text, c date); COMMENT ON COLUMN pair.a IS 'two';"
        " COMMENT ON COLUMN pair.c IS 'sea';",
        [
            "ALTER TYPE public.pair ALTER ATTRIBUTE a SET DATA TYPE bigint CASCADE",
            "ALTER TYPE public.pair ADD ATTRIBUTE c date CASCADE",
            "COMMENT ON COLUMN public.pair.a IS 'two'",
            "COMMENT ON COLUMN public.pair.b IS NULL",
            "COMMENT ON COLUMN public.pair.c IS 'sea'",
        ],
        {"BACKWARD_INCOMPATIBLE"},
    ),
    (
        "attribute-comment-only",
        "CREATE TYPE public.pair AS (a int); CREATE TABLE t (p pair);",
        "CREATE TYPE public.pair AS (a int); CREATE TABLE t (p pair);"
        " COMMENT ON COLUMN pair.a IS 'kept in place';",
        ["COMMENT ON COLUMN public.pair.a IS 'kept in place'"],
        set(),
    ),
    (
        "attribute-comment-on-a-new-type",
        "",
        "CREATE TYPE public.pair AS (a int); COMMENT ON COLUMN pair.a IS 'first';",
        ["CREATE TYPE public.pair AS (a integer)", "COMMENT ON COLUMN public.pair.a IS 'first'"],
        set(),
    ),
]


COMPOSITE_CASES += [
    (
        "nested-composite-created-in-dependency-order",
        "",
        "CREATE TYPE z_inner AS (x int); CREATE TYPE a_outer AS (i z_inner, n int);",
        [
            "CREATE TYPE public.z_inner AS (x integer)",
            "CREATE TYPE public.a_outer AS (i public.z_inner, n integer)",
        ],
        set(),
    ),
    (
        "composite-of-enum-and-domain",
        "",
        "CREATE TYPE z_mood AS ENUM ('a'); CREATE DOMAIN z_pos AS int CHECK (VALUE > 0);"
        " CREATE TYPE a_rec AS (m z_mood, p z_pos, ms z_mood[]);",
        [
            "CREATE TYPE public.z_mood AS ENUM ('a')",
            "CREATE DOMAIN public.z_pos AS integer CONSTRAINT z_pos_check CHECK ((VALUE > 0))",
            "CREATE TYPE public.a_rec AS (m public.z_mood, p public.z_pos, ms public.z_mood[])",
        ],
        set(),
    ),
    (
        "drop-nested-composites-in-reverse-order",
        "CREATE TYPE z_inner AS (x int); CREATE TYPE a_outer AS (i z_inner);",
        "",
        ["DROP TYPE public.a_outer", "DROP TYPE public.z_inner"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "sql", "hazards"),
    [pytest.param(*case[1:], id=case[0]) for case in COMPOSITE_CASES],
)
def test_composite_converges(
    make_db: MakeDb, before: str, after: str, sql: list[str], hazards: set[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


def test_composite_drop_attribute_used_by_column_is_critical(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE TYPE public.pair AS (a int, b text); CREATE TABLE t (p pair);",
        "CREATE TYPE public.pair AS (a int); CREATE TABLE t (p pair);",
        data="INSERT INTO t VALUES (ROW(1, 'x'));",
    )
    severities = {h.severity.value for s in result.statements for h in s.hazards}
    assert "critical" in severities


def test_composite_retype_used_by_column_is_refused(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE TYPE public.pair AS (a int); CREATE TABLE t (p pair);")
    load(b.admin_dsn, "CREATE TYPE public.pair AS (a bigint); CREATE TABLE t (p pair);")
    with pytest.raises(PlanError, match="columns use it"):
        plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))


# ------------------------------------------------------------------------------------- domains

DOMAIN_CASES = [
    (
        "create-full",
        "",
        "CREATE DOMAIN public.pos AS numeric(10,2) DEFAULT 1 NOT NULL"
        " CONSTRAINT positive CHECK (VALUE > 0);",
        [
            "CREATE DOMAIN public.pos AS numeric(10,2) DEFAULT 1 NOT NULL "
            "CONSTRAINT positive CHECK ((VALUE > (0)::numeric))"
        ],
        set(),
    ),
    (
        "create-collate",
        "",
        'CREATE DOMAIN public.code AS text COLLATE "C";',
        ['CREATE DOMAIN public.code AS text COLLATE pg_catalog."C"'],
        set(),
    ),
    (
        "create-not-valid",
        "",
        "CREATE DOMAIN public.d AS int; ALTER DOMAIN public.d ADD CONSTRAINT c"
        " CHECK (VALUE > 0) NOT VALID;",
        [
            "CREATE DOMAIN public.d AS integer",
            "ALTER DOMAIN public.d ADD CONSTRAINT c CHECK ((VALUE > 0)) NOT VALID",
        ],
        set(),
    ),
    (
        "drop",
        "CREATE DOMAIN public.d AS int;",
        "",
        ["DROP DOMAIN public.d"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "set-default",
        "CREATE DOMAIN public.d AS int;",
        "CREATE DOMAIN public.d AS int DEFAULT 42;",
        ["ALTER DOMAIN public.d SET DEFAULT 42"],
        set(),
    ),
    (
        "change-default",
        "CREATE DOMAIN public.d AS text DEFAULT 'x';",
        "CREATE DOMAIN public.d AS text DEFAULT 'y';",
        ["ALTER DOMAIN public.d SET DEFAULT 'y'::text"],
        set(),
    ),
    (
        "drop-default",
        "CREATE DOMAIN public.d AS int DEFAULT 42;",
        "CREATE DOMAIN public.d AS int;",
        ["ALTER DOMAIN public.d DROP DEFAULT"],
        set(),
    ),
    (
        "set-not-null",
        "CREATE DOMAIN public.d AS int;",
        "CREATE DOMAIN public.d AS int NOT NULL;",
        ["ALTER DOMAIN public.d SET NOT NULL"],
        {"FULL_SCAN_UNDER_LOCK", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "drop-not-null",
        "CREATE DOMAIN public.d AS int NOT NULL;",
        "CREATE DOMAIN public.d AS int;",
        ["ALTER DOMAIN public.d DROP NOT NULL"],
        set(),
    ),
    (
        "add-check",
        "CREATE DOMAIN public.d AS int;",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);",
        [
            "ALTER DOMAIN public.d ADD CONSTRAINT c CHECK ((VALUE > 0)) NOT VALID",
            "ALTER DOMAIN public.d VALIDATE CONSTRAINT c",
        ],
        {"NON_TRANSACTIONAL", "FULL_SCAN_UNDER_LOCK"},
    ),
    (
        "add-check-not-valid",
        "CREATE DOMAIN public.d AS int;",
        "CREATE DOMAIN public.d AS int; ALTER DOMAIN public.d ADD CONSTRAINT c"
        " CHECK (VALUE > 0) NOT VALID;",
        ["ALTER DOMAIN public.d ADD CONSTRAINT c CHECK ((VALUE > 0)) NOT VALID"],
        set(),
    ),
    (
        "validate-check",
        "CREATE DOMAIN public.d AS int; ALTER DOMAIN public.d ADD CONSTRAINT c"
        " CHECK (VALUE > 0) NOT VALID;",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);",
        ["ALTER DOMAIN public.d VALIDATE CONSTRAINT c"],
        {"NON_TRANSACTIONAL", "FULL_SCAN_UNDER_LOCK"},
    ),
    (
        "unvalidate-check",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);",
        "CREATE DOMAIN public.d AS int; ALTER DOMAIN public.d ADD CONSTRAINT c"
        " CHECK (VALUE > 0) NOT VALID;",
        [
            "ALTER DOMAIN public.d DROP CONSTRAINT c",
            "ALTER DOMAIN public.d ADD CONSTRAINT c CHECK ((VALUE > 0)) NOT VALID",
        ],
        set(),
    ),
    (
        "change-check",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 10);",
        [
            "ALTER DOMAIN public.d DROP CONSTRAINT c",
            "ALTER DOMAIN public.d ADD CONSTRAINT c CHECK ((VALUE > 10)) NOT VALID",
            "ALTER DOMAIN public.d VALIDATE CONSTRAINT c",
        ],
        {"NON_TRANSACTIONAL", "FULL_SCAN_UNDER_LOCK"},
    ),
    (
        "drop-check",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);",
        "CREATE DOMAIN public.d AS int;",
        ["ALTER DOMAIN public.d DROP CONSTRAINT c"],
        set(),
    ),
    (
        "rename-check-is-drop-and-add",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);",
        "CREATE DOMAIN public.d AS int CONSTRAINT positive CHECK (VALUE > 0);",
        [
            "ALTER DOMAIN public.d DROP CONSTRAINT c",
            "ALTER DOMAIN public.d ADD CONSTRAINT positive CHECK ((VALUE > 0)) NOT VALID",
            "ALTER DOMAIN public.d VALIDATE CONSTRAINT positive",
        ],
        {"NON_TRANSACTIONAL", "FULL_SCAN_UNDER_LOCK"},
    ),
    (
        "create-with-check-comment",
        "",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);"
        " COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'positive';",
        [
            "CREATE DOMAIN public.d AS integer CONSTRAINT c CHECK ((VALUE > 0))",
            "COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'positive'",
        ],
        set(),
    ),
    (
        "comment-check",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);"
        " COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'it''s positive';",
        ["COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'it''s positive'"],
        set(),
    ),
    (
        "uncomment-check",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);"
        " COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'positive';",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);",
        ["COMMENT ON CONSTRAINT c ON DOMAIN public.d IS NULL"],
        set(),
    ),
    (
        "change-check-keeps-comment",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);"
        " COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'positive';",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 10);"
        " COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'positive';",
        [
            "ALTER DOMAIN public.d DROP CONSTRAINT c",
            "ALTER DOMAIN public.d ADD CONSTRAINT c CHECK ((VALUE > 10)) NOT VALID",
            "ALTER DOMAIN public.d VALIDATE CONSTRAINT c",
            "COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'positive'",
        ],
        {"NON_TRANSACTIONAL", "FULL_SCAN_UNDER_LOCK"},
    ),
    (
        "unvalidate-check-with-new-comment",
        "CREATE DOMAIN public.d AS int CONSTRAINT c CHECK (VALUE > 0);"
        " COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'old';",
        "CREATE DOMAIN public.d AS int; ALTER DOMAIN public.d ADD CONSTRAINT c"
        " CHECK (VALUE > 0) NOT VALID; COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'new';",
        [
            "ALTER DOMAIN public.d DROP CONSTRAINT c",
            "ALTER DOMAIN public.d ADD CONSTRAINT c CHECK ((VALUE > 0)) NOT VALID",
            "COMMENT ON CONSTRAINT c ON DOMAIN public.d IS 'new'",
        ],
        set(),
    ),
    (
        "base-type-unused-recreates",
        "CREATE DOMAIN public.d AS int;",
        "CREATE DOMAIN public.d AS bigint;",
        ["DROP DOMAIN public.d", "CREATE DOMAIN public.d AS bigint"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "typmod-unused-recreates",
        "CREATE DOMAIN public.d AS varchar(10);",
        "CREATE DOMAIN public.d AS varchar(20);",
        ["DROP DOMAIN public.d", "CREATE DOMAIN public.d AS character varying(20)"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "comment",
        "CREATE DOMAIN public.d AS int;",
        "CREATE DOMAIN public.d AS int; COMMENT ON DOMAIN public.d IS 'dd';",
        ["COMMENT ON DOMAIN public.d IS 'dd'"],
        set(),
    ),
    (
        "revoke-usage",
        "CREATE DOMAIN public.d AS int;",
        "CREATE DOMAIN public.d AS int; REVOKE USAGE ON DOMAIN public.d FROM PUBLIC;",
        ["REVOKE USAGE ON DOMAIN public.d FROM PUBLIC"],
        {"AUTHZ_CHANGE"},
    ),
    (
        "domain-used-by-column-set-not-null",
        "CREATE DOMAIN public.d AS int; CREATE TABLE t (x d);",
        "CREATE DOMAIN public.d AS int NOT NULL; CREATE TABLE t (x d);",
        ["ALTER DOMAIN public.d SET NOT NULL"],
        {"FULL_SCAN_UNDER_LOCK", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "domain-and-table-created-together",
        "",
        "CREATE DOMAIN public.d AS int CHECK (VALUE > 0); CREATE TABLE t (x d);",
        [
            "CREATE DOMAIN public.d AS integer CONSTRAINT d_check CHECK ((VALUE > 0))",
            "CREATE TABLE public.t (\n    x public.d\n)",
        ],
        set(),
    ),
]


DOMAIN_CASES += [
    (
        "domain-over-domain-in-dependency-order",
        "",
        "CREATE DOMAIN z_base AS int; CREATE DOMAIN a_top AS z_base CHECK (VALUE < 10);",
        [
            "CREATE DOMAIN public.z_base AS integer",
            "CREATE DOMAIN public.a_top AS public.z_base"
            " CONSTRAINT a_top_check CHECK (((VALUE)::integer < 10))",
        ],
        set(),
    ),
    (
        "domain-over-enum",
        "",
        "CREATE TYPE mood AS ENUM ('a', 'b'); CREATE DOMAIN good AS mood DEFAULT 'a'"
        " CHECK (VALUE <> 'b');",
        [
            "CREATE TYPE public.mood AS ENUM ('a', 'b')",
            "CREATE DOMAIN public.good AS public.mood DEFAULT 'a'::public.mood"
            " CONSTRAINT good_check CHECK ((VALUE <> 'b'::public.mood))",
        ],
        set(),
    ),
    (
        "several-changes-at-once",
        "CREATE DOMAIN d AS int DEFAULT 1 CONSTRAINT lo CHECK (VALUE > 0);",
        "CREATE DOMAIN d AS int NOT NULL CONSTRAINT hi CHECK (VALUE < 100);",
        [
            "ALTER DOMAIN public.d DROP DEFAULT",
            "ALTER DOMAIN public.d DROP CONSTRAINT lo",
            "ALTER DOMAIN public.d ADD CONSTRAINT hi CHECK ((VALUE < 100)) NOT VALID",
            "ALTER DOMAIN public.d VALIDATE CONSTRAINT hi",
            "ALTER DOMAIN public.d SET NOT NULL",
        ],
        {"NON_TRANSACTIONAL", "FULL_SCAN_UNDER_LOCK", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "other-schema-quoted",
        "CREATE SCHEMA app;",
        'CREATE SCHEMA app; CREATE DOMAIN app."Email Address" AS text'
        " CONSTRAINT \"has at\" CHECK (VALUE LIKE '%@%');",
        [
            'CREATE DOMAIN app."Email Address" AS text'
            " CONSTRAINT \"has at\" CHECK ((VALUE ~~ '%@%'::text))"
        ],
        set(),
    ),
    (
        "add-check-with-rows",
        "CREATE DOMAIN d AS int; CREATE TABLE t (x d); INSERT INTO t VALUES (5);",
        "CREATE DOMAIN d AS int CONSTRAINT c CHECK (VALUE > 0); CREATE TABLE t (x d);",
        [
            "ALTER DOMAIN public.d ADD CONSTRAINT c CHECK ((VALUE > 0)) NOT VALID",
            "ALTER DOMAIN public.d VALIDATE CONSTRAINT c",
        ],
        {"NON_TRANSACTIONAL", "FULL_SCAN_UNDER_LOCK"},
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "sql", "hazards"),
    [pytest.param(*case[1:], id=case[0]) for case in DOMAIN_CASES],
)
def test_domain_converges(
    make_db: MakeDb, before: str, after: str, sql: list[str], hazards: set[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


# PostgreSQL 17+ keeps a domain's NOT NULL as a named constraint (<domain>_not_null unless
# named), which pg_dump prints where the name is not the default.
DOMAIN_NOT_NULL_NAME_CASES = [
    (
        "named-at-creation",
        "",
        "CREATE DOMAIN d AS int CONSTRAINT d_nn NOT NULL;",
        ["CREATE DOMAIN public.d AS integer CONSTRAINT d_nn NOT NULL"],
        set(),
    ),
    (
        "renamed",
        "CREATE DOMAIN d AS int NOT NULL;",
        "CREATE DOMAIN d AS int CONSTRAINT d_nn NOT NULL;",
        ["ALTER DOMAIN public.d RENAME CONSTRAINT d_not_null TO d_nn"],
        set(),
    ),
    (
        "back-to-the-default-name-quoted",
        'CREATE DOMAIN "My D" AS int CONSTRAINT "x y" NOT NULL;',
        'CREATE DOMAIN "My D" AS int NOT NULL;',
        ['ALTER DOMAIN public."My D" RENAME CONSTRAINT "x y" TO "My D_not_null"'],
        set(),
    ),
    (
        "added-with-a-name",
        "CREATE DOMAIN d AS int; CREATE TABLE t (x d); INSERT INTO t VALUES (5);",
        "CREATE DOMAIN d AS int; ALTER DOMAIN d ADD CONSTRAINT d_nn NOT NULL;"
        " CREATE TABLE t (x d);",
        ["ALTER DOMAIN public.d ADD CONSTRAINT d_nn NOT NULL"],
        {"FULL_SCAN_UNDER_LOCK", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "commented",
        "",
        "CREATE DOMAIN d AS int CONSTRAINT d_nn NOT NULL;"
        " COMMENT ON CONSTRAINT d_nn ON DOMAIN d IS 'never empty';",
        [
            "CREATE DOMAIN public.d AS integer CONSTRAINT d_nn NOT NULL",
            "COMMENT ON CONSTRAINT d_nn ON DOMAIN public.d IS 'never empty'",
        ],
        set(),
    ),
    (
        "renamed-keeps-its-comment-and-gets-another",
        "CREATE DOMAIN d AS int CONSTRAINT d_nn NOT NULL;"
        " COMMENT ON CONSTRAINT d_nn ON DOMAIN d IS 'one';",
        "CREATE DOMAIN d AS int NOT NULL; COMMENT ON CONSTRAINT d_not_null ON DOMAIN d IS 'two';",
        [
            "ALTER DOMAIN public.d RENAME CONSTRAINT d_nn TO d_not_null",
            "COMMENT ON CONSTRAINT d_not_null ON DOMAIN public.d IS 'two'",
        ],
        set(),
    ),
    (
        "comment-removed",
        "CREATE DOMAIN d AS int NOT NULL; COMMENT ON CONSTRAINT d_not_null ON DOMAIN d IS 'x';",
        "CREATE DOMAIN d AS int NOT NULL;",
        ["COMMENT ON CONSTRAINT d_not_null ON DOMAIN public.d IS NULL"],
        set(),
    ),
    (
        "dropped-with-a-name",
        "CREATE DOMAIN d AS int CONSTRAINT d_nn NOT NULL;",
        "CREATE DOMAIN d AS int;",
        ["ALTER DOMAIN public.d DROP NOT NULL"],
        set(),
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "sql", "hazards"),
    [pytest.param(*case[1:], id=case[0]) for case in DOMAIN_NOT_NULL_NAME_CASES],
)
def test_domain_not_null_names(
    make_db: MakeDb, pg_major: int, before: str, after: str, sql: list[str], hazards: set[str]
) -> None:
    if pg_major < 17:
        pytest.skip("a domain's NOT NULL is a named constraint from PostgreSQL 17")
    assert_converges(make_db, before, after).expect(hazards, sql)


def test_range_change_used_by_column_is_refused(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE TYPE r AS RANGE (subtype = int4); CREATE TABLE t (x r);")
    load(b.admin_dsn, "CREATE TYPE r AS RANGE (subtype = int8); CREATE TABLE t (x r);")
    with pytest.raises(PlanError, match=r"depends on range public\.r"):
        plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))


def test_domain_base_type_change_used_by_column_is_refused(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE DOMAIN public.d AS int; CREATE TABLE t (x d);")
    load(b.admin_dsn, "CREATE DOMAIN public.d AS bigint; CREATE TABLE t (x d);")
    with pytest.raises(PlanError, match="columns use it"):
        plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))


# -------------------------------------------------------------------------------------- ranges

RANGE_CASES = [
    (
        "create",
        "",
        "CREATE TYPE public.fr AS RANGE (subtype = float8, subtype_diff = float8mi);",
        [
            "CREATE TYPE public.fr AS RANGE (SUBTYPE = double precision, SUBTYPE_DIFF = float8mi, "
            "MULTIRANGE_TYPE_NAME = public.fr_multirange)"
        ],
        set(),
    ),
    (
        "create-collation-multirange-name",
        "",
        'CREATE TYPE public.tr AS RANGE (subtype = text, collation = "C",'
        " multirange_type_name = trs);",
        [
            'CREATE TYPE public.tr AS RANGE (SUBTYPE = text, COLLATION = pg_catalog."C", '
            "MULTIRANGE_TYPE_NAME = public.trs)"
        ],
        set(),
    ),
    (
        "create-opclass",
        "",
        "CREATE TYPE public.tr AS RANGE (subtype = text, subtype_opclass = text_pattern_ops);",
        [
            "CREATE TYPE public.tr AS RANGE (SUBTYPE = text, SUBTYPE_OPCLASS ="
            " pg_catalog.text_pattern_ops, "
            "MULTIRANGE_TYPE_NAME = public.tr_multirange)"
        ],
        set(),
    ),
    (
        "drop",
        "CREATE TYPE public.fr AS RANGE (subtype = float8);",
        "",
        ["DROP TYPE public.fr"],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "subtype-diff-recreates",
        "CREATE TYPE public.fr AS RANGE (subtype = float8);",
        "CREATE TYPE public.fr AS RANGE (subtype = float8, subtype_diff = float8mi);",
        [
            "DROP TYPE public.fr",
            "CREATE TYPE public.fr AS RANGE (SUBTYPE = double precision, SUBTYPE_DIFF = float8mi, "
            "MULTIRANGE_TYPE_NAME = public.fr_multirange)",
        ],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "subtype-recreates",
        "CREATE TYPE public.r AS RANGE (subtype = int4);",
        "CREATE TYPE public.r AS RANGE (subtype = int8);",
        [
            "DROP TYPE public.r",
            "CREATE TYPE public.r AS RANGE (SUBTYPE = bigint, MULTIRANGE_TYPE_NAME"
            " = public.r_multirange)",
        ],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "multirange-name-recreates",
        "CREATE TYPE public.r AS RANGE (subtype = int4);",
        "CREATE TYPE public.r AS RANGE (subtype = int4, multirange_type_name = rs);",
        [
            "DROP TYPE public.r",
            "CREATE TYPE public.r AS RANGE (SUBTYPE = integer, MULTIRANGE_TYPE_NAME = public.rs)",
        ],
        {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"},
    ),
    (
        "comment",
        "CREATE TYPE public.r AS RANGE (subtype = int4);",
        "CREATE TYPE public.r AS RANGE (subtype = int4); COMMENT ON TYPE public.r IS 'rr';",
        ["COMMENT ON TYPE public.r IS 'rr'"],
        set(),
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "sql", "hazards"),
    [pytest.param(*case[1:], id=case[0]) for case in RANGE_CASES],
)
def test_range_converges(
    make_db: MakeDb, before: str, after: str, sql: list[str], hazards: set[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


# ------------------------------------------------------------------------- no false positives

SAME_SCHEMA = [
    (
        "int-spellings",
        "CREATE TYPE p AS (a int, b int4, c varchar(5)); CREATE DOMAIN public.d AS int4;",
        "create type public.p as (a INTEGER, b integer, c character varying(5));"
        " CREATE DOMAIN public.d AS integer;",
    ),
    (
        "keyword-case-and-whitespace",
        "CREATE TYPE public.mood AS ENUM ('a','b'); CREATE DOMAIN public.d AS"
        " text CHECK (VALUE <> '');",
        "create   type   MOOD as enum ( 'a' ,\n 'b' ) ;\n"
        "create domain D as TEXT check ( value <> '' );",
    ),
    (
        "range-defaults-spelled-out",
        "CREATE TYPE public.r AS RANGE (subtype = int4);",
        "CREATE TYPE public.r AS RANGE (subtype = integer, subtype_opclass = int4_ops,"
        " multirange_type_name = r_multirange);",
    ),
    (
        "collation-default-spelled-out",
        "CREATE TYPE p AS (b text); CREATE DOMAIN public.d AS text;",
        'CREATE TYPE p AS (b text COLLATE "default"); CREATE DOMAIN public.d'
        ' AS text COLLATE "default";',
    ),
    (
        "domain-check-spellings",
        "CREATE DOMAIN public.d AS numeric CHECK (VALUE > 0 AND VALUE < 10);",
        "CREATE DOMAIN public.d AS numeric CONSTRAINT d_check CHECK ((value >"
        " 0) and (value < 10));",
    ),
]


SAME_SCHEMA += [
    (
        "domain-default-literal-spellings",
        "CREATE DOMAIN d AS int DEFAULT 5;",
        "CREATE DOMAIN d AS integer DEFAULT '5';",
    ),
    (
        "enum-labels-with-quotes-and-spaces",
        "CREATE TYPE e AS ENUM ('it''s', 'two words', '');",
        "CREATE TYPE public.e AS ENUM ( 'it''s' , 'two words' , '' );",
    ),
    (
        "numeric-typmod-spellings",
        "CREATE TYPE p AS (a numeric(10,2), b timestamp(3));",
        "CREATE TYPE p AS (a decimal(10, 2), b timestamp(3) without time zone);",
    ),
]


@pytest.mark.parametrize(
    ("first", "second"), [pytest.param(*case[1:], id=case[0]) for case in SAME_SCHEMA]
)
def test_same_types_spelled_differently_plan_nothing(
    make_db: MakeDb, first: str, second: str
) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, first)
    load(b.admin_dsn, second)
    assert plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)) == []


# ---------------------------------------------------------------------------------- inspection


def test_inspect_types(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        """
        CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
        ALTER TYPE public.mood ADD VALUE 'meh' BEFORE 'ok';
        CREATE TYPE public.pair AS (a int, b text COLLATE "C", c varchar(10));
        CREATE DOMAIN public.pos AS numeric(10,2) DEFAULT 1 NOT NULL
            CONSTRAINT p CHECK (VALUE > 0);
        ALTER DOMAIN public.pos ADD CONSTRAINT q CHECK (VALUE < 100) NOT VALID;
        CREATE TYPE public.tr AS RANGE (subtype = text, collation = "C",
                                        multirange_type_name = trm);
        """,
    )
    schema = inspect_dsn(db.admin_dsn)
    (mood,) = schema.enums
    assert mood.labels == ("sad", "meh", "ok", "happy")
    (pair,) = schema.composites
    assert pair.attributes == (
        CompositeAttribute(name="a", type="integer"),
        CompositeAttribute(name="b", type="text", collation='pg_catalog."C"'),
        CompositeAttribute(name="c", type="character varying(10)"),
    )
    (pos,) = schema.domains
    assert (pos.base_type, pos.default, pos.not_null) == ("numeric(10,2)", "1", True)
    assert pos.constraints == (
        DomainConstraint(name="p", definition="CHECK ((VALUE > (0)::numeric))"),
        DomainConstraint(name="q", definition="CHECK ((VALUE < (100)::numeric))", validated=False),
    )
    (tr,) = schema.ranges
    assert (tr.subtype, tr.collation, tr.multirange) == ("text", 'pg_catalog."C"', "public.trm")
    assert (tr.canonical, tr.subtype_diff, tr.subtype_opclass) == (None, None, None)


def test_inspect_skips_extension_types_and_table_row_types(db: ShadowDatabase) -> None:
    load(db.admin_dsn, "CREATE EXTENSION IF NOT EXISTS citext; CREATE TABLE t (a int);")
    schema = inspect_dsn(db.admin_dsn)
    assert (schema.composites, schema.domains, schema.enums) == ((), (), ())
