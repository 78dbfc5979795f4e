"""The dependency query prints each key once and the rows as positions (queries/dependencies.sql,
engine/catalog/dependency_rows.py). Its numeric mapping of pg_depend's addresses must find
exactly what naming both ends of every row by key text finds (the first version of the query,
kept as a test oracle), on a schema with every object kind and on the kinds' corner cases, less
the rows of indexes and constraints on columns and every object's row on its schema, which their
models name instead."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.catalog import inspect_dsn
from engine.catalog.dependency_rows import DependencyRows
from engine.load import load_into, parse_schema_dir
from engine.model.base import Dependency, ObjectKey
from engine.model.schema import Schema
from engine.shadow import ShadowDatabase
from tests.engine.convergence import load
from tests.properties.test_rich_schema import rich_tree  # noqa: F401  (fixture)

ORACLE = Path(__file__).parent / "fixtures" / "dependencies_by_key_text.sql"

# What the rich tree leaves out: the mappings the query must get right one by one.
CORNERS = """
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TYPE pair AS (left_mood mood, weight numeric);
CREATE DOMAIN positive AS integer CONSTRAINT positive_check CHECK (VALUE > 0);
CREATE FUNCTION is_small(n integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT n < 10';
CREATE DOMAIN small AS integer CONSTRAINT small_check CHECK (is_small(VALUE));
CREATE TABLE parent (id integer PRIMARY KEY, code text UNIQUE);
CREATE TABLE child (
    id integer GENERATED ALWAYS AS IDENTITY,
    parent_code text REFERENCES parent (code),
    moods mood[] DEFAULT '{}',
    p pair,
    n positive,
    s small,
    whole parent,
    serial_id serial,
    doubled integer GENERATED ALWAYS AS (n * 2) STORED
);
CREATE INDEX child_expr ON child ((lower(parent_code))) WHERE n > 1;
CREATE VIEW child_view AS
    SELECT c.id, c.moods, p.code FROM child c JOIN parent p ON p.code = c.parent_code;
CREATE VIEW child_view_view AS SELECT id FROM child_view;
CREATE MATERIALIZED VIEW child_mat AS SELECT id, moods FROM child;
CREATE FUNCTION parents() RETURNS SETOF parent LANGUAGE sql AS 'SELECT * FROM parent';
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
CREATE TRIGGER child_touch BEFORE UPDATE OF n ON child FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE child ENABLE ROW LEVEL SECURITY;
CREATE POLICY child_small ON child USING (is_small(n));
CREATE STATISTICS child_stats ON n, s FROM child;
"""


def _oracle_pairs(dsn: str) -> set[tuple[ObjectKey, ObjectKey]]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET search_path = ''")
        conn.execute("SET enable_nestloop = off")
        query = ORACLE.read_text().encode()
        row = conn.execute(query, {"excluded_schemas": ["_pgflux"]}).fetchone()
    assert row is not None
    deps = Schema.model_validate_json(row[0]).dependencies
    return {(d.dependent, d.referenced) for d in deps}


def _pairs(deps: tuple[Dependency, ...]) -> set[tuple[ObjectKey, ObjectKey]]:
    return {(d.dependent, d.referenced) for d in deps}


def _check_against_oracle(dsn: str) -> set[tuple[ObjectKey, ObjectKey]]:
    """The dependency rows, the column dependencies of indexes and constraints, their rows and
    those of triggers and policies on their own table, and every object's dependency on its
    schema (which the query leaves to their models) are together exactly what the oracle finds,
    less the rows that name a key or exclusion constraint's index (an index no model lists: the
    constraint stands for it); returns the oracle's pairs."""
    schema = inspect_dsn(dsn)
    deps = schema.dependencies
    column_deps = {
        (obj.key, ref)
        for obj in (*schema.indexes, *schema.constraints)
        for ref in obj.implied_deps()
        if ref.kind == "column"
    }
    own_table = {
        (obj.key, ref)
        for obj in (*schema.indexes, *schema.constraints, *schema.triggers, *schema.policies)
        for ref in obj.implied_deps()
        if ref.kind in {"table", "view", "matview"}
        and (ref.schema_, ref.name) == (obj.schema_, obj.table)
    }
    oracle = _oracle_pairs(dsn)
    schema_rows = {(dependent, ref) for dependent, ref in oracle if ref.kind == "schema"}
    # PostgreSQL names a key's index after its constraint
    key_indexes = {
        ObjectKey.of("index", c.schema_, c.name)
        for c in schema.constraints
        if c.type in {"primary_key", "unique", "exclusion"}
    }
    on_key_indexes = {pair for pair in oracle if key_indexes & set(pair)}
    # of a modelled object (an unmodelled one, such as an extension's function, loses it)
    modelled = {obj.key for obj in schema.objects()}
    assert not key_indexes & modelled
    implied = {(obj.key, ref) for obj in schema.objects() for ref in obj.implied_deps()}
    modelled_rows = {pair for pair in schema_rows if pair[0] in modelled}
    assert modelled_rows <= implied, sorted(map(str, modelled_rows - implied))
    assert own_table <= implied
    assert _pairs(deps) == oracle - column_deps - schema_rows - own_table - on_key_indexes
    assert column_deps <= oracle
    assert len(deps) == len(_pairs(deps))  # no row twice
    assert all(d.dependent != d.referenced for d in deps)
    return oracle


def test_the_rich_schema_has_the_dependencies_key_texts_find(
    rich_tree: Path,  # noqa: F811
    db: ShadowDatabase,
) -> None:
    load_into(db.admin_dsn, parse_schema_dir(rich_tree))
    pairs = _check_against_oracle(db.admin_dsn)
    kinds = {(dependent.kind, referenced.kind) for dependent, referenced in pairs}
    assert len(kinds) >= 15, kinds


def test_each_mapping_matches_the_oracle(db: ShadowDatabase) -> None:
    load(db.admin_dsn, CORNERS)
    pairs = {(str(a), str(b)) for a, b in _check_against_oracle(db.admin_dsn)}

    def key(kind: str, name: str, parent: str | None = None, args: str | None = None) -> str:
        return str(ObjectKey.of(kind, "public", name, parent, args))

    expected = {
        # a composite's attributes stand for the composite
        (key("composite", "pair"), key("enum", "mood")),
        # a column of an array type depends on the element type
        (key("column", "moods", "child"), key("enum", "mood")),
        # a domain's constraint stands for the domain
        (key("domain", "small"), key("function", "is_small", args="integer")),
        # a table's row type stands for the table (a column, a SETOF function)
        (key("column", "whole", "child"), key("table", "parent")),
        (key("function", "parents", args=""), key("table", "parent")),
        # a column default stands for its column
        (key("column", "serial_id", "child"), key("sequence", "child_serial_id_seq")),
        # a foreign key depends on the referenced key's index, read as the constraint (the
        # model's rows keep only the constraint: below)
        (key("constraint", "child_parent_code_fkey", "child"), key("index", "parent_code_key")),
        (
            key("constraint", "child_parent_code_fkey", "child"),
            key("constraint", "parent_code_key", "parent"),
        ),
        # expression and predicate columns of an index (the model's: Index.columns)
        (key("index", "child_expr"), key("column", "parent_code", "child")),
        (key("index", "child_expr"), key("column", "n", "child")),
        # a view's rewrite rule and its columns stand for the view
        (key("view", "child_view"), key("column", "code", "parent")),
        (key("view", "child_view_view"), key("view", "child_view")),
        (key("matview", "child_mat"), key("column", "moods", "child")),
        # a generated column depends on the column it reads
        (key("column", "doubled", "child"), key("column", "n", "child")),
        (key("trigger", "child_touch", "child"), key("function", "touch", args="")),
        (key("policy", "child_small", "child"), key("function", "is_small", args="integer")),
        (key("statistics", "child_stats"), key("column", "s", "child")),
    }
    assert expected - pairs == set()
    # the key's index stands for the constraint only: no model lists it
    rows = {(str(d.dependent), str(d.referenced)) for d in inspect_dsn(db.admin_dsn).dependencies}
    fkey = key("constraint", "child_parent_code_fkey", "child")
    assert (fkey, key("constraint", "parent_code_key", "parent")) in rows
    assert (fkey, key("index", "parent_code_key")) not in rows
    # OWNED BY keeps only the default's direction
    assert (key("sequence", "child_serial_id_seq"), key("column", "serial_id", "child")) not in (
        pairs
    )


def test_each_key_is_one_object_and_the_rows_come_in_key_order(db: ShadowDatabase) -> None:
    load(db.admin_dsn, CORNERS)
    deps = inspect_dsn(db.admin_dsn).dependencies
    ends = [key for d in deps for key in (d.dependent, d.referenced)]
    assert len({id(key) for key in ends}) == len(set(ends)) < len(ends)
    order = [(d.dependent.sort_key, d.referenced.sort_key) for d in deps]
    assert order == sorted(order)


def test_rows_from_positions() -> None:
    table = ObjectKey.of("table", "s", "t")
    column = ObjectKey.of("column", "s", "c", "t")
    index = ObjectKey.of("index", "s", "i")
    rows = DependencyRows(keys=(table, index, column), pairs=(2, 0, 1, 2, 1, 0))
    assert [(d.dependent, d.referenced) for d in rows.dependencies()] == [
        (column, table),
        (index, column),
        (index, table),
    ]
    assert DependencyRows().dependencies() == ()


@pytest.mark.parametrize(
    ("pairs", "message"),
    [((0, 1, 0), "odd number"), ((0, 3), "outside the 2 keys"), ((-1, 0), "outside")],
)
def test_malformed_positions_fail_loudly(pairs: tuple[int, ...], message: str) -> None:
    rows = DependencyRows(
        keys=(ObjectKey.of("table", "s", "t"), ObjectKey.of("table", "s", "u")), pairs=pairs
    )
    with pytest.raises(ValueError, match=message):
        rows.dependencies()


_NAMES = st.sampled_from(["a", "b", "B", "é", "a b", "z1"])


@st.composite
def _rows(draw: st.DrawFn) -> DependencyRows:
    # a routine's key always has its argument types ("" for none), no other key has any: keys
    # that differ only by None against "" (one sort key) are not drawn
    relations = st.tuples(
        st.sampled_from(["table", "column", "index", "view"]),
        _NAMES,
        _NAMES,
        st.one_of(st.none(), _NAMES),
        st.none(),
    )
    routines = st.tuples(
        st.just("function"),
        _NAMES,
        _NAMES,
        st.none(),
        st.sampled_from(["", "integer", "text, integer"]),
    )
    parts = st.one_of(relations, routines)
    drawn = draw(st.lists(parts, min_size=1, max_size=12, unique=True))
    keys = tuple(ObjectKey.of(*fields) for fields in drawn)
    index = st.integers(0, len(keys) - 1)
    pairs = draw(st.lists(st.tuples(index, index), max_size=30))
    return DependencyRows(keys=keys, pairs=tuple(i for pair in pairs for i in pair))


@given(_rows())
def test_rows_are_the_pairs_in_key_order(rows: DependencyRows) -> None:
    ends = iter(rows.pairs)
    expected = sorted(
        ((rows.keys[a], rows.keys[b]) for a, b in zip(ends, ends, strict=True)),
        key=lambda pair: (pair[0].sort_key, pair[1].sort_key),
    )
    built = rows.dependencies()
    assert [(d.dependent, d.referenced) for d in built] == expected
    # each key object is reused, never copied
    assert {id(k) for d in built for k in (d.dependent, d.referenced)} <= {id(k) for k in rows.keys}
