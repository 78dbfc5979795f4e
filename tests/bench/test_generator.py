"""The benchmark's schema generator: deterministic, loadable, its mutations sized as they say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.generator import SCHEMAS, generate
from bench.tools import migra_url
from engine.load import load_into, parse_schema_dir
from engine.shadow import ShadowDatabase

N = 5


def test_same_seed_same_sql() -> None:
    assert generate(N, seed=3).sql == generate(N, seed=3).sql
    assert generate(N, seed=3).mutate(2).sql == generate(N, seed=3).mutate(2).sql


def test_other_seed_other_sql() -> None:
    assert generate(N, seed=3).sql != generate(N, seed=4).sql
    assert generate(N, seed=3).mutate(1).sql != generate(N, seed=3).mutate(2).sql


def test_mutate_leaves_the_original_alone() -> None:
    base = generate(N)
    before = base.sql
    base.mutate(1)
    assert base.sql == before


@pytest.mark.parametrize(
    "fragment",
    [
        "PRIMARY KEY",
        "UNIQUE (code)",
        "CHECK (amount >= 0)",
        "FOREIGN KEY",
        "WHERE deleted_at IS NULL",
        "(lower((email)::text))",
        "USING gin",
        "AS ENUM",
        "CREATE SEQUENCE",
        "CREATE VIEW",
        "CREATE MATERIALIZED VIEW",
        "LANGUAGE plpgsql",
        "CREATE TRIGGER",
        "COMMENT ON TABLE",
        "COMMENT ON COLUMN",
    ],
)
def test_generated_schema_has_every_feature(fragment: str) -> None:
    assert fragment in generate(60).sql


def test_mutation_is_pr_sized() -> None:
    base = generate(200)
    changed = base.mutate(1)
    kinds = {m.split(" ")[0] for m in changed.mutations}
    assert {"drop", "widen", "add", "change", "new"} <= kinds
    assert any(m.startswith("new value in enum") for m in changed.mutations)
    assert any(m.startswith("change view") for m in changed.mutations)
    assert any(m.startswith("change function") for m in changed.mutations)
    column_changes = [m for m in changed.mutations if "column" in m or m.startswith("widen")]
    # ~2% of the columns, never a rewrite of the whole schema.
    assert 0.01 * base.column_count <= len(column_changes) <= 0.04 * base.column_count
    assert len(changed.tables) > len(base.tables)


@pytest.mark.parametrize("n", [200, 2000])
def test_small_mutation_is_the_same_size_whatever_the_schema(n: int) -> None:
    base = generate(n)
    changed = base.mutate(1, small=True)
    kinds = [m.split(" ")[0] for m in changed.mutations]
    assert sorted(kinds) == sorted(
        ["drop"] * 4 + ["widen"] * 3 + ["add"] * 4 + ["change"] * 2 + ["new"] * 2
    ), changed.mutations
    assert len(changed.tables) == len(base.tables) + 1
    assert changed.sql != base.mutate(1).sql


def test_write_makes_a_tree_in_load_order(tmp_path: Path) -> None:
    gen = generate(N)
    sql = gen.write(tmp_path / "schema")
    assert sql == gen.sql
    files = sorted(p.relative_to(tmp_path / "schema").as_posix() for p in tmp_path.rglob("*.sql"))
    assert files == sorted(gen.files())
    assert {f"30_tables/{s}.sql" for s in SCHEMAS} <= set(files)


@pytest.mark.parametrize("mutation", [None, 1, "small"], ids=["base", "mutated", "small"])
def test_generated_sql_loads_through_the_engine_loader(
    tmp_path: Path,
    db: ShadowDatabase,
    run_sql: Callable[..., list[tuple[Any, ...]]],
    mutation: int | str | None,
) -> None:
    gen = generate(N, seed=7)
    if mutation == "small":
        gen = gen.mutate(1, small=True)
    elif isinstance(mutation, int):
        gen = gen.mutate(mutation)
    gen.write(tmp_path / "schema")
    load_into(db.dsn, parse_schema_dir(tmp_path / "schema"))
    tables = run_sql(
        db.admin_dsn,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname = ANY(%s)",
        (list(SCHEMAS),),
    )
    assert tables[0][0] == len(gen.tables)


def test_migra_url_puts_the_socket_in_the_query() -> None:
    url = migra_url(Path("/tmp/x y/sock"), 5432, "admin", "db1")
    assert url == "postgresql://admin@/db1?host=/tmp/x%20y/sock&port=5432"


@pytest.mark.parametrize(
    ("id_style", "serial", "identity"),
    [("serial", True, False), ("identity", False, True), ("mixed", True, True)],
    ids=["serial", "identity", "mixed"],
)
def test_id_style(id_style: str, serial: bool, identity: bool) -> None:
    sql = generate(N, id_style=id_style).sql
    assert ("bigserial" in sql) is serial
    assert ("GENERATED ALWAYS AS IDENTITY" in sql) is identity


def test_unknown_id_style_is_refused() -> None:
    with pytest.raises(ValueError, match="id_style"):
        generate(N, id_style="uuid")
