"""`pg-flux dump` and `pg-flux pull`: the live schema written back as SQL loads identically."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine import dsn as dsnlib
from engine.catalog import inspect_dsn
from engine.cli import main
from engine.load import load_into, parse_schema_dir
from engine.shadow import ShadowDatabase
from tests.engine.convergence import load
from tests.pgtools import pg_dump_schema

MakeDb = Callable[..., ShadowDatabase]

LIVE = """
CREATE SCHEMA app;
CREATE SCHEMA billing;
CREATE TABLE app.customers (id bigint PRIMARY KEY, name text NOT NULL, email varchar(200));
CREATE INDEX customers_email ON app.customers (email);
CREATE TABLE billing.invoices (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES app.customers (id),
    total numeric(12, 2) DEFAULT 0
);
CREATE VIEW billing.open_invoices AS SELECT id, total FROM billing.invoices WHERE total > 0;
COMMENT ON TABLE app.customers IS 'people who pay';
"""


def _shadow(db: ShadowDatabase) -> list[str]:
    return ["--dsn", db.admin_dsn, "--shadow", dsnlib.with_dbname(db.admin_dsn, "postgres")]


def test_dump_recreates_the_live_schema(
    tmp_path: Path, make_db: MakeDb, capsys: pytest.CaptureFixture[str]
) -> None:
    live, copy = make_db(), make_db()
    load(live.admin_dsn, LIVE)
    out = tmp_path / "dump.sql"
    assert main(["dump", *_shadow(live), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("-- pg-flux dump of sha256:")
    load(copy.admin_dsn, text)
    assert pg_dump_schema(copy.admin_dsn) == pg_dump_schema(live.admin_dsn)


def test_pull_writes_a_tree_that_loads_back_identically(
    tmp_path: Path, make_db: MakeDb, capsys: pytest.CaptureFixture[str]
) -> None:
    live, copy = make_db(), make_db()
    load(live.admin_dsn, LIVE)
    out = tmp_path / "pulled"
    assert main(["pull", *_shadow(live), "--out", str(out)]) == 0
    assert "Wrote" in capsys.readouterr().out
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.sql"))
    # One file per object, folders by schema and kind.
    assert "_database/00_schema/app.sql" in files
    assert any(f.startswith("app/") and f.endswith("/customers.sql") for f in files), files
    assert any(f.startswith("billing/") and f.endswith("/open_invoices.sql") for f in files)
    load_into(copy.admin_dsn, parse_schema_dir(out))
    assert inspect_dsn(copy.admin_dsn).fingerprint() == inspect_dsn(live.admin_dsn).fingerprint()
    # And pg-flux plans nothing from the pulled tree.
    assert main(["plan", *_shadow(live), "--schema-dir", str(out), "--exit-code"]) == 0


def test_pull_refuses_a_non_empty_folder(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    load(db.admin_dsn, "CREATE SCHEMA app;")
    out = tmp_path / "pulled"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    assert main(["pull", *_shadow(db), "--out", str(out)]) == 2
    assert "is not empty (use --force" in capsys.readouterr().err
    assert main(["pull", *_shadow(db), "--out", str(out), "--force"]) == 0
    assert (out / "keep.txt").exists()
    assert (out / "_database/00_schema/app.sql").read_text() == "CREATE SCHEMA app;\n"


def test_pulled_old_style_sql_function_loads_before_the_table_it_reads(
    tmp_path: Path, make_db: MakeDb, capsys: pytest.CaptureFixture[str]
) -> None:
    # A string-bodied LANGUAGE sql function records no dependencies: its file may load before
    # the table its body reads, so pull writes it with check_function_bodies off (as pg_dump).
    live, copy = make_db(), make_db()
    load(
        live.admin_dsn,
        "SET check_function_bodies = off; CREATE SCHEMA app;"
        " CREATE FUNCTION app.count_items() RETURNS bigint LANGUAGE sql"
        " AS $$ SELECT count(*) FROM app.items $$;"
        " CREATE TABLE app.items (id int);",
    )
    out = tmp_path / "pulled"
    assert main(["pull", *_shadow(live), "--out", str(out)]) == 0
    function_file = next(p for p in out.rglob("*.sql") if "count_items" in p.name)
    text = function_file.read_text(encoding="utf-8")
    assert text.startswith("SET check_function_bodies = off;")
    assert text.rstrip().endswith("SET check_function_bodies = on;")
    load_into(copy.dsn, parse_schema_dir(out))  # as the loader does: check_function_bodies on
    assert inspect_dsn(copy.admin_dsn).fingerprint() == inspect_dsn(live.admin_dsn).fingerprint()
