"""Bugs the property and rich-schema tests found, minimised to the SQL pair that shows them.

A case marked xfail(strict=True) is a known open bug: when it is fixed the test starts passing,
fails as XPASS, and the marker must go.
"""

from __future__ import annotations

import pytest

from tests.engine.convergence import MakeDb, assert_converges

ROLE = (
    "DO $$ BEGIN CREATE ROLE pgflux_rich_writer NOLOGIN;"
    " EXCEPTION WHEN duplicate_object THEN NULL; END $$;"
)

OWNED_SEQUENCE = """
CREATE SEQUENCE invoice_no;
CREATE TABLE invoices (id integer NOT NULL DEFAULT nextval('invoice_no'));
ALTER SEQUENCE invoice_no OWNED BY invoices.id;
"""

SETOF = (
    "CREATE TABLE t (id int);"
    " CREATE FUNCTION f() RETURNS SETOF t LANGUAGE sql AS $$ SELECT * FROM t $$;"
)

CASES = [
    pytest.param(
        "",
        SETOF,
        id="setof-table-function-created-after-its-table",
    ),
    pytest.param(
        SETOF,
        "",
        id="setof-table-function-dropped-before-its-table",
    ),
    pytest.param(
        "",
        "CREATE TYPE fr AS RANGE (subtype = float8);",
        id="range-type-multirange-cast-is-not-unmanaged",
    ),
    pytest.param(
        "",
        OWNED_SEQUENCE + "COMMENT ON SEQUENCE invoice_no IS 'numbers';",
        id="owned-sequence-with-comment",
    ),
    pytest.param(
        ROLE,
        ROLE + OWNED_SEQUENCE + "GRANT USAGE ON SEQUENCE invoice_no TO pgflux_rich_writer;",
        id="owned-sequence-with-grant",
    ),
]


@pytest.mark.parametrize(("before", "after"), CASES)
def test_regression_converges(make_db: MakeDb, before: str, after: str) -> None:
    result = assert_converges(make_db, before, after)
    assert result.desired.unmanaged == ()
