"""PostgreSQL 18's temporal keys: PRIMARY KEY / UNIQUE ... WITHOUT OVERLAPS and FOREIGN KEY
... PERIOD, inspected, added to live tables, changed and dropped, with exact statements and
hazards; each case converges (pg_dump) and re-plans empty.

A temporal key's index is GiST, and PostgreSQL builds no UNIQUE GiST index on its own
(`access method "gist" does not support unique indexes`), so the online form of a key (build
the index concurrently, then ADD CONSTRAINT ... USING INDEX) does not exist for it: the plan
adds it plainly and says that it blocks. A foreign key with PERIOD still goes NOT VALID, then
VALIDATE alone.
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
        None,  # the key changes under the foreign key: checked below
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
    result = assert_converges(make_db, before, after, data=data)
    if hazards is not None:
        assert result.hazard_codes == hazards
    if statements is not None:
        assert result.sql == statements


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
