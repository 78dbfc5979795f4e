"""Process-exit cleanup for shadows: atexit, SIGTERM, and the postgres child's death signal.

What is covered, and how:
- normal exit, an uncaught exception, Ctrl-C (KeyboardInterrupt unwinds, then atexit): atexit.
- SIGTERM: a handler (installed only where SIGTERM still has its default action, and only from
  the main thread) closes every live shadow, then re-raises SIGTERM with the default action so
  the process still dies "by SIGTERM" as its parent expects.
- SIGKILL of our process cannot be caught. The postgres child is started with
  prctl(PR_SET_PDEATHSIG, SIGQUIT) so the kernel stops it (immediate shutdown, which also ends
  its backends) when we die; the temp dir left behind is swept by the next cluster that starts
  (see embedded.sweep_stale). PDEATHSIG fires when the *thread* that started the child exits,
  so clusters must be started from a long-lived thread (the main thread in practice).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

PR_SET_PDEATHSIG = 1


class Closable(Protocol):
    def close(self) -> None: ...


_lock = threading.RLock()
_live: dict[int, Closable] = {}
_installed = False


def register(obj: Closable) -> None:
    with _lock:
        _live[id(obj)] = obj
        _install()


def unregister(obj: Closable) -> None:
    with _lock:
        _live.pop(id(obj), None)


def close_all() -> None:
    with _lock:
        live = list(_live.values())
    for obj in reversed(live):
        # Best effort at exit: one failing close must not keep the others from running.
        with contextlib.suppress(Exception):
            obj.close()


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    close_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(close_all)
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def pdeathsig_preexec(sig: int = signal.SIGQUIT) -> Callable[[], None]:
    """A preexec_fn that makes the kernel send `sig` to the child when its parent dies.

    subprocess runs preexec_fn after switching user, which matters: a credential change clears
    the death signal, so it must be set afterwards.
    """
    parent = os.getpid()

    def preexec() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        # The parent may have died before prctl took effect.
        if os.getppid() != parent:
            os._exit(1)

    return preexec
