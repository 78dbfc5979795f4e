"""Triggers and event triggers: inspection, convergence with exact hazards, no false positives."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

T = (
    "CREATE TABLE t (id integer PRIMARY KEY, name text, qty integer);\n"
    "CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n"
    "CREATE FUNCTION trg2() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;\n"
)
TRG = "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION trg();"
CT = (
    "CREATE CONSTRAINT TRIGGER ct AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED"
    " FOR EACH ROW EXECUTE FUNCTION trg2();"
)
V = "CREATE VIEW v AS SELECT id, name FROM t;\n"
E = (
    "CREATE FUNCTION et() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;\n"
    "CREATE FUNCTION et2() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN END $$;\n"
)
ETRG = "CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION et();"
BW = {"BLOCKS_WRITES"}
REPLACE = "CREATE OR REPLACE TRIGGER tr "

# (id, before, after, hazard codes of the whole plan, SQL fragments in plan order)
CASES = [
    ("create", T, T + TRG, BW, ["CREATE TRIGGER tr BEFORE INSERT ON public.t FOR EACH ROW"]),
    ("drop", T + TRG, T, set(), ["DROP TRIGGER tr ON public.t"]),
    (
        "change_timing_replaces",
        T + TRG,
        T + TRG.replace("BEFORE", "AFTER"),
        BW,
        [REPLACE + "AFTER INSERT ON public.t"],
    ),
    (
        "change_events_replaces",
        T + TRG,
        T + TRG.replace("INSERT", "INSERT OR DELETE"),
        BW,
        [REPLACE + "BEFORE INSERT OR DELETE ON public.t"],
    ),
    (
        "update_of_columns",
        T + TRG,
        T + TRG.replace("INSERT", "UPDATE OF name, qty"),
        BW,
        [REPLACE + "BEFORE UPDATE OF name, qty ON public.t"],
    ),
    (
        "when_clause",
        T + TRG.replace("INSERT", "UPDATE"),
        T
        + TRG.replace("INSERT", "UPDATE").replace(
            "FOR EACH ROW", "FOR EACH ROW WHEN (OLD.qty IS DISTINCT FROM NEW.qty)"
        ),
        BW,
        [REPLACE, "WHEN ((old.qty IS DISTINCT FROM new.qty))"],
    ),
    (
        "row_to_statement",
        T + TRG.replace("BEFORE", "AFTER"),
        T + TRG.replace("BEFORE", "AFTER").replace("EACH ROW", "EACH STATEMENT"),
        BW,
        [REPLACE + "AFTER INSERT ON public.t FOR EACH STATEMENT"],
    ),
    (
        "function_and_arguments",
        T + TRG,
        T + TRG.replace("trg()", "trg2('a', 'b')"),
        BW,
        [REPLACE, "EXECUTE FUNCTION public.trg2('a', 'b')"],
    ),
    (
        "transition_table",
        T,
        T + "CREATE TRIGGER tr AFTER UPDATE ON t REFERENCING OLD TABLE AS o NEW TABLE AS n"
        " FOR EACH STATEMENT EXECUTE FUNCTION trg2();",
        BW,
        ["REFERENCING OLD TABLE AS o NEW TABLE AS n"],
    ),
    (
        "disable",
        T + TRG,
        T + TRG + "ALTER TABLE t DISABLE TRIGGER tr;",
        set(),
        ["ALTER TABLE public.t DISABLE TRIGGER tr"],
    ),
    (
        "enable",
        T + TRG + "ALTER TABLE t DISABLE TRIGGER tr;",
        T + TRG,
        set(),
        ["ALTER TABLE public.t ENABLE TRIGGER tr"],
    ),
    (
        "enable_replica",
        T + TRG,
        T + TRG + "ALTER TABLE t ENABLE REPLICA TRIGGER tr;",
        set(),
        ["ALTER TABLE public.t ENABLE REPLICA TRIGGER tr"],
    ),
    (
        "enable_always",
        T + TRG,
        T + TRG + "ALTER TABLE t ENABLE ALWAYS TRIGGER tr;",
        set(),
        ["ALTER TABLE public.t ENABLE ALWAYS TRIGGER tr"],
    ),
    (
        "create_disabled",
        T,
        T + TRG + "ALTER TABLE t DISABLE TRIGGER tr;",
        BW,
        ["CREATE TRIGGER tr", "ALTER TABLE public.t DISABLE TRIGGER tr"],
    ),
    (
        "change_and_disable",
        T + TRG,
        T + TRG.replace("BEFORE", "AFTER") + "ALTER TABLE t DISABLE TRIGGER tr;",
        BW,
        [REPLACE, "ALTER TABLE public.t DISABLE TRIGGER tr"],
    ),
    ("constraint_create", T, T + CT, BW, ["CREATE CONSTRAINT TRIGGER ct AFTER INSERT"]),
    ("constraint_drop", T + CT, T, set(), ["DROP TRIGGER ct ON public.t"]),
    (
        "constraint_change_recreates",
        T + CT,
        T + CT.replace("INITIALLY DEFERRED", "INITIALLY IMMEDIATE"),
        BW,
        ["DROP TRIGGER ct ON public.t", "CREATE CONSTRAINT TRIGGER ct"],
    ),
    (
        "comment",
        T + TRG,
        T + TRG + "COMMENT ON TRIGGER tr ON t IS 'stamps';",
        set(),
        ["COMMENT ON TRIGGER tr ON public.t IS 'stamps'"],
    ),
    (
        "instead_of_on_view",
        T + V,
        T + V + "CREATE TRIGGER vt INSTEAD OF INSERT ON v FOR EACH ROW EXECUTE FUNCTION trg();",
        set(),
        ["CREATE TRIGGER vt INSTEAD OF INSERT ON public.v"],
    ),
    (
        "view_and_its_trigger_created_together",
        T,
        T + V + "CREATE TRIGGER vt INSTEAD OF INSERT ON v FOR EACH ROW EXECUTE FUNCTION trg();",
        set(),
        ["CREATE VIEW public.v", "CREATE TRIGGER vt"],
    ),
    (
        "function_and_trigger_created_together",
        "CREATE TABLE t (id integer PRIMARY KEY, name text, qty integer);",
        T + TRG,
        BW,
        ["CREATE OR REPLACE FUNCTION public.trg()", "CREATE TRIGGER tr"],
    ),
    (
        "trigger_function_body_change_keeps_trigger",
        T + TRG,
        T.replace("RETURN NEW;", "RETURN OLD;") + TRG,
        {"UNTRACKABLE_DEPENDENCIES"},
        ["CREATE OR REPLACE FUNCTION public.trg()"],
    ),
    (
        "partitioned_parent_only",
        "CREATE TABLE pt (id integer, k integer) PARTITION BY RANGE (k);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (10);" + T.split("\n", 1)[1],
        "CREATE TABLE pt (id integer, k integer) PARTITION BY RANGE (k);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (10);"
        + T.split("\n", 1)[1]
        + "CREATE TRIGGER tr AFTER INSERT ON pt FOR EACH ROW EXECUTE FUNCTION trg2();",
        BW,
        ["CREATE TRIGGER tr AFTER INSERT ON public.pt"],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "hazards", "fragments"),
    [pytest.param(b, a, h, f, id=i) for i, b, a, h, f in CASES],
)
def test_trigger_converges(
    make_db: MakeDb, before: str, after: str, hazards: set[str], fragments: list[str]
) -> None:
    result = assert_converges(make_db, before, after)
    assert result.hazard_codes == hazards, result.sql
    text = "\n".join(result.sql)
    positions = []
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in plan:\n{text}"
        positions.append(text.index(fragment))
    assert positions == sorted(positions), f"plan out of the expected order:\n{text}"


NO_DIFFERENCE = [
    (
        "event_trigger_spellings",
        E
        + ETRG.replace(
            "ddl_command_end", "ddl_command_end WHEN TAG IN ('ALTER TABLE', 'DROP TABLE')"
        ),
        E + "create event trigger E on DDL_COMMAND_END when tag in ('alter table', 'drop table')"
        " execute procedure public.et();",
    ),
    (
        "quoted_table_and_trigger",
        T.replace("TABLE t", 'TABLE "Order Items"')
        + 'CREATE TRIGGER "Stamp It" BEFORE INSERT ON "Order Items" FOR EACH ROW'
        " EXECUTE FUNCTION trg();",
        T.replace("TABLE t", 'TABLE "Order Items"')
        + 'create trigger "Stamp It" before insert on public."Order Items" for each row'
        " execute function public.trg();",
    ),
    (
        "keywords_case_and_schema",
        T
        + TRG.replace("INSERT", "UPDATE").replace("EACH ROW", "EACH ROW WHEN (OLD.qty <> NEW.qty)"),
        T + "create trigger TR before update on PUBLIC.t for each row"
        " when (old.QTY<>new.QTY) execute procedure public.trg();",
    ),
]


@pytest.mark.parametrize(("one", "two"), [pytest.param(a, b, id=i) for i, a, b in NO_DIFFERENCE])
def test_trigger_spelled_differently_plans_nothing(make_db: MakeDb, one: str, two: str) -> None:
    assert assert_converges(make_db, one, two).statements == []


EVENT_CASES = [
    (
        "create",
        E,
        E + ETRG,
        ["CREATE EVENT TRIGGER e ON ddl_command_end EXECUTE FUNCTION public.et()"],
    ),
    ("drop", E + ETRG, E, ["DROP EVENT TRIGGER e"]),
    (
        "create_with_tags",
        E,
        E
        + ETRG.replace(
            "ddl_command_end", "ddl_command_end WHEN TAG IN ('CREATE TABLE', 'DROP TABLE')"
        ),
        ["WHEN TAG IN ('CREATE TABLE', 'DROP TABLE')"],
    ),
    (
        "change_tags_recreates",
        E + ETRG,
        E + ETRG.replace("ddl_command_end", "ddl_command_end WHEN TAG IN ('CREATE TABLE')"),
        ["DROP EVENT TRIGGER e", "CREATE EVENT TRIGGER e"],
    ),
    (
        "change_event_recreates",
        E + ETRG,
        E + ETRG.replace("ddl_command_end", "sql_drop"),
        ["DROP EVENT TRIGGER e", "CREATE EVENT TRIGGER e ON sql_drop"],
    ),
    (
        "change_function_recreates",
        E + ETRG,
        E + ETRG.replace("et()", "et2()"),
        ["DROP EVENT TRIGGER e", "EXECUTE FUNCTION public.et2()"],
    ),
    (
        "disable",
        E + ETRG,
        E + ETRG + "ALTER EVENT TRIGGER e DISABLE;",
        ["ALTER EVENT TRIGGER e DISABLE"],
    ),
    (
        "enable",
        E + ETRG + "ALTER EVENT TRIGGER e DISABLE;",
        E + ETRG,
        ["ALTER EVENT TRIGGER e ENABLE"],
    ),
    (
        "enable_always",
        E + ETRG,
        E + ETRG + "ALTER EVENT TRIGGER e ENABLE ALWAYS;",
        ["ALTER EVENT TRIGGER e ENABLE ALWAYS"],
    ),
    (
        "create_disabled",
        E,
        E + ETRG + "ALTER EVENT TRIGGER e DISABLE;",
        ["CREATE EVENT TRIGGER e", "ALTER EVENT TRIGGER e DISABLE"],
    ),
    (
        "quoted_name",
        E,
        E + 'CREATE EVENT TRIGGER "Audit DDL" ON ddl_command_start EXECUTE FUNCTION et();',
        ['CREATE EVENT TRIGGER "Audit DDL" ON ddl_command_start'],
    ),
    (
        "comment",
        E + ETRG,
        E + ETRG + "COMMENT ON EVENT TRIGGER e IS 'audit';",
        ["COMMENT ON EVENT TRIGGER e IS 'audit'"],
    ),
    (
        "function_created_first",
        "",
        E + ETRG,
        ["CREATE OR REPLACE FUNCTION public.et()", "CREATE EVENT TRIGGER e"],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "fragments"), [pytest.param(b, a, f, id=i) for i, b, a, f in EVENT_CASES]
)
def test_event_trigger_converges(
    make_db: MakeDb, before: str, after: str, fragments: list[str]
) -> None:
    result = assert_converges(make_db, before, after)
    # No hazard code fits an event trigger (it takes no table lock and loses no data).
    assert result.hazard_codes == set(), result.sql
    text = "\n".join(result.sql)
    positions = []
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in plan:\n{text}"
        positions.append(text.index(fragment))
    assert positions == sorted(positions), f"plan out of the expected order:\n{text}"


def test_inspect_triggers(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        T
        + TRG.replace("INSERT", "UPDATE OF name")
        + CT
        + "ALTER TABLE t DISABLE TRIGGER tr; COMMENT ON TRIGGER tr ON t IS 'c';"
        # a foreign key makes internal triggers, which are not objects
        + "CREATE TABLE c (t_id integer REFERENCES t);"
        + E
        + ETRG.replace(
            "ddl_command_end", "ddl_command_end WHEN TAG IN ('DROP TABLE', 'CREATE TABLE')"
        )
        + "ALTER EVENT TRIGGER e ENABLE REPLICA;",
    )
    schema = inspect_dsn(db.admin_dsn)
    triggers = {t.key.display: t for t in schema.triggers}
    assert set(triggers) == {"public.t.ct", "public.t.tr"}
    tr = triggers["public.t.tr"]
    assert tr.definition == (
        "CREATE TRIGGER tr BEFORE UPDATE OF name ON public.t FOR EACH ROW"
        " EXECUTE FUNCTION public.trg()"
    )
    assert (tr.enabled, tr.constraint, tr.function, tr.comment) == (
        "disabled",
        False,
        "public.trg",
        "c",
    )
    assert triggers["public.t.ct"].constraint is True
    (event,) = schema.event_triggers
    assert (event.name, event.event, event.tags, event.enabled) == (
        "e",
        "ddl_command_end",
        ("CREATE TABLE", "DROP TABLE"),
        "replica",
    )
    assert (event.function_schema, event.function_name) == ("public", "et")


def test_partition_clones_are_not_objects(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        "CREATE TABLE pt (id integer, k integer) PARTITION BY RANGE (k);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (10);"
        "CREATE FUNCTION trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;"
        "CREATE TRIGGER tr AFTER INSERT ON pt FOR EACH ROW EXECUTE FUNCTION trg();",
    )
    assert [t.key.display for t in inspect_dsn(db.admin_dsn).triggers] == ["public.pt.tr"]


def test_trigger_rebuilt_around_column_type_change(make_db: MakeDb) -> None:
    trigger = TRG.replace("INSERT", "UPDATE").replace(
        "FOR EACH ROW", "FOR EACH ROW WHEN (OLD.qty IS DISTINCT FROM NEW.qty)"
    )
    result = assert_converges(
        make_db, T + trigger, T.replace("qty integer", "qty bigint") + trigger
    )
    assert result.hazard_codes == {"BLOCKS_READS_WRITES", "BLOCKS_WRITES", "TABLE_REWRITE"}
    text = "\n".join(result.sql)
    assert (
        text.index("DROP TRIGGER tr") < text.index("TYPE bigint") < text.index("CREATE TRIGGER tr")
    )


def test_trigger_on_new_table_blocks_nothing(make_db: MakeDb) -> None:
    result = assert_converges(make_db, "", T + TRG)
    text = "\n".join(result.sql)
    assert text.index("CREATE TABLE public.t") < text.index("CREATE TRIGGER tr")
    assert result.hazards_of("CREATE TRIGGER") == set()
