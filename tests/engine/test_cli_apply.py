"""`pg-flux migrate apply|status`, `drift` against the last apply, JSON logs, config, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import dsn as dsnlib
from engine.cli import main
from engine.shadow import ShadowDatabase
from tests.engine.applyhelp import migrations
from tests.engine.convergence import load


def _schema_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "schema"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _args(db: ShadowDatabase, schema_dir: Path | None = None) -> list[str]:
    # The session cluster serves as the shadow server: no second cluster per command.
    shadow = dsnlib.with_dbname(db.admin_dsn, "postgres")
    args = ["--dsn", db.admin_dsn, "--shadow", shadow]
    return [*args, "--schema-dir", str(schema_dir)] if schema_dir else args


def test_apply_plans_and_applies_with_json_logs(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = _schema_dir(
        tmp_path, {"10_app.sql": "CREATE SCHEMA app;", "20_t.sql": "CREATE TABLE app.t (id int);"}
    )
    code = main(
        [
            "migrate",
            "apply",
            *_args(db, schema_dir),
            "--origin",
            "commit=abc123",
            "--origin",
            "pr=42",
            "--log-format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "migration 1: applied 2 statements" in out
    events = [json.loads(line) for line in err.splitlines()]
    starts = [e for e in events if e["event"] == "statement.start"]
    ends = [e for e in events if e["event"] == "statement.end"]
    assert [e["sql"].split("(")[0].strip() for e in starts] == [
        "CREATE SCHEMA app",
        "CREATE TABLE app.t",
    ]
    assert {e["migration_id"] for e in starts + ends} == {1}
    assert all(isinstance(e["duration_ms"], float) for e in ends)
    assert starts[0]["source"] == "schema/10_app.sql:1:1"
    assert starts[1]["source"] == "schema/20_t.sql:1:1"
    [row] = migrations(db.admin_dsn)
    assert row["origin"] == {"commit": "abc123", "pr": "42"}
    # A second run plans again under the lock and finds nothing to do.
    assert main(["migrate", "apply", *_args(db, schema_dir)]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert len(migrations(db.admin_dsn)) == 1


def test_apply_saved_plan_and_dry_run(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = _schema_dir(tmp_path, {"app.sql": "CREATE SCHEMA app;"})
    plan_file = tmp_path / "plan.json"
    assert main(["plan", *_args(db, schema_dir), "--format", "json", "--out", str(plan_file)]) == 0
    assert main(["migrate", "apply", *_args(db), "--plan", str(plan_file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "CREATE SCHEMA app" in out
    assert "dry run: 1 statements would run; nothing changed" in out
    assert main(["migrate", "apply", *_args(db), "--plan", str(plan_file)]) == 0
    assert "migration 1: applied 1 statements" in capsys.readouterr().out
    # The same saved plan again: production already is its target.
    assert main(["migrate", "apply", *_args(db), "--plan", str(plan_file)]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_saved_plan_refused_after_production_changed(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = _schema_dir(tmp_path, {"app.sql": "CREATE SCHEMA app;"})
    plan_file = tmp_path / "plan.json"
    assert main(["plan", *_args(db, schema_dir), "--format", "json", "--out", str(plan_file)]) == 0
    load(db.admin_dsn, "CREATE SCHEMA other;")
    assert main(["migrate", "apply", *_args(db), "--plan", str(plan_file)]) == 2
    err = capsys.readouterr().err
    assert "pg-flux: error: production changed since the plan was made" in err
    assert "changed outside pg-flux" in err


@pytest.mark.parametrize(
    ("flags", "toml", "code", "message"),
    [
        pytest.param([], None, 2, "hazards that are not allowed: DATA_LOSS", id="refused"),
        pytest.param(["--allow-hazards", "DATA_LOSS"], None, 0, "applied", id="flag-allows"),
        pytest.param([], '[hazards]\nallow = ["DATA_LOSS"]\n', 0, "applied", id="config-allows"),
        pytest.param(
            ["--allow-hazards", "INDEX_BUILD"],
            '[hazards]\nallow = ["DATA_LOSS"]\n',
            2,
            "not allowed: DATA_LOSS",
            id="flag-overrides-config",
        ),
        pytest.param(
            ["--allow-hazards", "DATA_LOS"], None, 2, 'unknown hazard code "DATA_LOS"', id="unknown"
        ),
        pytest.param(
            [],
            '[hazards]\nallow = ["NOPE"]\n',
            2,
            'hazards.allow[0]: unknown hazard code "NOPE"',
            id="bad-config",
        ),
    ],
)
def test_hazard_policy_from_flags_and_config(
    tmp_path: Path,
    db: ShadowDatabase,
    capsys: pytest.CaptureFixture[str],
    flags: list[str],
    toml: str | None,
    code: int,
    message: str,
) -> None:
    load(db.admin_dsn, "CREATE SCHEMA legacy;")
    schema_dir = _schema_dir(tmp_path, {"empty.sql": "-- nothing\n"})
    config = ["--config", str(tmp_path / "pgflux.toml")] if toml else []
    if toml:
        (tmp_path / "pgflux.toml").write_text(toml, encoding="utf-8")
    assert main(["migrate", "apply", *_args(db, schema_dir), *config, *flags]) == code
    out, err = capsys.readouterr()
    assert message in (out if code == 0 else err)


def test_status_and_drift_against_last_apply(
    tmp_path: Path,
    db: ShadowDatabase,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    schema_dir = _schema_dir(tmp_path, {"app.sql": "CREATE SCHEMA app;"})
    monkeypatch.chdir(tmp_path / "schema")  # no ./schema and no ./pgflux.toml here
    assert main(["migrate", "status", *_args(db)]) == 0
    assert "No migrations recorded in _pgflux.migrations" in capsys.readouterr().out
    assert main(["drift", *_args(db)]) == 2
    assert "nothing to compare with" in capsys.readouterr().err
    assert main(["migrate", "apply", *_args(db, schema_dir), "--origin", "commit=c1"]) == 0
    capsys.readouterr()
    assert main(["migrate", "status", *_args(db)]) == 0
    out = capsys.readouterr().out
    assert "Production matches the target of migration 1." in out
    assert "applied" in out
    assert "commit=c1" in out
    assert main(["drift", *_args(db)]) == 0
    assert "No drift: the database matches the target of migration 1." in capsys.readouterr().out
    load(db.admin_dsn, "CREATE SCHEMA hotfix;")
    assert main(["drift", *_args(db)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Drift: 1 object differs from what migration 1 left (")
    assert "  schema hotfix: in production only\n" in out
    assert "DROP SCHEMA hotfix" in out
    assert main(["migrate", "status", *_args(db), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["matches_last_applied"] is False
    assert [m["status"] for m in document["migrations"]] == ["applied"]
    # With schema/ the drift report lists the objects and the SQL that reconciles.
    assert main(["drift", *_args(db, schema_dir)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(
        "Drift: 1 object differs from schema/:\n  schema hotfix: in production only"
    )
    assert "DROP SCHEMA hotfix" in out


def test_tracking_schema_flag_and_config(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    schema_dir = _schema_dir(tmp_path, {"app.sql": "CREATE SCHEMA app;"})
    toml = tmp_path / "pgflux.toml"
    toml.write_text(f'tracking_schema = "_flux"\nschema_dir = "{schema_dir}"\n', encoding="utf-8")
    assert main(["migrate", "apply", *_args(db), "--config", str(toml)]) == 0
    assert [r["status"] for r in migrations(db.admin_dsn, "_flux")] == ["applied"]
    # The tracking schema is never planned: a plan from the same config is empty.
    assert main(["plan", *_args(db), "--config", str(toml), "--exit-code"]) == 0
    capsys.readouterr()


def test_errors_never_print_the_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = "postgresql://someone:s3cretpw@127.0.0.1:1/nowhere?connect_timeout=2"
    for argv in (
        ["migrate", "apply", "--dsn", dsn, "--plan", str(tmp_path / "missing.json")],
        ["migrate", "status", "--dsn", dsn],
        ["gen", "--dsn", dsn, "--out", str(tmp_path / "m.py")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("pg-flux: error: ")
        assert "s3cretpw" not in err


def test_object_patterns_narrow_both_sides(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    load(db.admin_dsn, "CREATE TABLE public.keep_me (id int); CREATE TABLE public.tmp_x (id int);")
    schema_dir = _schema_dir(
        tmp_path, {"app.sql": "CREATE SCHEMA app; CREATE TABLE app.t (id int);"}
    )
    toml = tmp_path / "pgflux.toml"
    toml.write_text('[objects]\nexclude = ["public.*"]\n', encoding="utf-8")
    args = ["plan", *_args(db, schema_dir), "--config", str(toml), "--format", "sql"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "CREATE TABLE app.t" in out
    assert "keep_me" not in out
    assert "tmp_x" not in out
    # Without the patterns the unmanaged tables would be dropped.
    assert main(["plan", *_args(db, schema_dir), "--format", "sql"]) == 0
    assert "DROP TABLE public.keep_me" in capsys.readouterr().out
