"""`pg-flux gen`: pydantic models for tables and views; `--check` exits 1 when stale."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from engine.cli import main
from engine.gen import python_type
from engine.shadow import ShadowDatabase
from tests.engine.convergence import load


@pytest.mark.parametrize(
    ("pg_type", "python"),
    [
        pytest.param("integer", "int", id="integer"),
        pytest.param("bigint", "int", id="bigint"),
        pytest.param("numeric(12,2)", "Decimal", id="numeric-typmod"),
        pytest.param("character varying(20)", "str", id="varchar"),
        pytest.param("timestamp(3) with time zone", "datetime", id="timestamptz-typmod"),
        pytest.param("boolean", "bool", id="boolean"),
        pytest.param("jsonb", "Any", id="jsonb"),
        pytest.param("uuid", "UUID", id="uuid"),
        pytest.param("text[]", "list[str | None]", id="array"),
        pytest.param("public.mood", "str", id="enum-or-unknown"),
    ],
)
def test_python_type(pg_type: str, python: str) -> None:
    assert python_type(pg_type) == python


def _import(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"gen_{abs(hash(path))}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_gen_writes_models_and_check_detects_staleness(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    load(
        db.admin_dsn,
        """
        CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(12,2) NOT NULL,
                             placed_at timestamptz, "class" text);
        CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
        """,
    )
    out = tmp_path / "models.py"
    args = ["gen", "--dsn", db.admin_dsn, "--out", str(out)]
    assert main([*args, "--check"]) == 1  # no file yet
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    module = _import(out)
    order = module.PublicOrders(id=1, total=Decimal("9.50"), placed_at=None, **{"class": "a"})
    assert order.class_ == "a"
    assert module.PublicOrders.model_fields["placed_at"].annotation == datetime | None
    assert module.PublicOrders.model_fields["id"].is_required()
    assert module.PublicBigOrders(id=None, total=None).id is None
    capsys.readouterr()
    load(db.admin_dsn, "ALTER TABLE orders ADD COLUMN note text;")
    assert main([*args, "--check"]) == 1
    assert "is stale" in capsys.readouterr().out
