"""A private podman leaves nothing behind: no container, mount, firewall rule, link or state dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.container.conftest import require_podman
from tests.container.podman import BASE_IMAGE, Podman, host_state, mounts_under

pytestmark = pytest.mark.container


def _processes_mentioning(fragment: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fragment in text:
            found.append(text)
    return found


def test_podman_leaves_nothing_behind(tmp_path: Path) -> None:
    require_podman()
    before = host_state()
    root = tmp_path / "throwaway"
    podman = Podman(root)
    try:
        podman.import_base()
        ran = podman.run("run", "--rm", BASE_IMAGE, "cat", "/etc/debian_version")
        assert ran.stdout.startswith("12."), ran.stdout
        # A container still running at close, and one stopped but not removed.
        podman.run("run", "-d", "--name", "left-running", BASE_IMAGE, "sleep", "600")
        podman.run("run", "--name", "left-stopped", BASE_IMAGE, "true")
        podman.start_service()
        assert podman.container_ids()
        assert mounts_under(root), "the running container's rootfs should be mounted"
    finally:
        podman.close()
    assert not root.exists()
    assert mounts_under(root) == []
    assert _processes_mentioning(str(root)) == []
    assert host_state() == before
