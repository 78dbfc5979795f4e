"""GitHub Actions workflow commands, written to an explicit stream and explicit files.

We checked the PyPI package `github-action-utils` (2.0.0): its escaping is right, but it prints
to the process's stdout and reads `$GITHUB_OUTPUT` from `os.environ` (globals), and its
`add_mask` masks a multi-line secret as one value, which the runner cannot match line by line.
This module is the small, testable subset pgflux-ci needs.

Escaping follows the runner (actions/runner `ActionCommand`): command data escapes `%`, CR and
LF; property values additionally escape `:` and `,`. `%` is escaped first so that text which
already looks escaped is decoded exactly once.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal, TextIO

AnnotationLevel = Literal["error", "warning", "notice"]

_OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_command(command: str, message: str, properties: dict[str, object] | None = None) -> str:
    """`::command key=value,key=value::message`, properties with a None value left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None
    )
    head = f"{command} {props}" if props else command
    return f"::{head}::{escape_data(message)}"


def output_record(name: str, value: str, delimiter: str | None = None) -> str:
    """One `$GITHUB_OUTPUT` / `$GITHUB_ENV` record in the heredoc form the runner parses."""
    if not _OUTPUT_NAME.match(name):
        raise ValueError(f"invalid output name {name!r}")
    delimiter = delimiter or f"ghadelimiter_{uuid.uuid4()}"
    if delimiter in value:
        # Random delimiters make this practically impossible; refuse rather than corrupt.
        raise ValueError(f"output {name!r} contains its own delimiter")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


class WorkflowCommands:
    """Writes workflow commands to `stream` and file commands to the given runner files.

    `output_path` and `summary_path` are `$GITHUB_OUTPUT` and `$GITHUB_STEP_SUMMARY`; when None
    (running outside Actions) outputs and summaries are silently skipped.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        output_path: Path | None = None,
        summary_path: Path | None = None,
    ) -> None:
        self._stream = stream
        self._output_path = output_path
        self._summary_path = summary_path

    def _emit(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()

    def annotation(
        self,
        level: AnnotationLevel,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        col: int | None = None,
        end_line: int | None = None,
        end_col: int | None = None,
        title: str | None = None,
    ) -> None:
        props: dict[str, object] = {
            "file": file,
            "line": line,
            "col": col,
            "endLine": end_line,
            "endColumn": end_col,
            "title": title,
        }
        self._emit(format_command(level, message, props))

    def debug(self, message: str) -> None:
        self._emit(format_command("debug", message))

    def add_mask(self, secret: str) -> None:
        # The runner matches masks within one log line, so each line of a secret is its own mask.
        for part in secret.splitlines():
            if part.strip():
                self._emit(format_command("add-mask", part))

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._emit(format_command("group", title))
        try:
            yield
        finally:
            self._emit("::endgroup::")

    def set_output(self, name: str, value: str) -> None:
        record = output_record(name, value)
        if self._output_path is not None:
            with self._output_path.open("a", encoding="utf-8", newline="") as fh:
                fh.write(record)

    def append_summary(self, markdown: str) -> None:
        if self._summary_path is not None:
            with self._summary_path.open("a", encoding="utf-8", newline="") as fh:
                fh.write(markdown if markdown.endswith("\n") else markdown + "\n")
