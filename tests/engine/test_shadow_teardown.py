"""No orphans: a cluster started in a child process is gone however that process ends.

Each case starts a child Python that starts an EmbeddedCluster, reports its postmaster pid and
temp dir, then ends in one way; we check the postmaster is gone and the dir removed. The
conditions are polled with a generous bound (a hang guard, not a performance assertion).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

from engine.shadow.embedded import pid_alive, sweep_stale

CHILD = textwrap.dedent(
    """
    import json, os, signal, sys, time
    from engine.pgbin import find_postgres_bin
    from engine.shadow import EmbeddedCluster, open_shadow

    mode = sys.argv[1]
    # What a terminal gives a program: Ctrl-C neither blocked nor ignored. A test worker's
    # state leaks into its children otherwise (blocked or ignored signals are inherited).
    inherited = {
        "blocked": signal.SIGINT in signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}),
        "ignored": signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
    }
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def report(cluster):
        info = {"pid": cluster.pid, "dir": str(cluster.tempdir), "inherited": inherited}
        print(json.dumps(info), flush=True)

    if mode == "plain":          # no context manager: only atexit / the SIGTERM handler clean up
        cluster = EmbeddedCluster(find_postgres_bin())
        report(cluster)
        time.sleep(600)
    elif mode == "with":         # context manager: KeyboardInterrupt unwinds through __exit__
        with open_shadow("embedded") as cluster:
            report(cluster)
            time.sleep(600)
    elif mode == "exit":
        cluster = EmbeddedCluster(find_postgres_bin())
        report(cluster)
        sys.exit(0)
    elif mode == "raise":
        with open_shadow("embedded") as cluster:
            report(cluster)
            raise RuntimeError("boom inside the block")
    """
)

GUARD_S = 60.0


def _start(mode: str) -> tuple[subprocess.Popen[str], int, Path]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    if not line:
        child.wait(timeout=GUARD_S)
        pytest.fail(f"child did not start a cluster: {child.stderr.read() if child.stderr else ''}")
    info = json.loads(line)
    if any(info["inherited"].values()):
        warnings.warn(f"SIGINT as the worker passed it: {info['inherited']}", stacklevel=2)
    pid, tempdir = int(info["pid"]), Path(info["dir"])
    assert pid_alive(pid)
    assert tempdir.is_dir()
    return child, pid, tempdir


def _postgres_with_dir(tempdir: Path) -> list[int]:
    """Pids of live processes whose command line mentions the cluster's temp dir."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(tempdir) in cmdline and pid_alive(int(proc.name)):
            found.append(int(proc.name))
    return found


def _until(cond: object, what: str) -> None:
    deadline = time.monotonic() + GUARD_S
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"still present after {GUARD_S:.0f}s: {what}")
        time.sleep(0.05)


def _assert_gone(pid: int, tempdir: Path) -> None:
    _until(lambda: not pid_alive(pid), f"postmaster {pid}")
    _until(lambda: not _postgres_with_dir(tempdir), f"processes using {tempdir}")
    _until(lambda: not tempdir.exists(), str(tempdir))


@pytest.mark.parametrize("mode", ["plain", "with"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_tears_down(mode: str, sig: signal.Signals) -> None:
    child, pid, tempdir = _start(mode)
    child.send_signal(sig)
    code = child.wait(timeout=GUARD_S)
    _assert_gone(pid, tempdir)
    if sig == signal.SIGTERM:
        assert code == -signal.SIGTERM  # the process still dies "by SIGTERM"
    else:
        assert code != 0


def test_normal_exit_tears_down() -> None:
    child, pid, tempdir = _start("exit")
    assert child.wait(timeout=GUARD_S) == 0
    _assert_gone(pid, tempdir)


def test_exception_tears_down() -> None:
    child, pid, tempdir = _start("raise")
    assert child.wait(timeout=GUARD_S) == 1
    assert child.stderr is not None
    assert "boom inside the block" in child.stderr.read()
    _assert_gone(pid, tempdir)


def test_sigkill_postgres_dies_and_dir_is_swept() -> None:
    child, pid, tempdir = _start("plain")
    child.kill()
    child.wait(timeout=GUARD_S)
    # PR_SET_PDEATHSIG: the kernel stops the postmaster; its backends follow.
    _until(lambda: not pid_alive(pid), f"postmaster {pid} after its parent was SIGKILLed")
    _until(lambda: not _postgres_with_dir(tempdir), f"processes using {tempdir}")
    # Nobody could remove the dir; the next start-up's sweep does.
    assert tempdir.exists()
    assert tempdir in sweep_stale(tempdir.parent)
    assert not tempdir.exists()


def test_sweep_leaves_live_clusters_alone() -> None:
    child, pid, tempdir = _start("plain")
    try:
        assert tempdir not in sweep_stale(tempdir.parent)
        assert tempdir.exists()
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=GUARD_S)
    _assert_gone(pid, tempdir)
