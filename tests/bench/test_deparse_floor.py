"""The deparse floor (issue 3's reference for inspection) reads every kind it names, once, and
leaves out system schemas and the tracking schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.deparse_floor import FLOOR_QUERIES, measure_deparse_floor
from engine.shadow import ShadowDatabase

SCHEMA = """
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('a', 'b');
CREATE DOMAIN app.pos AS integer CHECK (VALUE > 0);
CREATE TYPE app.pair AS (x integer, y integer);
CREATE SEQUENCE app.s;
CREATE TABLE app.t (id integer PRIMARY KEY CHECK (id > 0), name text NOT NULL DEFAULT 'x',
                    m app.mood, p app.pos, n bigint DEFAULT nextval('app.s'));
CREATE TABLE app.u (id integer PRIMARY KEY REFERENCES app.t (id));
CREATE INDEX t_name ON app.t (lower(name));
CREATE VIEW app.v AS SELECT id, name FROM app.t;
CREATE MATERIALIZED VIEW app.mv AS SELECT id FROM app.u;
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_touch BEFORE UPDATE ON app.t FOR EACH ROW EXECUTE FUNCTION app.touch();
COMMENT ON TABLE app.t IS 'the t';
COMMENT ON COLUMN app.t.name IS 'its name';
CREATE SCHEMA _pgflux;
CREATE TABLE _pgflux.migrations (id integer PRIMARY KEY, note text DEFAULT 'n');
COMMENT ON TABLE _pgflux.migrations IS 'tracking';
"""


def test_the_floor_reads_each_kind_of_the_managed_schemas(
    db: ShadowDatabase, run_sql: Callable[..., list[tuple[Any, ...]]]
) -> None:
    run_sql(db.admin_dsn, SCHEMA)
    result = measure_deparse_floor(db.admin_dsn)
    assert result.seconds > 0
    assert result.rows == {
        "tables": 2,
        "columns": 6,  # t's five, u's one; the tracking table's are left out
        "constraints": 5,  # two primary keys, a check, a foreign key, the domain's check
        "indexes": 3,
        "views": 2,
        "sequences": 1,
        "routines": 1,
        "triggers": 1,
        "types": 3,  # the enum, the domain, the composite; no table's row type
        "enum labels": 2,
        # both on app.t; the tracking table's is counted too: the query cannot tell schemas
        # apart for every catalog a comment may point into, and one row costs nothing
        "comments": 3,
    }
    assert set(result.rows) == set(FLOOR_QUERIES)
