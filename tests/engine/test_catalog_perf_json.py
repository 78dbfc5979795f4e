"""What the catalog's speed work relies on: JSON assembled as text in the catalog queries (every
string escaped by to_json, keys at their default left out), one statement per family whatever the
size, and the table size estimated from relpages."""

from __future__ import annotations

from pathlib import Path

import psycopg

from engine.catalog import InspectStats, inspect_dsn
from engine.catalog.runner import available_families
from engine.load import load_into, parse_schema_dir
from engine.model.base import ObjectKey
from engine.shadow import ShadowDatabase
from tests.engine.convergence import load
from tests.properties.test_rich_schema import rich_tree  # noqa: F401  (fixture)

# Names and texts that JSON must escape: quotes, backslashes, control characters, non-ASCII.
SCH = 'we"ird\\sch'
TBL = 'ta"b\\le\tx'
COL = 'c"o\\l\né'
COMMENT = 'say "hi" \\ back\nslash\t\u00e9\u2603'
DEFAULT_TEXT = 'a\\b"c'

C = "E'say \"hi\" \\\\ back\\nslash\\t\u00e9\u2603'"  # COMMENT as an E'' literal
HOSTILE = (
    'CREATE SCHEMA "we""ird\\sch";'
    'CREATE TABLE "we""ird\\sch"."ta""b\\le\tx" ('
    " id integer PRIMARY KEY,"
    ' "c""o\\l\né" text DEFAULT E\'a\\\\b"c\' NOT NULL CHECK ("c""o\\l\né" <> E\'\\\\\'),'
    " plain integer);"
    'CREATE INDEX "i""x" ON "we""ird\\sch"."ta""b\\le\tx" ("c""o\\l\né");'
    'CREATE TABLE "we""ird\\sch".child (id integer REFERENCES "we""ird\\sch"."ta""b\\le\tx" (id));'
    f'COMMENT ON COLUMN "we""ird\\sch"."ta""b\\le\tx"."c""o\\l\né" IS {C};'
    f'COMMENT ON CONSTRAINT "ta""b\\le\tx_pkey" ON "we""ird\\sch"."ta""b\\le\tx" IS {C};'
    f'COMMENT ON INDEX "we""ird\\sch"."i""x" IS {C};'
)


def test_hostile_names_and_texts_survive_the_json(db: ShadowDatabase) -> None:
    load(db.admin_dsn, HOSTILE)
    schema = inspect_dsn(db.admin_dsn)
    columns = {(c.schema_, c.table, c.name): c for c in schema.columns}
    col = columns[(SCH, TBL, COL)]
    assert col.comment == COMMENT
    assert col.not_null
    assert col.default == f"'{DEFAULT_TEXT}'::text"
    assert col.type == "text"
    assert col.type_storage == "extended"
    plain = columns[(SCH, TBL, "plain")]
    # every key left out of the JSON is the model's default
    assert (plain.not_null, plain.default, plain.collation) == (False, None, None)
    assert not schema.default_is_volatile(plain.key)
    assert (plain.type_storage, plain.storage, plain.comment, plain.acl) == (
        "plain",
        None,
        None,
        (),
    )
    assert columns[(SCH, TBL, "id")].not_null

    constraints = {(c.table, c.name): c for c in schema.constraints}
    pkey = constraints[(TBL, f"{TBL}_pkey")]
    assert pkey.comment == COMMENT
    assert pkey.index_definition is not None
    assert pkey.index_definition.startswith("CREATE UNIQUE INDEX")
    fk = next(c for c in schema.constraints if c.type == "foreign_key")
    assert fk.references == ObjectKey(kind="table", schema_=SCH, name=TBL)
    assert (fk.validated, fk.deferrable, fk.on_partitioned) == (True, False, False)

    index = next(i for i in schema.indexes if i.name == 'i"x')
    assert (index.table, index.comment, index.valid, index.table_kind) == (
        TBL,
        COMMENT,
        True,
        "table",
    )

    # the columns an index or a constraint uses are read with it, names and all
    column_key = ObjectKey(kind="column", schema_=SCH, parent=TBL, name=COL)
    check = next(c for c in schema.constraints if c.type == "check")
    assert check.columns == (COL,)
    assert column_key in set(check.implied_deps())
    assert index.columns == (COL,)
    assert column_key in set(index.implied_deps())


def test_statements_do_not_grow_with_the_schema(db: ShadowDatabase) -> None:
    load(db.admin_dsn, "CREATE TABLE t0 (id int PRIMARY KEY);")
    small = InspectStats()
    inspect_dsn(db.admin_dsn, stats=small)
    load(
        db.admin_dsn,
        "".join(
            f"CREATE TABLE t{i} (id int PRIMARY KEY, v text DEFAULT 'x', n int CHECK (n > 0));"
            f"CREATE INDEX ON t{i} (v);"
            for i in range(1, 40)
        ),
    )
    large = InspectStats()
    schema = inspect_dsn(db.admin_dsn, stats=large)
    assert len(schema.tables) == 40
    assert small.statements == large.statements == len(available_families())
    assert small.queries == large.queries


def test_table_size_is_the_relpages_estimate(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        "CREATE TABLE t (id int PRIMARY KEY, body text);"
        "INSERT INTO t SELECT g, repeat('x', 3000) || g FROM generate_series(1, 500) g;"
        "CREATE INDEX ON t (body);",
    )
    with psycopg.connect(db.admin_dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE t")
        row = conn.execute(
            "SELECT (c.relpages + coalesce(tc.relpages, 0)"
            " + (SELECT coalesce(sum(ic.relpages), 0) FROM pg_index x"
            "    JOIN pg_class ic ON ic.oid = x.indexrelid"
            "    WHERE x.indrelid IN (c.oid, c.reltoastrelid)))::bigint"
            " * current_setting('block_size')::bigint"
            " FROM pg_class c LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid"
            " WHERE c.oid = 'public.t'::regclass"
        ).fetchone()
    assert row is not None
    table = next(t for t in inspect_dsn(db.admin_dsn).tables if t.name == "t")
    assert table.stats is not None
    assert table.stats.rows == 500
    assert table.stats.bytes == row[0] > 8192


def test_sort_key_is_the_keys_sort_key(rich_tree: Path, db: ShadowDatabase) -> None:  # noqa: F811
    # Schema.sorted() orders by SchemaObject.sort_key, read from the fields `key_attrs` names
    # without building the key: it must be the key's own sort_key for every kind.
    load_into(db.admin_dsn, parse_schema_dir(rich_tree))
    schema = inspect_dsn(db.admin_dsn)
    kinds = set()
    for obj in schema.objects():
        assert obj.sort_key == obj.key.sort_key, obj.key
        kinds.add(obj.kind)
    assert len(kinds) >= 20
