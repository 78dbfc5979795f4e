"""Every scenario of the benchmark's worker runs, as `python -m bench` runs it (a subprocess per
scenario), on a small generated schema: the worker repeats engine.plan.build's steps to time
them, so a change to those steps that the worker missed must fail here, not in the next
benchmark run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.generator import generate
from engine.catalog.runner import available_families
from engine.load import load_into, parse_schema_dir
from engine.shadow import ShadowDatabase

ROOT = Path(__file__).resolve().parents[2]


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    assert "error" not in result, result
    return result


@pytest.fixture
def pair(
    tmp_path: Path, make_db: Callable[..., ShadowDatabase]
) -> tuple[ShadowDatabase, ShadowDatabase, Path]:
    """Production with a generated schema, a database with a pull request's change of it, and
    that change as a schema/ tree."""
    base = generate(8, seed=5)
    small = base.mutate(1, small=True)
    current, desired = make_db(), make_db()
    base.write(tmp_path / "base")
    small.write(tmp_path / "small")
    load_into(current.admin_dsn, parse_schema_dir(tmp_path / "base"))
    load_into(desired.admin_dsn, parse_schema_dir(tmp_path / "small"))
    return current, desired, tmp_path / "small"


def test_every_scenario_runs(
    pair: tuple[ShadowDatabase, ShadowDatabase, Path], tmp_path: Path
) -> None:
    current, desired, schema_dir = pair
    families = len(available_families())

    plan = _worker(
        {
            "scenario": "plan",
            "schema_dir": str(schema_dir),
            "current_dsn": current.admin_dsn,
            "plan_out": str(tmp_path / "plan.json"),
        }
    )
    assert plan["verified"] is True
    assert plan["plan_statements"] > 0
    assert set(plan["phases"]) >= {"inspect current", "load desired", "diff + plan", "verify"}
    assert json.loads((tmp_path / "plan.json").read_text())["verified"] is True

    inspect = _worker({"scenario": "inspect", "current_dsn": current.admin_dsn})
    assert inspect["inspect_statements"] == families
    assert inspect["objects"] > 0

    both = {"scenario": "engine", "current_dsn": current.admin_dsn}
    unshared = _worker(both | {"desired_dsn": desired.admin_dsn})
    shared = _worker(both | {"desired_dsn": desired.admin_dsn, "like": True})
    assert "inspect both" in unshared["phases"]
    assert {"inspect current", "inspect desired"} <= set(shared["phases"])
    # the same change, however the desired side was read
    assert unshared["plan_statements"] == shared["plan_statements"] == plan["plan_statements"]
    assert shared["inspect_statements"] == {"current": families, "desired": families}

    # pg-flux's load alone: schema/ parsed and loaded into a shadow, every object located
    load = _worker({"scenario": "load", "schema_dir": str(schema_dir)})
    assert load["load"] > 0
    assert load["objects_located"] >= len(generate(8, seed=5).mutate(1, small=True).tables)


def test_peak_rss_is_the_workers_own(
    pair: tuple[ShadowDatabase, ShadowDatabase, Path],
) -> None:
    """A worker started by a large process reports its own peak, not its parent's: Linux
    carries ru_maxrss over fork and exec, and `python -m bench` holds hundreds of MB at
    10,000 tables when it starts the workers."""
    current, _, _ = pair
    spec = json.dumps({"scenario": "inspect", "current_dsn": current.admin_dsn})
    parent = (
        "import subprocess, sys\n"
        "ballast = b'x' * (400 * 1024 * 1024)  # resident: written, not calloc'd\n"
        f"done = subprocess.run([sys.executable, '-m', 'bench.worker', {spec!r}],"
        " capture_output=True, text=True, check=True)\n"
        "print(done.stdout)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", parent], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0 < result["rss_self_mb"] < 300, result
    assert 0 < result["rss_inspect_mb"] < 300, result
