"""A client-side backstop for statement_timeout: cancel a statement that outlives its limit.

The server's statement_timeout is the real limit, but SQL under review can switch it off
(``SELECT set_config('statement_timeout', '0', false)`` inside any function call). One thread
per connection watches a deadline that is re-armed before each statement.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any, Self

import psycopg

_POLL_S = 0.2


class StatementWatchdog:
    """Cancels the connection's running statement once it has run for `limit_s` seconds."""

    def __init__(self, conn: psycopg.Connection[Any], limit_s: float | None) -> None:
        self._conn = conn
        self._limit_s = limit_s
        self._deadline: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="statement-watchdog", daemon=True)

    def __enter__(self) -> Self:
        if self._limit_s is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def arm(self) -> None:
        """Start the clock for the statement about to run."""
        if self._limit_s is not None:
            with self._lock:
                self._deadline = time.monotonic() + self._limit_s

    def disarm(self) -> None:
        with self._lock:
            self._deadline = None

    def _watch(self) -> None:
        while not self._stop.wait(_POLL_S):
            # Cancel under the lock: disarm() then waits, so the cancel cannot land on the
            # statement after the one that overran.
            with self._lock:
                if self._deadline is not None and time.monotonic() >= self._deadline:
                    self._deadline = None
                    self._conn.cancel_safe()
