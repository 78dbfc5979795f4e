"""Views and materialized views: inspection, convergence with exact hazards, no false positives."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.model.views import ViewColumn
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

T = "CREATE TABLE t (id integer PRIMARY KEY, name text, qty integer);\n"

# (id, before, after, hazard codes of the whole plan, SQL fragments the plan must contain)
CASES = [
    ("create", T, T + "CREATE VIEW v AS SELECT id FROM t;", set(), ["CREATE VIEW public.v AS"]),
    (
        "create_no_table",
        "",
        "CREATE VIEW v AS SELECT 1 AS one, 'x'::text AS two;",
        set(),
        ["CREATE VIEW public.v AS"],
    ),
    (
        "drop",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T,
        {"BACKWARD_INCOMPATIBLE"},
        ["DROP VIEW public.v"],
    ),
    (
        "replace_append_column",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T + "CREATE VIEW v AS SELECT id, name FROM t;",
        set(),
        ["CREATE OR REPLACE VIEW public.v AS"],
    ),
    (
        "replace_same_columns_new_filter",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T + "CREATE VIEW v AS SELECT id FROM t WHERE qty > 0;",
        set(),
        ["CREATE OR REPLACE VIEW public.v AS"],
    ),
    (
        "recreate_remove_column",
        T + "CREATE VIEW v AS SELECT id, name FROM t;",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        {"BACKWARD_INCOMPATIBLE"},
        ["DROP VIEW public.v", "CREATE VIEW public.v AS"],
    ),
    (
        "recreate_rename_column",
        T + "CREATE VIEW v AS SELECT id, name FROM t;",
        T + "CREATE VIEW v AS SELECT id, name AS label FROM t;",
        {"BACKWARD_INCOMPATIBLE"},
        ["DROP VIEW public.v", "CREATE VIEW public.v AS"],
    ),
    (
        "recreate_retype_column",
        T + "CREATE VIEW v AS SELECT id, qty FROM t;",
        T + "CREATE VIEW v AS SELECT id, qty::bigint AS qty FROM t;",
        set(),
        ["DROP VIEW public.v", "CREATE VIEW public.v AS"],
    ),
    (
        "recreate_reorder_columns",
        T + "CREATE VIEW v AS SELECT id, name FROM t;",
        T + "CREATE VIEW v AS SELECT name, id FROM t;",
        set(),
        ["DROP VIEW public.v", "CREATE VIEW public.v AS"],
    ),
    (
        "set_security_barrier",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T + "CREATE VIEW v WITH (security_barrier) AS SELECT id FROM t;",
        set(),
        ["ALTER VIEW public.v SET (security_barrier=true)"],
    ),
    (
        "reset_security_barrier",
        T + "CREATE VIEW v WITH (security_barrier) AS SELECT id FROM t;",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        set(),
        ["ALTER VIEW public.v RESET (security_barrier)"],
    ),
    (
        "set_security_invoker",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T + "CREATE VIEW v WITH (security_invoker = true) AS SELECT id FROM t;",
        set(),
        ["ALTER VIEW public.v SET (security_invoker=true)"],
    ),
    (
        "add_check_option",
        T + "CREATE VIEW v AS SELECT id, qty FROM t WHERE qty > 0;",
        T + "CREATE VIEW v AS SELECT id, qty FROM t WHERE qty > 0 WITH LOCAL CHECK OPTION;",
        set(),
        ["ALTER VIEW public.v SET (check_option=local)"],
    ),
    (
        "change_check_option",
        T + "CREATE VIEW v AS SELECT id, qty FROM t WHERE qty > 0 WITH LOCAL CHECK OPTION;",
        T + "CREATE VIEW v AS SELECT id, qty FROM t WHERE qty > 0 WITH CASCADED CHECK OPTION;",
        set(),
        ["ALTER VIEW public.v SET (check_option=cascaded)"],
    ),
    (
        "drop_check_option",
        T + "CREATE VIEW v AS SELECT id, qty FROM t WHERE qty > 0 WITH CHECK OPTION;",
        T + "CREATE VIEW v AS SELECT id, qty FROM t WHERE qty > 0;",
        set(),
        ["ALTER VIEW public.v RESET (check_option)"],
    ),
    (
        "replace_with_options",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T + "CREATE VIEW v WITH (security_barrier) AS SELECT id, name FROM t;",
        set(),
        ["CREATE OR REPLACE VIEW public.v WITH (security_barrier=true) AS"],
    ),
    (
        "create_with_options",
        T,
        T + "CREATE VIEW v WITH (security_barrier, security_invoker) AS SELECT id FROM t"
        " WITH CASCADED CHECK OPTION;",
        set(),
        [
            "CREATE VIEW public.v WITH (check_option=cascaded, security_barrier=true,"
            " security_invoker=true) AS"
        ],
    ),
    (
        "comment",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T + "CREATE VIEW v AS SELECT id FROM t; COMMENT ON VIEW v IS 'ids';",
        set(),
        ["COMMENT ON VIEW public.v IS 'ids'"],
    ),
    (
        "column_comment_added",
        T + "CREATE VIEW v AS SELECT id, name FROM t;",
        T + "CREATE VIEW v AS SELECT id, name FROM t; COMMENT ON COLUMN v.name IS 'who';",
        set(),
        ["COMMENT ON COLUMN public.v.name IS 'who'"],
    ),
    (
        "column_comment_removed",
        T + "CREATE VIEW v AS SELECT id, name FROM t; COMMENT ON COLUMN v.name IS 'who';",
        T + "CREATE VIEW v AS SELECT id, name FROM t;",
        set(),
        ["COMMENT ON COLUMN public.v.name IS NULL"],
    ),
    (
        "create_with_column_comment",
        T,
        T + "CREATE VIEW v AS SELECT id, name FROM t; COMMENT ON COLUMN v.id IS 'key';",
        set(),
        ["CREATE VIEW public.v", "COMMENT ON COLUMN public.v.id IS 'key'"],
    ),
    (
        "replace_keeps_column_comment",
        T + "CREATE VIEW v AS SELECT id FROM t; COMMENT ON COLUMN v.id IS 'key';",
        T + "CREATE VIEW v AS SELECT id, qty FROM t; COMMENT ON COLUMN v.id IS 'key';"
        "COMMENT ON COLUMN v.qty IS 'how many';",
        set(),
        ["CREATE OR REPLACE VIEW public.v", "COMMENT ON COLUMN public.v.qty IS 'how many'"],
    ),
    (
        "recreate_restores_column_comment",
        T + "CREATE VIEW v AS SELECT id, qty FROM t; COMMENT ON COLUMN v.id IS 'key';",
        T + "CREATE VIEW v AS SELECT qty, id FROM t; COMMENT ON COLUMN v.id IS 'key';",
        set(),
        ["DROP VIEW public.v", "CREATE VIEW public.v", "COMMENT ON COLUMN public.v.id IS 'key'"],
    ),
    (
        "matview_column_comment",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t; COMMENT ON COLUMN m.id IS 'k';",
        set(),
        ["COMMENT ON COLUMN public.m.id IS 'k'"],
    ),
    (
        "grant",
        T + "CREATE VIEW v AS SELECT id FROM t;",
        T + "CREATE VIEW v AS SELECT id FROM t; GRANT SELECT ON v TO PUBLIC;",
        {"AUTHZ_CHANGE"},
        ["GRANT SELECT ON TABLE public.v TO PUBLIC"],
    ),
    (
        "view_chain_create",
        T,
        T
        + "CREATE VIEW a AS SELECT id, name FROM t;"
        + "CREATE VIEW b AS SELECT id FROM a;"
        + "CREATE VIEW c AS SELECT b.id, a.name FROM b JOIN a USING (id);",
        set(),
        ["CREATE VIEW public.a", "CREATE VIEW public.b", "CREATE VIEW public.c"],
    ),
    (
        "view_chain_recreate_base_rebuilds_dependents",
        T + "CREATE VIEW a AS SELECT id, name FROM t; CREATE VIEW b AS SELECT id FROM a;",
        T + "CREATE VIEW a AS SELECT name, id FROM t; CREATE VIEW b AS SELECT id FROM a;",
        set(),
        [
            "DROP VIEW public.b",
            "DROP VIEW public.a",
            "CREATE VIEW public.a",
            "CREATE VIEW public.b",
        ],
    ),
    (
        "view_chain_replace_base_keeps_dependents",
        T + "CREATE VIEW a AS SELECT id FROM t; CREATE VIEW b AS SELECT id FROM a;",
        T + "CREATE VIEW a AS SELECT id, qty FROM t; CREATE VIEW b AS SELECT id FROM a;",
        set(),
        ["CREATE OR REPLACE VIEW public.a"],
    ),
    (
        "view_chain_drop",
        T + "CREATE VIEW a AS SELECT id FROM t; CREATE VIEW b AS SELECT id FROM a;",
        T,
        {"BACKWARD_INCOMPATIBLE"},
        ["DROP VIEW public.b", "DROP VIEW public.a"],
    ),
    (
        "view_other_schema_quoted",
        "CREATE SCHEMA app;",
        'CREATE SCHEMA app; CREATE VIEW app."Order View" AS SELECT 1 AS "Id";',
        set(),
        ['CREATE VIEW app."Order View" AS'],
    ),
    (
        "view_over_function",
        "CREATE FUNCTION one() RETURNS integer LANGUAGE sql IMMUTABLE RETURN 1;",
        "CREATE FUNCTION one() RETURNS integer LANGUAGE sql IMMUTABLE RETURN 1;"
        "CREATE VIEW v AS SELECT one() AS x;",
        set(),
        ["CREATE VIEW public.v AS"],
    ),
    (
        "function_and_view_created_together",
        "",
        "CREATE FUNCTION one() RETURNS integer LANGUAGE sql IMMUTABLE RETURN 1;"
        "CREATE VIEW v AS SELECT one() AS x;",
        set(),
        ["CREATE OR REPLACE FUNCTION public.one()", "CREATE VIEW public.v AS"],
    ),
    # materialized views
    (
        "matview_create",
        T,
        T + "CREATE MATERIALIZED VIEW m AS SELECT id, qty FROM t;",
        set(),
        ["CREATE MATERIALIZED VIEW public.m AS", "WITH DATA"],
    ),
    (
        "matview_create_no_data",
        T,
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t WITH NO DATA;",
        set(),
        ["WITH NO DATA"],
    ),
    (
        "matview_create_storage",
        T,
        T + "CREATE MATERIALIZED VIEW m WITH (fillfactor = 70) AS SELECT id FROM t;",
        set(),
        ["CREATE MATERIALIZED VIEW public.m WITH (fillfactor=70) AS"],
    ),
    (
        "matview_drop",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T,
        {"BACKWARD_INCOMPATIBLE"},
        ["DROP MATERIALIZED VIEW public.m"],
    ),
    (
        "matview_change_definition_recreates",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t WHERE qty > 1;",
        {"BLOCKS_READS_WRITES"},
        ["DROP MATERIALIZED VIEW public.m", "CREATE MATERIALIZED VIEW public.m AS"],
    ),
    (
        "matview_append_column_recreates",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id, name FROM t;",
        {"BLOCKS_READS_WRITES"},
        ["DROP MATERIALIZED VIEW public.m", "CREATE MATERIALIZED VIEW public.m AS"],
    ),
    (
        "matview_set_storage",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + "CREATE MATERIALIZED VIEW m WITH (fillfactor = 50) AS SELECT id FROM t;",
        set(),
        ["ALTER MATERIALIZED VIEW public.m SET (fillfactor=50)"],
    ),
    (
        "matview_reset_storage",
        T + "CREATE MATERIALIZED VIEW m WITH (fillfactor = 50) AS SELECT id FROM t;",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        set(),
        ["ALTER MATERIALIZED VIEW public.m RESET (fillfactor)"],
    ),
    (
        "matview_populate",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t WITH NO DATA;",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        {"BLOCKS_READS_WRITES"},
        ["REFRESH MATERIALIZED VIEW public.m"],
    ),
    (
        "matview_unpopulate",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t WITH NO DATA;",
        {"BLOCKS_READS_WRITES"},
        ["REFRESH MATERIALIZED VIEW public.m WITH NO DATA"],
    ),
    (
        "matview_recreate_unpopulated",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id, qty FROM t WITH NO DATA;",
        {"BLOCKS_READS_WRITES"},
        ["DROP MATERIALIZED VIEW public.m", "WITH NO DATA"],
    ),
    (
        "matview_comment",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T
        + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t; COMMENT ON MATERIALIZED VIEW m IS 'x';",
        set(),
        ["COMMENT ON MATERIALIZED VIEW public.m IS 'x'"],
    ),
    (
        "matview_over_view_recreated_with_view",
        T + "CREATE VIEW v AS SELECT id, name FROM t;"
        "CREATE MATERIALIZED VIEW m AS SELECT id FROM v;",
        T + "CREATE VIEW v AS SELECT id FROM t; CREATE MATERIALIZED VIEW m AS SELECT id FROM v;",
        {"BACKWARD_INCOMPATIBLE", "BLOCKS_READS_WRITES"},
        ["DROP MATERIALIZED VIEW public.m", "DROP VIEW public.v"],
    ),
    (
        "view_over_matview",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t; CREATE VIEW v AS SELECT id FROM m;",
        set(),
        ["CREATE VIEW public.v AS"],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "hazards", "fragments"),
    [pytest.param(b, a, h, f, id=i) for i, b, a, h, f in CASES],
)
def test_view_converges(
    make_db: MakeDb, before: str, after: str, hazards: set[str], fragments: list[str]
) -> None:
    result = assert_converges(
        make_db,
        before,
        after,
        data="INSERT INTO t VALUES (1, 'a', 2);" if before.startswith(T) else "",
    )
    assert result.hazard_codes == hazards, result.sql
    text = "\n".join(result.sql)
    positions = []
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in plan:\n{text}"
        positions.append(text.index(fragment))
    assert positions == sorted(positions), f"plan out of the expected order:\n{text}"


NO_DIFFERENCE = [
    (
        "keyword_case_and_whitespace",
        T + "CREATE VIEW v AS SELECT id, name FROM t WHERE qty > 0;",
        T + "create   view  public.v as\n  select ID,\n NAME from PUBLIC.t where QTY>0 ;",
    ),
    (
        "type_spellings",
        T + "CREATE VIEW v AS SELECT id::int4 AS a, name::varchar(5) AS b FROM t;",
        T + "CREATE VIEW v AS SELECT CAST(id AS integer) AS a, name::character varying(5) AS b"
        " FROM t;",
    ),
    (
        "column_aliases_in_header",
        T + "CREATE VIEW v (x, y) AS SELECT id, name FROM t;",
        T + "CREATE VIEW v AS SELECT id AS x, name AS y FROM t;",
    ),
    (
        "option_spellings",
        T + "CREATE VIEW v WITH (security_barrier) AS SELECT id FROM t WITH CHECK OPTION;",
        T + "CREATE VIEW v WITH (security_barrier = 'true', check_option = 'cascaded')"
        " AS SELECT id FROM t;",
    ),
    (
        "matview_whitespace",
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;",
        T + "create materialized view public.m as select   ID from T with data;",
    ),
]


@pytest.mark.parametrize(("one", "two"), [pytest.param(a, b, id=i) for i, a, b in NO_DIFFERENCE])
def test_view_spelled_differently_plans_nothing(make_db: MakeDb, one: str, two: str) -> None:
    result = assert_converges(make_db, one, two)
    assert result.statements == []


def test_inspect_view(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        T + 'CREATE VIEW v WITH (security_barrier) AS SELECT id, name COLLATE "C" AS name FROM t'
        " WITH LOCAL CHECK OPTION; COMMENT ON VIEW v IS 'v!'; GRANT SELECT ON v TO PUBLIC;"
        " COMMENT ON COLUMN v.id IS 'the key';",
    )
    (view,) = inspect_dsn(db.admin_dsn).views
    assert view.key.display == "public.v"
    assert view.definition == 'SELECT t.id,\n    t.name COLLATE "C" AS name\n   FROM public.t'
    assert view.columns == (
        ViewColumn(name="id", type="integer", comment="the key"),
        ViewColumn(name="name", type="text", collation='pg_catalog."C"'),
    )
    assert (view.check_option, view.security_barrier, view.security_invoker) == (
        "local",
        True,
        False,
    )
    assert view.comment == "v!"
    assert [(p.grantee, p.privilege) for p in view.acl] == [("PUBLIC", "SELECT")]


def test_inspect_matview(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        T + "CREATE MATERIALIZED VIEW m WITH (fillfactor=70, autovacuum_enabled=false)"
        " AS SELECT id FROM t WITH NO DATA;",
    )
    schema = inspect_dsn(db.admin_dsn)
    assert schema.views == ()
    (mv,) = schema.matviews
    assert mv.definition == "SELECT t.id\n   FROM public.t"
    assert mv.storage == ("autovacuum_enabled=false", "fillfactor=70")
    assert mv.populated is False


def test_extension_views_are_not_managed(db: ShadowDatabase) -> None:
    load(db.admin_dsn, "CREATE EXTENSION pg_stat_statements")
    assert inspect_dsn(db.admin_dsn).views == ()


# Dependents of a column whose type changes are dropped before the ALTER and created after it.
RETYPE = [
    (
        "view",
        "CREATE VIEW v AS SELECT id, qty FROM t;",
        ["DROP VIEW public.v", "TYPE bigint", "CREATE VIEW public.v"],
    ),
    (
        "view_chain",
        "CREATE VIEW v AS SELECT id, qty FROM t; CREATE VIEW w AS SELECT qty FROM v;",
        [
            "DROP VIEW public.w",
            "DROP VIEW public.v",
            "TYPE bigint",
            "CREATE VIEW public.v",
            "CREATE VIEW public.w",
        ],
    ),
    (
        "matview",
        "CREATE MATERIALIZED VIEW m AS SELECT id, qty FROM t;",
        ["DROP MATERIALIZED VIEW public.m", "TYPE bigint", "CREATE MATERIALIZED VIEW public.m"],
    ),
]


@pytest.mark.parametrize(
    ("dependents", "fragments"), [pytest.param(d, f, id=i) for i, d, f in RETYPE]
)
def test_dependents_rebuilt_around_column_type_change(
    make_db: MakeDb, dependents: str, fragments: list[str]
) -> None:
    result = assert_converges(
        make_db,
        T + dependents,
        T.replace("qty integer", "qty bigint") + dependents,
        data="INSERT INTO t VALUES (1, 'a', 2);",
    )
    text = "\n".join(result.sql)
    positions = []
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in plan:\n{text}"
        positions.append(text.index(fragment))
    assert positions == sorted(positions), f"plan out of the expected order:\n{text}"
    # the view drops recreate it unchanged: only the type change and repopulation are hazards
    assert result.hazards_of("DROP VIEW") == set()


def test_matview_recreate_rebuilds_its_index(make_db: MakeDb) -> None:
    index = "CREATE INDEX m_id ON m (id);"
    result = assert_converges(
        make_db,
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t;" + index,
        T + "CREATE MATERIALIZED VIEW m AS SELECT id FROM t WHERE qty > 0;" + index,
        data="INSERT INTO t VALUES (1, 'a', 2);",
    )
    text = "\n".join(result.sql)
    assert text.index("DROP MATERIALIZED VIEW") < text.index("CREATE MATERIALIZED VIEW")
    assert text.index("CREATE MATERIALIZED VIEW") < text.index("m_id ON public.m")
    assert result.hazards_of("MATERIALIZED VIEW") == {"BLOCKS_READS_WRITES"}


def test_view_replaced_after_the_column_it_starts_using(make_db: MakeDb) -> None:
    wider = T.replace("qty integer", "qty integer, extra text")
    result = assert_converges(
        make_db,
        T + "CREATE VIEW v AS SELECT id FROM t;",
        wider + "CREATE VIEW v AS SELECT id, extra FROM t;",
        data="INSERT INTO t VALUES (1, 'a', 2);",
    )
    text = "\n".join(result.sql)
    assert text.index("ADD COLUMN extra") < text.index("CREATE OR REPLACE VIEW public.v")
    assert result.hazards_of("VIEW") == set()


def test_view_recreated_before_the_column_it_stops_using_is_dropped(make_db: MakeDb) -> None:
    narrower = T.replace(", qty integer", "")
    result = assert_converges(
        make_db,
        T + "CREATE VIEW v AS SELECT id, qty FROM t;",
        narrower + "CREATE VIEW v AS SELECT id FROM t;",
        data="INSERT INTO t VALUES (1, 'a', 2);",
    )
    text = "\n".join(result.sql)
    assert text.index("DROP VIEW public.v") < text.index("DROP COLUMN qty")
    assert result.hazards_of("DROP VIEW") == {"BACKWARD_INCOMPATIBLE"}
