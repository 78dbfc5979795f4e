"""Columns: add, drop and every in-place alteration, with exact hazards; converge with pg_dump."""

from __future__ import annotations

import pytest

from tests.engine.convergence import MakeDb, assert_converges

ROWS = "INSERT INTO t (id) SELECT g FROM generate_series(1, 20) g;"


def test_add_column(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db, "CREATE TABLE t (id int);", "CREATE TABLE t (id int, note text);"
    )
    assert result.sql == ["ALTER TABLE public.t ADD COLUMN note text"]
    assert result.hazard_codes == set()


def test_drop_column(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db, "CREATE TABLE t (id int, note text);", "CREATE TABLE t (id int);"
    )
    assert result.sql == ["ALTER TABLE public.t DROP COLUMN note"]
    assert result.hazard_codes == {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"}
