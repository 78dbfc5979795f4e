"""What the memory work relies on: a desired schema read back `like` production shares every
equal object with it and is otherwise exactly the schema read without sharing; model instances
keep no field set of their own; the planner gets the same plan either way."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.lean import stores_field_set
from engine.load import load_into, parse_schema_dir
from engine.model import schema as schema_module
from engine.model.base import Model, ObjectKey, SchemaObject
from engine.model.schema import OBJECT_FIELDS, Schema
from engine.model.sharing import dependency_sort_key, share_equal
from engine.model.tables import Column
from engine.plan.build import build_plan
from engine.plan.changes import compare_schemas
from engine.plan.planner import plan_statements
from engine.shadow import EmbeddedCluster, ShadowDatabase
from tests.engine.convergence import load
from tests.properties.test_rich_schema import rich_tree  # noqa: F401  (fixture)

MakeDb = Callable[..., ShadowDatabase]

# What the pull request changes in the rich tree: one column's type, a new column, a comment.
CHANGES = """
ALTER TABLE audit.log ALTER COLUMN what TYPE varchar(200);
ALTER TABLE app.customers ADD COLUMN shared_test_extra integer;
COMMENT ON TABLE app.customers IS 'changed by the pull request';
"""


def _models(value: object) -> list[Model]:
    """Every model instance reachable from `value` (objects, keys, nested options)."""
    found: list[Model] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Model):
            found.append(item)
            stack.extend(item.__dict__.values())
        elif isinstance(item, tuple | list):
            stack.extend(item)
    return found


@pytest.fixture
def production_and_shadow(
    rich_tree: Path,  # noqa: F811
    db: ShadowDatabase,
    make_db: MakeDb,
) -> tuple[ShadowDatabase, ShadowDatabase]:
    loaded = parse_schema_dir(rich_tree)
    load_into(db.admin_dsn, loaded)
    shadow = make_db()
    load_into(shadow.admin_dsn, loaded)
    load(shadow.admin_dsn, CHANGES)
    return db, shadow


def test_read_back_like_production_shares_every_equal_object(
    production_and_shadow: tuple[ShadowDatabase, ShadowDatabase],
) -> None:
    production, shadow = production_and_shadow
    current = inspect_dsn(production.admin_dsn)
    plain = inspect_dsn(shadow.admin_dsn)
    shared = inspect_dsn(shadow.admin_dsn, like=current)

    # The same schema, in the same (key) order, marked ordered as an inspection always is.
    assert shared == plain
    assert shared.to_json() == plain.to_json()
    assert shared.fingerprint() == plain.fingerprint()
    assert shared.is_ordered
    assert shared == plain.sorted()

    # Each object equal (class and fields) to production's version is production's instance;
    # every other one is the shadow's own.
    counts = {"shared": 0, "own": 0}
    for name in (*OBJECT_FIELDS, "dependencies"):
        theirs = {id(obj) for obj in getattr(current, name)}
        if name == "dependencies":
            by_key = {dependency_sort_key(d): d for d in current.dependencies}
            keyed = [(dependency_sort_key(d), d) for d in shared.dependencies]
        else:
            by_key = {obj.sort_key: obj for obj in getattr(current, name)}
            keyed = [(obj.sort_key, obj) for obj in getattr(shared, name)]
        for key, obj in keyed:
            counterpart = by_key.get(key)
            equal = (
                counterpart is not None
                and type(counterpart) is type(obj)
                and counterpart.__dict__ == obj.__dict__
            )
            assert (id(obj) in theirs) == equal, f"{name}: {key}"
            counts["shared" if equal else "own"] += 1
    assert counts["shared"] > 10 * counts["own"] > 0
    changed = next(c for c in shared.columns if c.name == "what" and c.table == "log")
    assert changed.type == "character varying(200)"
    assert all(changed is not c for c in current.columns)

    # The planner sees the same differences and writes the same plan.
    options = PlanOptions()
    before = compare_schemas(current, plain, False)
    after = compare_schemas(current, shared, False)
    assert (before.removed, before.added, before.changed) == (
        after.removed,
        after.added,
        after.changed,
    )
    assert plan_statements(current, shared, options) == plan_statements(current, plain, options)


def test_a_schema_read_like_production_prints_only_its_own_objects_for_its_fingerprint(
    production_and_shadow: tuple[ShadowDatabase, ShadowDatabase],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    production, shadow = production_and_shadow
    current = inspect_dsn(production.admin_dsn)
    shared = inspect_dsn(shadow.admin_dsn, like=current)
    plain = inspect_dsn(shadow.admin_dsn)
    current.fingerprint()  # as build_plan does while the shadow loads
    printed: list[SchemaObject] = []
    original = schema_module._compared_prints

    def counting(field: str, items: tuple[SchemaObject, ...]) -> list[str]:
        printed.extend(items)
        return original(field, items)

    monkeypatch.setattr(schema_module, "_compared_prints", counting)
    fingerprint = shared.fingerprint()
    theirs = {id(obj) for name in OBJECT_FIELDS for obj in getattr(current, name)}
    own = [obj for name in OBJECT_FIELDS for obj in getattr(shared, name) if id(obj) not in theirs]
    # exactly the objects it does not share with production were printed
    assert sorted(map(id, printed)) == sorted(map(id, own))
    assert 0 < len(own) < sum(len(getattr(shared, name)) for name in OBJECT_FIELDS) / 10
    # and the fingerprint is the one the same schema read alone has
    printed.clear()
    assert fingerprint == plain.fingerprint() != current.fingerprint()
    assert len(printed) == sum(len(getattr(plain, name)) for name in OBJECT_FIELDS)


def test_build_plan_reads_the_shadow_like_production(
    tmp_path: Path, db: ShadowDatabase, pg_cluster: EmbeddedCluster
) -> None:
    load(db.admin_dsn, "CREATE SCHEMA app; CREATE TABLE app.t (id int PRIMARY KEY, a text);")
    schema_dir = tmp_path / "schema"
    schema_dir.mkdir()
    (schema_dir / "app.sql").write_text(
        "CREATE SCHEMA app;\nCREATE TABLE app.t (id int PRIMARY KEY, a text, b int);\n"
    )
    result = build_plan(schema_dir, db.admin_dsn, shadow=pg_cluster)
    assert result.plan.verified
    assert [s.sql for s in result.plan.statements] == ["ALTER TABLE app.t ADD COLUMN b integer"]
    current_columns = {c.name: c for c in result.current.columns}
    desired_columns = {c.name: c for c in result.desired.columns}
    assert desired_columns["id"] is current_columns["id"]
    assert desired_columns["a"] is current_columns["a"]
    # what the plan's annotations point at, kept once the statements are gone
    assert str(result.object_locations["table app.t"]) == "schema/app.sql:2:1"


# --------------------------------------------------------------------------- share_equal


def _column(table: str, name: str, type_: str) -> Column:
    return Column(schema="s", table=table, name=name, position=1, type=type_)


_columns = st.lists(
    st.tuples(st.sampled_from("abcd"), st.sampled_from("xyz"), st.sampled_from(["int", "text"])),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(mine=_columns, theirs=_columns)
def test_share_equal_keeps_every_object_and_shares_exactly_the_equal_ones(
    mine: list[tuple[str, str, str]], theirs: list[tuple[str, str, str]]
) -> None:
    def built(rows: list[tuple[str, str, str]]) -> tuple[Column, ...]:
        unique = {(t, n): ty for t, n, ty in rows}  # one object per key, as in a schema
        return tuple(
            sorted((_column(t, n, ty) for (t, n), ty in unique.items()), key=lambda c: c.sort_key)
        )

    items, reference = built(mine), built(theirs)
    result = share_equal(items, reference, lambda c: c.sort_key)
    assert result == items  # every object kept, in order, with its own values
    by_key = {c.sort_key: c for c in reference}
    for got, own in zip(result, items, strict=True):
        counterpart = by_key.get(own.sort_key)
        if counterpart is not None and counterpart.type == own.type:
            assert got is counterpart
        else:
            assert got is own


def test_share_equal_walks_collections_of_several_classes() -> None:
    key = ObjectKey(kind="table", schema="s", name="t")
    items = (key, _column("t", "a", "int"))
    reference = (
        ObjectKey(kind="table", schema="s", name="t"),
        _column("t", "a", "int"),
        _column("t", "b", "int"),
    )

    def sort_key(obj: Model) -> tuple[str, ...]:
        return tuple(obj.sort_key)  # type: ignore[attr-defined]

    result = share_equal(items, reference, sort_key)
    assert result == items
    assert result[0] is reference[0]
    assert result[1] is reference[1]


# --------------------------------------------------------------------------- lean models


def test_model_instances_keep_no_field_set(
    production_and_shadow: tuple[ShadowDatabase, ShadowDatabase],
) -> None:
    production, _ = production_and_shadow
    schema = inspect_dsn(production.admin_dsn)
    instances = _models([getattr(schema, name) for name in (*OBJECT_FIELDS, "dependencies")])
    assert len({type(i) for i in instances}) > 20
    assert not any(stores_field_set(i) for i in instances)
    # the schema keeps pydantic's own: the families a partial inspection gave are its fields
    assert stores_field_set(schema)
    assert Schema.model_validate_json('{"schemas": []}').model_fields_set == {"schemas"}

    column = schema.columns[0]
    assert column.model_fields_set == set(Column.model_fields)
    copied = column.model_copy(update={"comment": "changed"})
    assert copied.comment == "changed"
    assert column.comment != "changed"
    assert column.model_fields_set == set(Column.model_fields)
    assert not stores_field_set(copied)

    again = pickle.loads(pickle.dumps(schema))  # noqa: S301 (our own bytes)
    assert again == schema
    assert not any(stores_field_set(i) for i in _models(list(again.columns)))


def test_loaded_statements_keep_no_field_set(rich_tree: Path) -> None:  # noqa: F811
    loaded = parse_schema_dir(rich_tree)
    assert loaded.statements
    for statement in loaded.statements:
        assert not stores_field_set(statement)
        assert statement.object is None or not stores_field_set(statement.object)
    assert not any(stores_field_set(location) for location in loaded.object_locations.values())
