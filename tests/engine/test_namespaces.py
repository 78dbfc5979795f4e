"""Schemas: inspect and converge."""

from __future__ import annotations

from engine.catalog import inspect_dsn
from engine.shadow import ShadowDatabase
from tests.engine.convergence import MakeDb, assert_converges, load


def test_inspect_schema_with_comment(db: ShadowDatabase) -> None:
    load(db.admin_dsn, "CREATE SCHEMA app; COMMENT ON SCHEMA app IS 'the app';")
    schema = inspect_dsn(db.admin_dsn)
    names = {s.name: s for s in schema.schemas}
    assert names["app"].comment == "the app"
    assert "public" in names


def test_create_schema(make_db: MakeDb) -> None:
    result = assert_converges(make_db, "", "CREATE SCHEMA app;")
    assert result.sql == ["CREATE SCHEMA app"]
    assert result.hazard_codes == set()


def test_drop_schema_is_data_loss(make_db: MakeDb) -> None:
    result = assert_converges(make_db, "CREATE SCHEMA old;", "")
    assert result.sql == ["DROP SCHEMA old"]
    assert result.hazard_codes == {"DATA_LOSS"}


def test_schema_comment_changes(make_db: MakeDb) -> None:
    result = assert_converges(
        make_db,
        "CREATE SCHEMA app; COMMENT ON SCHEMA app IS 'a';",
        "CREATE SCHEMA app; COMMENT ON SCHEMA app IS 'it''s b';",
    )
    assert result.hazard_codes == set()
    assert result.sql == ["COMMENT ON SCHEMA app IS 'it''s b'"]


def test_quoted_schema_name(make_db: MakeDb) -> None:
    result = assert_converges(make_db, "", 'CREATE SCHEMA "Billing Data";')
    assert result.hazard_codes == set()
    assert result.sql == ['CREATE SCHEMA "Billing Data"']
