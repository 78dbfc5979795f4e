"""engine.load against real PostgreSQL: discovery, refusals, positions, one-transaction loads."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ConnectionFailed, SchemaLoadError, UsageError
from engine.load import (
    LoadedSchema,
    ObjectRef,
    discover,
    load_into,
    parse_schema_dir,
    required_roles,
)
from engine.shadow import EmbeddedCluster, ShadowDatabase

SHOP = Path(__file__).parent / "fixtures" / "load" / "shop" / "schema"

RunSql = Callable[..., list[tuple[Any, ...]]]


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create `root`/schema with `files` (relative path -> content) and return it."""
    schema = root / "schema"
    schema.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = schema / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return schema


def parse_error(schema: Path) -> SchemaLoadError:
    with pytest.raises(SchemaLoadError) as info:
        parse_schema_dir(schema)
    return info.value


def load_error(db: ShadowDatabase, schema: Path, **kwargs: Any) -> SchemaLoadError:
    loaded = parse_schema_dir(schema)
    with pytest.raises(SchemaLoadError) as info:
        load_into(db.dsn, loaded, **kwargs)
    return info.value


def user_tables(run_sql: RunSql, dsn: str) -> list[str]:
    rows = run_sql(
        dsn,
        "SELECT n.nspname || '.' || c.relname FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.relkind IN ('r', 'v', 'S', 'i') AND n.nspname NOT IN"
        " ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1",
    )
    return [str(r[0]) for r in rows]


# --------------------------------------------------------------------------- discovery


def test_discover_orders_bytewise_and_skips_hidden_and_non_sql() -> None:
    found = [p.relative_to(SHOP).as_posix() for p in discover(SHOP)]
    assert found == [
        "00_extensions/01_schema.sql",
        "00_extensions/README_only_comments.sql",
        "10_types/status.sql",
        "20_tables/customers.sql",
        "20_tables/orders.sql",
        "30_views/Z_upper.sql",  # upper case before lower case: byte-wise
        "30_views/a_lower.sql",
    ]


def test_discover_puts_a_file_before_the_directory_of_the_same_stem(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"a/b.sql": "SELECT 1;", "a.sql": "SELECT 1;", "a-z.sql": ""})
    assert [p.relative_to(schema).as_posix() for p in discover(schema)] == [
        "a-z.sql",
        "a.sql",
        "a/b.sql",
    ]


def test_missing_dir(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nowhere.*does not exist") as info:
        discover(tmp_path / "nowhere")
    assert info.value.exit_code == 2


def test_not_a_dir(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("SELECT 1;")
    with pytest.raises(UsageError, match=r"schema\.sql is not a directory"):
        discover(tmp_path / "schema.sql")


def test_no_sql_files(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"README.md": "# hi", ".hidden.sql": "SELECT 1;"})
    with pytest.raises(UsageError, match=r"contains no \.sql files"):
        discover(schema)


def test_symlink_escaping_the_schema_dir_is_refused(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"a.sql": "SELECT 1;"})
    outside = tmp_path / "outside.sql"
    outside.write_text("SELECT 1;")
    (schema / "b.sql").symlink_to(outside)
    with pytest.raises(UsageError, match=r"b\.sql is a symlink .* outside the schema directory"):
        discover(schema)


def test_dangling_symlink_is_refused(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"a.sql": "SELECT 1;"})
    (schema / "gone.sql").symlink_to(schema / "missing.sql")
    with pytest.raises(UsageError, match=r"gone\.sql is a dangling symlink"):
        discover(schema)


def test_symlink_inside_the_schema_dir_is_followed(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"real/a.sql": "SELECT 1;"})
    (schema / "alias").symlink_to(schema / "real")
    (schema / "real" / "loop").symlink_to(schema)  # a cycle must not recurse forever
    found = [p.relative_to(schema).as_posix() for p in discover(schema)]
    assert found == ["alias/a.sql", "real/a.sql"]


# --------------------------------------------------------------------------- bad input


def test_non_utf8_names_line_column_and_byte_offset(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"t.sql": b"-- \xc3\xa9t\xc3\xa9\nSELECT '\xe9';\n"})
    err = parse_error(schema)
    assert (err.file, err.line, err.column) == ("schema/t.sql", 2, 9)
    assert "not valid UTF-8" in err.reason
    assert "byte 0xe9 at byte offset 17" in err.reason
    assert str(err).startswith("schema/t.sql:2:9: ")


def test_bom_is_stripped(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"t.sql": b"\xef\xbb\xbfCREATE TABLE t (a int);\n"})
    loaded = parse_schema_dir(schema)
    assert loaded.statements[0].sql == "CREATE TABLE t (a int)"
    assert (loaded.statements[0].line, loaded.statements[0].column) == (1, 1)


def test_nul_character_is_refused(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"t.sql": "SELECT 1;\nSELECT '\x00';\n"})
    err = parse_error(schema)
    assert (err.line, err.column) == (2, 9)
    assert "NUL" in err.reason


def test_comments_only_file_is_skipped(tmp_path: Path) -> None:
    schema = write_tree(
        tmp_path,
        {"a.sql": "-- only a comment\n\n/* and\n a block */\n   \n", "b.sql": "SELECT 1;"},
    )
    loaded = parse_schema_dir(schema)
    assert [f.path for f in loaded.files] == ["schema/a.sql", "schema/b.sql"]
    assert [s.file for s in loaded.statements] == ["schema/b.sql"]


def test_syntax_error_position_counts_characters_not_bytes(tmp_path: Path) -> None:
    source = (
        "-- 注文テーブル: ünïcödé before the error\n"
        "CREATE TABLE t (\n"
        "    note text DEFAULT '日本語', -- ☃☃☃\n"
        "    id int PRIMRY KEY\n"
        ");\n"
    )
    schema = write_tree(tmp_path, {"tables/t.sql": source})
    err = parse_error(schema)
    assert (err.file, err.line, err.column) == ("schema/tables/t.sql", 4, 12)
    assert err.reason == 'syntax error at or near "PRIMRY"'
    assert str(err) == 'schema/tables/t.sql:4:12: syntax error at or near "PRIMRY"'
    assert err.details == " 4 |     id int PRIMRY KEY\n   |            ^"


def test_syntax_error_on_a_later_statement(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"t.sql": "SELECT 'é';\nSELECT 'ü';\nSELEC 1;\n"})
    err = parse_error(schema)
    assert (err.line, err.column) == (3, 1)


def test_psql_meta_command_is_named(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"main.sql": "SELECT 1;\n\\i tables/orders.sql\n"})
    err = parse_error(schema)
    assert (err.line, err.column) == (2, 1)
    assert "psql meta-commands" in err.reason
    assert "\\i tables/orders.sql" in (err.details or "")


REFUSED = [
    ("CREATE DATABASE other", "CREATE DATABASE does not belong"),
    ("DROP DATABASE other", "DROP DATABASE does not belong"),
    ("ALTER DATABASE other SET work_mem = '1MB'", "ALTER DATABASE does not belong"),
    ("ALTER DATABASE other RENAME TO x", "ALTER DATABASE does not belong"),
    ("CREATE ROLE app", "roles are cluster-wide"),
    ("CREATE USER app", "roles are cluster-wide"),
    ("CREATE GROUP app", "roles are cluster-wide"),
    ("ALTER ROLE app LOGIN", "ALTER ROLE"),
    ("ALTER USER app SET work_mem = '1MB'", "ALTER ROLE / USER ... SET"),
    ("ALTER ROLE app RENAME TO b", "ALTER ROLE does not belong"),
    ("DROP ROLE app", "DROP ROLE"),
    ("DROP USER app", "DROP ROLE"),
    ("GRANT admin TO app", "role membership"),
    ("REVOKE admin FROM app", "role membership"),
    ("BEGIN", "transaction control"),
    ("COMMIT", "transaction control"),
    ("ROLLBACK", "transaction control"),
    ("SAVEPOINT s", "transaction control"),
    ("PREPARE TRANSACTION 'x'", "transaction control"),
    ("VACUUM t", "VACUUM is not allowed"),
    ("ALTER SYSTEM SET work_mem = '1MB'", "ALTER SYSTEM"),
    ("COPY t FROM PROGRAM 'id'", "COPY ... PROGRAM"),
    ("COPY t TO '/tmp/x'", "server file"),
    ("COPY t FROM '/etc/passwd'", "server file"),
    ("COPY t FROM STDIN", "COPY is not supported"),
    ("LOAD 'plpgsql'", "LOAD is not allowed"),
    ("CHECKPOINT", "CHECKPOINT"),
    ("SET ROLE app", "SET ROLE"),
    ("SET SESSION AUTHORIZATION app", "SET SESSION AUTHORIZATION"),
    ("SET statement_timeout = 0", "statement_timeout"),
    ("CREATE TABLESPACE ts LOCATION '/tmp'", "CREATE TABLESPACE"),
    ("DISCARD ALL", "DISCARD"),
    ("DROP OWNED BY app", "DROP OWNED"),
    ("CREATE INDEX CONCURRENTLY i ON t (a)", "write a plain CREATE INDEX"),
    ("DROP INDEX CONCURRENTLY i", "DROP INDEX CONCURRENTLY"),
]


@pytest.mark.parametrize(("sql", "reason"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_statements_point_at_their_line(tmp_path: Path, sql: str, reason: str) -> None:
    source = f"-- état\nCREATE TABLE t (a int);\n\n  {sql};\n"
    schema = write_tree(tmp_path, {"x/y.sql": source})
    err = parse_error(schema)
    assert reason in err.reason
    assert (err.file, err.line, err.column) == ("schema/x/y.sql", 4, 3)


@pytest.mark.parametrize(
    "sql",
    [
        "ANALYZE t",
        "LISTEN ch",
        "NOTIFY ch",
        "SET search_path = public",
        "SET check_function_bodies = off",
        "GRANT SELECT ON t TO PUBLIC",
        "CREATE INDEX i ON t (a)",
        "DROP INDEX IF EXISTS i",
        "ALTER TABLE t RENAME TO u",
    ],
)
def test_schema_statements_are_allowed(tmp_path: Path, sql: str) -> None:
    schema = write_tree(tmp_path, {"t.sql": f"CREATE TABLE t (a int);\n{sql};\n"})
    assert len(parse_schema_dir(schema).statements) == 2


# --------------------------------------------------------------------------- model


def test_statements_objects_and_locations() -> None:
    loaded = parse_schema_dir(SHOP)
    assert isinstance(loaded, LoadedSchema)
    assert [s.kind for s in loaded.statements] == [
        "CreateSchemaStmt",
        "VariableSetStmt",
        "CreateEnumStmt",
        "CreateStmt",
        "VariableSetStmt",
        "CreateStmt",
        "IndexStmt",
        "CreateFunctionStmt",
        "ViewStmt",
        "ViewStmt",
    ]
    locations = {key: str(loc) for key, loc in loaded.object_locations.items()}
    assert locations == {
        "schema shop": "schema/00_extensions/01_schema.sql:1:1",
        "type shop.order_status": "schema/10_types/status.sql:4:1",
        "table shop.customers": "schema/20_tables/customers.sql:1:1",
        "table shop.orders": "schema/20_tables/orders.sql:3:1",
        "index shop.orders_customer_idx": "schema/20_tables/orders.sql:9:1",
        "function shop.order_count": "schema/20_tables/orders.sql:11:1",
        "view public.customer_names": "schema/30_views/Z_upper.sql:1:1",
        "view public.order_totals": "schema/30_views/a_lower.sql:1:1",
    }
    function = loaded.statements[7]
    assert function.object == ObjectRef(
        kind="function", schema_name="shop", name="order_count", args="bigint"
    )
    assert function.sql.startswith("CREATE FUNCTION order_count(customer bigint)")
    assert function.sql.endswith("$$")


def test_table_scoped_objects_have_table_keys(tmp_path: Path) -> None:
    schema = write_tree(
        tmp_path,
        {
            "t.sql": "CREATE TABLE app.t (a int);\n"
            "CREATE POLICY p ON app.t USING (true);\n"
            "CREATE TRIGGER trg BEFORE INSERT ON app.t FOR EACH ROW EXECUTE FUNCTION f();\n"
        },
    )
    keys = list(parse_schema_dir(schema).object_locations)
    assert keys == ["table app.t", "policy p on app.t", "trigger trg on app.t"]


def test_required_roles_from_the_parse_tree(tmp_path: Path) -> None:
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE TABLE t (a int);\n"
            "GRANT SELECT ON t TO reader, PUBLIC, CURRENT_USER, SESSION_USER, CURRENT_ROLE;\n"
            "GRANT UPDATE (a) ON t TO writer WITH GRANT OPTION;\n"
            "REVOKE INSERT ON t FROM revoked;\n"
            "CREATE POLICY p ON t TO app_user USING (true);\n"
            "ALTER TABLE t OWNER TO table_owner;\n"
            "ALTER FUNCTION f() OWNER TO func_owner;\n"
            "ALTER DEFAULT PRIVILEGES FOR ROLE deployer IN SCHEMA public"
            " GRANT SELECT ON TABLES TO default_reader;\n"
            "CREATE SCHEMA s AUTHORIZATION schema_owner;\n"
            "GRANT SELECT ON t TO pg_read_all_data;\n"
        },
    )
    loaded = parse_schema_dir(schema)
    assert required_roles(loaded.statements) == {
        "reader",
        "writer",
        "revoked",
        "app_user",
        "table_owner",
        "func_owner",
        "deployer",
        "default_reader",
        "schema_owner",
    }
    assert loaded.roles == required_roles(loaded.statements)


# --------------------------------------------------------------------------- loading


def test_shop_loads(db: ShadowDatabase, run_sql: RunSql) -> None:
    load_into(db.dsn, parse_schema_dir(SHOP))
    assert user_tables(run_sql, db.admin_dsn) == sorted(
        [
            "public.customer_names",
            "public.order_totals",
            "shop.customers",
            "shop.customers_id_seq",
            "shop.customers_pkey",
            "shop.orders",
            "shop.orders_customer_idx",
            "shop.orders_id_seq",
            "shop.orders_pkey",
        ]
    )


def test_search_path_does_not_leak_into_the_next_file(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    schema = write_tree(
        tmp_path,
        {
            "a.sql": 'CREATE SCHEMA app;\nSET search_path = "$user", app;\n'
            "CREATE TABLE inner_t (a int);\n",
            "b.sql": "CREATE TABLE outer_t (a int);\n",
        },
    )
    loaded = parse_schema_dir(schema)
    assert list(loaded.object_locations) == [
        "schema app",
        "table app.inner_t",
        "table public.outer_t",
    ]
    load_into(db.dsn, loaded)
    assert user_tables(run_sql, db.admin_dsn) == ["app.inner_t", "public.outer_t"]


def test_runtime_error_maps_to_file_line_column(tmp_path: Path, db: ShadowDatabase) -> None:
    source = (
        "-- Bestellungen: größe, 日本語 — multibyte text before the error\n"
        "CREATE TABLE orders (\n"
        "    id bigint PRIMARY KEY, note text DEFAULT 'ü',\n"
        "    user_id bigint\n"
        "    REFERENCES users (id)\n"
        ");\n"
    )
    schema = write_tree(tmp_path, {"tables/orders.sql": source})
    err = load_error(db, schema)
    assert str(err) == 'schema/tables/orders.sql:5:16: relation "users" does not exist'
    assert err.details == " 5 |     REFERENCES users (id)\n   |                ^"
    assert err.sqlstate == "42P01"


def test_runtime_error_in_a_later_file_and_statement(tmp_path: Path, db: ShadowDatabase) -> None:
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE TABLE a (x int);\n",
            "b.sql": "SELECT 'ééé';\nCREATE VIEW v AS\n  SELECT x, nope\n  FROM a;\n",
        },
    )
    err = load_error(db, schema)
    assert (err.file, err.line, err.column) == ("schema/b.sql", 3, 13)
    assert err.reason == 'column "nope" does not exist'


def test_detail_and_hint_are_carried(tmp_path: Path, db: ShadowDatabase) -> None:
    schema = write_tree(
        tmp_path,
        {
            "a.sql": "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (1);\n"
            "CREATE UNIQUE INDEX t_a ON t (a);\n",
        },
    )
    err = load_error(db, schema)
    # No position from the server: the statement's first line.
    assert (err.line, err.column) == (3, 1)
    assert err.detail == "Key (a)=(1) is duplicated."
    assert "DETAIL: Key (a)=(1) is duplicated." in (err.details or "")

    schema = write_tree(tmp_path / "2", {"a.sql": "CREATE VIEW v AS SELECT no_such_fn(1);\n"})
    err = load_error(db, schema)
    assert (err.line, err.column) == (1, 25)
    assert err.hint is not None
    assert "No function matches" in err.hint
    assert f"HINT: {err.hint}" in (err.details or "")


def test_function_bodies_are_checked(tmp_path: Path, db: ShadowDatabase) -> None:
    schema = write_tree(
        tmp_path,
        {
            "f.sql": "CREATE FUNCTION f() RETURNS int LANGUAGE sql\n"
            "AS $$ SELECT count(*)::int FROM missing_table $$;\n"
        },
    )
    err = load_error(db, schema)
    assert err.reason == 'relation "missing_table" does not exist'
    assert (err.line, err.column) == (2, 33)


def test_duplicate_definition_names_both_files(tmp_path: Path, db: ShadowDatabase) -> None:
    schema = write_tree(
        tmp_path,
        {
            "a/orders.sql": "CREATE SCHEMA a;\n\nCREATE TABLE a.t (id int);\n",
            "b/orders_again.sql": "-- copy pasted\nCREATE TABLE a.t (\n  id int\n);\n",
        },
    )
    err = load_error(db, schema)
    # No server position: the parse tree finds where the statement names the relation.
    assert (err.file, err.line, err.column) == ("schema/b/orders_again.sql", 2, 14)
    assert err.reason == ('relation "t" already exists (first defined at schema/a/orders.sql:3:1)')
    assert "table a.t is also defined at schema/a/orders.sql:3:1" in (err.details or "")


def test_duplicate_function_with_same_signature(tmp_path: Path, db: ShadowDatabase) -> None:
    body = "LANGUAGE sql AS $$ SELECT 1 $$;\n"
    schema = write_tree(
        tmp_path,
        {
            "a.sql": f"CREATE FUNCTION f(text) RETURNS int {body}"
            f"CREATE FUNCTION f(integer) RETURNS int {body}",
            "b.sql": f"\n\nCREATE FUNCTION f(int) RETURNS int {body}",
        },
    )
    err = load_error(db, schema)
    assert (err.file, err.line) == ("schema/b.sql", 3)
    assert "first defined at schema/a.sql:2:1" in err.reason


def test_failed_load_leaves_the_database_empty(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    schema = write_tree(tmp_path, {"z_broken.sql": "CREATE TABLE broken (a no_such_type);\n"})
    shutil.copytree(SHOP, schema, dirs_exist_ok=True)
    err = load_error(db, schema)
    assert err.file == "schema/z_broken.sql"
    assert user_tables(run_sql, db.admin_dsn) == []
    assert run_sql(db.admin_dsn, "SELECT count(*) FROM pg_namespace WHERE nspname = 'shop'") == [
        (0,)
    ]


def test_grants_load_after_ensure_roles(
    tmp_path: Path, db: ShadowDatabase, pg_cluster: EmbeddedCluster, run_sql: RunSql
) -> None:
    schema = write_tree(
        tmp_path,
        {
            "t.sql": "CREATE TABLE t (a int);\n"
            "GRANT SELECT ON t TO load_test_reader;\n"
            "CREATE POLICY p ON t TO load_test_app USING (true);\n"
        },
    )
    loaded = parse_schema_dir(schema)
    with pytest.raises(SchemaLoadError, match='role "load_test_reader" does not exist'):
        load_into(db.dsn, loaded)
    pg_cluster.ensure_roles(loaded.roles)
    load_into(db.dsn, loaded)
    rows = run_sql(
        db.admin_dsn,
        "SELECT grantee FROM information_schema.role_table_grants"
        " WHERE table_name = 't' AND privilege_type = 'SELECT'"
        " AND grantee = 'load_test_reader'",
    )
    assert rows == [("load_test_reader",)]


def test_statement_timeout_is_enforced(tmp_path: Path, db: ShadowDatabase) -> None:
    schema = write_tree(tmp_path, {"slow.sql": "CREATE TABLE t (a int);\nSELECT pg_sleep(30);\n"})
    err = load_error(db, schema, statement_timeout_ms=100)
    assert err.sqlstate == "57014"
    assert (err.line, err.column) == (2, 1)
    assert "statement_timeout (100 ms)" in (err.hint or "")


def test_connection_failure_is_reported(tmp_path: Path, db: ShadowDatabase) -> None:
    loaded = parse_schema_dir(write_tree(tmp_path, {"a.sql": "SELECT 1;"}))
    with pytest.raises(ConnectionFailed, match="could not connect") as info:
        load_into(db.dsn + " dbname=no_such_database_here", loaded)
    assert info.value.exit_code == 2


def test_percent_signs_reach_the_server_verbatim(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    schema = write_tree(
        tmp_path,
        {"v.sql": "CREATE VIEW v AS SELECT 7 % 4 AS m, 'a%s' LIKE 'a%%' AS l, '%(x)s' AS p;\n"},
    )
    load_into(db.dsn, parse_schema_dir(schema))
    assert run_sql(db.admin_dsn, "SELECT m, l, p FROM v") == [(3, True, "%(x)s")]


def test_crlf_files_keep_columns_and_quote_without_carriage_returns(tmp_path: Path) -> None:
    schema = write_tree(tmp_path, {"w.sql": b"SELECT 1;\r\nSELECT 'x' FRM t;\r\n"})
    err = parse_error(schema)
    assert (err.line, err.column) == (2, 16)
    assert err.details == " 2 | SELECT 'x' FRM t;\n   |                ^"


def test_client_cancels_when_sql_switches_the_server_timeout_off(
    tmp_path: Path, db: ShadowDatabase
) -> None:
    schema = write_tree(
        tmp_path,
        {
            "sneaky.sql": "SELECT set_config('statement_timeout', '0', false);\n"
            "SELECT pg_sleep(120);\n"
        },
    )
    err = load_error(db, schema, statement_timeout_ms=100)
    assert err.sqlstate == "57014"
    assert err.reason == "canceling statement due to user request"
    assert (err.line, err.column) == (2, 1)


def test_new_enum_value_gets_schema_advice(tmp_path: Path, db: ShadowDatabase) -> None:
    schema = write_tree(
        tmp_path,
        {
            "e.sql": "CREATE TYPE e AS ENUM ('a');\nALTER TYPE e ADD VALUE 'b';\n"
            "CREATE TABLE t (x e DEFAULT 'b');\n"
        },
    )
    err = load_error(db, schema)
    assert (err.line, err.column) == (3, 29)
    assert "list every value in CREATE TYPE ... AS ENUM" in (err.details or "")


def test_statement_boundaries_are_character_offsets_after_multibyte_text(tmp_path: Path) -> None:
    source = (
        "-- ☃ snowman\nCREATE TABLE a (x text DEFAULT '日本語');\n"
        "/* ünïcödé */ CREATE TABLE b (y int)  ;\n"
        "CREATE TABLE c (z text DEFAULT 'ß')"
    )
    schema = write_tree(tmp_path, {"m.sql": source})
    statements = parse_schema_dir(schema).statements
    assert [s.sql for s in statements] == [
        "CREATE TABLE a (x text DEFAULT '日本語')",
        "CREATE TABLE b (y int)  ",
        "CREATE TABLE c (z text DEFAULT 'ß')",
    ]
    assert [(s.line, s.column) for s in statements] == [(2, 1), (3, 15), (4, 1)]
    assert all(source[s.start : s.start + len(s.sql)] == s.sql for s in statements)


def test_statements_with_inner_semicolons_load(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    schema = write_tree(
        tmp_path,
        {
            "f.sql": "CREATE TABLE t (a int);\nCREATE TABLE log (a int);\n"
            "CREATE FUNCTION add1(x int) RETURNS int LANGUAGE sql\n"
            "BEGIN ATOMIC\n  SELECT x + 1;\nEND;\n"
            "CREATE RULE r AS ON INSERT TO t DO ALSO (\n"
            "  INSERT INTO log VALUES (NEW.a); INSERT INTO log VALUES (NEW.a + 1)\n);\n"
            "DO $$ BEGIN PERFORM 1; END $$;\n"
        },
    )
    loaded = parse_schema_dir(schema)
    assert [s.kind for s in loaded.statements] == [
        "CreateStmt",
        "CreateStmt",
        "CreateFunctionStmt",
        "RuleStmt",
        "DoStmt",
    ]
    load_into(db.dsn, loaded)
    assert run_sql(db.admin_dsn, "SELECT add1(41)") == [(42,)]
