"""`python -m bench` end to end at a tiny size: the generator, psql's loads, every pg-flux
scenario, migra (installed in bench/.migra-venv on first use, from the package registry), the
pg_dump convergence checks and the report. A full run takes twenty minutes; this one catches a
broken harness before then."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TABLES = 12


def test_a_tiny_run_writes_the_report(tmp_path: Path) -> None:
    report, raw = tmp_path / "BENCHMARKS.md", tmp_path / "latest.json"
    command = [
        sys.executable,
        "-m",
        "bench",
        "--sizes",
        str(TABLES),
        "--profile-size",
        str(TABLES),
        "--output",
        str(report),
        "--results",
        str(raw),
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]

    (result,) = json.loads(raw.read_text(encoding="utf-8"))
    assert result["tables"] == TABLES
    scenarios = ("engine_pr", "engine_full", "inspect", "engine", "engine_small")
    for name in (*scenarios, "engine_small_shared"):
        assert "error" not in result[name], (name, result[name])
    # pg-flux's plans apply and converge (the pg_dump oracle) and verify
    for name in ("engine_pr", "engine_full"):
        assert (result[name]["converges"], result[name]["verified"]) == (True, True), name
    # migra ran on the same pair; whether its output converges is what the report says
    assert {"seconds", "converges"} <= set(result["migra_pr"])
    small, shared = result["engine_small"], result["engine_small_shared"]
    assert small["plan_statements"] == shared["plan_statements"]

    text = report.read_text(encoding="utf-8")
    for heading in (
        "## Summary",
        "## Diff and plan by the size of the change",
        "## Correctness",
        "## pg-flux phases (wall time)",
        "## Statements sent and memory",
        f"## Profile (pyinstrument, PR-sized plan at {TABLES} tables)",
    ):
        assert heading in text
    assert f"| {TABLES} | pull request | 15 |" in text
    assert f"--sizes {TABLES}" in text
