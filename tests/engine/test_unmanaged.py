"""Unmanaged objects: listed by name (reported), never compared or planned."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from engine.catalog import inspect_dsn
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, load

CASES = [
    pytest.param(
        "CREATE TABLE t (id int); CREATE TABLE t_log (id int);"
        "CREATE RULE log_ins AS ON INSERT TO t DO ALSO INSERT INTO t_log VALUES (NEW.id);",
        "rule",
        "rule log_ins on table public.t",
        id="rule",
    ),
    pytest.param(
        "CREATE TYPE pair AS (a int, b int);"
        "CREATE FUNCTION pair_text(pair) RETURNS text LANGUAGE sql IMMUTABLE"
        " AS $$ SELECT $1.a || ',' || $1.b $$;"
        "CREATE CAST (pair AS text) WITH FUNCTION pair_text(pair);",
        "cast",
        "cast from public.pair to text",
        id="cast",
    ),
    pytest.param(
        "CREATE FUNCTION approx_eq(int, int) RETURNS boolean LANGUAGE sql IMMUTABLE"
        " AS $$ SELECT abs($1 - $2) < 2 $$;"
        "CREATE OPERATOR ~= (LEFTARG = int, RIGHTARG = int, FUNCTION = approx_eq);",
        "operator",
        "operator public.~=(integer,integer)",
        id="operator",
    ),
    pytest.param(
        "CREATE TEXT SEARCH CONFIGURATION my_english (COPY = pg_catalog.english);",
        "text search configuration",
        "text search configuration public.my_english",
        id="text-search-configuration",
    ),
    pytest.param(
        "CREATE TEXT SEARCH DICTIONARY my_simple (TEMPLATE = pg_catalog.simple);",
        "text search dictionary",
        "text search dictionary public.my_simple",
        id="text-search-dictionary",
    ),
    pytest.param(
        "CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION pub_t FOR TABLE t;",
        "publication",
        "publication pub_t",
        id="publication",
    ),
    pytest.param(
        "CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;",
        "access method",
        "access method heap2",
        id="access-method",
    ),
    pytest.param(
        "CREATE OPERATOR FAMILY my_fam USING btree;",
        "operator family",
        "operator family public.my_fam for access method btree",
        id="operator-family",
    ),
    pytest.param(
        "CREATE CONVERSION my_conv FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;",
        "conversion",
        "conversion public.my_conv",
        id="conversion",
    ),
    pytest.param("CREATE TYPE shell_t;", "type", "type public.shell_t", id="shell-type"),
    # settings of managed objects that the model does not hold
    pytest.param(
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a;"
        " ALTER MATERIALIZED VIEW mv ALTER COLUMN a SET (n_distinct = 100);",
        "column options",
        "column options (n_distinct=100) of column a of materialized view public.mv",
        id="matview-column-options",
    ),
    pytest.param(
        # an index's own are managed (Index.statistics); a constraint's index's are not
        "CREATE TABLE t (a int, EXCLUDE USING btree ((a + 1) WITH =));"
        " ALTER INDEX t_expr_excl ALTER COLUMN 1 SET STATISTICS 50;",
        "statistics target",
        "statistics target 50 of column expr of index public.t_expr_excl",
        id="constraint-index-column-statistics",
    ),
    pytest.param(
        "CREATE TYPE pair AS (x int, y int); CREATE TABLE typed OF pair;",
        "typed table",
        "typed table public.typed OF public.pair",
        id="typed-table",
    ),
    pytest.param(
        "CREATE UNLOGGED TABLE t (id int GENERATED ALWAYS AS IDENTITY);"
        " ALTER SEQUENCE t_id_seq SET LOGGED;",
        "persistence",
        "persistence logged of sequence public.t_id_seq",
        id="an-identity-sequences-persistence",
    ),
    pytest.param(
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a; CREATE INDEX mv_a ON mv (a);"
        " ALTER MATERIALIZED VIEW mv CLUSTER ON mv_a;",
        "cluster",
        "cluster of materialized view public.mv on index public.mv_a",
        id="a-materialized-views-cluster-on",
    ),
    pytest.param(
        "CREATE TABLE h (id int) PARTITION BY LIST (id);"
        " CREATE TABLE h1 PARTITION OF h FOR VALUES IN (1);"
        " CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
        " CREATE TRIGGER h_tr AFTER INSERT ON h FOR EACH ROW EXECUTE FUNCTION trg();"
        " ALTER TABLE h1 DISABLE TRIGGER h_tr;",
        "trigger state",
        "trigger state disabled of trigger h_tr on table public.h1",
        id="a-partitions-trigger-state",
    ),
    pytest.param(
        "CREATE TABLE t (a int); CREATE VIEW v AS SELECT a FROM t;"
        " ALTER VIEW v ALTER COLUMN a SET DEFAULT 7;",
        "default value",
        "default value for column a of view public.v",
        id="view-column-default",
    ),
]


@pytest.mark.parametrize(("sql", "kind", "identity"), CASES)
def test_unmanaged_object_is_listed(db: ShadowDatabase, sql: str, kind: str, identity: str) -> None:
    load(db.admin_dsn, sql)
    schema = inspect_dsn(db.admin_dsn)
    listed = {(u.kind, u.identity) for u in schema.unmanaged}
    assert (kind, identity) in listed, listed


def test_a_comment_on_a_not_null_constraint_is_listed(db: ShadowDatabase, pg_major: int) -> None:
    # PostgreSQL 18 keeps a table's NOT NULL as a constraint, which may carry a comment that
    # the column's model does not hold: reported, not dropped silently
    if pg_major < 18:
        pytest.skip("a table's NOT NULL is a constraint of its own from PostgreSQL 18")
    load(
        db.admin_dsn,
        "CREATE TABLE t (a int NOT NULL, b int CONSTRAINT b_nn NOT NULL, c int NOT NULL);"
        " CREATE TABLE c () INHERITS (t);"
        " COMMENT ON CONSTRAINT b_nn ON t IS 'x'; COMMENT ON CONSTRAINT t_a_not_null ON c IS 'y';",
    )
    assert {str(u) for u in inspect_dsn(db.admin_dsn).unmanaged} == {
        "comment on constraint b_nn on table public.t",
        "comment on constraint t_a_not_null on table public.c",
    }


def test_a_tables_access_method_is_listed(db: ShadowDatabase) -> None:
    # a table access method other than heap (CREATE TABLE ... USING): the access method is
    # listed, and so is each table that uses it
    load(
        db.admin_dsn,
        "CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler;"
        " CREATE TABLE t (a int) USING heap2; CREATE TABLE plain (a int);",
    )
    assert {str(u) for u in inspect_dsn(db.admin_dsn).unmanaged} == {
        "access method heap2",
        "access method heap2 of table public.t",
    }


def test_a_relations_tablespace_is_listed(db: ShadowDatabase) -> None:
    # The tablespace's folder must exist and belong to the server's user: the server makes it
    # (COPY ... TO PROGRAM runs as that user), beside the data directory.
    name = f"pgflux_ts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(db.admin_dsn, autocommit=True) as conn:
        data = conn.execute("SELECT current_setting('data_directory')").fetchone()
        assert data is not None
        folder = f"{Path(data[0]).parent}/{name}"
        conn.execute(sql.SQL("COPY (SELECT 1) TO PROGRAM {}").format(f"mkdir -p {folder}"))
        conn.execute(
            sql.SQL("CREATE TABLESPACE {} LOCATION {}").format(sql.Identifier(name), folder)
        )
        try:
            conn.execute(
                sql.SQL(
                    "CREATE TABLE t (a int) TABLESPACE {ts};"
                    " CREATE INDEX t_a ON t (a) TABLESPACE {ts}; CREATE TABLE plain (a int);"
                ).format(ts=sql.Identifier(name))
            )
            assert {str(u) for u in inspect_dsn(db.admin_dsn).unmanaged} == {
                f"tablespace {name} of table public.t",
                f"tablespace {name} of index public.t_a",
            }
        finally:
            conn.execute("DROP TABLE t")
            conn.execute(sql.SQL("DROP TABLESPACE {}").format(sql.Identifier(name)))


def test_settings_the_model_holds_are_not_listed(db: ShadowDatabase) -> None:
    # an unlogged table's identity sequence is unlogged with it; a table's CLUSTER ON, a
    # partition's trigger in its parent's state, a table's and a partition's column options
    load(
        db.admin_dsn,
        "CREATE UNLOGGED TABLE u (id int GENERATED ALWAYS AS IDENTITY, s serial);"
        " ALTER TABLE u ALTER COLUMN s SET (n_distinct = 100);"
        " CREATE INDEX u_id ON u (id); ALTER TABLE u CLUSTER ON u_id;"
        " CREATE TABLE h (id int) PARTITION BY LIST (id);"
        " CREATE TABLE h1 PARTITION OF h FOR VALUES IN (1);"
        " CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;"
        " CREATE TRIGGER h_tr AFTER INSERT ON h FOR EACH ROW EXECUTE FUNCTION trg();"
        " ALTER TABLE h DISABLE TRIGGER h_tr;"
        " ALTER TABLE h1 ALTER COLUMN id SET (n_distinct_inherited = -0.5);",
    )
    assert inspect_dsn(db.admin_dsn).unmanaged == ()


def test_fresh_database_lists_nothing(db: ShadowDatabase) -> None:
    assert inspect_dsn(db.admin_dsn).unmanaged == ()


def test_extension_members_are_not_listed(db: ShadowDatabase) -> None:
    # citext brings operators, casts and operator classes: all the extension's, none listed.
    available = _available(db.admin_dsn, "citext")
    if not available:
        pytest.skip("citext is not available on this server")
    load(db.admin_dsn, "CREATE EXTENSION citext;")
    assert inspect_dsn(db.admin_dsn).unmanaged == ()


def test_unmanaged_objects_never_make_a_plan(make_db: MakeDb) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, "CREATE PUBLICATION only_here;")
    current, desired = inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn)
    assert [u.identity for u in current.unmanaged] == ["publication only_here"]
    assert plan_statements(current, desired) == []
    assert current.fingerprint() == desired.fingerprint()


def _available(dsn: str, extension: str) -> bool:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_available_extensions WHERE name = %s", (extension,)
        ).fetchone()
    return bool(row and row[0])


@pytest.mark.parametrize(
    ("kind", "identity", "text"),
    [
        ("rule", "rule r on table t", "rule r on table t"),
        ("cast", "cast from a to b", "cast from a to b"),
        ("widget", "w1", "widget w1"),
    ],
    ids=["rule", "cast", "identity-without-kind"],
)
def test_unmanaged_text_names_kind_once(kind: str, identity: str, text: str) -> None:
    from engine.model.unmanaged import UnmanagedObject

    assert str(UnmanagedObject(kind=kind, identity=identity)) == text


def test_non_superuser_can_inspect_authz_families(db: ShadowDatabase) -> None:
    # Production is inspected through a read-only, non-superuser role: every authz query must
    # run without superuser rights (pg_subscription, pg_user_mappings hide columns from them).
    load(
        db.admin_dsn,
        "CREATE TABLE t (id int); ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
        "CREATE POLICY p ON t USING (id > 0);"
        "CREATE FOREIGN DATA WRAPPER dummy; CREATE SERVER srv FOREIGN DATA WRAPPER dummy;"
        "CREATE USER MAPPING FOR PUBLIC SERVER srv OPTIONS (user 'u', password 'secret');"
        "ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;"
        "CREATE PUBLICATION pub;",
    )
    schema = inspect_dsn(db.dsn)
    assert [p.name for p in schema.policies] == ["p"]
    assert [s.name for s in schema.servers] == ["srv"]
    assert [m.user for m in schema.user_mappings] == ["PUBLIC"]
    assert "secret" not in schema.to_json()
    assert [d.object_type for d in schema.default_privileges] == ["functions"]
    assert "publication pub" in {u.identity for u in schema.unmanaged}
    # hidden from this role: unknown, not empty
    assert [m.options for m in schema.user_mappings] == [None]
