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


# Statements that need an object the plan creates after their own object's first statement, and
# files whose folder would load them before what they need.
LATER = """
CREATE SCHEMA app;
CREATE SCHEMA audit;
CREATE SEQUENCE app.order_no;
CREATE TABLE app.orders (id int DEFAULT nextval('app.order_no') NOT NULL, code text NOT NULL);
ALTER SEQUENCE app.order_no OWNED BY app.orders.id;
COMMENT ON SEQUENCE app.order_no IS 'order numbers';
CREATE UNIQUE INDEX orders_code ON app.orders (code);
ALTER TABLE app.orders REPLICA IDENTITY USING INDEX orders_code;
CREATE TABLE app.items (id int PRIMARY KEY);
ALTER TABLE app.items REPLICA IDENTITY USING INDEX items_pkey;
ALTER TABLE app.items CLUSTER ON items_pkey;
CREATE FUNCTION audit.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT ON app.orders
    FOR EACH ROW EXECUTE FUNCTION audit.touch();
"""


def _pull(tmp_path: Path, make_db: MakeDb, sql: str) -> tuple[ShadowDatabase, Path]:
    """Load `sql` into a new database and pull it: (the database, the pulled folder)."""
    live = make_db()
    load(live.admin_dsn, sql)
    out = tmp_path / "pulled"
    assert main(["pull", *_shadow(live), "--out", str(out)]) == 0
    return live, out


def _pulled(out: Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): p.read_text(encoding="utf-8") for p in out.rglob("*.sql")
    }


def _loads_back_identically(live: ShadowDatabase, copy: ShadowDatabase, out: Path) -> None:
    load_into(copy.admin_dsn, parse_schema_dir(out))
    assert pg_dump_schema(copy.admin_dsn) == pg_dump_schema(live.admin_dsn)


def test_pull_puts_statements_that_need_later_objects_in_post_files(
    tmp_path: Path, make_db: MakeDb, capsys: pytest.CaptureFixture[str]
) -> None:
    live, out = _pull(tmp_path, make_db, LATER)
    files = _pulled(out)
    # The sequence's own file creates it (with its comment); OWNED BY needs the table, which
    # loads later (app/NN_table/ after app/NN_sequence/): it goes in a post file.
    sequence = next(text for path, text in files.items() if path.endswith("_sequence/order_no.sql"))
    assert "CREATE SEQUENCE app.order_no" in sequence
    assert "COMMENT ON SEQUENCE app.order_no" in sequence
    assert "OWNED BY" not in sequence
    post = {path: text for path, text in files.items() if path.startswith("zz_post/")}
    assert any("OWNED BY app.orders.id" in text for text in post.values()), post
    # REPLICA IDENTITY USING INDEX needs the index (or the constraint that makes it), created
    # after the table.
    for table, index in (("orders", "orders_code"), ("items", "items_pkey")):
        text = next(t for path, t in files.items() if path.endswith(f"_table/{table}.sql"))
        assert f"CREATE TABLE app.{table}" in text
        assert "REPLICA IDENTITY" not in text
        assert any(f"REPLICA IDENTITY USING INDEX {index}" in t for t in post.values()), post
    assert any("CLUSTER ON items_pkey" in t for t in post.values()), post
    # The trigger on app.orders calls audit.touch(): app/ sorts before audit/, so its file is a
    # post file too; post files are numbered in the plan's order.
    assert any(p.startswith("zz_post/") and "orders_touch" in p for p in post), post
    assert sorted(post) == [f"zz_post/{n:04d}_{p[13:]}" for n, p in enumerate(sorted(post), 1)]
    _loads_back_identically(live, make_db(), out)
    assert main(["plan", *_shadow(live), "--schema-dir", str(out), "--exit-code"]) == 0


def test_pull_numbers_every_file_when_names_collide(
    tmp_path: Path, make_db: MakeDb, capsys: pytest.CaptureFixture[str]
) -> None:
    # "a b" and "a_b" are both spelled a_b in a file name: the folder layout would merge them.
    live, out = _pull(
        tmp_path,
        make_db,
        'CREATE SCHEMA app; CREATE TABLE app."a b" (id int); CREATE TABLE app.a_b (id int);'
        " CREATE SEQUENCE app.s OWNED BY app.a_b.id;",
    )
    files = sorted(_pulled(out))
    assert all("/" not in f for f in files), files
    assert files == [f"{n:04d}_{f[5:]}" for n, f in enumerate(files, 1)]
    _loads_back_identically(live, make_db(), out)
