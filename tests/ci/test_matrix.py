"""`pgflux-ci matrix`: pgflux.toml's [[targets]] as the JSON of a `strategy.matrix`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import load_config
from engine.errors import ConfigError
from pgflux_ci.cli import main
from pgflux_ci.matrix import matrix, matrix_json
from tests.e2e.test_deploy_e2e import parse_outputs

ENTRYPOINT = str(Path(sys.executable).parent / "pgflux-ci")

THREE = """\
schema_dir = "db/schema"

[[targets]]
name = "eu"
dsn_env = "EU_DATABASE_URL"

[[targets]]
name = "us"
dsn_env = "US_DATABASE_URL"

[[targets]]
name = "tenant 42"
dsn_env = "TENANT_42_DATABASE_URL"
schema_dir = "db/tenant-schema"
"""

EXPECTED = {
    "include": [
        {"target": "eu", "dsn_env": "EU_DATABASE_URL", "schema_dir": "db/schema"},
        {"target": "us", "dsn_env": "US_DATABASE_URL", "schema_dir": "db/schema"},
        {
            "target": "tenant 42",
            "dsn_env": "TENANT_42_DATABASE_URL",
            "schema_dir": "db/tenant-schema",
        },
    ]
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pgflux.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_three_targets_in_file_order(tmp_path: Path) -> None:
    assert matrix(load_config(_write(tmp_path, THREE))) == EXPECTED


def test_printed_as_one_line(tmp_path: Path) -> None:
    text = matrix_json(_write(tmp_path, THREE))
    assert "\n" not in text
    assert json.loads(text) == EXPECTED


def test_default_schema_dir(tmp_path: Path) -> None:
    path = _write(tmp_path, '[[targets]]\nname = "a"\ndsn_env = "A_URL"\n')
    assert matrix(load_config(path))["include"] == [
        {"target": "a", "dsn_env": "A_URL", "schema_dir": "schema"}
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('schema_dir = "s"\n', "no [[targets]]", id="no-targets"),
        pytest.param(
            '[[targets]]\nname = "a"\ndsn_env = "X"\n[[targets]]\nname = "a"\ndsn_env = "Y"\n',
            "duplicate target name(s): a",
            id="duplicate-names",
        ),
        pytest.param('[[targets]]\nname = "a"\n', "targets[0].dsn_env", id="missing-dsn-env"),
    ],
)
def test_invalid_fleets_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        matrix_json(_write(tmp_path, text))
    assert message in caught.value.message + (caught.value.details or "")


def test_command_for_three_targets(tmp_path: Path) -> None:
    """As the fleet workflow runs it: a process, JSON on stdout and in $GITHUB_OUTPUT."""
    config = _write(tmp_path, THREE)
    output = tmp_path / "github_output"
    output.touch()
    done = subprocess.run(
        [ENTRYPOINT, "matrix", "--config", str(config), "--github-output", "matrix"],
        env={"GITHUB_OUTPUT": str(output), "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == EXPECTED
    assert json.loads(parse_outputs(output)["matrix"]) == EXPECTED


def test_command_reads_pgflux_toml_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, THREE)
    monkeypatch.chdir(tmp_path)
    assert main(["matrix"], environ={}) == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED


def test_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["matrix", "--config", str(tmp_path / "missing.toml")], environ={}) == 2
    assert "no such config file" in capsys.readouterr().err
    config = _write(tmp_path, THREE)
    assert main(["matrix", "--config", str(config), "--github-output", "m"], environ={}) == 2
    assert "$GITHUB_OUTPUT" in capsys.readouterr().err
