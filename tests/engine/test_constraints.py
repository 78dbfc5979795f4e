"""Constraints: inspect, and converge with the online forms and their exact hazards."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.diff.context import PlanOptions
from engine.shadow import ShadowDatabase
from tests.engine.convergence import Convergence, MakeDb, assert_converges, load

P = "CREATE TABLE p (id int NOT NULL, code text, n int);"
C = "CREATE TABLE c (id int NOT NULL, pid int, v int);"
BASE = P + C
DATA = "INSERT INTO p VALUES (1, 'a', 1), (2, 'b', 2); INSERT INTO c VALUES (1, 1, 1), (2, 2, 2);"
PK = "ALTER TABLE p ADD CONSTRAINT p_pkey PRIMARY KEY (id);"
FK = "ALTER TABLE c ADD CONSTRAINT c_pid_fkey FOREIGN KEY (pid) REFERENCES p (id)"
NT = {"NON_TRANSACTIONAL"}


def of_kind(result: Convergence, kind: str) -> tuple[list[str], set[str]]:
    """SQL and hazard codes of the statements on objects of `kind`."""
    statements = [s for s in result.statements if s.object.kind == kind]
    return [s.sql for s in statements], {h.code.value for s in statements for h in s.hazards}


# (before, after, data, exact hazard codes of constraint statements, SQL that must appear)
CASES: list[tuple[str, str, str, str, set[str], list[str]]] = [
    (
        "pk_new_table",
        "",
        P + PK,
        "",
        set(),
        ["ALTER TABLE public.p ADD CONSTRAINT p_pkey PRIMARY KEY (id)"],
    ),
    (
        "pk_existing_table_online",
        BASE,
        BASE + PK,
        DATA,
        {"INDEX_BUILD"} | NT,
        [
            "CREATE UNIQUE INDEX CONCURRENTLY p_pkey ON public.p (id)",
            "ALTER TABLE public.p ADD CONSTRAINT p_pkey PRIMARY KEY USING INDEX p_pkey",
        ],
    ),
    (
        "unique_existing_table_online",
        BASE,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE (code);",
        DATA,
        {"INDEX_BUILD"} | NT,
        [
            "CREATE UNIQUE INDEX CONCURRENTLY p_code_key ON public.p (code)",
            "ALTER TABLE public.p ADD CONSTRAINT p_code_key UNIQUE USING INDEX p_code_key",
        ],
    ),
    (
        "unique_deferrable_online",
        BASE,
        BASE
        + "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE (code) DEFERRABLE INITIALLY DEFERRED;",
        DATA,
        {"INDEX_BUILD"} | NT,
        [
            "ALTER TABLE public.p ADD CONSTRAINT p_code_key UNIQUE USING INDEX p_code_key "
            "DEFERRABLE INITIALLY DEFERRED"
        ],
    ),
    (
        "unique_nulls_not_distinct_online",
        BASE,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE NULLS NOT DISTINCT (code);",
        DATA,
        {"INDEX_BUILD"} | NT,
        ["CREATE UNIQUE INDEX CONCURRENTLY p_code_key ON public.p (code) NULLS NOT DISTINCT"],
    ),
    (
        "unique_include_online",
        BASE,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE (code) INCLUDE (n);",
        DATA,
        {"INDEX_BUILD"} | NT,
        ["ALTER TABLE public.p ADD CONSTRAINT p_code_key UNIQUE USING INDEX p_code_key"],
    ),
    (
        "unique_new_table",
        P,
        P + C + "ALTER TABLE c ADD CONSTRAINT c_v_key UNIQUE (v);",
        "",
        set(),
        ["ALTER TABLE public.c ADD CONSTRAINT c_v_key UNIQUE (v)"],
    ),
    (
        "check_existing_table_online",
        BASE,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        DATA,
        NT,
        [
            "ALTER TABLE public.p ADD CONSTRAINT p_n_check CHECK ((n > 0)) NOT VALID",
            "ALTER TABLE public.p VALIDATE CONSTRAINT p_n_check",
        ],
    ),
    (
        "check_new_table",
        "",
        P + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        "",
        set(),
        ["ALTER TABLE public.p ADD CONSTRAINT p_n_check CHECK ((n > 0))"],
    ),
    (
        "check_not_valid_stays_not_valid",
        BASE,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 5) NOT VALID;",
        DATA,
        set(),
        ["ALTER TABLE public.p ADD CONSTRAINT p_n_check CHECK ((n > 5)) NOT VALID"],
    ),
    (
        "check_not_valid_on_new_table",
        "",
        P + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 5) NOT VALID;",
        "",
        set(),
        ["ALTER TABLE public.p ADD CONSTRAINT p_n_check CHECK ((n > 5)) NOT VALID"],
    ),
    (
        "check_validate_in_place",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0) NOT VALID;",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        DATA,
        NT,
        ["ALTER TABLE public.p VALIDATE CONSTRAINT p_n_check"],
    ),
    (
        "check_unvalidate_recreates",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0) NOT VALID;",
        DATA,
        set(),
        [
            "ALTER TABLE public.p DROP CONSTRAINT p_n_check",
            "ALTER TABLE public.p ADD CONSTRAINT p_n_check CHECK ((n > 0)) NOT VALID",
        ],
    ),
    (
        "check_changed_expression",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n >= 0);",
        DATA,
        NT,
        [
            "ALTER TABLE public.p DROP CONSTRAINT p_n_check",
            "ALTER TABLE public.p ADD CONSTRAINT p_n_check CHECK ((n >= 0)) NOT VALID",
            "ALTER TABLE public.p VALIDATE CONSTRAINT p_n_check",
        ],
    ),
    (
        "check_no_inherit",
        BASE,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0) NO INHERIT;",
        DATA,
        NT,
        ["ALTER TABLE public.p ADD CONSTRAINT p_n_check CHECK ((n > 0)) NO INHERIT NOT VALID"],
    ),
    (
        "check_drop",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        BASE,
        DATA,
        set(),
        ["ALTER TABLE public.p DROP CONSTRAINT p_n_check"],
    ),
    (
        "fk_existing_tables_online",
        BASE + PK,
        BASE + PK + FK + ";",
        DATA,
        NT,
        [
            "ALTER TABLE public.c ADD CONSTRAINT c_pid_fkey"
            " FOREIGN KEY (pid) REFERENCES public.p(id) "
            "NOT VALID",
            "ALTER TABLE public.c VALIDATE CONSTRAINT c_pid_fkey",
        ],
    ),
    (
        "fk_new_table",
        P + PK,
        P + PK + C + FK + ";",
        "INSERT INTO p VALUES (1, 'a', 1);",
        set(),
        [
            "ALTER TABLE public.c ADD CONSTRAINT c_pid_fkey"
            " FOREIGN KEY (pid) REFERENCES public.p(id)"
        ],
    ),
    (
        "fk_new_referenced_table",
        C,
        C + P + PK + FK + " NOT VALID;",
        "INSERT INTO c VALUES (1, NULL, 1);",
        set(),
        [
            "ALTER TABLE public.c ADD CONSTRAINT c_pid_fkey"
            " FOREIGN KEY (pid) REFERENCES public.p(id) "
            "NOT VALID"
        ],
    ),
    (
        "fk_not_valid_stays_not_valid",
        BASE + PK,
        BASE + PK + FK + " NOT VALID;",
        DATA,
        set(),
        [
            "ALTER TABLE public.c ADD CONSTRAINT c_pid_fkey"
            " FOREIGN KEY (pid) REFERENCES public.p(id) "
            "NOT VALID"
        ],
    ),
    (
        "fk_actions_change",
        BASE + PK + FK + ";",
        BASE + PK + FK + " ON DELETE CASCADE ON UPDATE SET NULL;",
        DATA,
        NT,
        [
            "ALTER TABLE public.c DROP CONSTRAINT c_pid_fkey",
            "ALTER TABLE public.c ADD CONSTRAINT c_pid_fkey"
            " FOREIGN KEY (pid) REFERENCES public.p(id) "
            "ON UPDATE SET NULL ON DELETE CASCADE NOT VALID",
            "ALTER TABLE public.c VALIDATE CONSTRAINT c_pid_fkey",
        ],
    ),
    (
        "fk_match_full",
        BASE + PK + FK + ";",
        BASE + PK + FK + " MATCH FULL;",
        DATA,
        NT,
        ["FOREIGN KEY (pid) REFERENCES public.p(id) MATCH FULL NOT VALID"],
    ),
    (
        "fk_deferrable",
        BASE + PK + FK + ";",
        BASE + PK + FK + " DEFERRABLE INITIALLY DEFERRED;",
        DATA,
        NT,
        ["FOREIGN KEY (pid) REFERENCES public.p(id) DEFERRABLE INITIALLY DEFERRED NOT VALID"],
    ),
    (
        "fk_set_null_columns",
        BASE + PK + FK + ";",
        BASE + PK + FK + " ON DELETE SET NULL (pid);",
        DATA,
        NT,
        ["FOREIGN KEY (pid) REFERENCES public.p(id) ON DELETE SET NULL (pid) NOT VALID"],
    ),
    (
        "fk_drop",
        BASE + PK + FK + ";",
        BASE + PK,
        DATA,
        set(),
        ["ALTER TABLE public.c DROP CONSTRAINT c_pid_fkey"],
    ),
    (
        "pk_drop_is_index_dropped",
        BASE + PK,
        BASE,
        DATA,
        {"INDEX_DROPPED"},
        ["ALTER TABLE public.p DROP CONSTRAINT p_pkey"],
    ),
    (
        "unique_drop_is_index_dropped",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE (code);",
        BASE,
        DATA,
        {"INDEX_DROPPED"},
        ["ALTER TABLE public.p DROP CONSTRAINT p_code_key"],
    ),
    (
        "pk_columns_change_rebuilds_fk",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_pkey PRIMARY KEY (id);" + FK + ";",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_pkey UNIQUE (id);" + FK + ";",
        DATA,
        {"INDEX_DROPPED", "INDEX_BUILD"} | NT,
        [
            "ALTER TABLE public.c DROP CONSTRAINT c_pid_fkey",
            "ALTER TABLE public.p DROP CONSTRAINT p_pkey",
            "ALTER TABLE public.p ADD CONSTRAINT p_pkey UNIQUE USING INDEX p_pkey",
            "ALTER TABLE public.c VALIDATE CONSTRAINT c_pid_fkey",
        ],
    ),
    (
        "exclusion_existing_table",
        BASE,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_excl EXCLUDE USING btree (id WITH =);",
        DATA,
        {"FULL_SCAN_UNDER_LOCK", "BLOCKS_READS_WRITES"},
        ["ALTER TABLE public.p ADD CONSTRAINT p_excl EXCLUDE USING btree (id WITH =)"],
    ),
    (
        "exclusion_new_table",
        "",
        P + "ALTER TABLE p ADD CONSTRAINT p_excl EXCLUDE USING btree (id WITH =) WHERE (n > 0);",
        "",
        set(),
        [
            "ALTER TABLE public.p ADD CONSTRAINT p_excl EXCLUDE USING btree (id WITH =) "
            "WHERE ((n > 0))"
        ],
    ),
    (
        "exclusion_drop",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_excl EXCLUDE USING btree (id WITH =);",
        BASE,
        DATA,
        {"INDEX_DROPPED"},
        ["ALTER TABLE public.p DROP CONSTRAINT p_excl"],
    ),
    (
        "comment_on_constraint",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        BASE
        + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);"
        + "COMMENT ON CONSTRAINT p_n_check ON p IS 'positive';",
        DATA,
        set(),
        ["COMMENT ON CONSTRAINT p_n_check ON public.p IS 'positive'"],
    ),
    (
        "quoted_names",
        'CREATE TABLE "Order Lines" ("Qty" int);',
        'CREATE TABLE "Order Lines" ("Qty" int);'
        'ALTER TABLE "Order Lines" ADD CONSTRAINT "Qty positive" CHECK ("Qty" > 0);',
        'INSERT INTO "Order Lines" VALUES (1);',
        NT,
        [
            'ALTER TABLE public."Order Lines" ADD CONSTRAINT "Qty positive" CHECK (("Qty" > 0)) '
            "NOT VALID"
        ],
    ),
    (
        "other_schema",
        "CREATE SCHEMA app; CREATE TABLE app.t (id int NOT NULL);",
        "CREATE SCHEMA app; CREATE TABLE app.t (id int NOT NULL);"
        "ALTER TABLE app.t ADD CONSTRAINT t_pkey PRIMARY KEY (id);",
        "INSERT INTO app.t VALUES (1);",
        {"INDEX_BUILD"} | NT,
        ["ALTER TABLE app.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_pkey"],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "data", "hazards", "sql"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_constraint_converges(
    make_db: MakeDb, before: str, after: str, data: str, hazards: set[str], sql: list[str]
) -> None:
    result = assert_converges(make_db, before, after, data=data)
    statements, codes = of_kind(result, "constraint")
    assert codes == hazards, statements
    assert_in_order(result.sql, sql)


def assert_in_order(statements: list[str], fragments: list[str]) -> None:
    """Each fragment is in some statement, and they come in the order given."""
    positions = []
    for fragment in fragments:
        found = [i for i, s in enumerate(statements) if fragment in s]
        assert found, f"{fragment!r} not in {statements}"
        positions.append(found[0])
    assert positions == sorted(positions), statements


OFFLINE: list[tuple[str, str, set[str]]] = [
    (
        "check",
        "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        {"FULL_SCAN_UNDER_LOCK", "BLOCKS_READS_WRITES"},
    ),
    (
        "unique",
        "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE (code);",
        {"FULL_SCAN_UNDER_LOCK", "BLOCKS_READS_WRITES"},
    ),
    ("foreign_key", PK + FK + ";", {"FULL_SCAN_UNDER_LOCK", "BLOCKS_WRITES"}),
    ("check_not_valid", "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0) NOT VALID;", set()),
]


@pytest.mark.parametrize(("extra", "hazards"), [pytest.param(*c[1:], id=c[0]) for c in OFFLINE])
def test_offline_forms_carry_hazards(make_db: MakeDb, extra: str, hazards: set[str]) -> None:
    before = BASE + (PK if extra.startswith(PK) else "")
    result = assert_converges(
        make_db, before, BASE + extra, data=DATA, options=PlanOptions(online=False)
    )
    statements, codes = of_kind(result, "constraint")
    assert len(statements) == 1, statements
    assert "NOT VALID" not in statements[0] or "NOT VALID" in extra
    assert codes == hazards


def test_inspect_constraints(db: ShadowDatabase) -> None:
    load(
        db.admin_dsn,
        BASE + PK + FK + " ON DELETE CASCADE NOT VALID;"
        "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE (code) DEFERRABLE;"
        "CREATE TABLE pt (id int PRIMARY KEY) PARTITION BY RANGE (id);"
        "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (10);"
        "CREATE TABLE kid (x int CHECK (x > 0)); CREATE TABLE kid2 () INHERITS (kid);",
    )
    schema = inspect_dsn(db.admin_dsn)
    by_name = {(c.table, c.name): c for c in schema.constraints}
    # The partition's key and the inherited check come with their parents.
    assert set(by_name) == {
        ("p", "p_pkey"),
        ("c", "c_pid_fkey"),
        ("p", "p_code_key"),
        ("pt", "pt_pkey"),
        ("kid", "kid_x_check"),
    }
    fk = by_name[("c", "c_pid_fkey")]
    assert fk.type == "foreign_key"
    assert not fk.validated
    assert fk.definition == "FOREIGN KEY (pid) REFERENCES public.p(id) ON DELETE CASCADE"
    assert fk.references is not None
    assert fk.references.name == "p"
    uq = by_name[("p", "p_code_key")]
    assert uq.deferrable
    assert not uq.deferred
    assert uq.index_definition == "CREATE UNIQUE INDEX p_code_key ON public.p USING btree (code)"
    assert by_name[("pt", "pt_pkey")].on_partitioned
    assert schema.indexes == ()  # indexes of constraints are not separate objects


def test_constraints_name_their_columns(db: ShadowDatabase) -> None:
    """The columns each constraint names (its dependencies on columns, which the catalog's
    dependency rows leave out): conkey on its table, a foreign key's confkey on the target."""
    load(
        db.admin_dsn,
        "CREATE TABLE p (a int, b int, c int, PRIMARY KEY (b, a), UNIQUE (c) INCLUDE (b));"
        "CREATE TABLE c (x int, y int, z int CHECK (z > x + 1),"
        " FOREIGN KEY (y, x) REFERENCES p (b, a));",
    )
    schema = inspect_dsn(db.admin_dsn)
    by_name = {c.name: c for c in schema.constraints}
    assert by_name["p_pkey"].columns == ("a", "b")  # column order, not key order
    assert by_name["p_c_b_key"].columns == ("b", "c")  # INCLUDE columns too (not in conkey)
    assert by_name["c_check"].columns == ("x", "z")
    fk = by_name["c_y_x_fkey"]
    assert (fk.columns, fk.referenced_columns) == (("x", "y"), ("a", "b"))
    deps = {(d.dependent.name, d.referenced.name) for d in schema.dependencies}
    # what the model says is not repeated in the dependency rows
    assert not deps & {("c_check", "z"), ("c_y_x_fkey", "a"), ("p_pkey", "b"), ("p_c_b_key", "b")}
    assert {k.display for k in fk.implied_deps()} == {
        "public.c",
        "public.c.x",
        "public.c.y",
        "public.p",
        "public.p.a",
        "public.p.b",
    }


SPELLINGS: list[tuple[str, str, str]] = [
    (
        "inline_vs_alter_pk",
        "CREATE TABLE p (id integer PRIMARY KEY);",
        "create table p (id int4 not null);"
        "alter table public.p add constraint p_pkey primary key (id);",
    ),
    (
        "check_whitespace_and_parens",
        "CREATE TABLE p (n int CONSTRAINT n_pos CHECK (n>0));",
        "CREATE TABLE p (n int, CONSTRAINT n_pos CHECK ((n > 0)));",
    ),
    (
        "fk_defaults_spelled",
        "CREATE TABLE p (id int PRIMARY KEY);CREATE TABLE c (pid int REFERENCES p);",
        "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (pid int, CONSTRAINT c_pid_fkey "
        "FOREIGN KEY (pid) REFERENCES public.p (id) MATCH SIMPLE ON DELETE NO ACTION "
        "NOT DEFERRABLE);",
    ),
    (
        "unique_varchar_spelling",
        "CREATE TABLE p (code varchar(5) UNIQUE);",
        "CREATE TABLE p (code character varying(5), UNIQUE (code));",
    ),
]


@pytest.mark.parametrize(("a", "b"), [pytest.param(*c[1:], id=c[0]) for c in SPELLINGS])
def test_no_false_positives(make_db: MakeDb, a: str, b: str) -> None:
    result = assert_converges(make_db, a, b)
    assert result.statements == []


def test_nulls_not_distinct_needs_15(make_db: MakeDb, pg_major: int) -> None:
    if pg_major < 15:
        pytest.skip("NULLS NOT DISTINCT is PostgreSQL 15+")
    result = assert_converges(
        make_db,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE (code);",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE NULLS NOT DISTINCT (code);",
        data=DATA,
    )
    assert_in_order(
        result.sql,
        [
            "ALTER TABLE public.p DROP CONSTRAINT p_code_key",
            "CREATE UNIQUE INDEX CONCURRENTLY p_code_key ON public.p (code) NULLS NOT DISTINCT",
            "ALTER TABLE public.p ADD CONSTRAINT p_code_key UNIQUE USING INDEX p_code_key",
        ],
    )
    assert result.hazard_codes == {"INDEX_DROPPED", "INDEX_BUILD", "NON_TRANSACTIONAL"}


PT = (
    "CREATE TABLE pt (id int NOT NULL, pid int) PARTITION BY RANGE (id);"
    "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100);"
)
PT_DATA = "INSERT INTO pt VALUES (1, 1), (2, 2);"
MORE: list[tuple[str, str, str, str, set[str], list[str]]] = [
    (
        "pk_on_partitioned_table_is_plain",
        PT,
        PT + "ALTER TABLE pt ADD CONSTRAINT pt_pkey PRIMARY KEY (id);",
        PT_DATA,
        {"FULL_SCAN_UNDER_LOCK", "BLOCKS_READS_WRITES"},
        ["ALTER TABLE public.pt ADD CONSTRAINT pt_pkey PRIMARY KEY (id)"],
    ),
    (
        "fk_on_partitioned_table_is_plain",
        PT + P + PK,
        PT + P + PK + "ALTER TABLE pt ADD CONSTRAINT pt_pid_fkey FOREIGN KEY (pid) REFERENCES p;",
        "INSERT INTO p VALUES (1, 'a', 1), (2, 'b', 2);" + PT_DATA,
        {"FULL_SCAN_UNDER_LOCK", "BLOCKS_WRITES"},
        [
            "ALTER TABLE public.pt ADD CONSTRAINT pt_pid_fkey"
            " FOREIGN KEY (pid) REFERENCES public.p(id)"
        ],
    ),
    (
        "check_on_partitioned_table_online",
        PT,
        PT + "ALTER TABLE pt ADD CONSTRAINT pt_pid_check CHECK (pid > 0);",
        PT_DATA,
        NT,
        [
            "ALTER TABLE public.pt ADD CONSTRAINT pt_pid_check CHECK ((pid > 0)) NOT VALID",
            "ALTER TABLE public.pt VALIDATE CONSTRAINT pt_pid_check",
        ],
    ),
    (
        "pk_on_nullable_column",
        "CREATE TABLE p (id int, code text);",
        "CREATE TABLE p (id int, code text); ALTER TABLE p ADD CONSTRAINT p_pkey PRIMARY KEY (id);",
        "INSERT INTO p VALUES (1, 'a');",
        {"INDEX_BUILD"} | NT,
        ["ALTER TABLE public.p ADD CONSTRAINT p_pkey PRIMARY KEY USING INDEX p_pkey"],
    ),
    (
        "unique_index_becomes_constraint",
        BASE + "CREATE UNIQUE INDEX p_code_key ON p (code);",
        BASE + "ALTER TABLE p ADD CONSTRAINT p_code_key UNIQUE (code);",
        DATA,
        {"INDEX_BUILD"} | NT,
        [
            "DROP INDEX CONCURRENTLY public.p_code_key",
            "CREATE UNIQUE INDEX CONCURRENTLY p_code_key ON public.p (code)",
        ],
    ),
    (
        "check_renamed_is_drop_and_add",
        BASE + "ALTER TABLE p ADD CONSTRAINT n_pos CHECK (n > 0);",
        BASE + "ALTER TABLE p ADD CONSTRAINT n_positive CHECK (n > 0);",
        DATA,
        NT,
        [
            "ALTER TABLE public.p DROP CONSTRAINT n_pos",
            "ALTER TABLE public.p ADD CONSTRAINT n_positive CHECK ((n > 0)) NOT VALID",
            "ALTER TABLE public.p VALIDATE CONSTRAINT n_positive",
        ],
    ),
    (
        "fk_to_other_schema",
        "CREATE SCHEMA ref; CREATE TABLE ref.p (id int PRIMARY KEY);" + C,
        "CREATE SCHEMA ref; CREATE TABLE ref.p (id int PRIMARY KEY);"
        + C
        + "ALTER TABLE c ADD CONSTRAINT c_pid_fkey FOREIGN KEY (pid) REFERENCES ref.p;",
        "INSERT INTO ref.p VALUES (1), (2);" + "INSERT INTO c VALUES (1, 1, 1);",
        NT,
        [
            "ALTER TABLE public.c ADD CONSTRAINT c_pid_fkey FOREIGN KEY (pid) REFERENCES ref.p(id) "
            "NOT VALID",
            "ALTER TABLE public.c VALIDATE CONSTRAINT c_pid_fkey",
        ],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "data", "hazards", "sql"),
    [pytest.param(*case[1:], id=case[0]) for case in MORE],
)
def test_more_constraints_converge(
    make_db: MakeDb, before: str, after: str, data: str, hazards: set[str], sql: list[str]
) -> None:
    result = assert_converges(make_db, before, after, data=data)
    _, codes = of_kind(result, "constraint")
    assert codes == hazards, result.sql
    assert_in_order(result.sql, sql)


def test_online_steps_carry_locks_and_transactions(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        BASE,
        BASE + PK + FK + ";" + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        data="INSERT INTO p VALUES (1, 'a', 1); INSERT INTO c VALUES (1, 1, 1);",
    )
    assert result.hazard_codes == {"INDEX_BUILD", "NON_TRANSACTIONAL"}
    by_sql = {s.sql: (s.lock, s.transactional) for s in result.statements}
    assert by_sql["CREATE UNIQUE INDEX CONCURRENTLY p_pkey ON public.p (id)"] == (
        "SHARE UPDATE EXCLUSIVE",
        False,
    )
    assert by_sql["ALTER TABLE public.p ADD CONSTRAINT p_pkey PRIMARY KEY USING INDEX p_pkey"] == (
        "ACCESS EXCLUSIVE",
        True,
    )
    fk_add = next(s for s in result.statements if "FOREIGN KEY" in s.sql)
    assert fk_add.lock == "SHARE ROW EXCLUSIVE"
    check_add = next(s for s in result.statements if "CHECK" in s.sql)
    assert check_add.lock == "ACCESS EXCLUSIVE"
    validates = [s for s in result.statements if "VALIDATE" in s.sql]
    assert {s.lock for s in validates} == {"SHARE UPDATE EXCLUSIVE"}
    assert len(validates) == 2
    # The foreign key is added after the key it references.
    assert result.sql.index(fk_add.sql) > result.sql.index(
        "ALTER TABLE public.p ADD CONSTRAINT p_pkey PRIMARY KEY USING INDEX p_pkey"
    )


GIST = "CREATE TABLE bk (room int, during int4range);"
EXTRA: list[tuple[str, str, str, str, set[str], list[str]]] = [
    (
        "exclusion_gist_range",
        GIST,
        GIST + "ALTER TABLE bk ADD CONSTRAINT bk_no_overlap EXCLUDE USING gist (during WITH &&);",
        "INSERT INTO bk VALUES (1, int4range(1, 5));",
        {"FULL_SCAN_UNDER_LOCK", "BLOCKS_READS_WRITES"},
        ["ALTER TABLE public.bk ADD CONSTRAINT bk_no_overlap EXCLUDE USING gist (during WITH &&)"],
    ),
    (
        "exclusion_changed",
        GIST + "ALTER TABLE bk ADD CONSTRAINT bk_x EXCLUDE USING gist (during WITH &&);",
        GIST + "ALTER TABLE bk ADD CONSTRAINT bk_x EXCLUDE USING gist (during WITH &&) DEFERRABLE;",
        "INSERT INTO bk VALUES (1, int4range(1, 5));",
        {"INDEX_DROPPED", "FULL_SCAN_UNDER_LOCK", "BLOCKS_READS_WRITES"},
        [
            "ALTER TABLE public.bk DROP CONSTRAINT bk_x",
            "ALTER TABLE public.bk ADD CONSTRAINT bk_x EXCLUDE USING gist (during WITH &&) "
            "DEFERRABLE",
        ],
    ),
    (
        "pk_with_storage_params_online",
        BASE,
        BASE + "ALTER TABLE p ADD CONSTRAINT p_pkey PRIMARY KEY (id) WITH (fillfactor = 80);",
        DATA,
        {"INDEX_BUILD"} | NT,
        [
            "CREATE UNIQUE INDEX CONCURRENTLY p_pkey ON public.p (id) WITH (fillfactor = '80')",
            "ALTER TABLE public.p ADD CONSTRAINT p_pkey PRIMARY KEY USING INDEX p_pkey",
        ],
    ),
    (
        "column_retype_keeps_constraints",
        BASE + PK + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        "CREATE TABLE p (id bigint NOT NULL, code text, n int);"
        + C
        + PK
        + "ALTER TABLE p ADD CONSTRAINT p_n_check CHECK (n > 0);",
        DATA,
        set(),
        [],
    ),
]


@pytest.mark.parametrize(
    ("before", "after", "data", "hazards", "sql"),
    [pytest.param(*case[1:], id=case[0]) for case in EXTRA],
)
def test_extra_constraints_converge(
    make_db: MakeDb, before: str, after: str, data: str, hazards: set[str], sql: list[str]
) -> None:
    result = assert_converges(make_db, before, after, data=data)
    statements, codes = of_kind(result, "constraint")
    assert codes == hazards, result.sql
    assert_in_order(result.sql, sql)
    if not sql:
        assert statements == []


def test_domain_constraints_are_not_table_constraints(db: ShadowDatabase) -> None:
    load(db.admin_dsn, "CREATE DOMAIN pos AS int CHECK (VALUE > 0); CREATE TABLE d (x pos);")
    assert inspect_dsn(db.admin_dsn).constraints == ()
