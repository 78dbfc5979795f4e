"""What the planner's lookups rely on: binary searches over ordered collections find exactly what
a dict of every key finds, the dependencies asked for per key are pg_depend's plus the implied
ones, the merge walk finds exactly the by-key differences, and a small change is planned
without keying every object."""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.load import load_into, parse_schema_dir
from engine.model.base import Commented, ObjectKey, SchemaObject
from engine.model.schema import OBJECT_FIELDS, Schema, _derived
from engine.model.tables import Column
from engine.plan.changes import compare_schemas, objects_differ
from engine.plan.index import CLASSES, Dependencies, ObjectIndex
from engine.plan.planner import plan_statements
from engine.shadow import ShadowDatabase
from tests.properties.test_rich_schema import rich_tree  # noqa: F401  (fixture)


@pytest.fixture
def rich(rich_tree: Path, db: ShadowDatabase) -> Schema:  # noqa: F811
    load_into(db.admin_dsn, parse_schema_dir(rich_tree))
    return inspect_dsn(db.admin_dsn)


def _implied_inverse(schema: Schema) -> dict[ObjectKey, set[ObjectKey]]:
    inverse: dict[ObjectKey, set[ObjectKey]] = defaultdict(set)
    for dep in schema.dependencies:
        inverse[dep.referenced].add(dep.dependent)
    for obj in schema.objects():
        for ref in obj.implied_deps():
            inverse[ref].add(obj.key)
    return inverse


def _shuffled(schema: Schema, seed: int) -> Schema:
    """The same objects, every collection and the dependencies out of order."""
    rng = random.Random(seed)
    update: dict[str, object] = {}
    for name in (*OBJECT_FIELDS, "dependencies"):
        items = list(getattr(schema, name))
        rng.shuffle(items)
        update[name] = tuple(items)
    return schema.model_copy(update=update)


def test_implies_names_every_kind_implied_deps_returns(rich: Schema) -> None:
    seen: set[str] = set()
    for obj in rich.objects():
        kinds = {ref.kind for ref in obj.implied_deps()}
        assert kinds <= type(obj).implies, f"{obj.key}: implies {kinds}"
        seen |= kinds
    assert {"schema", "table", "fdw", "server"} <= seen


def test_inspected_schemas_are_ordered_and_shuffled_ones_are_not(rich: Schema) -> None:
    assert rich.is_ordered
    assert rich.ordered() is rich
    shuffled = _shuffled(rich, 1)
    assert not shuffled.is_ordered
    again = shuffled.ordered()
    assert again.is_ordered
    assert [o.key for o in again.objects()] == [o.key for o in rich.objects()]


@pytest.mark.parametrize("dicts", [False, True], ids=["searches", "dicts"])
@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "shuffled"])
def test_index_finds_what_a_dict_of_every_key_finds(
    rich: Schema, dicts: bool, ordered: bool
) -> None:
    schema = rich if ordered else _shuffled(rich, 7)
    objects = ObjectIndex(schema)
    deps = Dependencies(objects)
    if dicts:
        objects.use_dicts()
        deps.use_dicts()
    keyed = rich.by_key()
    for key, obj in keyed.items():
        assert objects.get(key) == obj
        assert key in objects
        assert objects[key] == obj
        missing = ObjectKey.of(key.kind, key.schema_, key.name + "_gone", key.parent, key.args)
        assert objects.get(missing) is None
        assert missing not in objects
    assert objects.get(ObjectKey.of("no_such_kind", None, "x")) is None
    with pytest.raises(KeyError):
        objects[ObjectKey.of("table", "public", "no_such_table")]

    recorded: dict[ObjectKey, list[ObjectKey]] = defaultdict(list)
    for dep in rich.dependencies:
        recorded[dep.dependent].append(dep.referenced)
    implied = _implied_inverse(rich)
    for key in set(keyed) | set(recorded):
        assert sorted(map(str, deps.recorded(key))) == sorted(map(str, recorded.get(key, [])))
        want = set(recorded.get(key, []))
        if key in keyed:
            want |= set(keyed[key].implied_deps())
        assert deps.of(key) == want
    deps.prepare_dependents(list(keyed)[:5])
    for key in set(keyed) | {d.referenced for d in rich.dependencies}:
        assert deps.dependents_of(key) == implied.get(key, set()), key

    parented = {*keyed, *recorded}
    for table in rich.tables:
        under = {
            k
            for k in parented
            if k.parent == table.name and k.schema_ == table.schema_ and k.kind != "table"
        }
        assert deps.keys_under(table.key) == under
        columns = objects.columns_of(table.schema_, table.name)
        assert columns == sorted(
            (c for c in rich.columns if (c.schema_, c.table) == (table.schema_, table.name)),
            key=lambda c: c.position,
        )
        assert all(isinstance(c, Column) for c in columns)


def _edit(obj: SchemaObject, how: int) -> SchemaObject:
    """A changed copy: a new comment where the kind has one, else an owner change (which is no
    difference unless ownership is managed) or the object itself."""
    if isinstance(obj, Commented):
        return obj.model_copy(update={"comment": f"edited {how}"})
    if "owner" in type(obj).model_fields:
        return obj.model_copy(update={"owner": f"someone_{how}"})
    return obj


def test_merge_walk_finds_the_by_key_differences(rich: Schema) -> None:
    objects = [(name, i) for name in OBJECT_FIELDS for i in range(len(getattr(rich, name)))]

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        removed=st.sets(st.sampled_from(objects), max_size=12),
        added=st.sets(st.sampled_from(objects), max_size=12),
        edited=st.sets(st.sampled_from(objects), max_size=12),
        copied=st.sets(st.sampled_from(objects), max_size=40),
        manage=st.booleans(),
        shuffle=st.booleans(),
    )
    def check(
        removed: set[tuple[str, int]],
        added: set[tuple[str, int]],
        edited: set[tuple[str, int]],
        copied: set[tuple[str, int]],
        manage: bool,
        shuffle: bool,
    ) -> None:
        # current lacks `added`, desired lacks `removed`; `edited` differ in desired. Desired
        # holds current's very instances (as a shared inspection does) except `copied`: equal
        # but distinct ones, so the walk meets runs of both kinds.
        cur_update: dict[str, object] = {}
        des_update: dict[str, object] = {}
        for name in OBJECT_FIELDS:
            items = getattr(rich, name)
            cur_update[name] = tuple(o for i, o in enumerate(items) if (name, i) not in added)
            des_update[name] = tuple(
                _edit(o, i) if (name, i) in edited else o.model_copy() if (name, i) in copied else o
                for i, o in enumerate(items)
                if (name, i) not in removed
            )
        current = rich.model_copy(update=cur_update)
        desired = rich.model_copy(update=des_update)
        if shuffle:
            desired = _shuffled(desired, len(removed))
        changes = compare_schemas(current, desired, manage)
        have, want = current.by_key(), desired.by_key()
        assert set(changes.removed) == set(have) - set(want)
        assert set(changes.added) == set(want) - set(have)
        assert set(changes.changed) == {
            k for k in have.keys() & want.keys() if objects_differ(have[k], want[k], manage)
        }
        for key, (old, new) in changes.changed.items():
            assert (old, new) == (have[key], want[key])

    check()


def test_a_small_change_is_planned_without_keying_every_object(rich: Schema) -> None:
    table = rich.tables[0]
    desired = rich.model_copy(
        update={
            "tables": (table.model_copy(update={"comment": "new words"}), *rich.tables[1:]),
        }
    ).mark_ordered()
    statements = plan_statements(rich, desired, PlanOptions())
    assert [s.sql for s in statements] == [f"COMMENT ON TABLE {table.key.display} IS 'new words'"]
    # neither side's objects were keyed in bulk (by_key() remembers them per schema)
    assert "keyed" not in _derived(rich)
    assert "keyed" not in _derived(desired)
    assert CLASSES["tables"].kind == "table"
