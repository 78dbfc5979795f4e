"""Functions, procedures and aggregates: inspection, convergence with exact hazards, no false
positives."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

SQLF = "CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a + 1 $$;"
PLPG = "CREATE FUNCTION g(a integer) RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN a; END $$;"
PLPG2 = PLPG.replace("RETURN a;", "RETURN a * 2;")
PROC = "CREATE PROCEDURE p(a integer) LANGUAGE plpgsql AS $$ BEGIN PERFORM a; END $$;"
AGG = "CREATE AGGREGATE s(integer) (SFUNC = int4pl, STYPE = integer, INITCOND = '0');"
T = "CREATE TABLE t (id integer PRIMARY KEY, qty integer);\n"

UNTRACKED = {"UNTRACKABLE_DEPENDENCIES"}
BREAKS = {"BACKWARD_INCOMPATIBLE"}
REPLACE = "CREATE OR REPLACE FUNCTION public.f("

# (id, before, after, hazard codes of the whole plan, SQL fragments in plan order)
CASES = [
    ("sql_create", "", SQLF, set(), ["CREATE OR REPLACE FUNCTION public.f(a integer)"]),
    ("sql_drop", SQLF, "", BREAKS, ["DROP FUNCTION public.f(a integer)"]),
    (
        "sql_replace_body",
        SQLF,
        SQLF.replace("a + 1", "a + 2"),
        set(),
        [REPLACE],
    ),
    ("plpgsql_create", "", PLPG, set(), ["CREATE OR REPLACE FUNCTION public.g(a integer)"]),
    ("plpgsql_replace_body", PLPG, PLPG2, UNTRACKED, ["CREATE OR REPLACE FUNCTION public.g("]),
    (
        "plpgsql_whitespace_is_a_difference",
        PLPG,
        PLPG.replace("BEGIN RETURN", "BEGIN  RETURN"),
        UNTRACKED,
        ["CREATE OR REPLACE FUNCTION public.g("],
    ),
    (
        "setof_create",
        "",
        "CREATE FUNCTION ids() RETURNS SETOF integer LANGUAGE sql ROWS 10"
        " AS $$ SELECT generate_series(1, 3) $$;",
        set(),
        ["RETURNS SETOF integer", "ROWS 10"],
    ),
    (
        "table_create",
        "",
        "CREATE FUNCTION pairs() RETURNS TABLE(a integer, b text) LANGUAGE sql"
        " AS $$ SELECT 1, 'x' $$;",
        set(),
        ["RETURNS TABLE(a integer, b text)"],
    ),
    (
        "table_add_column_recreates",
        "CREATE FUNCTION pairs() RETURNS TABLE(a integer) LANGUAGE sql AS $$ SELECT 1 $$;",
        "CREATE FUNCTION pairs() RETURNS TABLE(a integer, b text) LANGUAGE sql"
        " AS $$ SELECT 1, 'x' $$;",
        BREAKS,
        ["DROP FUNCTION public.pairs()", "CREATE OR REPLACE FUNCTION public.pairs()"],
    ),
    (
        "out_params_create",
        "",
        "CREATE FUNCTION split(a integer, OUT lo integer, OUT hi integer) LANGUAGE sql"
        " AS $$ SELECT a - 1, a + 1 $$;",
        set(),
        ["OUT lo integer, OUT hi integer"],
    ),
    (
        "out_param_renamed_recreates",
        "CREATE FUNCTION split(a integer, OUT lo integer) LANGUAGE sql AS $$ SELECT a $$;",
        "CREATE FUNCTION split(a integer, OUT low integer) LANGUAGE sql AS $$ SELECT a $$;",
        BREAKS,
        ["DROP FUNCTION public.split(a integer, OUT lo integer)", "OUT low integer"],
    ),
    (
        "two_out_params_renamed_recreates",
        "CREATE FUNCTION split(a integer, OUT lo integer, OUT hi integer) LANGUAGE sql"
        " AS $$ SELECT a, a $$;",
        "CREATE FUNCTION split(a integer, OUT low integer, OUT high integer) LANGUAGE sql"
        " AS $$ SELECT a, a $$;",
        BREAKS,
        ["DROP FUNCTION public.split(", "OUT low integer, OUT high integer"],
    ),
    (
        "defaults_create",
        "",
        "CREATE FUNCTION d(a integer, b text DEFAULT 'x') RETURNS text LANGUAGE sql"
        " AS $$ SELECT b $$;",
        set(),
        ["b text DEFAULT 'x'::text"],
    ),
    (
        "default_added_replaces",
        "CREATE FUNCTION d(a integer, b text) RETURNS text LANGUAGE sql AS $$ SELECT b $$;",
        "CREATE FUNCTION d(a integer, b text DEFAULT 'x') RETURNS text LANGUAGE sql"
        " AS $$ SELECT b $$;",
        set(),
        ["CREATE OR REPLACE FUNCTION public.d("],
    ),
    (
        "default_changed_replaces",
        "CREATE FUNCTION d(a integer, b text DEFAULT 'x') RETURNS text LANGUAGE sql"
        " AS $$ SELECT b $$;",
        "CREATE FUNCTION d(a integer, b text DEFAULT 'y') RETURNS text LANGUAGE sql"
        " AS $$ SELECT b $$;",
        set(),
        ["CREATE OR REPLACE FUNCTION public.d("],
    ),
    (
        "default_removed_recreates",
        "CREATE FUNCTION d(a integer, b text DEFAULT 'x') RETURNS text LANGUAGE sql"
        " AS $$ SELECT b $$;",
        "CREATE FUNCTION d(a integer, b text) RETURNS text LANGUAGE sql AS $$ SELECT b $$;",
        BREAKS,
        ["DROP FUNCTION public.d(a integer, b text)", "CREATE OR REPLACE FUNCTION public.d("],
    ),
    (
        "parameter_renamed_recreates",
        SQLF,
        SQLF.replace("(a integer)", "(b integer)").replace("a + 1", "b + 1"),
        BREAKS,
        ["DROP FUNCTION public.f(a integer)", "CREATE OR REPLACE FUNCTION public.f(b integer)"],
    ),
    (
        "return_type_change_recreates",
        SQLF,
        SQLF.replace("RETURNS integer", "RETURNS bigint"),
        BREAKS,
        ["DROP FUNCTION public.f(a integer)", "RETURNS bigint"],
    ),
    (
        "signature_change_is_drop_and_create",
        SQLF,
        SQLF.replace("(a integer)", "(a bigint)"),
        BREAKS,
        ["DROP FUNCTION public.f(a integer)", "CREATE OR REPLACE FUNCTION public.f(a bigint)"],
    ),
    (
        "overload_added",
        SQLF,
        SQLF + SQLF.replace("(a integer)", "(a text)").replace("a + 1", "length(a)"),
        set(),
        ["CREATE OR REPLACE FUNCTION public.f(a text)"],
    ),
    (
        "volatility",
        SQLF,
        SQLF.replace("LANGUAGE sql", "LANGUAGE sql IMMUTABLE"),
        set(),
        ["IMMUTABLE"],
    ),
    ("strict", SQLF, SQLF.replace("LANGUAGE sql", "LANGUAGE sql STRICT"), set(), ["STRICT"]),
    (
        "leakproof",
        SQLF,
        SQLF.replace("LANGUAGE sql", "LANGUAGE sql IMMUTABLE LEAKPROOF"),
        set(),
        ["LEAKPROOF"],
    ),
    (
        "parallel_safe",
        SQLF,
        SQLF.replace("LANGUAGE sql", "LANGUAGE sql PARALLEL SAFE"),
        set(),
        ["PARALLEL SAFE"],
    ),
    ("cost", SQLF, SQLF.replace("LANGUAGE sql", "LANGUAGE sql COST 5000"), set(), ["COST 5000"]),
    (
        "set_search_path",
        PLPG,
        PLPG.replace("LANGUAGE plpgsql", "LANGUAGE plpgsql SET search_path = public, pg_temp"),
        UNTRACKED,
        ["SET search_path TO 'public', 'pg_temp'"],
    ),
    (
        "security_definer_added",
        PLPG,
        PLPG.replace("LANGUAGE plpgsql", "LANGUAGE plpgsql SECURITY DEFINER"),
        {"AUTHZ_CHANGE", "UNTRACKABLE_DEPENDENCIES"},
        ["SECURITY DEFINER"],
    ),
    (
        "security_definer_removed",
        SQLF.replace("LANGUAGE sql", "LANGUAGE sql SECURITY DEFINER"),
        SQLF,
        {"AUTHZ_CHANGE"},
        [REPLACE],
    ),
    (
        "security_definer_created",
        "",
        SQLF.replace("LANGUAGE sql", "LANGUAGE sql SECURITY DEFINER"),
        {"AUTHZ_CHANGE"},
        ["SECURITY DEFINER"],
    ),
    (
        "language_change_sql_to_plpgsql",
        SQLF,
        "CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE plpgsql"
        " AS $$ BEGIN RETURN a + 1; END $$;",
        UNTRACKED,
        [REPLACE, "LANGUAGE plpgsql"],
    ),
    (
        "begin_atomic_body_change",
        "CREATE FUNCTION h(a integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT a; END;",
        "CREATE FUNCTION h(a integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT a * 3; END;",
        set(),
        ["CREATE OR REPLACE FUNCTION public.h(", "BEGIN ATOMIC"],
    ),
    (
        "begin_atomic_created_after_its_table",
        "",
        T + "CREATE FUNCTION total() RETURNS bigint LANGUAGE sql"
        " BEGIN ATOMIC SELECT sum(qty) FROM t; END;",
        set(),
        ["CREATE TABLE", "CREATE OR REPLACE FUNCTION public.total()"],
    ),
    (
        "comment",
        SQLF,
        SQLF + "COMMENT ON FUNCTION f(integer) IS 'adds one';",
        set(),
        ["COMMENT ON FUNCTION public.f(a integer) IS 'adds one'"],
    ),
    (
        "revoke_public_execute",
        SQLF,
        SQLF + "REVOKE EXECUTE ON FUNCTION f(integer) FROM PUBLIC;",
        {"AUTHZ_CHANGE"},
        ["REVOKE EXECUTE ON FUNCTION public.f(a integer) FROM PUBLIC"],
    ),
    (
        "created_without_public_execute",
        "",
        SQLF + "REVOKE EXECUTE ON FUNCTION f(integer) FROM PUBLIC;",
        {"AUTHZ_CHANGE"},
        [REPLACE, "REVOKE EXECUTE ON FUNCTION public.f(a integer) FROM PUBLIC"],
    ),
    (
        "other_schema",
        "CREATE SCHEMA app;",
        "CREATE SCHEMA app; CREATE FUNCTION app.f() RETURNS integer LANGUAGE sql RETURN 1;",
        set(),
        ["CREATE OR REPLACE FUNCTION app.f()"],
    ),
    (
        "schema_and_function_created_together",
        "",
        'CREATE SCHEMA "My App"; CREATE FUNCTION "My App"."Fn"() RETURNS integer'
        " LANGUAGE sql RETURN 1;",
        set(),
        ['CREATE SCHEMA "My App"', 'CREATE OR REPLACE FUNCTION "My App"."Fn"()'],
    ),
    (
        "return_type_change_rebuilds_view",
        SQLF + "CREATE VIEW v AS SELECT f(1) AS x;",
        SQLF.replace("RETURNS integer", "RETURNS bigint") + "CREATE VIEW v AS SELECT f(1) AS x;",
        BREAKS,
        ["DROP VIEW public.v", "DROP FUNCTION public.f(", "RETURNS bigint", "CREATE VIEW public.v"],
    ),
    (
        "body_change_keeps_view",
        SQLF + "CREATE VIEW v AS SELECT f(1) AS x;",
        SQLF.replace("a + 1", "a + 5") + "CREATE VIEW v AS SELECT f(1) AS x;",
        set(),
        [REPLACE],
    ),
    # procedures
    ("procedure_create", "", PROC, set(), ["CREATE OR REPLACE PROCEDURE public.p(IN a integer)"]),
    ("procedure_drop", PROC, "", BREAKS, ["DROP PROCEDURE public.p(IN a integer)"]),
    (
        "procedure_replace",
        PROC,
        PROC.replace("PERFORM a", "PERFORM a + 1"),
        UNTRACKED,
        ["CREATE OR REPLACE PROCEDURE public.p(IN a integer)"],
    ),
    (
        "procedure_inout",
        "",
        "CREATE PROCEDURE q(INOUT x integer) LANGUAGE sql BEGIN ATOMIC SELECT x + 1; END;",
        set(),
        ["CREATE OR REPLACE PROCEDURE public.q(INOUT x integer)"],
    ),
    (
        "procedure_comment",
        PROC,
        PROC + "COMMENT ON PROCEDURE p(integer) IS 'proc';",
        set(),
        ["COMMENT ON PROCEDURE public.p(IN a integer) IS 'proc'"],
    ),
    (
        "function_becomes_procedure",
        "CREATE FUNCTION p(a integer) RETURNS void LANGUAGE sql AS $$ SELECT $$;",
        PROC,
        BREAKS,
        ["DROP FUNCTION public.p(a integer)", "CREATE OR REPLACE PROCEDURE public.p(IN a integer)"],
    ),
    # aggregates
    ("aggregate_create", "", AGG, set(), ["CREATE AGGREGATE public.s(integer)"]),
    ("aggregate_drop", AGG, "", BREAKS, ["DROP AGGREGATE public.s(integer)"]),
    (
        "aggregate_change_recreates",
        AGG,
        AGG.replace("'0'", "'10'"),
        BREAKS,
        ["DROP AGGREGATE public.s(integer)", "INITCOND = '10'"],
    ),
    (
        "aggregate_star",
        "",
        "CREATE AGGREGATE n(*) (SFUNC = int8inc, STYPE = int8, INITCOND = '0',"
        " COMBINEFUNC = int8pl, PARALLEL = SAFE);",
        set(),
        ["CREATE AGGREGATE public.n(*)", "COMBINEFUNC = pg_catalog.int8pl", "PARALLEL = SAFE"],
    ),
    (
        "aggregate_moving",
        "",
        "CREATE AGGREGATE ms(integer) (SFUNC = int4pl, STYPE = integer, MSFUNC = int4pl,"
        " MINVFUNC = int4mi, MSTYPE = integer, MINITCOND = '0');",
        set(),
        ["MSFUNC = pg_catalog.int4pl", "MINVFUNC = pg_catalog.int4mi", "MSTYPE = integer"],
    ),
    (
        "aggregate_with_user_functions",
        "",
        "CREATE FUNCTION acc(state integer[], v integer) RETURNS integer[] LANGUAGE sql"
        " IMMUTABLE RETURN state || v;"
        "CREATE FUNCTION fin(state integer[]) RETURNS integer LANGUAGE sql IMMUTABLE"
        " RETURN cardinality(state);"
        "CREATE AGGREGATE cnt(integer) (SFUNC = acc, STYPE = integer[], FINALFUNC = fin,"
        " INITCOND = '{}', SORTOP = >);",
        set(),
        [
            "CREATE OR REPLACE FUNCTION public.acc(",
            "CREATE AGGREGATE public.cnt(integer)",
            "SORTOP = OPERATOR(pg_catalog.>)",
        ],
    ),
    (
        "aggregate_ordered_set",
        "",
        "CREATE AGGREGATE pct(float8 ORDER BY anyelement) (SFUNC = ordered_set_transition,"
        " STYPE = internal, FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA);",
        set(),
        ["CREATE AGGREGATE public.pct(double precision ORDER BY anyelement)", "FINALFUNC_EXTRA"],
    ),
    (
        "aggregate_ordered_set_drop",
        "CREATE AGGREGATE pct(float8 ORDER BY anyelement) (SFUNC = ordered_set_transition,"
        " STYPE = internal, FINALFUNC = percentile_disc_final, FINALFUNC_EXTRA);",
        "",
        BREAKS,
        ["DROP AGGREGATE public.pct(double precision ORDER BY anyelement)"],
    ),
    (
        "aggregate_polymorphic",
        "",
        "CREATE AGGREGATE acc(anycompatible) (SFUNC = array_append,"
        " STYPE = anycompatiblearray, INITCOND = '{}');",
        set(),
        ["CREATE AGGREGATE public.acc(anycompatible)", "STYPE = anycompatiblearray"],
    ),
    (
        "variadic_function",
        "",
        "CREATE FUNCTION cat(VARIADIC parts text[]) RETURNS text LANGUAGE sql IMMUTABLE"
        " RETURN array_to_string(parts, ',');",
        set(),
        ["CREATE OR REPLACE FUNCTION public.cat(VARIADIC parts text[])"],
    ),
    (
        "quoted_names_and_drop",
        'CREATE FUNCTION "Odd Name"("Arg" integer) RETURNS integer LANGUAGE sql RETURN 1;',
        "",
        BREAKS,
        ['DROP FUNCTION public."Odd Name"("Arg" integer)'],
    ),
    (
        "aggregate_comment",
        AGG,
        AGG + "COMMENT ON AGGREGATE s(integer) IS 'sum';",
        set(),
        ["COMMENT ON AGGREGATE public.s(integer) IS 'sum'"],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "hazards", "fragments"),
    [pytest.param(b, a, h, f, id=i) for i, b, a, h, f in CASES],
)
def test_routine_converges(
    make_db: MakeDb, before: str, after: str, hazards: set[str], fragments: list[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.hazard_codes == hazards, result.sql
    text = "\n".join(result.sql)
    positions = []
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in plan:\n{text}"
        positions.append(text.index(fragment))
    assert positions == sorted(positions), f"plan out of the expected order:\n{text}"


NO_DIFFERENCE = [
    (
        "type_spellings_and_implicit_schema",
        "CREATE FUNCTION f(a int4, b varchar) RETURNS int LANGUAGE sql RETURN a;",
        "CREATE FUNCTION public.f(a integer, b character varying) RETURNS integer"
        " LANGUAGE SQL RETURN a;",
    ),
    (
        "begin_atomic_whitespace_and_case",
        "CREATE FUNCTION h(a integer) RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT a + 1; END;",
        "create function H(A INTEGER) returns INTEGER language sql\n"
        "begin atomic\n  select A+1 ;\nend;",
    ),
    (
        "default_attributes_spelled_out",
        SQLF,
        "CREATE FUNCTION f(a integer) RETURNS integer LANGUAGE sql VOLATILE CALLED ON NULL INPUT"
        " SECURITY INVOKER PARALLEL UNSAFE COST 100 AS $$ SELECT a + 1 $$;",
    ),
    (
        "aggregate_spellings",
        AGG,
        "create aggregate public.s(int4) (sfunc = pg_catalog.int4pl, stype = int4, initcond = 0);",
    ),
]


@pytest.mark.parametrize(("one", "two"), [pytest.param(a, b, id=i) for i, a, b in NO_DIFFERENCE])
def test_routine_spelled_differently_plans_nothing(make_db: MakeDb, one: str, two: str) -> None:
    assert assert_converges(make_db, one, two).statements == []


def test_inspect_routines(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        "CREATE FUNCTION f(a integer, b text DEFAULT 'x', OUT c integer) LANGUAGE plpgsql"
        " STABLE STRICT SECURITY DEFINER LEAKPROOF PARALLEL RESTRICTED COST 7"
        " SET search_path = public AS $$ BEGIN c := a; END $$;"
        + PROC
        + AGG
        + "CREATE TYPE fr AS RANGE (subtype = float8);",
    )
    routines = {r.key.display: r for r in inspect_dsn(db.admin_dsn).routines}
    # range constructors belong to their type, not to the routines
    assert set(routines) == {"public.f(integer, text)", "public.p(integer)", "public.s(integer)"}
    f = routines["public.f(integer, text)"]
    assert f.key.kind == "function"
    assert (f.language, f.volatility, f.strict, f.security_definer, f.leakproof) == (
        "plpgsql",
        "stable",
        True,
        True,
        True,
    )
    assert (f.parallel, f.cost, f.config) == ("restricted", 7.0, ("search_path=public",))
    assert f.result == "integer"
    assert f.signature == "a integer, b text, OUT c integer"
    assert (f.input_names, f.default_count, f.sql_body) == (("a", "b"), 1, False)
    assert f.definition.startswith("CREATE OR REPLACE FUNCTION public.f(")
    assert f.definition.endswith("$function$ BEGIN c := a; END $function$")
    assert routines["public.p(integer)"].key.kind == "procedure"
    agg = routines["public.s(integer)"]
    assert agg.key.kind == "aggregate"
    assert agg.definition == (
        "CREATE AGGREGATE public.s(integer) (SFUNC = pg_catalog.int4pl, STYPE = integer,"
        " INITCOND = '0')"
    )


def test_extension_functions_are_not_managed(db: ShadowDatabase) -> None:
    load(db.admin_dsn, "CREATE EXTENSION pg_stat_statements")
    assert inspect_dsn(db.admin_dsn).routines == ()
