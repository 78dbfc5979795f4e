"""PostgreSQL 18's new constraints, inspected, added to live tables, changed and dropped, with
exact statements and hazards; each case converges (pg_dump) and re-plans empty.

Temporal keys: PRIMARY KEY / UNIQUE ... WITHOUT OVERLAPS and FOREIGN KEY ... PERIOD.

A temporal key's index is GiST, and PostgreSQL builds no UNIQUE GiST index on its own
(`access method "gist" does not support unique indexes`), so the online form of a key (build
the index concurrently, then ADD CONSTRAINT ... USING INDEX) does not exist for it: the plan
adds it plainly and says that it blocks. A foreign key with PERIOD still goes NOT VALID, then
VALIDATE alone.

NOT ENFORCED CHECK and FOREIGN KEY constraints check no row. PostgreSQL never validates one
(`convalidated` is false, and VALIDATE CONSTRAINT is refused), and pg_get_constraintdef ends it
with NOT ENFORCED instead of NOT VALID. So the plan adds one as it is, which scans nothing.
Enforcing one later, or ceasing to, is a new definition: dropped and added again, the enforced
one in the online form (NOT VALID, then VALIDATE).
"""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from tests.engine.convergence import MakeDb, assert_converges, load

BASE = (
    "CREATE EXTENSION btree_gist;"
    " CREATE TABLE rooms (id int NOT NULL, valid_at daterange NOT NULL, name text);"
    " CREATE TABLE bookings (id int NOT NULL, room_id int, valid_at daterange NOT NULL);"
)
ROWS = (
    "INSERT INTO rooms VALUES (1, '[2024-01-01,2024-02-01)', 'a'),"
    " (1, '[2024-02-01,2024-03-01)', 'b');"
    " INSERT INTO bookings VALUES (1, 1, '[2024-01-05,2024-01-10)');"
)
ROOMS_PK = " ALTER TABLE rooms ADD CONSTRAINT rooms_pk PRIMARY KEY (id, valid_at WITHOUT OVERLAPS);"
ROOMS_UQ = " ALTER TABLE rooms ADD CONSTRAINT rooms_uq UNIQUE (id, valid_at WITHOUT OVERLAPS);"
BOOKINGS_UQ = (
    " ALTER TABLE bookings ADD CONSTRAINT bookings_uq UNIQUE (id, valid_at WITHOUT OVERLAPS);"
)
FK = (
    " ALTER TABLE bookings ADD CONSTRAINT bookings_room_fk FOREIGN KEY (room_id, PERIOD valid_at)"
    " REFERENCES rooms (id, PERIOD valid_at);"
)
BLOCKING = {"FULL_SCAN_UNDER_LOCK", "BLOCKS_READS_WRITES"}


@pytest.fixture(autouse=True)
def _needs_18(pg_major: int) -> None:
    if pg_major < 18:
        pytest.skip("temporal keys (WITHOUT OVERLAPS, PERIOD) are PostgreSQL 18's")


def test_inspect_temporal_keys(make_db: MakeDb) -> None:
    db = make_db()
    load(db.admin_dsn, BASE + ROOMS_PK + FK + " CREATE TABLE plain (id int PRIMARY KEY);")
    keys = {c.name: c for c in inspect_dsn(db.admin_dsn).constraints}
    assert keys["rooms_pk"].definition == "PRIMARY KEY (id, valid_at WITHOUT OVERLAPS)"
    assert keys["bookings_room_fk"].definition == (
        "FOREIGN KEY (room_id, PERIOD valid_at) REFERENCES public.rooms(id, PERIOD valid_at)"
    )
    assert keys["bookings_room_fk"].referenced_columns == ("id", "valid_at")
    # no online form for the GiST key; the B-tree one keeps it
    assert keys["rooms_pk"].index_definition is None
    assert keys["plain_pkey"].index_definition == (
        "CREATE UNIQUE INDEX plain_pkey ON public.plain USING btree (id)"
    )


# (before, after, hazards, statements: exact, in order)
CASES = [
    pytest.param(
        BASE,
        BASE + ROOMS_PK,
        BLOCKING,
        [
            "ALTER TABLE public.rooms ADD CONSTRAINT rooms_pk"
            " PRIMARY KEY (id, valid_at WITHOUT OVERLAPS)"
        ],
        id="primary-key-on-a-live-table",
    ),
    pytest.param(
        BASE + ROOMS_PK,
        BASE + ROOMS_PK + BOOKINGS_UQ,
        BLOCKING,
        [
            "ALTER TABLE public.bookings ADD CONSTRAINT bookings_uq"
            " UNIQUE (id, valid_at WITHOUT OVERLAPS)"
        ],
        id="unique-on-a-live-table",
    ),
    pytest.param(
        BASE + ROOMS_PK,
        BASE + ROOMS_PK + FK,
        {"NON_TRANSACTIONAL"},
        [
            "ALTER TABLE public.bookings ADD CONSTRAINT bookings_room_fk FOREIGN KEY"
            " (room_id, PERIOD valid_at) REFERENCES public.rooms(id, PERIOD valid_at) NOT VALID",
            "ALTER TABLE public.bookings VALIDATE CONSTRAINT bookings_room_fk",
        ],
        id="foreign-key-with-period-not-valid-then-validated",
    ),
    pytest.param(
        BASE + ROOMS_PK + FK,
        BASE + ROOMS_UQ + FK,
        # the key is made again (its foreign key with it, checked below)
        {"BLOCKS_READS_WRITES", "FULL_SCAN_UNDER_LOCK", "INDEX_DROPPED", "NON_TRANSACTIONAL"},
        None,
        id="the-referenced-key-replaced",
    ),
    pytest.param(BASE + ROOMS_PK + FK, BASE, {"INDEX_DROPPED"}, None, id="dropped"),
    pytest.param(
        "",
        BASE + ROOMS_PK + BOOKINGS_UQ + FK,
        {"EXTENSION_CHANGE"},
        None,
        id="from-nothing",
    ),
]


@pytest.mark.parametrize(("before", "after", "hazards", "statements"), CASES)
def test_temporal_key_change(
    make_db: MakeDb,
    before: str,
    after: str,
    hazards: set[str] | None,
    statements: list[str] | None,
) -> None:
    data = ROWS if before else ""
    assert_converges(make_db, before, after, data=data).expect(hazards, statements)


def test_a_replaced_referenced_key_rebuilds_the_foreign_key(make_db: MakeDb) -> None:
    result = assert_converges(make_db, BASE + ROOMS_PK + FK, BASE + ROOMS_UQ + FK, data=ROWS)
    sql = result.sql
    drop_fk = sql.index("ALTER TABLE public.bookings DROP CONSTRAINT bookings_room_fk")
    drop_pk = sql.index("ALTER TABLE public.rooms DROP CONSTRAINT rooms_pk")
    add_uq = next(i for i, s in enumerate(sql) if "ADD CONSTRAINT rooms_uq" in s)
    add_fk = next(i for i, s in enumerate(sql) if "ADD CONSTRAINT bookings_room_fk" in s)
    assert drop_fk < drop_pk
    assert add_uq < add_fk
    assert (
        "ALTER TABLE public.rooms ADD CONSTRAINT rooms_uq UNIQUE (id, valid_at WITHOUT OVERLAPS)"
        in sql
    )


NE_BASE = "CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE t (a int, pid int);"
NE_ROWS = "INSERT INTO p VALUES (1); INSERT INTO t VALUES (1, 1), (-1, 2);"
NE_CHECK = " ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a > 0) NOT ENFORCED;"
NE_FK = " ALTER TABLE t ADD CONSTRAINT t_pid_fk FOREIGN KEY (pid) REFERENCES p NOT ENFORCED;"
ENFORCED_CHECK = " ALTER TABLE t ADD CONSTRAINT t_a_check CHECK (a > 0);"
ENFORCED_FK = " ALTER TABLE t ADD CONSTRAINT t_pid_fk FOREIGN KEY (pid) REFERENCES p;"


def test_inspect_not_enforced(make_db: MakeDb) -> None:
    db = make_db()
    load(db.admin_dsn, NE_BASE + NE_CHECK + NE_FK + " ALTER TABLE t ADD CHECK (a < 9) NOT VALID;")
    keys = {c.name: c for c in inspect_dsn(db.admin_dsn).constraints}
    assert keys["t_a_check"].definition == "CHECK ((a > 0)) NOT ENFORCED"
    assert keys["t_pid_fk"].definition == "FOREIGN KEY (pid) REFERENCES public.p(id) NOT ENFORCED"
    assert not keys["t_a_check"].enforced
    assert not keys["t_pid_fk"].enforced
    # never validated by PostgreSQL, but not NOT VALID either: nothing to validate
    assert keys["t_a_check"].validated
    assert keys["t_a_check1"].enforced
    assert not keys["t_a_check1"].validated
    assert keys["t_a_check1"].definition == "CHECK ((a < 9))"


# rows of t break both constraints (a = -1, pid = 2): only NOT ENFORCED ones can be added
NOT_ENFORCED_CASES = [
    pytest.param(
        NE_BASE,
        NE_BASE + NE_CHECK + NE_FK,
        NE_ROWS,
        set(),
        [
            "ALTER TABLE public.t ADD CONSTRAINT t_a_check CHECK ((a > 0)) NOT ENFORCED",
            "ALTER TABLE public.t ADD CONSTRAINT t_pid_fk FOREIGN KEY (pid)"
            " REFERENCES public.p(id) NOT ENFORCED",
        ],
        id="added-to-a-live-table",
    ),
    pytest.param(
        NE_BASE + ENFORCED_CHECK + ENFORCED_FK,
        NE_BASE + NE_CHECK + NE_FK,
        "INSERT INTO p VALUES (1); INSERT INTO t VALUES (1, 1);",
        set(),
        [
            "ALTER TABLE public.t DROP CONSTRAINT t_a_check",
            "ALTER TABLE public.t DROP CONSTRAINT t_pid_fk",
            "ALTER TABLE public.t ADD CONSTRAINT t_a_check CHECK ((a > 0)) NOT ENFORCED",
            "ALTER TABLE public.t ADD CONSTRAINT t_pid_fk FOREIGN KEY (pid)"
            " REFERENCES public.p(id) NOT ENFORCED",
        ],
        id="no-longer-enforced",
    ),
    pytest.param(
        NE_BASE + NE_CHECK + NE_FK,
        NE_BASE + ENFORCED_CHECK + ENFORCED_FK,
        "INSERT INTO p VALUES (1); INSERT INTO t VALUES (1, 1);",
        {"NON_TRANSACTIONAL"},
        [
            "ALTER TABLE public.t DROP CONSTRAINT t_a_check",
            "ALTER TABLE public.t DROP CONSTRAINT t_pid_fk",
            "ALTER TABLE public.t ADD CONSTRAINT t_a_check CHECK ((a > 0)) NOT VALID",
            "ALTER TABLE public.t ADD CONSTRAINT t_pid_fk FOREIGN KEY (pid)"
            " REFERENCES public.p(id) NOT VALID",
            "ALTER TABLE public.t VALIDATE CONSTRAINT t_a_check",
            "ALTER TABLE public.t VALIDATE CONSTRAINT t_pid_fk",
        ],
        id="enforced-online",
    ),
    pytest.param(NE_BASE + NE_CHECK + NE_FK, NE_BASE, NE_ROWS, set(), None, id="dropped"),
    pytest.param(
        "",
        "CREATE TABLE pp (a int, b int) PARTITION BY LIST (a);"
        " CREATE TABLE pp1 PARTITION OF pp FOR VALUES IN (1);"
        " ALTER TABLE pp ADD CONSTRAINT pp_b_check CHECK (b > 0) NOT ENFORCED;",
        "",
        set(),
        None,
        id="a-partitioned-table's",
    ),
]


@pytest.mark.parametrize(("before", "after", "data", "hazards", "statements"), NOT_ENFORCED_CASES)
def test_not_enforced_change(
    make_db: MakeDb,
    before: str,
    after: str,
    data: str,
    hazards: set[str],
    statements: list[str] | None,
) -> None:
    assert_converges(make_db, before, after, data=data).expect(hazards, statements)
