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
        "--repeat",
        "2",
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
    # --repeat 2: the PR plan and the psql floor twice each, the medians compared
    assert len(result["psql_loads"]) == 2
    assert len(result["engine_pr"]["totals"]) == 2
    assert result["load_alone"]["load"] > 0
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
    (summary,) = [line for line in text.splitlines() if line.startswith(f"| {TABLES} | ")][:1]
    assert summary.count("2 runs)") == 2  # the floor and the end to end, median and range
    median = result["engine_pr"]["median_total"] / result["psql_load"]
    assert f"| {median:.2f}x |" in summary
    # the two floors of inspection side by side with it: pg-flux's queries, issue 3's deparse
    inspect = result["inspect"]
    assert inspect["deparse_floor"] > 0
    assert inspect["deparse_floor_rows"]["columns"] > 0
    floors = f"| {inspect['raw_queries']:.2f} s | {inspect['deparse_floor']:.2f} s | "
    assert floors + f"{inspect['inspect']:.2f} s |" in summary
    assert f"--sizes {TABLES}" in text
