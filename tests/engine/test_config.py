"""pgflux.toml: validation with key paths, defaults, object filters."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import Config, ObjectFilter, load_config, parse_hazard_codes
from engine.errors import ConfigError
from engine.plan.model import HazardCode, Severity


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pgflux.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_config_parses(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
schema_dir = "db/schema"
tracking_schema = "_flux"
manage_ownership = true
verify = "whole"
shadow_roles = ["app_reader"]
[hazards]
allow = ["INDEX_BUILD", "NON_TRANSACTIONAL"]
fail_on = "high"
[objects]
include = ["app.*"]
exclude = ["app.tmp_*"]
[[targets]]
name = "eu"
dsn_env = "EU_DATABASE_URL"
[[targets]]
name = "us"
dsn_env = "US_DATABASE_URL"
schema_dir = "schema-us"
""",
    )
    config = load_config(path)
    assert config.schema_dir == Path("db/schema")
    assert config.tracking_schema == "_flux"
    assert config.manage_ownership is True
    assert config.verify == "whole"
    assert config.shadow_roles == ("app_reader",)
    assert config.hazards.allow == ("INDEX_BUILD", "NON_TRANSACTIONAL")
    assert config.hazards.fail_on is Severity.HIGH
    assert config.target("us").schema_dir == Path("schema-us")
    assert config.target("eu").dsn_env == "EU_DATABASE_URL"
    assert config.source == path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(
            '[hazards]\nallow = ["INDEX_BUILD", "DATA_LOS"]\n',
            'hazards.allow[1]: unknown hazard code "DATA_LOS"',
            id="unknown-hazard-code",
        ),
        pytest.param(
            '[hazards]\nfail_on = "severe"\n', "hazards.fail_on: Input should be", id="bad-severity"
        ),
        pytest.param('schema_dirs = "x"\n', "schema_dirs: unknown key", id="unknown-key"),
        pytest.param(
            "manage_ownership = 3\n", "manage_ownership: Input should be", id="wrong-type"
        ),
        pytest.param(
            'verify = "scope"\n', "verify: Input should be 'auto' or 'whole'", id="verify"
        ),
        pytest.param(
            '[[targets]]\nname = "eu"\n',
            "targets[0].dsn_env: Field required",
            id="target-missing-key",
        ),
        pytest.param(
            '[[targets]]\nname = "a"\ndsn_env = "X"\n[[targets]]\nname = "a"\ndsn_env = "Y"\n',
            "targets: duplicate target name(s): a",
            id="duplicate-targets",
        ),
        pytest.param("schema_dir = [\n", "invalid TOML", id="bad-toml"),
    ],
)
def test_errors_name_the_key_path(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.message.startswith(f"{path}: ")
    assert message in caught.value.message
    assert caught.value.exit_code == 2


def test_missing_default_file_gives_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_config(None) == Config()
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_default_file_is_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, 'tracking_schema = "_here"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config(None).tracking_schema == "_here"


def test_parse_hazard_codes() -> None:
    assert parse_hazard_codes(["DATA_LOSS", " INDEX_BUILD ", ""]) == (
        HazardCode.DATA_LOSS,
        HazardCode.INDEX_BUILD,
    )
    with pytest.raises(ValueError, match=r'unknown hazard code "NOPE" \(valid: DATA_LOSS, '):
        parse_hazard_codes(["NOPE"])


@pytest.mark.parametrize(
    ("include", "exclude", "name", "selected"),
    [
        pytest.param((), (), "public.t", True, id="no-patterns"),
        pytest.param(("app.*",), (), "public.t", False, id="not-included"),
        pytest.param(("app.*",), (), "app.t", True, id="included"),
        pytest.param(("app.*",), ("app.tmp_*",), "app.tmp_x", False, id="excluded-wins"),
        pytest.param((), ("*.audit",), "app.audit", False, id="exclude-only"),
    ],
)
def test_object_filter(
    include: tuple[str, ...], exclude: tuple[str, ...], name: str, selected: bool
) -> None:
    assert ObjectFilter(include=include, exclude=exclude).selects(name) is selected
