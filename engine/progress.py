"""Progress for long steps: rich on a terminal, plain grouped lines in CI (`::group::` in Actions).

`with step("Loading schema/ in the shadow"):` prints a spinner on a TTY, or a start/end pair of
lines (inside a ::group:: under GITHUB_ACTIONS); with --log-format json it stays silent because the
events are logged anyway.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

_enabled = True


def set_enabled(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


def mode(stream: TextIO | None = None) -> str:
    """`off`, `rich` (interactive terminal), `actions` (GitHub Actions) or `plain`."""
    out = stream or sys.stderr
    if not _enabled:
        return "off"
    if os.environ.get("GITHUB_ACTIONS") == "true":
        return "actions"
    if out.isatty() and os.environ.get("TERM") != "dumb":
        return "rich"
    return "plain"


@contextmanager
def step(title: str, stream: TextIO | None = None) -> Iterator[None]:
    out = stream or sys.stderr
    kind = mode(out)
    started = time.monotonic()
    if kind == "off":
        yield
        return
    if kind == "rich":
        from rich.console import Console  # only on a terminal

        with Console(file=out).status(title):
            yield
        out.write(f"✓ {title} ({time.monotonic() - started:.1f}s)\n")
        return
    if kind == "actions":
        out.write(f"::group::{title}\n")
    else:
        out.write(f"pg-flux: {title} ...\n")
    out.flush()
    try:
        yield
    finally:
        if kind == "actions":
            out.write("::endgroup::\n")
        else:
            out.write(f"pg-flux: {title} done ({time.monotonic() - started:.1f}s)\n")
        out.flush()
