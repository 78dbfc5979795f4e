"""Logging and progress output: JSON events on stderr, secrets scrubbed, CI groups."""

from __future__ import annotations

import io
import json
import logging

import pytest

from engine import logs, progress


def test_json_events_carry_fields_and_never_secrets() -> None:
    stream = io.StringIO()
    dsn = "postgresql://app:p4ssw0rd@db.internal/prod"
    logs.configure("json", dsns=[dsn], stream=stream)
    logger = logging.getLogger("engine.test")
    logs.event(logger, "statement.end", "done", migration_id=3, duration_ms=1.5)
    logger.warning("connecting to %s", dsn)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["event"] == "statement.end"
    assert first["migration_id"] == 3
    assert first["duration_ms"] == 1.5
    assert first["level"] == "info"
    assert second["event"] == "log"
    assert second["level"] == "warning"
    assert "p4ssw0rd" not in second["message"]
    assert "***" in second["message"]


def test_text_format_is_one_line_per_record() -> None:
    stream = io.StringIO()
    logs.configure("text", stream=stream)
    logs.event(logging.getLogger("engine.test"), "apply.failed", "migration 2 failed: boom")
    assert stream.getvalue() == "pg-flux: error: migration 2 failed: boom\n"


@pytest.mark.parametrize(
    ("actions", "expected"),
    [
        pytest.param("true", ["::group::Loading", "::endgroup::"], id="github-actions"),
        pytest.param(None, ["pg-flux: Loading ...", "pg-flux: Loading done"], id="plain"),
    ],
)
def test_progress_groups(
    monkeypatch: pytest.MonkeyPatch, actions: str | None, expected: list[str]
) -> None:
    if actions is None:
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    else:
        monkeypatch.setenv("GITHUB_ACTIONS", actions)
    progress.set_enabled(True)
    stream = io.StringIO()
    with progress.step("Loading", stream=stream):
        stream.write("inside\n")
    lines = stream.getvalue().splitlines()
    assert lines[0] == expected[0]
    assert lines[1] == "inside"
    assert lines[2].startswith(expected[1])


def test_progress_is_silent_with_json_logs() -> None:
    progress.set_enabled(False)
    try:
        stream = io.StringIO()
        with progress.step("Loading", stream=stream):
            pass
        assert stream.getvalue() == ""
    finally:
        progress.set_enabled(True)
