"""Tables: inspect, create, drop and alter a table's own attributes; converge with pg_dump."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.diff.kinds.tables import inheritance_change
from engine.errors import PlanError
from engine.model.tables import Option, Table, TableRef
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

T = "CREATE TABLE t (id integer NOT NULL, name text);"
ROWS = "INSERT INTO t SELECT g, 'n' || g FROM generate_series(1, 50) g;"
NONE: set[str] = set()
RW = {"TABLE_REWRITE", "BLOCKS_READS_WRITES"}


def _table(schema: ShadowDatabase | str, name: str = "t") -> Table:
    dsn = schema if isinstance(schema, str) else schema.admin_dsn
    tables = {(t.schema_, t.name): t for t in inspect_dsn(dsn).tables}
    return tables[("public", name)]


# --- create / drop ------------------------------------------------------------------------------

CREATE_CASES = [
    pytest.param(T, NONE, "CREATE TABLE public.t (", id="plain"),
    pytest.param("CREATE TABLE t ();", NONE, "CREATE TABLE public.t ()", id="no-columns"),
    pytest.param(
        "CREATE UNLOGGED TABLE t (id int);", NONE, "CREATE UNLOGGED TABLE public.t", id="unlogged"
    ),
    pytest.param(
        "CREATE TABLE t (id int) WITH (autovacuum_enabled = false, fillfactor = 70);",
        NONE,
        "WITH (autovacuum_enabled='false', fillfactor='70')",
        id="storage-params",
    ),
    pytest.param(
        "CREATE TABLE t (id int, body text) WITH (toast.autovacuum_enabled = false);",
        NONE,
        "WITH (toast.autovacuum_enabled='false')",
        id="toast-param",
    ),
    pytest.param(
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        {"AUTHZ_CHANGE"},
        "ENABLE ROW LEVEL SECURITY",
        id="rls-enabled",
    ),
    pytest.param(
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;",
        {"AUTHZ_CHANGE"},
        "FORCE ROW LEVEL SECURITY",
        id="rls-forced",
    ),
    pytest.param(
        T + "ALTER TABLE t FORCE ROW LEVEL SECURITY;",
        {"AUTHZ_CHANGE"},
        "FORCE ROW LEVEL SECURITY",
        id="rls-forced-not-enabled",
    ),
    pytest.param(
        T + "ALTER TABLE t REPLICA IDENTITY FULL;", NONE, "REPLICA IDENTITY FULL", id="replica-full"
    ),
    pytest.param(
        T + "ALTER TABLE t REPLICA IDENTITY NOTHING;",
        NONE,
        "REPLICA IDENTITY NOTHING",
        id="replica-nothing",
    ),
    pytest.param(
        T + "COMMENT ON TABLE t IS 'people''s table';",
        NONE,
        "COMMENT ON TABLE public.t IS 'people''s table'",
        id="comment",
    ),
    pytest.param(
        T + "GRANT SELECT ON t TO PUBLIC;",
        {"AUTHZ_CHANGE"},
        "GRANT SELECT ON TABLE public.t TO PUBLIC",
        id="grant",
    ),
    pytest.param(
        'CREATE TABLE "Order Lines" ("Line No" int, "user" text);',
        NONE,
        'CREATE TABLE public."Order Lines" (\n    "Line No" integer,\n    "user" text\n)',
        id="quoted-names",
    ),
    pytest.param(
        "CREATE SCHEMA app; CREATE TABLE app.t (id int);",
        NONE,
        "CREATE TABLE app.t",
        id="other-schema",
    ),
    pytest.param(
        "CREATE TABLE p (id int); CREATE TABLE c (extra text) INHERITS (p);",
        NONE,
        "INHERITS (public.p)",
        id="inherits",
    ),
    pytest.param(
        "CREATE TABLE p1 (a int); CREATE TABLE p2 (b int); CREATE TABLE c () INHERITS (p2, p1);",
        NONE,
        "INHERITS (public.p2, public.p1)",
        id="inherits-two-ordered",
    ),
]


@pytest.mark.parametrize(("after", "hazards", "fragment"), CREATE_CASES)
def test_create(make_db: MakeDb, after: str, hazards: set[str], fragment: str) -> None:
    result = assert_converges(make_db, "", after)
    assert result.hazard_codes == hazards
    assert any(fragment in sql for sql in result.sql), result.sql


@pytest.mark.parametrize(("before", "hazards", "fragment"), CREATE_CASES)
def test_drop(make_db: MakeDb, before: str, hazards: set[str], fragment: str) -> None:
    result = assert_converges(make_db, before, "")
    tables = [s for s in result.statements if s.sql.startswith("DROP TABLE")]
    assert len(tables) == len(result.current.tables)
    assert [s.sql for s in result.statements if s not in tables] == (
        ["DROP SCHEMA app"] if "SCHEMA app" in before else []
    )
    for statement in tables:
        severities = {h.code.value: h.severity.value for h in statement.hazards}
        assert severities == {"DATA_LOSS": "critical", "BACKWARD_INCOMPATIBLE": "high"}


def test_drop_inheritance_child_before_parent(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db, "CREATE TABLE p (id int); CREATE TABLE c () INHERITS (p);", ""
    )
    assert result.hazard_codes == {"BACKWARD_INCOMPATIBLE", "DATA_LOSS"}
    assert result.sql == ["DROP TABLE public.c", "DROP TABLE public.p"]


def test_drop_with_rows_mentions_size(make_db: MakeDb) -> None:
    result = assert_converges(make_db, T, "", data=ROWS + "ANALYZE t;")
    (message,) = [h.message for h in result.statements[0].hazards if h.code.value == "DATA_LOSS"]
    assert "~50 rows" in message


# --- alter --------------------------------------------------------------------------------------

ALTER_CASES = [
    pytest.param(
        T,
        "CREATE UNLOGGED TABLE t (id integer NOT NULL, name text);",
        RW,
        ["ALTER TABLE public.t SET UNLOGGED"],
        id="set-unlogged",
    ),
    pytest.param(
        "CREATE UNLOGGED TABLE t (id integer NOT NULL, name text);",
        T,
        RW,
        ["ALTER TABLE public.t SET LOGGED"],
        id="set-logged",
    ),
    pytest.param(
        T,
        "CREATE TABLE t (id integer NOT NULL, name text) WITH (fillfactor = 80);",
        NONE,
        ["ALTER TABLE public.t SET (fillfactor='80')"],
        id="add-param",
    ),
    pytest.param(
        "CREATE TABLE t (id integer NOT NULL, name text) WITH (fillfactor = 80);",
        "CREATE TABLE t (id integer NOT NULL, name text) WITH (fillfactor = 60);",
        NONE,
        ["ALTER TABLE public.t SET (fillfactor='60')"],
        id="change-param",
    ),
    pytest.param(
        "CREATE TABLE t (id integer NOT NULL, name text) WITH (fillfactor = 80);",
        T,
        NONE,
        ["ALTER TABLE public.t RESET (fillfactor)"],
        id="reset-param",
    ),
    pytest.param(
        "CREATE TABLE t (id integer NOT NULL, name text) WITH (fillfactor = 80);",
        "CREATE TABLE t (id integer NOT NULL, name text) WITH (toast.autovacuum_enabled = false);",
        NONE,
        [
            "ALTER TABLE public.t RESET (fillfactor)",
            "ALTER TABLE public.t SET (toast.autovacuum_enabled='false')",
        ],
        id="swap-params",
    ),
    pytest.param(
        T,
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        {"AUTHZ_CHANGE"},
        ["ALTER TABLE public.t ENABLE ROW LEVEL SECURITY"],
        id="enable-rls",
    ),
    pytest.param(
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        T,
        {"AUTHZ_CHANGE"},
        ["ALTER TABLE public.t DISABLE ROW LEVEL SECURITY"],
        id="disable-rls",
    ),
    pytest.param(
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;",
        {"AUTHZ_CHANGE"},
        ["ALTER TABLE public.t FORCE ROW LEVEL SECURITY"],
        id="force-rls",
    ),
    pytest.param(
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;",
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        {"AUTHZ_CHANGE"},
        ["ALTER TABLE public.t NO FORCE ROW LEVEL SECURITY"],
        id="no-force-rls",
    ),
    pytest.param(
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;",
        T,
        {"AUTHZ_CHANGE"},
        [
            "ALTER TABLE public.t DISABLE ROW LEVEL SECURITY",
            "ALTER TABLE public.t NO FORCE ROW LEVEL SECURITY",
        ],
        id="rls-all-off",
    ),
    pytest.param(
        T,
        T + "ALTER TABLE t REPLICA IDENTITY FULL;",
        NONE,
        ["ALTER TABLE public.t REPLICA IDENTITY FULL"],
        id="replica-full",
    ),
    pytest.param(
        T + "ALTER TABLE t REPLICA IDENTITY FULL;",
        T + "ALTER TABLE t REPLICA IDENTITY NOTHING;",
        NONE,
        ["ALTER TABLE public.t REPLICA IDENTITY NOTHING"],
        id="replica-nothing",
    ),
    pytest.param(
        T + "ALTER TABLE t REPLICA IDENTITY FULL;",
        T,
        NONE,
        ["ALTER TABLE public.t REPLICA IDENTITY DEFAULT"],
        id="replica-default",
    ),
    pytest.param(
        T,
        T + "COMMENT ON TABLE t IS 'x';",
        NONE,
        ["COMMENT ON TABLE public.t IS 'x'"],
        id="add-comment",
    ),
    pytest.param(
        T + "COMMENT ON TABLE t IS 'x';",
        T,
        NONE,
        ["COMMENT ON TABLE public.t IS NULL"],
        id="drop-comment",
    ),
    pytest.param(
        T,
        T + "GRANT SELECT, INSERT ON t TO PUBLIC;",
        {"AUTHZ_CHANGE"},
        [
            "GRANT INSERT ON TABLE public.t TO PUBLIC",
            "GRANT SELECT ON TABLE public.t TO PUBLIC",
        ],
        id="grant",
    ),
    pytest.param(
        T + "GRANT SELECT, INSERT ON t TO PUBLIC;",
        T + "GRANT SELECT ON t TO PUBLIC;",
        {"AUTHZ_CHANGE"},
        ["REVOKE INSERT ON TABLE public.t FROM PUBLIC"],
        id="revoke",
    ),
    pytest.param(
        "CREATE TABLE p (id int); CREATE TABLE c (id int, x text);",
        "CREATE TABLE p (id int); CREATE TABLE c (id int, x text) INHERITS (p);",
        NONE,
        ["ALTER TABLE public.c INHERIT public.p"],
        id="inherit",
    ),
    pytest.param(
        "CREATE TABLE p (id int); CREATE TABLE c (id int, x text) INHERITS (p);",
        "CREATE TABLE p (id int); CREATE TABLE c (id int, x text);",
        {"BACKWARD_INCOMPATIBLE"},
        ["ALTER TABLE public.c NO INHERIT public.p"],
        id="no-inherit",
    ),
    pytest.param(
        "CREATE TABLE p (id int); CREATE TABLE c () INHERITS (p);",
        "CREATE TABLE p (id int); CREATE TABLE c (id int);",
        {"BACKWARD_INCOMPATIBLE"},
        ["ALTER TABLE public.c NO INHERIT public.p"],
        id="no-inherit-keeps-inherited-column",
    ),
    pytest.param(
        "CREATE TABLE p1 (a int); CREATE TABLE p2 (a int); "
        "CREATE TABLE c (a int) INHERITS (p1, p2);",
        "CREATE TABLE p1 (a int); CREATE TABLE p2 (a int); "
        "CREATE TABLE c (a int) INHERITS (p2, p1);",
        {"BACKWARD_INCOMPATIBLE"},
        [
            "ALTER TABLE public.c NO INHERIT public.p1",
            "ALTER TABLE public.c INHERIT public.p1",
        ],
        id="reorder-parents",
    ),
    pytest.param(
        "CREATE TABLE p (id int); CREATE TABLE c (id int) INHERITS (p);",
        "CREATE TABLE p (id int); CREATE TABLE p2 (id int); "
        "CREATE TABLE c (id int) INHERITS (p, p2);",
        NONE,
        ["CREATE TABLE public.p2 (\n    id integer\n)", "ALTER TABLE public.c INHERIT public.p2"],
        id="inherit-new-table",
    ),
]


@pytest.mark.parametrize(("before", "after", "hazards", "sql"), ALTER_CASES)
def test_alter(make_db: MakeDb, before: str, after: str, hazards: set[str], sql: list[str]) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


def test_replica_identity_using_index(make_db: MakeDb) -> None:
    idx = "CREATE UNIQUE INDEX t_id_key ON t (id);"
    result = assert_converges(
        make_db, T + idx, T + idx + "ALTER TABLE t REPLICA IDENTITY USING INDEX t_id_key;"
    )
    assert result.sql == ["ALTER TABLE public.t REPLICA IDENTITY USING INDEX t_id_key"]
    assert result.hazard_codes == NONE


def test_create_with_replica_identity_index(make_db: MakeDb) -> None:
    after = T + "CREATE UNIQUE INDEX t_id_key ON t (id);"
    after += "ALTER TABLE t REPLICA IDENTITY USING INDEX t_id_key;"
    result = assert_converges(make_db, "", after)
    assert result.hazard_codes == set()
    assert result.sql[-1] == "ALTER TABLE public.t REPLICA IDENTITY USING INDEX t_id_key"


@pytest.mark.parametrize("constraint", ["PRIMARY KEY", "UNIQUE"])
def test_create_with_replica_identity_on_a_constraint_index(
    make_db: MakeDb, constraint: str
) -> None:
    # The index is the constraint's: the constraint (not an index step) creates it.
    after = f"CREATE TABLE items (id integer NOT NULL, CONSTRAINT items_key {constraint} (id));"
    after += "ALTER TABLE items REPLICA IDENTITY USING INDEX items_key;"
    result = assert_converges(make_db, "", after)
    assert result.hazard_codes == set()
    identity = result.sql.index("ALTER TABLE public.items REPLICA IDENTITY USING INDEX items_key")
    creates = [i for i, sql in enumerate(result.sql) if "items_key" in sql and i != identity]
    assert creates, result.sql
    assert max(creates) < identity, result.sql


# Marks a table puts on one of its indexes: REPLICA IDENTITY USING INDEX and CLUSTER ON. An
# index the plan makes again (a new definition, or a key constraint's) carries neither, so the
# table's statement runs again after it.
IDX = "CREATE TABLE t (id integer NOT NULL, a integer NOT NULL); CREATE INDEX t_a ON t (a);"
PK = "CREATE TABLE w (id integer, k integer, CONSTRAINT w_pk PRIMARY KEY (id));"
INDEX_MARK_CASES = [
    pytest.param(
        IDX,
        IDX + "ALTER TABLE t CLUSTER ON t_a;",
        NONE,
        ["ALTER TABLE public.t CLUSTER ON t_a"],
        id="cluster-on",
    ),
    pytest.param(
        IDX + "ALTER TABLE t CLUSTER ON t_a;",
        IDX,
        NONE,
        ["ALTER TABLE public.t SET WITHOUT CLUSTER"],
        id="set-without-cluster",
    ),
    pytest.param(
        PK,
        PK + "ALTER TABLE w CLUSTER ON w_pk;",
        NONE,
        ["ALTER TABLE public.w CLUSTER ON w_pk"],
        id="cluster-on-a-primary-key",
    ),
    pytest.param(
        IDX + "ALTER TABLE t CLUSTER ON t_a;",
        "CREATE TABLE t (id integer NOT NULL, a integer NOT NULL); CREATE INDEX t_a ON t (a, id);"
        " ALTER TABLE t CLUSTER ON t_a;",
        {"INDEX_DROPPED", "INDEX_BUILD", "NON_TRANSACTIONAL"},
        [
            "DROP INDEX CONCURRENTLY public.t_a",
            "CREATE INDEX CONCURRENTLY t_a ON public.t (a, id)",
            "ALTER TABLE public.t CLUSTER ON t_a",
        ],
        id="clustered-index-made-again",
    ),
    pytest.param(
        PK + "ALTER TABLE w CLUSTER ON w_pk;",
        "CREATE TABLE w (id integer, k integer NOT NULL, CONSTRAINT w_pk PRIMARY KEY (id, k));"
        " ALTER TABLE w CLUSTER ON w_pk;",
        {"BACKWARD_INCOMPATIBLE", "INDEX_BUILD", "INDEX_DROPPED", "NON_TRANSACTIONAL"},
        None,
        id="clustered-key-made-again-over-a-column-made-not-null",
    ),
    pytest.param(
        "CREATE TABLE t (id integer NOT NULL, a integer NOT NULL);"
        " CREATE UNIQUE INDEX t_u ON t (a); ALTER TABLE t REPLICA IDENTITY USING INDEX t_u;",
        "CREATE TABLE t (id integer NOT NULL, a integer NOT NULL);"
        " CREATE UNIQUE INDEX t_u ON t (a, id); ALTER TABLE t REPLICA IDENTITY USING INDEX t_u;",
        {"INDEX_DROPPED", "INDEX_BUILD", "NON_TRANSACTIONAL"},
        [
            "DROP INDEX CONCURRENTLY public.t_u",
            "CREATE UNIQUE INDEX CONCURRENTLY t_u ON public.t (a, id)",
            "ALTER TABLE public.t REPLICA IDENTITY USING INDEX t_u",
        ],
        id="replica-identity-index-made-again",
    ),
    pytest.param(
        "",
        "CREATE TABLE n (id integer); CREATE INDEX n_i ON n (id); ALTER TABLE n CLUSTER ON n_i;",
        NONE,
        None,
        id="a-new-table-clustered",
    ),
]


@pytest.mark.parametrize(("before", "after", "hazards", "sql"), INDEX_MARK_CASES)
def test_index_marks(
    make_db: MakeDb,
    before: str,
    after: str,
    hazards: set[str] | None,
    sql: list[str] | None,
) -> None:
    assert_converges(make_db, before, after).expect(hazards, sql)


def test_set_logged_with_rows(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE UNLOGGED TABLE t (id integer NOT NULL, name text);",
        T,
        data=ROWS,
    )
    assert result.hazard_codes == {"BLOCKS_READS_WRITES", "TABLE_REWRITE"}
    assert result.sql == ["ALTER TABLE public.t SET LOGGED"]
    assert result.statements[0].lock == "ACCESS EXCLUSIVE"


def test_light_params_take_share_update_exclusive(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db, T, "CREATE TABLE t (id integer NOT NULL, name text) WITH (fillfactor = 80);"
    )
    assert result.hazard_codes == set()
    assert result.statements[0].lock == "SHARE UPDATE EXCLUSIVE"


# --- refused changes ------------------------------------------------------------------------------

REFUSED = [
    pytest.param(
        "CREATE TABLE t (id int);",
        "CREATE TABLE t (id int) PARTITION BY RANGE (id);",
        "changes from regular to partitioned",
        id="regular-to-partitioned",
    ),
    pytest.param(
        "CREATE TABLE t (id int) PARTITION BY RANGE (id);",
        "CREATE TABLE t (id int) PARTITION BY LIST (id);",
        "partition key",
        id="partition-key",
    ),
    pytest.param(
        "CREATE TABLE t (id int, k int) PARTITION BY RANGE (id);",
        "CREATE TABLE t (id int, k int) PARTITION BY RANGE (k);",
        "partition key",
        id="partition-column",
    ),
]


@pytest.mark.parametrize(("before", "after", "message"), REFUSED)
def test_refused(make_db: MakeDb, before: str, after: str, message: str) -> None:
    a, b = make_db(), make_db()
    load(a.admin_dsn, before)
    load(b.admin_dsn, after)
    with pytest.raises(PlanError, match=message):
        plan_statements(inspect_dsn(a.admin_dsn), inspect_dsn(b.admin_dsn))


# --- inspection -----------------------------------------------------------------------------------


def test_inspect_table_attributes(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        "CREATE UNLOGGED TABLE t (id int) WITH (fillfactor = 70, autovacuum_enabled = off);"
        "ALTER TABLE t ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY,"
        " REPLICA IDENTITY FULL;"
        "COMMENT ON TABLE t IS 'c'; GRANT SELECT ON t TO PUBLIC;"
        "INSERT INTO t SELECT generate_series(1, 10); ANALYZE t;",
    )
    t = _table(db)
    assert t.table_kind == "regular"
    assert t.persistence == "unlogged"
    assert t.options == (
        Option(name="autovacuum_enabled", value="off"),
        Option(name="fillfactor", value="70"),
    )
    assert (t.rls_enabled, t.rls_forced) == (True, True)
    assert t.replica_identity == "full"
    assert t.comment == "c"
    assert [(p.grantee, p.privilege) for p in t.acl] == [("PUBLIC", "SELECT")]
    assert t.stats is not None
    assert t.stats.rows == 10
    assert t.stats.bytes > 0
    assert "stats" not in t.compared()


def test_inspect_never_analyzed_has_unknown_rows(db: ShadowDatabase) -> None:
    load(db.admin_dsn, T)
    t = _table(db)
    assert t.stats is not None
    assert t.stats.rows is None


def test_inspect_inheritance_order(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        "CREATE TABLE p1 (a int); CREATE TABLE p2 (b int); CREATE TABLE c () INHERITS (p2, p1);",
    )
    c = _table(db, "c")
    assert c.inherits == (
        TableRef(schema_="public", name="p2"),
        TableRef(schema_="public", name="p1"),
    )
    schema = inspect_dsn(db.admin_dsn)
    assert [col.name for col in schema.columns if col.table == "c"] == []


def test_inspect_what_children_hold_from_their_parents(db: ShadowDatabase) -> None:
    """Left out of columns and constraints (they come with the parent), listed apart in the
    child's own state: what a plan that detaches the child must know it keeps."""
    load(
        db.admin_dsn,
        "CREATE TABLE p (a int NOT NULL DEFAULT 1, b int, CONSTRAINT pos CHECK (a > 0),"
        " PRIMARY KEY (a)) PARTITION BY LIST (a);"
        "CREATE TABLE p1 PARTITION OF p (b DEFAULT 7) FOR VALUES IN (1);"
        "COMMENT ON COLUMN p1.b IS 'bee'; GRANT SELECT (b) ON p1 TO PUBLIC;"
        "CREATE TABLE i (x int); CREATE TABLE ic (y int) INHERITS (i);",
    )
    schema = inspect_dsn(db.admin_dsn)
    assert {(c.table, c.name) for c in schema.columns} == {
        ("p", "a"),
        ("p", "b"),
        ("i", "x"),
        ("ic", "y"),
    }
    held = {(c.table, c.name): c for c in schema.inherited_columns}
    assert sorted(held) == [("ic", "x"), ("p1", "a"), ("p1", "b")]
    a, b = held[("p1", "a")], held[("p1", "b")]
    assert (a.not_null, a.default, a.comment, a.acl) == (True, "1", None, ())
    assert (b.not_null, b.default, b.comment) == (False, "7", "bee")
    assert [(x.grantee, x.privilege) for x in b.acl] == [("PUBLIC", "SELECT")]
    assert {(c.table, c.name) for c in schema.constraints} == {("p", "pos"), ("p", "p_pkey")}
    kept = {(c.table, c.name): c for c in schema.inherited_constraints}
    assert sorted(kept) == [("p1", "p1_pkey"), ("p1", "pos")]
    assert kept[("p1", "p1_pkey")].type == "primary_key"
    assert kept[("p1", "pos")].definition == "CHECK ((a > 0))"


def test_inspect_a_childs_own_storage_and_compression(db: ShadowDatabase) -> None:
    """PARTITION OF copies the parent's; the child's ONLY changes are its own."""
    load(
        db.admin_dsn,
        "CREATE TABLE p (a int, b text COMPRESSION pglz, c text) PARTITION BY LIST (a);"
        " ALTER TABLE p ALTER COLUMN c SET STORAGE MAIN;"
        " CREATE TABLE p1 PARTITION OF p FOR VALUES IN (1);"
        " ALTER TABLE ONLY p1 ALTER COLUMN b SET STORAGE EXTERNAL;"
        " ALTER TABLE ONLY p1 ALTER COLUMN c SET COMPRESSION pglz;",
    )
    held = {c.name: c for c in inspect_dsn(db.admin_dsn).inherited_columns}
    assert (held["a"].storage, held["a"].compression) == (None, None)
    assert (held["b"].storage, held["b"].compression) == ("external", "pglz")
    assert (held["c"].storage, held["c"].compression) == ("main", "pglz")


def test_inspect_a_childs_not_valid_copy_of_not_null(db: ShadowDatabase, pg_major: int) -> None:
    """PostgreSQL 18: the parent's NOT VALID constraint reaches a child that exists as NOT
    VALID; a child made after it holds a validated copy."""
    if pg_major < 18:
        pytest.skip("NOT NULL ... NOT VALID is PostgreSQL 18's")
    load(
        db.admin_dsn,
        "CREATE TABLE p (a int); CREATE TABLE before () INHERITS (p);"
        " ALTER TABLE p ADD CONSTRAINT p_a_nn NOT NULL a NOT VALID;"
        " CREATE TABLE after () INHERITS (p);",
    )
    schema = inspect_dsn(db.admin_dsn)
    held = {c.table: c for c in schema.inherited_columns}
    assert (held["before"].not_null, held["before"].not_null_validated) == (True, False)
    assert (held["after"].not_null, held["after"].not_null_validated) == (True, True)
    assert held["before"].not_null_name == held["after"].not_null_name == "p_a_nn"
    (declared,) = [c for c in schema.columns if c.table == "p"]
    assert (declared.not_null, declared.not_null_validated) == (True, False)


def test_inspect_a_childs_own_not_null_constraint(db: ShadowDatabase, pg_major: int) -> None:
    """PostgreSQL 18: a child's copy of its parent's NOT NULL constraint that is its own as
    well (conislocal); a column the child declares holding only the parent's copy has no name
    of its own."""
    load(
        db.admin_dsn,
        "CREATE TABLE p (a int NOT NULL, b int);"
        " CREATE TABLE own () INHERITS (p); ALTER TABLE ONLY own ALTER COLUMN a SET NOT NULL;"
        " CREATE TABLE copy () INHERITS (p);"
        " CREATE TABLE declared (a int) INHERITS (p);"
        " CREATE TABLE named (a int CONSTRAINT named_a_nn NOT NULL) INHERITS (p);",
    )
    schema = inspect_dsn(db.admin_dsn)
    held = {c.table: c for c in schema.inherited_columns if c.name == "a"}
    assert (held["own"].not_null_local, held["copy"].not_null_local) == (pg_major >= 18, False)
    declared = {c.table: c for c in schema.columns if c.name == "a"}
    assert declared["declared"].not_null
    assert declared["declared"].not_null_name is None
    assert declared["named"].not_null_name == ("named_a_nn" if pg_major >= 18 else None)


def test_inspect_a_childs_generation_expression(db: ShadowDatabase, pg_major: int) -> None:
    """Each child's expression of a generated column it has from its parent: the parent's, or
    one of its own (SET EXPRESSION with ONLY, PostgreSQL 17+)."""
    sql = (
        "CREATE TABLE p (a int, b int GENERATED ALWAYS AS (a * 2) STORED, c int);"
        " CREATE TABLE same () INHERITS (p); CREATE TABLE own () INHERITS (p);"
    )
    if pg_major >= 17:
        sql += " ALTER TABLE ONLY own ALTER COLUMN b SET EXPRESSION AS (a * 5);"
    load(db.admin_dsn, sql)
    held = {(c.table, c.name): c for c in inspect_dsn(db.admin_dsn).inherited_columns}
    assert held[("same", "b")].generated == "(a * 2)"
    assert held[("own", "b")].generated == ("(a * 5)" if pg_major >= 17 else "(a * 2)")
    assert (held[("same", "a")].generated, held[("same", "c")].generated) == (None, None)


def test_inspect_acl_ignores_owner(make_db: MakeDb) -> None:
    # the table's owner differs between A (superuser) and B (non-superuser owner): equal ACLs
    a, b = make_db(), make_db()
    load(a.admin_dsn, T)
    load(b.dsn, T)
    assert _table(a.admin_dsn).acl == _table(b.dsn).acl == ()


# --- no false positives ---------------------------------------------------------------------------

SAME = [
    pytest.param(
        "create table T (ID INT4 not null, Name TEXT);",
        "CREATE TABLE public.t (id integer NOT NULL, name text);",
        id="keyword-case-and-schema",
    ),
    pytest.param(
        "CREATE TABLE t (id int) WITH (fillfactor=70);",
        "CREATE   TABLE t(\n  id   integer\n)  WITH ( FILLFACTOR = 70 );",
        id="whitespace-and-params",
    ),
    pytest.param(
        "CREATE TABLE t (id int); ALTER TABLE t REPLICA IDENTITY DEFAULT;",
        "CREATE TABLE t (id int);",
        id="explicit-default-replica-identity",
    ),
    pytest.param(
        "CREATE TABLE t (id int); GRANT ALL ON t TO PUBLIC; REVOKE ALL ON t FROM PUBLIC;",
        "CREATE TABLE t (id int);",
        id="revoked-grant-equals-default-acl",
    ),
    pytest.param(
        "CREATE TABLE t (id int); ALTER TABLE t ENABLE ROW LEVEL SECURITY;"
        "ALTER TABLE t DISABLE ROW LEVEL SECURITY;",
        "CREATE TABLE t (id int);",
        id="rls-toggled-back",
    ),
]


@pytest.mark.parametrize(("before", "after"), SAME)
def test_no_false_positive(make_db: MakeDb, before: str, after: str) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == []


def test_offline_options_do_not_change_table_ddl(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        T,
        T + "ALTER TABLE t ENABLE ROW LEVEL SECURITY;",
        options=PlanOptions(online=False),
    )
    assert result.hazard_codes == {"AUTHZ_CHANGE"}
    assert result.sql == ["ALTER TABLE public.t ENABLE ROW LEVEL SECURITY"]


# --- foreign tables -------------------------------------------------------------------------------

SRV = "CREATE FOREIGN DATA WRAPPER w; CREATE SERVER s1 FOREIGN DATA WRAPPER w;"
SRV2 = SRV + "CREATE SERVER s2 FOREIGN DATA WRAPPER w;"
FT = "CREATE FOREIGN TABLE ft (id int, name text) SERVER s1 OPTIONS (table_name 'remote');"

FOREIGN_CASES = [
    pytest.param(
        SRV2,
        SRV2 + FT,
        NONE,
        [
            "CREATE FOREIGN TABLE public.ft (\n    id integer,\n    name text\n) "
            "SERVER s1 OPTIONS (table_name 'remote')"
        ],
        id="create",
    ),
    pytest.param(
        SRV2 + FT, SRV2, {"BACKWARD_INCOMPATIBLE"}, ["DROP FOREIGN TABLE public.ft"], id="drop"
    ),
    pytest.param(
        SRV2 + FT,
        SRV2 + FT.replace("'remote'", "'other'"),
        NONE,
        ["ALTER FOREIGN TABLE public.ft OPTIONS (SET table_name 'other')"],
        id="set-option",
    ),
    pytest.param(
        SRV2 + FT,
        SRV2 + FT.replace("(table_name 'remote')", "(schema_name 'x', table_name 'remote')"),
        NONE,
        ["ALTER FOREIGN TABLE public.ft OPTIONS (ADD schema_name 'x')"],
        id="add-option",
    ),
    pytest.param(
        SRV2 + FT,
        SRV2 + FT.replace(" OPTIONS (table_name 'remote')", ""),
        NONE,
        ["ALTER FOREIGN TABLE public.ft OPTIONS (DROP table_name)"],
        id="drop-option",
    ),
    pytest.param(
        SRV2 + FT,
        SRV2 + FT.replace("SERVER s1", "SERVER s2"),
        {"BACKWARD_INCOMPATIBLE"},
        [
            "DROP FOREIGN TABLE public.ft",
            "CREATE FOREIGN TABLE public.ft (\n    id integer,\n    name text\n) "
            "SERVER s2 OPTIONS (table_name 'remote')",
        ],
        id="change-server-recreates",
    ),
    pytest.param(
        SRV2 + FT,
        SRV2 + FT + "COMMENT ON FOREIGN TABLE ft IS 'remote rows';",
        NONE,
        ["COMMENT ON FOREIGN TABLE public.ft IS 'remote rows'"],
        id="comment",
    ),
    pytest.param(
        SRV2 + FT,
        SRV2 + FT + "GRANT SELECT ON ft TO PUBLIC;",
        {"AUTHZ_CHANGE"},
        ["GRANT SELECT ON TABLE public.ft TO PUBLIC"],
        id="grant",
    ),
    pytest.param(
        SRV2 + FT,
        SRV2 + FT.replace("name text", "name text OPTIONS (column_name 'n')"),
        NONE,
        ["ALTER FOREIGN TABLE public.ft ALTER COLUMN name OPTIONS (ADD column_name 'n')"],
        id="column-option",
    ),
    pytest.param(
        SRV2 + FT,
        SRV2 + FT.replace("name text", "name text, extra integer"),
        NONE,
        ["ALTER TABLE public.ft ADD COLUMN extra integer"],
        id="add-column",
    ),
]


@pytest.mark.parametrize(("before", "after", "hazards", "sql"), FOREIGN_CASES)
def test_foreign_table(
    make_db: MakeDb, before: str, after: str, hazards: set[str], sql: list[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.sql == sql
    assert result.hazard_codes == hazards


@pytest.mark.parametrize(
    ("old", "new", "left", "joined"),
    [
        ("ab", "ab", "", ""),
        ("ab", "b", "a", ""),
        ("ab", "a", "b", ""),
        ("a", "ab", "", "b"),
        ("a", "b", "a", "b"),
        ("ab", "ba", "a", "a"),
        ("abc", "bca", "a", "a"),
        ("abc", "acb", "b", "b"),
        ("abc", "cab", "ab", "ab"),
        ("ab", "cab", "ab", "cab"),
        ("", "a", "", "a"),
        ("a", "", "a", ""),
    ],
)
def test_inheritance_change_keeps_the_longest_start_in_order(
    old: str, new: str, left: str, joined: str
) -> None:
    def refs(names: str) -> list[TableRef]:
        return [TableRef(schema_="public", name=n) for n in names]

    assert inheritance_change(refs(old), refs(new)) == (refs(left), refs(joined))
