"""`python -m bench --repeat`: a failed end-to-end run is the result, not hidden behind the
runs that passed (the tiny bench run in test_bench_run.py covers the runs that pass)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import bench.__main__ as bench_main


def test_a_failed_run_is_reported_and_ends_the_repeats(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []

    def failing_worker(spec: dict[str, Any], admin_dsn: str, timeout: float) -> dict[str, Any]:
        calls.append(spec)
        return {"error": "VerificationFailed: the plan failed in the shadow"}

    monkeypatch.setattr(bench_main, "worker", failing_worker)
    out: dict[str, Any] = {"psql_loads": [4.0]}
    # no cluster is touched: the first run fails before a second floor load is needed
    result = bench_main.repeated_pr_plan(
        None,  # type: ignore[arg-type]
        {"scenario": "plan"},
        tmp_path / "base.sql",
        out,
        3,
        60.0,
        "",
    )
    assert result == {"error": "VerificationFailed: the plan failed in the shadow"}
    assert len(calls) == 1
    assert out["psql_load"] == 4.0
