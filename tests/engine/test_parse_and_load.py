"""engine.load.parse_and_load: schema/ parsed on one thread while it loads on another gives
what parse_schema_dir + load_into give: the same database, the same locations, the same errors,
nothing left behind by a failure on either side; roles made before the batch that names them."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine import load
from engine.catalog import inspect_dsn
from engine.errors import SchemaLoadError
from engine.load import LoadStopped, load_into, parse_and_load, parse_schema_dir
from engine.shadow import EmbeddedCluster, ShadowDatabase
from tests.engine.test_load import write_tree
from tests.properties.test_rich_schema import rich_tree  # noqa: F401  (fixture)

RunSql = Callable[..., list[tuple[Any, ...]]]
MakeDb = Callable[..., ShadowDatabase]


def _tables(run_sql: RunSql, dsn: str) -> list[str]:
    rows = run_sql(
        dsn,
        "SELECT relname FROM pg_class WHERE relkind = 'r'"
        " AND relnamespace::regnamespace::text NOT IN ('pg_catalog', 'information_schema')"
        " ORDER BY 1",
    )
    return [r[0] for r in rows]


def test_the_rich_tree_loads_as_load_into_loads_it(
    rich_tree: Path,  # noqa: F811
    db: ShadowDatabase,
    make_db: MakeDb,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(load, "_BATCH_STATEMENTS", 7)  # many batches, parse ahead of them
    parsed = parse_schema_dir(rich_tree)
    load_into(db.admin_dsn, parsed)
    other = make_db()
    locations = parse_and_load(rich_tree, other.admin_dsn)
    assert locations == parsed.object_locations
    assert inspect_dsn(other.admin_dsn).to_json() == inspect_dsn(db.admin_dsn).to_json()


def test_roles_are_made_once_before_the_batch_that_names_them(
    tmp_path: Path,
    db: ShadowDatabase,
    pg_cluster: EmbeddedCluster,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(load, "_BATCH_STATEMENTS", 1)
    reader, writer = (f"pgflux_t_{uuid.uuid4().hex[:8]}_{n}" for n in ("r", "w"))
    schema = write_tree(
        tmp_path,
        {
            "a.sql": f"CREATE TABLE a (x int);\nGRANT SELECT ON a TO {reader};\n",
            "b.sql": f"CREATE TABLE b (x int);\nGRANT SELECT ON b TO {reader};\n"
            f"GRANT INSERT ON b TO {writer};\n",
        },
    )
    asked: list[set[str]] = []

    def ensure(roles: set[str]) -> None:
        asked.append(set(roles))
        pg_cluster.ensure_roles(roles)

    parse_and_load(schema, db.dsn, ensure_roles=ensure)
    # each role once, the reader before the writer: every GRANT found its role (it would fail
    # on a missing one)
    assert asked == [{reader}, {writer}]


def test_a_parse_error_after_loaded_batches_leaves_nothing(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "_BATCH_STATEMENTS", 2)
    tables = "".join(f"CREATE TABLE t{i} (x int);\n" for i in range(20))
    late_error = "CREATE TABLE ok (x int);\nCREAT x;\n"
    schema = write_tree(tmp_path, {"a.sql": tables, "b.sql": late_error})
    with pytest.raises(SchemaLoadError) as info:
        parse_and_load(schema, db.dsn)
    assert info.value.file is not None
    assert info.value.file.endswith("b.sql")
    assert info.value.line == 2
    assert _tables(run_sql, db.admin_dsn) == []


def test_a_server_error_points_at_its_statement_and_leaves_nothing(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(load, "_BATCH_STATEMENTS", 3)
    tables = "".join(f"CREATE TABLE t{i} (x int);\n" for i in range(10))
    schema = write_tree(
        tmp_path,
        {"a.sql": tables, "b.sql": "CREATE TABLE ok (x int);\nCREATE VIEW v AS SELECT y FROM ok;"},
    )
    with pytest.raises(SchemaLoadError) as info:
        parse_and_load(schema, db.dsn)
    assert str(info.value).startswith("schema/b.sql:2:")
    assert 'column "y" does not exist' in str(info.value)
    assert _tables(run_sql, db.admin_dsn) == []


def test_a_stopped_load_leaves_nothing_but_still_reports_a_syntax_error(
    tmp_path: Path, db: ShadowDatabase, run_sql: RunSql
) -> None:
    good = write_tree(tmp_path / "good", {"a.sql": "CREATE TABLE a (x int);\n"})
    stop = threading.Event()
    stop.set()
    with pytest.raises(LoadStopped):
        parse_and_load(good, db.dsn, stop=stop)
    assert _tables(run_sql, db.admin_dsn) == []
    bad = write_tree(
        tmp_path / "bad", {"a.sql": "CREATE TABLE a (x int);\n", "b.sql": "CREATE TABLE (;\n"}
    )
    with pytest.raises(SchemaLoadError) as info:
        parse_and_load(bad, db.dsn, stop=stop)
    assert str(info.value).startswith("schema/b.sql:1:")
