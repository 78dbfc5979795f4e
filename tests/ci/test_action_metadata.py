"""action.yml and the Dockerfile: schema-valid, lint-clean, and in step with the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from pgflux_ci.context import ActionInputs, input_env_name, parse_inputs
from tests.fakes.runner_env import ACTION_INPUTS

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
OUTPUTS = {"has-changes", "hazards", "max-severity", "plan-fingerprint", "plan-path", "comment-url"}


def action() -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load((ROOT / "action.yml").read_text(encoding="utf-8"))
    return data


def test_action_yml_validates_against_schemastore() -> None:
    run = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", "action.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_action_yml_rejects_a_broken_copy(tmp_path: Path) -> None:
    # The validation above can fail: a copy without `runs` does not validate.
    broken = tmp_path / "action.yml"
    text = (ROOT / "action.yml").read_text(encoding="utf-8")
    broken.write_text(text.split("\nruns:", 1)[0] + "\n", encoding="utf-8")
    run = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0


def test_container_action_with_branding() -> None:
    data = action()
    assert data["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert data["branding"]["icon"]
    assert data["branding"]["color"]


def test_inputs_match_the_context_model() -> None:
    inputs = action()["inputs"]
    assert tuple(inputs) == ACTION_INPUTS
    assert inputs["github-token"]["default"] == "${{ github.token }}"
    assert inputs["database-url"]["required"] is True
    assert all(spec["description"] for spec in inputs.values())


def test_input_defaults_parse_to_the_model_defaults() -> None:
    # The runner passes defaults as INPUT_* values: they must mean what the model defaults mean.
    env = {
        input_env_name(name): str(spec.get("default", ""))
        for name, spec in action()["inputs"].items()
    }
    env[input_env_name("database-url")] = "postgres://ro@db/app"
    env[input_env_name("github-token")] = "t"
    parsed = parse_inputs(env)
    defaults = ActionInputs(mode="review", database_url="x")  # type: ignore[arg-type]
    for field in ("fail_on", "allow_label", "tracking_schema", "target", "shadow", "schema_dir"):
        assert getattr(parsed, field) == getattr(defaults, field), field
    assert parsed.mode.value == "review"
    assert parsed.config is None


def test_outputs_are_the_ones_review_sets() -> None:
    outputs = action()["outputs"]
    assert set(outputs) >= OUTPUTS
    source = (ROOT / "pgflux_ci" / "review.py").read_text(encoding="utf-8")
    for name in OUTPUTS:
        assert f'set_output("{name}"' in source, name


# Outputs of the other modes: each is set by the module of the mode that documents it.
MODE_OUTPUTS = {
    "deploy": {"applied", "migration-id", "plan-fingerprint", "comment-url"},
    "canary": {"drift", "issue-url", "has-changes", "plan-fingerprint"},
}


def test_outputs_of_deploy_and_canary_are_set() -> None:
    outputs = set(action()["outputs"])
    assert outputs == OUTPUTS | set().union(*MODE_OUTPUTS.values())
    for mode, names in MODE_OUTPUTS.items():
        source = (ROOT / "pgflux_ci" / f"{mode}.py").read_text(encoding="utf-8")
        for name in names:
            assert f'set_output("{name}"' in source, (mode, name)


def dockerfile_lines() -> list[str]:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()


def test_dockerfile_hadolint_clean() -> None:
    run = subprocess.run(
        [str(BIN / "hadolint"), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM debian\nRUN apt-get install curl\nENTRYPOINT pgflux-ci\n", encoding="utf-8"
    )
    run = subprocess.run(
        [str(BIN / "hadolint"), str(bad)], capture_output=True, text=True, check=False
    )
    assert run.returncode != 0


@pytest.mark.parametrize(
    ("line", "present"),
    [
        ("ARG BASE=debian:bookworm-slim", True),
        ("FROM ${BASE}", True),
        ('ENTRYPOINT ["pgflux-ci"]', True),
        ("ARG PG_MAJOR=15", True),
    ],
    ids=["base-arg", "from-base", "exec-entrypoint", "pg-major-arg"],
)
def test_dockerfile_contract(line: str, present: bool) -> None:
    assert (line in dockerfile_lines()) is present


def test_dockerfile_runs_as_root_without_build_tools() -> None:
    lines = dockerfile_lines()
    assert not any(line.startswith("USER") for line in lines)
    text = "\n".join(lines)
    for tool in ("build-essential", "gcc", "libpq-dev", "python3-dev"):
        assert tool not in text
    assert "PIP_NO_CACHE_DIR=1" in text
    assert "rm -rf /var/lib/apt/lists/*" in text


def test_dockerignore_keeps_context_small() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("*")] == "*"
    assert {"!engine/", "!pgflux_ci/", "!pyproject.toml"} <= set(lines)
