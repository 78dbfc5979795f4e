"""engine.sqlsplit: statements from one pass of PostgreSQL's parser, as JSON trees (no database)."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
from pglast import parser

from engine import sqlsplit
from engine.load import ObjectRef, parse_schema_dir
from engine.sqlsplit import SqlSyntaxError, iter_statements, split_statements, statement_node


def test_statements_carry_kind_tree_and_their_own_json() -> None:
    source = "CREATE TABLE a (x int);\n-- é\nGRANT SELECT ON a TO reader;\nSELECT 'x;y'"
    statements = split_statements(source)
    assert [s.kind for s in statements] == ["CreateStmt", "GrantStmt", "SelectStmt"]
    assert [s.text for s in statements] == [
        "CREATE TABLE a (x int)",
        "GRANT SELECT ON a TO reader",
        "SELECT 'x;y'",
    ]
    assert statements[0].tree["relation"]["relname"] == "a"
    for statement in statements:
        assert source[statement.start : statement.start + len(statement.text)] == statement.text
        # the JSON text is exactly what the tree was decoded from
        assert json.loads(statement.json_text)["stmt"] == {statement.kind: statement.tree}
    assert "ROLESPEC_CSTRING" in statements[1].json_text
    assert "ROLESPEC_CSTRING" not in statements[0].json_text


def test_comments_only_text_has_no_statements() -> None:
    assert split_statements("-- nothing\n/* at all */\n") == []
    assert split_statements("") == []


def test_json_laid_out_otherwise_is_decoded_whole() -> None:
    compact = parser.parse_sql_json("SELECT 1; CREATE TABLE t (a int)")
    pretty = json.dumps(json.loads(compact), indent=2)
    reordered = json.dumps({"stmts": json.loads(compact)["stmts"], "version": 1})
    spaced = compact.replace('},{"stmt"', '} ,\n {"stmt"').replace("]}", " ] }")
    assert spaced != compact
    expected = [value for value, _ in sqlsplit._raw_statements(compact)]
    assert [v["stmt"] for v in expected] == [v["stmt"] for v in json.loads(compact)["stmts"]]
    for text in (pretty, reordered, spaced):
        raw = list(sqlsplit._raw_statements(text))
        assert [value for value, _ in raw] == expected
        assert [json.loads(part) for _, part in raw] == expected


def test_statements_are_decoded_as_they_are_reached() -> None:
    # the whole text is parsed at once (a syntax error anywhere is raised before any
    # statement is handed out), each tree decoded only when iteration reaches it
    with pytest.raises(SqlSyntaxError):
        iter_statements("SELECT 1; SELEC 1")
    statements = iter_statements("SELECT 1; CREATE TABLE t (a int)")
    first = next(statements)
    assert first.kind == "SelectStmt"
    assert [s.kind for s in statements] == ["CreateStmt"]


def test_unreadable_parser_output_is_a_syntax_error() -> None:
    compact = parser.parse_sql_json("SELECT 1; SELECT 2")
    for broken in (compact.replace("},{", "}{"), compact[:-1], compact.replace("]}", "]}x")):
        with pytest.raises(SqlSyntaxError, match="could not read the parser's output"):
            list(sqlsplit._raw_statements(broken))


def test_the_collector_runs_again_after_a_syntax_error() -> None:
    assert gc.isenabled()
    with pytest.raises(SqlSyntaxError):
        split_statements("SELECT 1; SELEC 1")
    assert gc.isenabled()


def test_syntax_error_offset_is_in_characters() -> None:
    with pytest.raises(SqlSyntaxError) as info:
        split_statements("SELECT 'ééé';\nSELEC 1;")
    assert info.value.offset == 14


def test_statement_node_builds_pglast_nodes_with_character_locations() -> None:
    node = statement_node("CREATE VIEW v AS SELECT 'é' AS a FROM users")
    assert type(node).__name__ == "ViewStmt"
    with pytest.raises(SqlSyntaxError):
        statement_node("SELECT 1; SELECT 2")


def _schema(tmp_path: Path, sql: str) -> Path:
    schema = tmp_path / "schema"
    schema.mkdir()
    (schema / "a.sql").write_text(sql, encoding="utf-8")
    return schema


def test_objects_from_json_trees(tmp_path: Path) -> None:
    sql = (
        "CREATE FOREIGN TABLE ft (a int) SERVER s;\n"
        "CREATE MATERIALIZED VIEW app.mv AS SELECT 1;\n"
        "CREATE TABLE t2 AS SELECT 1 AS a;\n"
        "CREATE TYPE pair AS (a int, b text);\n"
        "CREATE AGGREGATE agg(int) (sfunc = f, stype = int);\n"
        "CREATE DOMAIN app.d AS int;\n"
        "CREATE SEQUENCE s1;\n"
        "CREATE STATISTICS app.st ON a, b FROM t;\n"
        "CREATE RULE r AS ON INSERT TO app.t DO NOTHING;\n"
        "CREATE EXTENSION IF NOT EXISTS citext;\n"
        "CREATE PROCEDURE app.p(INOUT a int, OUT b text, c varchar(3))\n"
        "  LANGUAGE sql AS 'select 1';\n"
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'select 1';\n"
        "SET search_path = '';\n"
        "CREATE TABLE after_empty_path (a int);\n"
    )
    statements = parse_schema_dir(_schema(tmp_path, sql)).statements
    assert [s.object.key if s.object else None for s in statements] == [
        "foreign table public.ft",
        "materialized view app.mv",
        "table public.t2",
        "type public.pair",
        "aggregate public.agg",
        "domain app.d",
        "sequence public.s1",
        "statistics app.st",
        "rule r on app.t",
        "extension citext",
        "procedure app.p",
        "function public.f",
        None,
        "table public.after_empty_path",
    ]
    assert statements[10].object == ObjectRef(
        kind="procedure", schema_name="app", name="p", args="integer, varchar(3)"
    )
    assert statements[11].object == ObjectRef(
        kind="function", schema_name="public", name="f", args=""
    )


def test_roles_in_nested_statements_and_not_in_strings(tmp_path: Path) -> None:
    sql = (
        "CREATE SCHEMA s AUTHORIZATION owner_a CREATE TABLE t (a int) GRANT SELECT ON t TO r_b;\n"
        'CREATE TABLE x (note text DEFAULT \'"roletype":"ROLESPEC_CSTRING"\');\n'
        "ALTER SEQUENCE x_seq OWNER TO seq_owner;\n"
        "CREATE USER MAPPING FOR mapped SERVER srv;\n"
        "GRANT ALL ON SCHEMA s TO CURRENT_USER, pg_monitor;\n"
    )
    statements = parse_schema_dir(_schema(tmp_path, sql)).statements
    assert [sorted(s.roles) for s in statements] == [
        ["owner_a", "r_b"],
        [],
        ["seq_owner"],
        ["mapped"],
        [],
    ]
