"""Tables: inspect, create, drop and alter a table's own attributes; converge with pg_dump."""

from __future__ import annotations

import pytest

from engine.catalog import inspect_dsn
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load

T = "CREATE TABLE t (id integer NOT NULL, name text);"


def test_create_table(make_db: MakeDb) -> None:
    result = assert_converges(make_db, "", T)
    assert result.sql == ["CREATE TABLE public.t (\n    id integer NOT NULL,\n    name text\n)"]
    assert result.hazard_codes == set()


def test_drop_table(make_db: MakeDb) -> None:
    result = assert_converges(make_db, T, "")
    assert result.sql == ["DROP TABLE public.t"]
    assert result.hazard_codes == {"DATA_LOSS", "BACKWARD_INCOMPATIBLE"}
