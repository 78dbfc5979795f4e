"""Indexes: inspect, converge with concurrent builds and drops, repair INVALID indexes."""

from __future__ import annotations

import psycopg
import pytest

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load
from tests.engine.test_constraints import assert_in_order, of_kind

T = "CREATE TABLE t (id int NOT NULL, a text, b int, tags text[], r int4range, at timestamptz);"
DATA = (
    "INSERT INTO t SELECT g, 'x' || g, g % 7, ARRAY['a'], int4range(g, g + 1), now() "
    "FROM generate_series(1, 50) g;"
)
NT = {"NON_TRANSACTIONAL"}
BUILD = {"INDEX_BUILD"} | NT
DROPPED = {"INDEX_DROPPED"} | NT

# (id, before, after, data, exact hazard codes of index statements, SQL fragments in order)
CASES: list[tuple[str, str, str, str, set[str], list[str]]] = [
    (
        "btree_new_table",
        "",
        T + "CREATE INDEX t_b_idx ON t (b);",
        "",
        set(),
        ["CREATE INDEX t_b_idx ON public.t USING btree (b)"],
    ),
    (
        "btree_online",
        T,
        T + "CREATE INDEX t_b_idx ON t (b);",
        DATA,
        BUILD,
        ["CREATE INDEX CONCURRENTLY t_b_idx ON public.t (b)"],
    ),
    (
        "unique_online",
        T,
        T + "CREATE UNIQUE INDEX t_id_uq ON t (id);",
        DATA,
        BUILD,
        ["CREATE UNIQUE INDEX CONCURRENTLY t_id_uq ON public.t (id)"],
    ),
    (
        "hash",
        T,
        T + "CREATE INDEX t_a_hash ON t USING hash (a);",
        DATA,
        BUILD,
        ["CREATE INDEX CONCURRENTLY t_a_hash ON public.t USING hash (a)"],
    ),
    (
        "gin",
        T,
        T + "CREATE INDEX t_tags_gin ON t USING gin (tags);",
        DATA,
        BUILD,
        ["CREATE INDEX CONCURRENTLY t_tags_gin ON public.t USING gin (tags)"],
    ),
    (
        "gist",
        T,
        T + "CREATE INDEX t_r_gist ON t USING gist (r);",
        DATA,
        BUILD,
        ["CREATE INDEX CONCURRENTLY t_r_gist ON public.t USING gist (r)"],
    ),
    (
        "brin",
        T,
        T + "CREATE INDEX t_at_brin ON t USING brin (at) WITH (pages_per_range = 32);",
        DATA,
        BUILD,
        ["USING brin (at) WITH (pages_per_range = '32')"],
    ),
    (
        "expression_partial_include",
        T,
        T + "CREATE INDEX t_expr ON t (lower(a) DESC NULLS LAST) INCLUDE (b) WHERE b > 2;",
        DATA,
        BUILD,
        [
            "CREATE INDEX CONCURRENTLY t_expr ON public.t ((lower(a)) DESC NULLS LAST) INCLUDE (b) "
            "WHERE b > 2"
        ],
    ),
    (
        "opclass_collation_nulls_first",
        T,
        T + 'CREATE INDEX t_a_pat ON t (a COLLATE "C" text_pattern_ops NULLS FIRST);',
        DATA,
        BUILD,
        ["CREATE INDEX CONCURRENTLY t_a_pat ON public.t"],
    ),
    (
        "drop_online",
        T + "CREATE INDEX t_b_idx ON t (b);",
        T,
        DATA,
        DROPPED,
        ["DROP INDEX CONCURRENTLY public.t_b_idx"],
    ),
    (
        "definition_change_rebuilds",
        T + "CREATE INDEX t_b_idx ON t (b);",
        T + "CREATE INDEX t_b_idx ON t (b, id);",
        DATA,
        DROPPED | BUILD,
        [
            "DROP INDEX CONCURRENTLY public.t_b_idx",
            "CREATE INDEX CONCURRENTLY t_b_idx ON public.t (b, id)",
        ],
    ),
    (
        "set_storage_param_in_place",
        T + "CREATE INDEX t_b_idx ON t (b);",
        T + "CREATE INDEX t_b_idx ON t (b) WITH (fillfactor = 70);",
        DATA,
        set(),
        ["ALTER INDEX public.t_b_idx SET (fillfactor = '70')"],
    ),
    (
        "reset_storage_param_in_place",
        T + "CREATE INDEX t_b_idx ON t (b) WITH (fillfactor = 70);",
        T + "CREATE INDEX t_b_idx ON t (b);",
        DATA,
        set(),
        ["ALTER INDEX public.t_b_idx RESET (fillfactor)"],
    ),
    (
        "comment",
        T + "CREATE INDEX t_b_idx ON t (b);",
        T + "CREATE INDEX t_b_idx ON t (b); COMMENT ON INDEX t_b_idx IS 'by b';",
        DATA,
        set(),
        ["COMMENT ON INDEX public.t_b_idx IS 'by b'"],
    ),
    (
        "matview_index_online",
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;",
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x; CREATE INDEX mv_x ON mv (x);",
        "",
        BUILD,
        ["CREATE INDEX CONCURRENTLY mv_x ON public.mv (x)"],
    ),
    (
        "partitioned_online",
        "CREATE TABLE pt (id int, k int) PARTITION BY RANGE (id);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);"
        "CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (100) TO (200);",
        "CREATE TABLE pt (id int, k int) PARTITION BY RANGE (id);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);"
        "CREATE TABLE pt2 PARTITION OF pt FOR VALUES FROM (100) TO (200);"
        "CREATE INDEX pt_k_idx ON pt (k);",
        "INSERT INTO pt SELECT g, g FROM generate_series(0, 199) g;",
        BUILD,
        [
            "CREATE INDEX pt_k_idx ON ONLY public.pt (k)",
            "CREATE INDEX CONCURRENTLY pt1_k_idx ON public.pt1 (k)",
            "ALTER INDEX public.pt_k_idx ATTACH PARTITION public.pt1_k_idx",
            "CREATE INDEX CONCURRENTLY pt2_k_idx ON public.pt2 (k)",
            "ALTER INDEX public.pt_k_idx ATTACH PARTITION public.pt2_k_idx",
        ],
    ),
    (
        "partitioned_new_table",
        "",
        "CREATE TABLE pt (id int, k int) PARTITION BY RANGE (id);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);"
        "CREATE INDEX pt_k_idx ON pt (k);",
        "",
        set(),
        [
            "CREATE INDEX pt_k_idx ON ONLY public.pt (k)",
            "CREATE INDEX pt1_k_idx ON public.pt1 USING btree (k)",
            "ALTER INDEX public.pt_k_idx ATTACH PARTITION public.pt1_k_idx",
        ],
    ),
    (
        # a cascading CREATE INDEX would name the partition's index pt1_k_idx
        "partitioned_new_table_keeps_partition_index_names",
        "",
        "CREATE TABLE pt (id int, k int) PARTITION BY RANGE (id);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);"
        "CREATE INDEX pt_k_idx ON ONLY pt (k);"
        "CREATE INDEX pt1_custom ON pt1 (k);"
        "ALTER INDEX pt_k_idx ATTACH PARTITION pt1_custom;",
        "",
        set(),
        [
            "CREATE INDEX pt_k_idx ON ONLY public.pt (k)",
            "CREATE INDEX pt1_custom ON public.pt1 USING btree (k)",
            "ALTER INDEX public.pt_k_idx ATTACH PARTITION public.pt1_custom",
        ],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "data", "hazards", "sql"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_index_converges(
    make_db: MakeDb, before: str, after: str, data: str, hazards: set[str], sql: list[str]
) -> None:
    result = assert_converges(make_db, before, after, data=data)
    statements, codes = of_kind(result, "index")
    assert codes == hazards, statements
    assert_in_order(result.sql, sql)


def test_offline_create_blocks_writes(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        T,
        T + "CREATE INDEX t_b_idx ON t (b);",
        data=DATA,
        options=PlanOptions(online=False),
    )
    assert result.sql == ["CREATE INDEX t_b_idx ON public.t USING btree (b)"]
    assert result.hazard_codes == {"BLOCKS_WRITES"}


def test_invalid_index_is_repaired(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, T + "INSERT INTO t (id, b) VALUES (1, 1), (2, 1);")
    with psycopg.connect(a.admin_dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY t_b_uq ON t (b)")
        conn.execute("DELETE FROM t WHERE id = 2")
    current = inspect_dsn(a.admin_dsn)
    assert [i.valid for i in current.indexes] == [False]
    # Same definition, but INVALID in current: dropped (no INDEX_DROPPED: it served nothing)
    # and built again.
    from engine.execute import execute_statements
    from engine.plan.planner import plan_statements

    load(b.admin_dsn, T + "CREATE UNIQUE INDEX t_b_uq ON t (b);")
    desired = inspect_dsn(b.admin_dsn)
    statements = plan_statements(current, desired)
    assert [s.sql for s in statements] == [
        "DROP INDEX CONCURRENTLY public.t_b_uq",
        "CREATE UNIQUE INDEX CONCURRENTLY t_b_uq ON public.t (b)",
    ]
    assert [{h.code.value for h in s.hazards} for s in statements] == [NT, BUILD]
    with psycopg.connect(a.admin_dsn) as conn:
        execute_statements(conn, statements)
    repaired = inspect_dsn(a.admin_dsn)
    assert repaired.fingerprint() == desired.fingerprint()
    assert plan_statements(repaired, desired) == []


def test_inspect_indexes(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        T + "ALTER TABLE t ADD PRIMARY KEY (id); CREATE INDEX ON t (b) WHERE b > 1;"
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x; CREATE INDEX mvx ON mv (x);"
        "COMMENT ON INDEX t_b_idx IS 'c';",
    )
    schema = inspect_dsn(db.admin_dsn)
    by_name = {i.name: i for i in schema.indexes}
    assert set(by_name) == {"t_b_idx", "mvx"}  # the primary key's index comes with it
    assert by_name["t_b_idx"].definition == (
        "CREATE INDEX t_b_idx ON public.t USING btree (b) WHERE (b > 1)"
    )
    assert by_name["t_b_idx"].comment == "c"
    assert by_name["mvx"].table_kind == "matview"
    assert by_name["t_b_idx"].valid


def test_indexes_name_their_columns(db: ShadowDatabase) -> None:
    """Every column an index uses (keys, INCLUDE, expressions, predicate): its dependencies on
    columns, which the catalog's dependency rows leave out; none on a materialized view."""
    load(
        db.admin_dsn,
        T + "CREATE INDEX i_keys ON t (b, id) INCLUDE (a);"
        "CREATE INDEX i_expr ON t (lower(a)) WHERE at IS NOT NULL;"
        "CREATE INDEX i_whole ON t ((t IS NOT NULL));"
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x; CREATE INDEX mvx ON mv (x);",
    )
    schema = inspect_dsn(db.admin_dsn)
    by_name = {i.name: i for i in schema.indexes}
    assert by_name["i_keys"].columns == ("id", "a", "b")
    assert by_name["i_expr"].columns == ("a", "at")
    assert by_name["i_whole"].columns == ()  # a whole-row reference depends on the table
    assert by_name["mvx"].columns == ()
    deps = {(d.dependent.name, d.referenced.name) for d in schema.dependencies}
    assert not deps & {("i_keys", "a"), ("i_expr", "at")}
    # pg_depend's rows on the whole table and on the view's columns are the model's too
    assert not deps & {("i_whole", "t"), ("mvx", "mv")}
    assert {k.display for k in by_name["i_whole"].implied_deps()} == {"public.t"}
    assert {k.display for k in by_name["mvx"].implied_deps()} == {"public.mv"}
    assert {k.display for k in by_name["i_expr"].implied_deps()} == {
        "public.t",
        "public.t.a",
        "public.t.at",
    }


@pytest.mark.parametrize(
    ("spelling_a", "spelling_b"),
    [
        pytest.param(
            "CREATE INDEX ON t (b)",
            "create index t_b_idx on public.t using BTREE (b)",
            id="default_name_and_case",
        ),
        pytest.param(
            "CREATE INDEX i ON t (b DESC)",
            "CREATE INDEX i ON t (b DESC NULLS FIRST)",
            id="desc_implies_nulls_first",
        ),
        pytest.param(
            "CREATE INDEX i ON t (b) WHERE b>1",
            "CREATE INDEX i ON t(b) WHERE (b > 1)",
            id="predicate_whitespace",
        ),
        pytest.param(
            "CREATE INDEX i ON t (a text_ops)", "CREATE INDEX i ON t (a)", id="default_opclass"
        ),
    ],
)
def test_no_false_positives(make_db: MakeDb, spelling_a: str, spelling_b: str) -> None:
    result = assert_converges(make_db, T + spelling_a, T + spelling_b)
    assert result.statements == []


PT = (
    "CREATE TABLE pt (id int, k int) PARTITION BY RANGE (id);"
    "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);"
)
SUB = (
    "CREATE TABLE pt (id int, k int) PARTITION BY RANGE (id);"
    "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100) PARTITION BY RANGE (k);"
    "CREATE TABLE pt1a PARTITION OF pt1 FOR VALUES FROM (0) TO (100);"
)
PT_DATA = "INSERT INTO pt VALUES (1, 1), (2, 2);"
MORE: list[tuple[str, str, str, str, set[str], list[str]]] = [
    (
        "partitioned_drop_is_plain",
        PT + "CREATE INDEX pt_k_idx ON pt (k);",
        PT,
        PT_DATA,
        {"INDEX_DROPPED"},
        ["DROP INDEX public.pt_k_idx"],
    ),
    (
        "subpartitioned_build_is_plain",
        SUB,
        SUB + "CREATE INDEX pt_k_idx ON pt (k);",
        PT_DATA,
        {"BLOCKS_WRITES"},
        ["CREATE INDEX pt_k_idx ON public.pt (k)"],
    ),
    (
        "partitioned_definition_change",
        PT + "CREATE INDEX pt_k_idx ON pt (k);",
        PT + "CREATE INDEX pt_k_idx ON pt (k, id);",
        PT_DATA,
        {"INDEX_DROPPED", "INDEX_BUILD", "NON_TRANSACTIONAL"},
        [
            "DROP INDEX public.pt_k_idx",
            "CREATE INDEX pt_k_idx ON ONLY public.pt (k, id)",
            "CREATE INDEX CONCURRENTLY pt1_k_id_idx ON public.pt1 (k, id)",
            "ALTER INDEX public.pt_k_idx ATTACH PARTITION public.pt1_k_id_idx",
        ],
    ),
    (
        "quoted_names_other_schema",
        'CREATE SCHEMA "My App"; CREATE TABLE "My App"."Items" ("Id" int);',
        'CREATE SCHEMA "My App"; CREATE TABLE "My App"."Items" ("Id" int);'
        'CREATE INDEX "Items by Id" ON "My App"."Items" ("Id");'
        'COMMENT ON INDEX "My App"."Items by Id" IS \'x\';',
        'INSERT INTO "My App"."Items" VALUES (1);',
        BUILD,
        [
            'CREATE INDEX CONCURRENTLY "Items by Id" ON "My App"."Items" ("Id")',
            'COMMENT ON INDEX "My App"."Items by Id" IS \'x\'',
        ],
    ),
    (
        "drop_with_table",
        T + "CREATE INDEX t_b_idx ON t (b);",
        "",
        DATA,
        set(),
        ["DROP TABLE public.t"],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "data", "hazards", "sql"),
    [pytest.param(*case[1:], id=case[0]) for case in MORE],
)
def test_more_indexes_converge(
    make_db: MakeDb, before: str, after: str, data: str, hazards: set[str], sql: list[str]
) -> None:
    result = assert_converges(make_db, before, after, data=data)
    statements, codes = of_kind(result, "index")
    assert codes == hazards, statements
    assert_in_order(result.sql, sql)


def test_column_retype_keeps_index(make_db: MakeDb) -> None:
    # ALTER COLUMN TYPE rebuilds the index itself: no index statement of ours.
    after = T.replace("b int", "b bigint")
    result = assert_converges(
        make_db, T + "CREATE INDEX t_b_idx ON t (b);", after + "CREATE INDEX t_b_idx ON t (b);"
    )
    assert result.hazard_codes == {"BLOCKS_READS_WRITES", "TABLE_REWRITE"}
    assert of_kind(result, "index") == ([], set())
    assert result.statements


def test_matview_rebuilt_takes_its_index_along(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x; CREATE INDEX mv_x ON mv (x);",
        "CREATE MATERIALIZED VIEW mv AS SELECT 2 AS x; CREATE INDEX mv_x ON mv (x);",
    )
    assert result.hazard_codes == {"BLOCKS_READS_WRITES"}
    statements, codes = of_kind(result, "index")
    # Dropped with the view, built again plainly on the new (not yet live) view.
    assert statements == ["CREATE INDEX mv_x ON public.mv USING btree (x)"]
    assert codes == set()


def test_large_table_raises_build_severity(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        T,
        T + "CREATE INDEX t_b_idx ON t (b);",
        data=DATA + "ANALYZE t;",
        options=PlanOptions(large_table_rows=10),
    )
    (build,) = [h for s in result.statements for h in s.hazards if h.code.value == "INDEX_BUILD"]
    assert build.severity.value == "high"  # medium, raised once: 50 rows >= 10
    assert "~50 rows" in build.message
