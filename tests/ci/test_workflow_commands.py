"""Workflow commands: escaping, masks, groups, and $GITHUB_OUTPUT parsed back as the runner does."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgflux_ci.workflow_commands import (
    WorkflowCommands,
    escape_data,
    escape_property,
    output_record,
)


def _unescape_data(text: str) -> str:
    # The runner's ActionCommand.UnescapeData, applied in its order.
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


def _parse_command(line: str) -> tuple[str, dict[str, str], str]:
    """Parse `::cmd k=v,k=v::data` the way actions/runner ActionCommand.TryParseV2 does."""
    assert line.startswith("::")
    end = line.index("::", 2)
    head, data = line[2:end], line[end + 2 :]
    command, _, props = head.partition(" ")
    properties: dict[str, str] = {}
    for pair in filter(None, props.split(",")):
        key, _, value = pair.partition("=")
        properties[key] = _unescape_property(value)
    return command, properties, _unescape_data(data)


def parse_output_file(text: str) -> dict[str, str]:
    """Parse a GITHUB_OUTPUT file as the runner's SetOutputFileCommand does (LF framing)."""
    result: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            while lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            i += 1
            result[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            result[name] = value
    return result


def test_escape_data_rules() -> None:
    assert escape_data("100%") == "100%25"
    assert escape_data("a\r\nb") == "a%0D%0Ab"
    assert escape_data("a:b,c") == "a:b,c"  # data keeps : and ,
    assert escape_data("%0A") == "%250A"  # already-escaped text is escaped again, decoded once


def test_escape_property_rules() -> None:
    assert escape_property("schema/a,b:c.sql") == "schema/a%2Cb%3Ac.sql"
    assert escape_property("50%\n") == "50%25%0A"
    assert escape_property("x\ry") == "x%0Dy"


@given(st.text())
def test_escaping_round_trips(text: str) -> None:
    assert _unescape_data(escape_data(text)) == text
    assert _unescape_property(escape_property(text)) == text
    assert "\n" not in escape_property(text)
    assert "," not in escape_property(text)


def test_annotation_format_and_properties() -> None:
    out = io.StringIO()
    wc = WorkflowCommands(out)
    wc.annotation(
        "error",
        'syntax error at or near "TABEL"\n  hint: 100% sure',
        file="schema/a,b.sql",
        line=3,
        col=7,
        end_line=4,
        title="pg-flux: load failed: x::y",
    )
    line = out.getvalue()
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert line.startswith("::error file=schema/a%2Cb.sql,line=3,col=7,endLine=4,title=")
    command, props, data = _parse_command(line.rstrip("\n"))
    assert command == "error"
    assert props == {
        "file": "schema/a,b.sql",
        "line": "3",
        "col": "7",
        "endLine": "4",
        "title": "pg-flux: load failed: x::y",
    }
    assert data == 'syntax error at or near "TABEL"\n  hint: 100% sure'


def test_annotation_without_properties() -> None:
    out = io.StringIO()
    WorkflowCommands(out).annotation("warning", "plain")
    assert out.getvalue() == "::warning::plain\n"


def test_add_mask_masks_each_line() -> None:
    out = io.StringIO()
    WorkflowCommands(out).add_mask("-----BEGIN KEY-----\nabc%def\r\n\n-----END KEY-----")
    assert out.getvalue().splitlines() == [
        "::add-mask::-----BEGIN KEY-----",
        "::add-mask::abc%25def",
        "::add-mask::-----END KEY-----",
    ]


def test_group_closes_on_error() -> None:
    out = io.StringIO()
    wc = WorkflowCommands(out)

    def fail_inside() -> None:
        with wc.group("Plan: 3 statements, 1%"):
            out.write("inside\n")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert out.getvalue().splitlines() == [
        "::group::Plan: 3 statements, 1%25",
        "inside",
        "::endgroup::",
    ]


def test_set_output_multiline_parses_back(tmp_path: Path) -> None:
    output = tmp_path / "out"
    wc = WorkflowCommands(io.StringIO(), output_path=output)
    values = {
        "plan": "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY i ON a (id);\n",
        "fingerprint": "sha256:abc",
        "tricky": "EOF\nx<<y\na=b\n\n",
        "empty": "",
    }
    for name, value in values.items():
        wc.set_output(name, value)
    assert parse_output_file(output.read_text(encoding="utf-8")) == values


def test_set_output_uses_random_delimiter(tmp_path: Path) -> None:
    output = tmp_path / "out"
    wc = WorkflowCommands(io.StringIO(), output_path=output)
    wc.set_output("a", "1")
    wc.set_output("b", "2")
    headers = [line for line in output.read_text().splitlines() if "<<" in line]
    delimiters = {h.split("<<")[1] for h in headers}
    assert len(delimiters) == 2
    assert all(d.startswith("ghadelimiter_") for d in delimiters)


def test_output_refuses_own_delimiter_and_bad_names() -> None:
    with pytest.raises(ValueError, match="delimiter"):
        output_record("x", "a\nghadelimiter_1\nb", delimiter="ghadelimiter_1")
    for bad in ("", "a=b", "a<<b", "a\nb"):
        with pytest.raises(ValueError, match="invalid output name"):
            output_record(bad, "v")


def test_summary_appends(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    wc = WorkflowCommands(io.StringIO(), summary_path=summary)
    wc.append_summary("# Plan")
    wc.append_summary("| a | b |\n")
    assert summary.read_text(encoding="utf-8") == "# Plan\n| a | b |\n"


def test_without_runner_files_outputs_are_skipped() -> None:
    wc = WorkflowCommands(io.StringIO())
    wc.set_output("a", "1")  # outside Actions there is nowhere to write; must not fail
    wc.append_summary("x")
