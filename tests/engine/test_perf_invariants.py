"""What the performance work relies on: cached keys, sort checks, one-dump fingerprints, a cached
empty baseline and the rebuild of the current schema overlapping the load of the desired one
all give exactly what the straightforward code gave."""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import pickle
from collections.abc import Callable

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.catalog import inspect_dsn
from engine.catalog.runner import analyze_catalogs, run_catalog_queries
from engine.diff.context import PlanOptions
from engine.model.base import ObjectKey, SchemaObject
from engine.model.indexes import Index
from engine.model.routines import Routine
from engine.model.schema import OBJECT_FIELDS, Schema, family_sort_keys
from engine.model.tables import Column
from engine.plan.planner import objects_differ, plan_statements
from engine.roles import _roles_in, roles_in
from engine.shadow import EmbeddedCluster, ShadowDatabase
from engine.verify import _BASELINES, rebuilding_current, schema_differences, verify_plan
from tests.engine.convergence import load

MakeDb = Callable[..., ShadowDatabase]

SCHEMA = """
CREATE SCHEMA app;
CREATE TYPE app.mood AS ENUM ('ok', 'sad');
CREATE SEQUENCE app.counter START 10;
CREATE TABLE app.zeta (id bigserial PRIMARY KEY, mood app.mood DEFAULT 'ok', at timestamptz
    DEFAULT clock_timestamp(), n integer DEFAULT nextval('app.counter'), note text DEFAULT 'x');
CREATE TABLE app.alpha (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    zeta_id bigint REFERENCES app.zeta (id), amount numeric(10, 2) CHECK (amount > 0),
    b integer DEFAULT random()::integer, c integer DEFAULT 1 + 2, body text);
CREATE INDEX alpha_amount ON app.alpha (amount) WHERE amount > 10;
COMMENT ON TABLE app.alpha IS 'first';
COMMENT ON COLUMN app.alpha.amount IS 'money';
COMMENT ON CONSTRAINT alpha_amount_check ON app.alpha IS 'positive';
COMMENT ON INDEX app.alpha_amount IS 'big ones';
ALTER TABLE app.alpha SET (fillfactor = 80, toast.autovacuum_enabled = false);
CREATE VIEW app.v AS SELECT id, amount FROM app.alpha;
"""


def _old_fingerprint(schema: Schema) -> str:
    digest = hashlib.sha256()
    for obj in sorted(schema.objects(), key=lambda o: o.key.sort_key):
        digest.update(type(obj).__name__.encode())
        digest.update(b"\0")
        digest.update(
            json.dumps(
                # owners never count in fingerprints (03a5476)
                obj.model_dump(exclude=set(obj.not_compared) | {"owner"}, by_alias=True),
                sort_keys=True,
                separators=(",", ":"),
                default=str,
            ).encode()
        )
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()


@pytest.fixture
def inspected(db: ShadowDatabase) -> Schema:
    load(db.admin_dsn, SCHEMA)
    return inspect_dsn(db.admin_dsn)


def _variants(schema: Schema) -> dict[str, Schema]:
    """Copies of `schema` with one thing changed (or only reordered)."""
    column, table = schema.columns[1], schema.tables[0]

    def with_column(**update: object) -> Schema:
        changed = column.model_copy(update=update)
        return schema.model_copy(
            update={"columns": (*schema.columns[:1], changed, *schema.columns[2:])}
        )

    def with_table(**update: object) -> Schema:
        changed = table.model_copy(update=update)
        return schema.model_copy(update={"tables": (changed, *schema.tables[1:])})

    reordered = {f: tuple(reversed(getattr(schema, f))) for f in OBJECT_FIELDS}
    return {
        "shuffled": schema.model_copy(update=reordered),
        "owner": with_table(owner="someone"),
        "position": with_column(position=99),  # not compared
        "not_null": with_column(not_null=not column.not_null),
        "comment": with_table(comment="other"),
        "dropped": schema.model_copy(update={"columns": schema.columns[1:]}),
    }


def test_fingerprint_agrees_with_the_per_object_one(inspected: Schema) -> None:
    # The fingerprint's encoding is its own; what it must keep is the meaning of the
    # straightforward per-object digest: equal exactly when that one is equal.
    reference = _old_fingerprint(inspected)
    expected_equal = {"shuffled": True, "owner": True, "position": True}
    for name, variant in _variants(inspected).items():
        same = variant.fingerprint() == inspected.fingerprint()
        assert same == (_old_fingerprint(variant) == reference), name
        assert same == expected_equal.get(name, False), name


def test_by_key_is_cached_but_fresh(inspected: Schema) -> None:
    first = inspected.by_key()
    assert first == {obj.key: obj for obj in inspected.objects()}
    first.clear()  # a caller's dict is its own
    assert len(inspected.by_key()) == sum(len(getattr(inspected, f)) for f in OBJECT_FIELDS)


def test_sorted_sorts_what_is_out_of_order(inspected: Schema) -> None:
    shuffled = inspected.model_copy(
        update={f: tuple(reversed(getattr(inspected, f))) for f in OBJECT_FIELDS}
    )
    assert shuffled.sorted().to_json() == inspected.to_json()
    assert len(inspected.columns) > 1
    assert shuffled.columns != inspected.columns


def test_column_catalog_fields(inspected: Schema) -> None:
    columns = {(c.table, c.name): c for c in inspected.columns}
    # a volatile call anywhere in the default's tree, and only then
    volatile = {k for k, c in columns.items() if inspected.default_is_volatile(c.key)}
    assert len(inspected.volatile_defaults) == len(volatile)
    assert volatile == {
        ("zeta", "id"),
        ("zeta", "at"),
        ("zeta", "n"),
        ("alpha", "b"),
    }
    assert columns[("alpha", "amount")].comment == "money"
    tables = {t.name: t for t in inspected.tables}
    assert tables["alpha"].comment == "first"
    assert {(o.name, o.value) for o in tables["alpha"].options} == {
        ("fillfactor", "80"),
        ("toast.autovacuum_enabled", "false"),
    }
    assert tables["zeta"].options == ()
    assert tables["zeta"].acl == ()
    assert {k.name: k.comment for k in inspected.constraints}["alpha_amount_check"] == "positive"
    assert {i.name: i.comment for i in inspected.indexes}["alpha_amount"] == "big ones"


def test_overlapped_rebuild_verifies_and_baseline_is_cached(
    make_db: MakeDb, pg_cluster: EmbeddedCluster
) -> None:
    before, after = make_db(), make_db()
    load(before.admin_dsn, SCHEMA)
    load(after.admin_dsn, SCHEMA + "ALTER TABLE app.alpha ADD COLUMN extra text;")
    current, desired = inspect_dsn(before.admin_dsn), inspect_dsn(after.admin_dsn)
    options = PlanOptions()
    statements = plan_statements(current, desired, options)
    assert statements
    with rebuilding_current(pg_cluster, current, options) as rebuilt:
        problems = verify_plan(
            pg_cluster, current, desired, statements, options, rebuilt=rebuilt.result()
        )
    assert problems == []
    assert ("_pgflux",) in _BASELINES[pg_cluster]
    # the same shadow again: the cached baseline, and the plain path agrees
    assert verify_plan(pg_cluster, current, desired, statements, options) == []
    # a wrong plan is still caught on the overlapped path
    with rebuilding_current(pg_cluster, current, options) as rebuilt:
        problems = verify_plan(pg_cluster, current, desired, [], options, rebuilt=rebuilt.result())
    assert problems
    assert problems[0].startswith("after applying the plan the shadow still differs")


def _pg_class_statistics(dsn: str) -> tuple[int, int]:
    """pg_class's own row estimate, and its rows."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT c.reltuples::bigint, (SELECT count(*) FROM pg_catalog.pg_class)"
            " FROM pg_catalog.pg_class c WHERE c.oid = 'pg_catalog.pg_class'::regclass"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_analyze_catalogs_refreshes_statistics(db: ShadowDatabase) -> None:
    load(db.admin_dsn, "".join(f"CREATE TABLE t{i} (id int PRIMARY KEY);" for i in range(40)))
    relations = _pg_class_statistics(db.admin_dsn)[1]
    # a non-superuser: skipped with warnings, no error
    assert analyze_catalogs(db.dsn, min_relations=relations)
    assert analyze_catalogs(db.admin_dsn, min_relations=relations)
    estimate, rows = _pg_class_statistics(db.admin_dsn)
    assert estimate == rows


def test_analyze_catalogs_leaves_a_small_database_alone(db: ShadowDatabase) -> None:
    """Below `min_relations` the template's statistics plan the catalog queries well enough and
    ANALYZE would cost more than it saves: it is not run."""
    load(db.admin_dsn, "".join(f"CREATE TABLE t{i} (id int PRIMARY KEY);" for i in range(40)))
    before = _pg_class_statistics(db.admin_dsn)
    assert before[0] != before[1]  # the template's estimate, not this database's rows
    assert not analyze_catalogs(db.admin_dsn, min_relations=before[1] + 1)
    assert _pg_class_statistics(db.admin_dsn) == before
    assert not analyze_catalogs(db.admin_dsn)  # 40 tables: under the default threshold
    assert _pg_class_statistics(db.admin_dsn) == before


@pytest.mark.parametrize(
    ("kind", "schema", "name", "parent", "args"),
    [
        ("schema", None, "app", None, None),
        ("table", "app", "alpha", None, None),
        ("column", "app", "amount", "alpha", None),
        ("function", "app", "f", None, "integer, text"),
    ],
)
def test_fast_keys_are_the_validated_ones(
    kind: str, schema: str | None, name: str, parent: str | None, args: str | None
) -> None:
    validated = ObjectKey(kind=kind, schema_=schema, name=name, parent=parent, args=args)
    fast = ObjectKey.of(kind, schema, name, parent, args)
    assert fast == validated
    assert hash(fast) == hash(validated)
    assert fast.model_fields_set == validated.model_fields_set
    assert fast.model_dump() == validated.model_dump()
    assert fast.model_dump_json(by_alias=True) == validated.model_dump_json(by_alias=True)
    assert pickle.loads(pickle.dumps(fast)) == validated  # noqa: S301 (our own bytes)
    assert ObjectKey.model_validate_json(fast.model_dump_json(by_alias=True)) == fast
    assert {fast: 1}[validated] == 1


def test_objects_differ_ignores_owners_and_uncompared_fields(inspected: Schema) -> None:
    table, column = inspected.tables[0], inspected.columns[1]
    assert not objects_differ(table, table.model_copy(), manage_ownership=False)
    other_owner = table.model_copy(update={"owner": "someone"})
    assert not objects_differ(table, other_owner, manage_ownership=False)
    assert objects_differ(table, other_owner, manage_ownership=True)
    commented = other_owner.model_copy(update={"comment": "changed"})
    assert objects_differ(table, commented, manage_ownership=False)
    assert not objects_differ(column, column.model_copy(update={"position": 99}), False)
    assert objects_differ(
        column, column.model_copy(update={"not_null": not column.not_null}), False
    )
    assert objects_differ(table, column, manage_ownership=False)


def test_fingerprint_and_roles_are_computed_once_and_right(inspected: Schema) -> None:
    first = inspected.fingerprint()
    assert inspected.fingerprint() is first
    assert first == inspected._fingerprint()
    copy = inspected.model_copy(update={"tables": inspected.tables[1:]})
    assert copy.fingerprint() != first  # a copy has its own
    roles = roles_in(inspected, with_owners=True)
    roles.add("intruder")  # the caller's set is its own
    assert "intruder" not in roles_in(inspected, with_owners=True)
    assert roles_in(inspected, with_owners=True) == _roles_in(inspected, True)


def test_schema_differences_in_order_and_out_of_order(inspected: Schema) -> None:
    assert schema_differences(inspected, inspected.model_copy()) == []
    reordered = inspected.model_copy(
        update={f: tuple(reversed(getattr(inspected, f))) for f in OBJECT_FIELDS}
    )
    assert schema_differences(reordered, inspected) == []
    table = inspected.tables[0]
    owned = inspected.model_copy(
        update={"tables": (table.model_copy(update={"owner": "x"}), *inspected.tables[1:])}
    )
    assert schema_differences(owned, inspected, compare_owners=False) == []
    assert schema_differences(owned, inspected, compare_owners=True) == [
        f"differs {table.key}: owner"
    ]
    assert schema_differences(inspected.model_copy(update={"tables": ()}), inspected)[0] == (
        f"missing {min((t.key for t in inspected.tables), key=lambda k: k.sort_key)}"
    )


_NAMES = st.text(alphabet="aAbB_é1", min_size=1, max_size=3)


@given(
    st.lists(st.tuples(_NAMES, _NAMES, _NAMES), max_size=30),
    st.lists(st.tuples(_NAMES, _NAMES), max_size=30),
    st.lists(st.tuples(_NAMES, _NAMES), max_size=10),
)
def test_family_sort_keys_order_as_sort_key_does(
    column_names: list[tuple[str, str, str]],
    index_names: list[tuple[str, str]],
    routine_names: list[tuple[str, str]],
) -> None:
    # Columns and indexes take the attrgetter path, routines (args in their key) the
    # sort_key one; each must order its family exactly as the objects' sort_key does.
    families: list[tuple[SchemaObject, ...]] = [
        tuple(
            Column(schema_=s, table=t, name=n, position=1, type="integer")
            for s, t, n in column_names
        ),
        tuple(Index(schema_=s, name=n, table="t", definition="") for s, n in index_names),
        tuple(
            Routine(schema_=s, name="f", identity_args=a, definition="") for s, a in routine_names
        ),
    ]
    for items in families:
        fast = family_sort_keys(items)
        by_property = [obj.sort_key for obj in items]
        order = sorted(range(len(items)), key=fast.__getitem__)
        assert [by_property[i] for i in order] == sorted(by_property)
        pairs = list(itertools.pairwise(range(len(items))))
        assert [fast[a] < fast[b] for a, b in pairs] == [
            by_property[a] < by_property[b] for a, b in pairs
        ]


def test_inspection_runs_no_collection_before_freezing_its_model(db: ShadowDatabase) -> None:
    # The collector is paused from the start of inspection until its model is frozen: a
    # collection in between walks every object of the model (0.2 s at 10,000 tables) for no
    # garbage. Only the full collection before inspection starts may run. Enough tables that
    # the model's objects outnumber the collector's threshold (a collection would be due).
    load(
        db.admin_dsn,
        "\n".join(
            f"CREATE TABLE t{i} (id integer PRIMARY KEY, a text, b text, c integer);"
            for i in range(200)
        ),
    )
    started: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    frozen_before = gc.get_freeze_count()
    with psycopg.connect(db.admin_dsn) as conn:
        gc.callbacks.append(record)
        try:
            schema = run_catalog_queries(conn)
        finally:
            gc.callbacks.remove(record)
    assert started == [2]
    assert len(schema.columns) == 800
    assert gc.get_freeze_count() - frozen_before > gc.get_threshold()[0]
