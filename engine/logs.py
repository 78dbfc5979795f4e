"""Logging for the CLI: text lines by default, one JSON object per event with --log-format json.

Code logs events with `event(logger, "statement.end", message, index=3, duration_ms=12.5)`; the
fields travel in the record's `pgflux` attribute so the text formatter can ignore them and the
JSON formatter can print them. Every message passes the secret scrubber before it is written.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from engine import dsn as dsnlib

FIELDS_ATTR = "pgflux"


def event(logger: logging.Logger, name: str, message: str, **fields: Any) -> None:
    """Log an event: `name` is stable (statement.start, hazard, ...), `message` is for people."""
    level = logging.ERROR if name.endswith(".failed") else logging.INFO
    logger.log(level, message, extra={FIELDS_ATTR: {"event": name, **fields}})


class _Scrubbing(logging.Formatter):
    def __init__(self, secrets_from: Sequence[str]) -> None:
        super().__init__()
        self._dsns = tuple(d for d in secrets_from if d)

    def scrub(self, text: str) -> str:
        return dsnlib.scrub(text, *self._dsns)


class TextFormatter(_Scrubbing):
    def format(self, record: logging.LogRecord) -> str:
        return self.scrub(f"pg-flux: {record.levelname.lower()}: {record.getMessage()}")


class JsonFormatter(_Scrubbing):
    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": "log",
            "message": record.getMessage(),
        }
        document.update(getattr(record, FIELDS_ATTR, {}))
        text = json.dumps(document, default=str, ensure_ascii=False)
        return self.scrub(text)


def configure(fmt: str, *, dsns: Sequence[str] = (), stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(dsns) if fmt == "json" else TextFormatter(dsns))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
