"""Round trips over a schema/ tree that uses every object kind the model manages.

(a) inspecting twice gives byte-identical JSON; (b) the schema rebuilt from its model alone (plan
from an empty database, which is how verify and `dump` work) dumps identically; (c) two loads of
the same files plan empty; (d) `pull` writes a tree that loads back and plans empty.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from engine.catalog import inspect_dsn
from engine.catalog.dependency_rows import DependencyRows
from engine.catalog.runner import query_text
from engine.execute import execute_statements
from engine.load import load_into, parse_schema_dir
from engine.model.base import ObjectKey
from engine.model.schema import Schema
from engine.plan.planner import Planner, PlanOptions, plan_statements
from engine.pull import tree, write_tree
from engine.shadow import ShadowDatabase
from tests.pgtools import pg_dump_schema

MakeDb = Callable[..., ShadowDatabase]
RunSql = Callable[..., list[tuple[Any, ...]]]

RICH = Path(__file__).parent / "rich_schema"
ROLES = ("pgflux_rich_reader", "pgflux_rich_writer")

# Optional files and the server capability each needs.
_EXTENSION_FILE = "05_extension.sql"
_ICU_FILE = "15_icu_collation.sql"
_EVENT_TRIGGER_FILE = "90_event_trigger.sql"
_VIRTUAL_FILE = "12_virtual_columns.sql"  # PostgreSQL 18's virtual generated columns
_PG18_CONSTRAINTS_FILE = "13_pg18_constraints.sql"  # temporal keys, NOT ENFORCED


def _icu_works(dsn: str) -> bool:
    """pg_collation may list ICU collations on a server built without ICU (pip builds): try one."""
    with psycopg.connect(dsn) as conn:
        try:
            conn.execute(
                "CREATE COLLATION pg_temp.pgflux_icu_probe (provider = icu, locale = 'und')"
            )
        except psycopg.Error:
            return False
        finally:
            conn.rollback()
    return True


def _capabilities(run_sql: RunSql, dsn: str) -> dict[str, bool]:
    rows = run_sql(
        dsn,
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'citext'),"
        " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user),"
        " current_setting('server_version_num')::int >= 180000",
    )
    citext, superuser, pg18 = rows[0]
    return {
        _EXTENSION_FILE: citext,
        _ICU_FILE: _icu_works(dsn),
        _EVENT_TRIGGER_FILE: superuser,
        _VIRTUAL_FILE: pg18,
        _PG18_CONSTRAINTS_FILE: pg18,
    }


@pytest.fixture
def rich_tree(tmp_path: Path, db: ShadowDatabase, run_sql: RunSql) -> Path:
    """The rich tree, minus the files this server cannot load; the roles its grants name."""
    for role in ROLES:
        run_sql(
            db.admin_dsn,
            f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$;",
        )
    out = tmp_path / "schema"
    shutil.copytree(RICH, out)
    for name, available in _capabilities(run_sql, db.admin_dsn).items():
        if not available:
            (out / name).unlink()
    return out


def _load(dsn: str, schema_dir: Path) -> None:
    load_into(dsn, parse_schema_dir(schema_dir))


def _apply(dsn: str, current: Schema, desired: Schema) -> None:
    with psycopg.connect(dsn) as conn:
        execute_statements(conn, plan_statements(current, desired))


def test_rich_tree_uses_every_kind(rich_tree: Path, db: ShadowDatabase) -> None:
    _load(db.admin_dsn, rich_tree)
    schema = inspect_dsn(db.admin_dsn)
    missing = [
        field
        for field in (
            "schemas",
            "collations",
            "enums",
            "composites",
            "domains",
            "ranges",
            "sequences",
            "routines",
            "tables",
            "columns",
            "inherited_columns",
            "constraints",
            "indexes",
            "views",
            "matviews",
            "triggers",
            "policies",
            "statistics",
            "default_privileges",
            "fdws",
            "servers",
            "user_mappings",
        )
        if not getattr(schema, field)
    ]
    assert missing == []
    if (rich_tree / _EXTENSION_FILE).exists():
        assert [e.name for e in schema.extensions] == ["citext"]
    if (rich_tree / _EVENT_TRIGGER_FILE).exists():
        assert [t.name for t in schema.event_triggers] == ["rich_ddl"]
    if (rich_tree / _VIRTUAL_FILE).exists():
        virtual = {c.name for c in schema.columns if c.generated and c.generated.virtual}
        assert virtual == {"kilos", "label", "doubled"}
    if (rich_tree / _PG18_CONSTRAINTS_FILE).exists():
        not_enforced = {c.name for c in schema.constraints if not c.enforced}
        assert not_enforced == {"desk_bookings_seats_check", "desk_bookings_self_fk"}
        temporal = {c.name for c in schema.constraints if "WITHOUT OVERLAPS" in c.definition}
        assert temporal == {"desks_pk", "desk_bookings_area_uq"}
    # Nothing the rich tree creates is left unmanaged.
    assert schema.unmanaged == ()


def test_inspect_is_byte_identical(rich_tree: Path, db: ShadowDatabase) -> None:
    _load(db.admin_dsn, rich_tree)
    first, second = inspect_dsn(db.admin_dsn), inspect_dsn(db.admin_dsn)
    assert first.to_json() == second.to_json()
    assert first.fingerprint() == second.fingerprint()


# Beyond the rich tree: a partition's own index, an exclusion constraint over an expression, a
# check on an inherited column, a unique key with INCLUDE columns.
_COLUMN_DEPENDENCY_EXTRAS = """
CREATE INDEX events_2024_body ON app.events_2024 ((body ->> 'k')) WHERE kind <> 'x';
CREATE TABLE app.slots (lo int, hi int, during tstzrange, note text,
    EXCLUDE USING gist (int4range(lo, hi) WITH &&, during WITH &&),
    UNIQUE (note) INCLUDE (lo));
ALTER TABLE audit.log_login ADD CONSTRAINT log_login_who CHECK (who <> '' AND at IS NOT NULL);
"""

# The dependency query's filters: an index's and a constraint's rows on columns, every
# object's row on its schema, and the rows of indexes, constraints, triggers and policies on
# their own table, are left out.
_IMPLIED_ROWS_FILTERS = (
    "AND NOT (a.lists_columns AND b.sub < 0 AND d.refobjsubid > 0)",
    "AND d.refclassid <> 'pg_namespace'::regclass",
    "AND NOT (a.owner IS NOT NULL AND d.refclassid = 'pg_class'::regclass\n"
    "                   AND d.refobjid = a.owner AND (d.refobjsubid = 0 OR b.sub >= 0))",
)


def test_rows_left_out_are_what_the_model_implies(rich_tree: Path, db: ShadowDatabase) -> None:
    """The dependency query leaves out the rows that indexes and constraints have on columns,
    those of indexes, constraints, triggers and policies on their own table, and every object's
    row on its schema, because their models name those columns, that table and that schema
    (implied_deps). Run without those filters, the query finds exactly the rows the model
    keeps plus dependencies the model implies: nothing is lost, and no column dependency is
    invented."""
    _load(db.admin_dsn, rich_tree)
    with psycopg.connect(db.admin_dsn, autocommit=True) as conn:
        conn.execute(_COLUMN_DEPENDENCY_EXTRAS.encode())
        conn.execute(b"SET search_path = ''")  # as inspection prints routine arguments
        version = conn.info.server_version
        query = query_text("dependencies", version)
        for row_filter in _IMPLIED_ROWS_FILTERS:
            assert row_filter in query
            query = query.replace(row_filter, "")
        row = conn.execute(query.encode(), {"excluded_schemas": ["_pgflux"]}).fetchone()
    assert row is not None
    unfiltered = {
        (d.dependent, d.referenced)
        for d in DependencyRows.model_validate_json(row[0]).dependencies()
    }
    schema = inspect_dsn(db.admin_dsn)
    kept = {(d.dependent, d.referenced) for d in schema.dependencies}
    implied = {(obj.key, ref) for obj in schema.objects() for ref in obj.implied_deps()}
    assert kept <= unfiltered
    modelled = {obj.key for obj in schema.objects()}
    left_out = {pair for pair in unfiltered - kept if pair[0] in modelled}
    assert left_out <= implied, sorted(map(str, left_out - implied))
    # an object pg-flux does not model (an extension's function, a range type's constructor)
    # loses only its row on its schema
    assert all(ref.kind == "schema" for dependent, ref in unfiltered - kept - left_out)
    # schemas are left to the model: pg_depend names them for tables, views, sequences,
    # routines, types, collations and statistics
    assert not [pair for pair in kept if pair[1].kind == "schema"]
    on_schemas = {dependent.kind for dependent, ref in unfiltered - kept if ref.kind == "schema"}
    assert {"table", "view", "sequence", "function", "enum"} <= on_schemas, on_schemas
    column_deps = {
        (obj.key, ref)
        for obj in (*schema.indexes, *schema.constraints)
        for ref in obj.implied_deps()
        if ref.kind == "column"
    }
    assert column_deps <= unfiltered, sorted(map(str, column_deps - unfiltered))
    # the extras are covered: each names the columns its pg_depend rows do
    by_name = {obj.name: obj for obj in (*schema.indexes, *schema.constraints)}
    assert by_name["events_2024_body"].columns == ("kind", "body")
    assert by_name["slots_note_lo_key"].columns == ("lo", "note")
    assert by_name["log_login_who"].columns == ("at", "who")
    exclusion = next(c for c in schema.constraints if c.type == "exclusion" and c.table == "slots")
    assert exclusion.columns == ("during",)  # the expression's columns: its index's rows
    assert (exclusion.key, ObjectKey.of("column", "app", "lo", "slots")) in kept


def test_rebuilt_from_model_dumps_identically(
    rich_tree: Path, db: ShadowDatabase, make_db: MakeDb
) -> None:
    _load(db.admin_dsn, rich_tree)
    original = inspect_dsn(db.admin_dsn)
    fresh = make_db()
    _apply(fresh.admin_dsn, inspect_dsn(fresh.admin_dsn), original)
    assert pg_dump_schema(fresh.admin_dsn) == pg_dump_schema(db.admin_dsn)
    assert plan_statements(inspect_dsn(fresh.admin_dsn), original) == []


def test_two_loads_plan_empty(rich_tree: Path, db: ShadowDatabase, make_db: MakeDb) -> None:
    _load(db.admin_dsn, rich_tree)
    other = make_db()
    _load(other.admin_dsn, rich_tree)
    again = plan_statements(inspect_dsn(db.admin_dsn), inspect_dsn(other.admin_dsn))
    assert [s.sql for s in again] == []


def test_drop_everything_then_recreate(
    rich_tree: Path, db: ShadowDatabase, make_db: MakeDb
) -> None:
    """plan(A -> empty) empties A; plan(empty -> A) builds it back."""
    _load(db.admin_dsn, rich_tree)
    original = inspect_dsn(db.admin_dsn)
    empty = inspect_dsn(make_db().admin_dsn)
    before = pg_dump_schema(db.admin_dsn)
    _apply(db.admin_dsn, original, empty)
    assert plan_statements(inspect_dsn(db.admin_dsn), empty) == []
    _apply(db.admin_dsn, inspect_dsn(db.admin_dsn), original)
    assert pg_dump_schema(db.admin_dsn) == before


def test_pull_loads_back_and_plans_empty(
    rich_tree: Path, db: ShadowDatabase, make_db: MakeDb, tmp_path: Path
) -> None:
    _load(db.admin_dsn, rich_tree)
    live = inspect_dsn(db.admin_dsn)
    scratch = make_db()
    files = tree(Planner(inspect_dsn(scratch.admin_dsn), live, PlanOptions()).steps(), live)
    out = tmp_path / "pulled"
    write_tree(out, files, force=False)
    copy = make_db()
    _load(copy.admin_dsn, out)
    assert [s.sql for s in plan_statements(live, inspect_dsn(copy.admin_dsn))] == []
    assert pg_dump_schema(copy.admin_dsn) == pg_dump_schema(db.admin_dsn)
