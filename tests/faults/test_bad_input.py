"""Bad input: each case ends with a clear one-line message and exit 2, never a traceback.

Through the real entry points (`pg-flux`, `pgflux-ci`) as processes, against real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from engine import dsn as dsnlib
from engine.load import load_into, parse_schema_dir
from engine.shadow import ShadowDatabase
from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import FAKE_TOKEN, github_env, load_payload
from tests.security.actionrun import PASSTHROUGH, PG_FLUX, PGFLUX_CI


def _run(
    argv: list[str], cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {k: os.environ[k] for k in PASSTHROUGH if k in os.environ} | dict(env or {})
    return subprocess.run(
        argv, cwd=cwd, env=full, capture_output=True, text=True, timeout=300, check=False
    )


def _assert_clear_failure(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    text = result.stdout + result.stderr
    for fragment in fragments:
        assert fragment in text, text


def _schema(tmp_path: Path, files: Mapping[str, str | bytes]) -> Path:
    schema = tmp_path / "schema"
    schema.mkdir(exist_ok=True)
    for name, content in files.items():
        path = schema / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return schema


# --- schema/ --------------------------------------------------------------------------------

SCHEMA_CASES = [
    ("missing-dir", None, "does not exist"),
    ("empty-dir", {}, "contains no .sql files"),
    ("only-non-sql", {"README.md": "# hi\n"}, "contains no .sql files"),
    (
        "same-table-in-two-files",
        {"a.sql": "CREATE TABLE t (id int);\n", "b.sql": "\n\nCREATE TABLE t (id int);\n"},
        'schema/b.sql:3:14: relation "t" already exists (first defined at schema/a.sql:1:1)',
    ),
    (
        "same-function-in-two-files",
        {
            "a.sql": "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
            "b.sql": "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 2';\n",
        },
        "first defined at schema/a.sql:1:1",
    ),
    (
        "non-utf8",
        {"a.sql": b"CREATE TABLE t (id int);\n-- caf\xe9\n"},
        "schema/a.sql:2:7: file is not valid UTF-8",
    ),
    ("latin1-identifier", {"a.sql": b'CREATE TABLE "caf\xe9" (id int);\n'}, "not valid UTF-8"),
    ("nul-byte", {"a.sql": "CREATE TABLE t (id int);\x00\n"}, "NUL character"),
    ("syntax-error", {"a.sql": "CREATE TABEL t (id int);\n"}, "schema/a.sql:1:8"),
    ("psql-meta-command", {"a.sql": "\\i other.sql\n"}, "psql meta-commands"),
]


@pytest.mark.parametrize(
    ("files", "message"),
    [(f, m) for _, f, m in SCHEMA_CASES],
    ids=[i for i, _, _ in SCHEMA_CASES],
)
def test_bad_schema_dir(
    tmp_path: Path, db: ShadowDatabase, files: dict[str, str | bytes] | None, message: str
) -> None:
    if files is not None:
        _schema(tmp_path, files)
    shadow = dsnlib.with_dbname(db.admin_dsn, "postgres")
    result = _run([PG_FLUX, "plan", "--dsn", db.admin_dsn, "--shadow", shadow], tmp_path)
    _assert_clear_failure(result, message)


def test_a_100000_line_schema_file_loads(
    tmp_path: Path, db: ShadowDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    """2,000 tables of 48 columns, one column a line: 100,000 lines. Timed, never asserted."""
    lines: list[str] = []
    for t in range(2000):
        lines.append(f"CREATE TABLE t{t} (")
        lines.extend(f"  c{c} int," for c in range(47))
        lines.append("  c47 int")
        lines.append(");")
    assert len(lines) == 100_000
    schema = _schema(tmp_path, {"big.sql": "\n".join(lines) + "\n"})
    started = time.perf_counter()
    loaded = parse_schema_dir(schema)
    parsed = time.perf_counter()
    load_into(db.dsn, loaded, statement_timeout_ms=0)
    done = time.perf_counter()
    assert len(loaded.statements) == 2000
    assert loaded.object_locations["table public.t1999"].line == 99_951
    with capsys.disabled():
        sys.stderr.write(
            f"\n100,000-line file: parse {parsed - started:.1f}s, load {done - parsed:.1f}s\n"
        )


def test_a_100000_line_error_points_at_its_line(tmp_path: Path, db: ShadowDatabase) -> None:
    body = "".join(f"-- filler {i}\n" for i in range(99_999)) + "CREATE TABLE t (id nosuchtype);\n"
    schema = _schema(tmp_path, {"big.sql": body})
    with pytest.raises(Exception, match=r"schema/big.sql:100000:") as info:
        load_into(db.dsn, parse_schema_dir(schema))
    assert "nosuchtype" in str(info.value)


# --- pgflux.toml and flags --------------------------------------------------------------------

CONFIG_CASES = [
    ("unknown-top-level-key", "schema_dri = 'schema'\n", "schema_dri: unknown key"),
    ("unknown-nested-key", "[hazards]\nallwo = []\n", "hazards.allwo: unknown key"),
    ("wrong-type-bool", "manage_ownership = 'yes please'\n", "manage_ownership"),
    ("wrong-type-list", "[hazards]\nallow = 'DATA_LOSS'\n", "hazards.allow"),
    ("unknown-hazard-code", "[hazards]\nallow = ['DATA_LOS']\n", 'unknown hazard code "DATA_LOS"'),
    ("not-toml", "this is = = not toml\n", "pgflux.toml"),
    ("wrong-severity", "[hazards]\nfail_on = 'severe'\n", "hazards.fail_on"),
]


@pytest.mark.parametrize(
    ("toml", "message"), [(t, m) for _, t, m in CONFIG_CASES], ids=[i for i, _, _ in CONFIG_CASES]
)
def test_bad_config(tmp_path: Path, db: ShadowDatabase, toml: str, message: str) -> None:
    _schema(tmp_path, {"a.sql": "CREATE TABLE t (id int);\n"})
    (tmp_path / "pgflux.toml").write_text(toml, encoding="utf-8")
    result = _run([PG_FLUX, "plan", "--dsn", db.admin_dsn], tmp_path)
    _assert_clear_failure(result, message)


def test_explicit_config_that_is_missing(tmp_path: Path, db: ShadowDatabase) -> None:
    _schema(tmp_path, {"a.sql": "CREATE TABLE t (id int);\n"})
    result = _run([PG_FLUX, "plan", "--dsn", db.admin_dsn, "--config", "nope.toml"], tmp_path)
    _assert_clear_failure(result, "nope.toml")


@pytest.mark.parametrize(
    "codes", ["DATA_LOS", "DATA_LOSS,NOPE", "data_loss"], ids=["typo", "one-bad", "lower-case"]
)
def test_unknown_allow_hazards_codes(tmp_path: Path, db: ShadowDatabase, codes: str) -> None:
    _schema(tmp_path, {"a.sql": "CREATE TABLE t (id int);\n"})
    argv = [PG_FLUX, "migrate", "apply", "--dsn", db.admin_dsn, "--allow-hazards", codes]
    result = _run(argv, tmp_path)
    _assert_clear_failure(result, "unknown hazard code")
    # Refused before anything ran: production has no table and no tracking schema.
    check = _run([PG_FLUX, "inspect", "--dsn", db.admin_dsn], tmp_path)
    assert '"t"' not in check.stdout


# --- pgflux-ci: event payload, token, inputs ------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=FAKE_TOKEN) as github:
        yield github


def _action(
    fake: FakeGitHub,
    tmp_path: Path,
    db: ShadowDatabase,
    *,
    payload: object = None,
    raw_event: str | None = None,
    inputs: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    event = load_payload("pull_request.synchronize") if payload is None else payload
    given = {"mode": "review", "database-url": db.admin_dsn} | dict(inputs or {})
    env = github_env(
        fake, tmp_path, "pull_request", event if isinstance(event, dict) else {}, given, seed=False
    )
    if raw_event is not None:
        Path(env["GITHUB_EVENT_PATH"]).write_text(raw_event, encoding="utf-8")
    elif not isinstance(event, dict):
        Path(env["GITHUB_EVENT_PATH"]).write_text(json.dumps(event), encoding="utf-8")
    _schema(tmp_path / "workspace", {"a.sql": "CREATE SCHEMA app;\n"})
    return _run([PGFLUX_CI], tmp_path, env)


EVENT_CASES = [
    ("not-json", "{ this is not json", "event"),
    ("empty-file", "", "event"),
    ("json-array", "[1, 2, 3]", "event"),
    ("pull-request-null", json.dumps({"pull_request": None, "number": 1}), "pull_request"),
    ("pull-request-without-head", json.dumps({"pull_request": {"number": 3}}), "payload invalid"),
]


@pytest.mark.parametrize(
    ("raw", "message"), [(r, m) for _, r, m in EVENT_CASES], ids=[i for i, _, _ in EVENT_CASES]
)
def test_malformed_event_payload(
    fake: FakeGitHub, tmp_path: Path, db: ShadowDatabase, raw: str, message: str
) -> None:
    result = _action(fake, tmp_path, db, raw_event=raw)
    _assert_clear_failure(result, "::error title=pgflux-ci::", message)
    assert fake.log == []  # nothing was sent to GitHub


def test_missing_token(fake: FakeGitHub, tmp_path: Path, db: ShadowDatabase) -> None:
    result = _action(fake, tmp_path, db, inputs={"github-token": ""})
    _assert_clear_failure(result, "github-token")


def test_wrong_token(fake: FakeGitHub, tmp_path: Path, db: ShadowDatabase) -> None:
    fake.seed_from_payload(load_payload("pull_request.synchronize"))
    result = _action(fake, tmp_path, db, inputs={"github-token": "ghs_wrong"})
    _assert_clear_failure(result, "HTTP 401")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"mode": "revue"}, "mode"),
        ({"fail-on": "severe"}, "fail-on"),
        ({"database-url": ""}, "database-url"),
        ({"shadow": "floppy-disk"}, "--shadow"),
    ],
    ids=["unknown-mode", "unknown-fail-on", "empty-database-url", "unknown-shadow"],
)
def test_bad_action_inputs(
    fake: FakeGitHub, tmp_path: Path, db: ShadowDatabase, inputs: dict[str, str], message: str
) -> None:
    fake.seed_from_payload(load_payload("pull_request.synchronize"))
    result = _action(fake, tmp_path, db, inputs=inputs)
    _assert_clear_failure(result, message)
