"""A private podman for the container tests: storage, config and runtime state in one temp dir.

What works on this kind of machine (issue 10): runc (crun fails on the hybrid cgroup setup),
explicit ulimits (the defaults fail with `setrlimit ... Operation not permitted`), host networking
(the default bridge rewrites the host's iptables and sysctls), cgroupfs (no systemd), and no
registry: the base image is a debootstrap rootfs tarball imported under the Dockerfile's FROM name.
Nothing is written outside `root`; `close()` removes every container, image and mount it made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

CACHE_DIR = Path(os.environ.get("PGFLUX_CONTAINER_CACHE", "/var/cache/pgflux-ci"))
BASE_TARBALL = CACHE_DIR / "debian-bookworm-minbase.tar"
BASE_IMAGE = "debian:bookworm-slim"
SYSTEM_DIR = Path("/var/lib/containers")
ULIMITS = ("nofile=16384:16384", "nproc=16384:16384")


def podman_missing_reason() -> str | None:
    """Why the container tests cannot run here, or None when they can."""
    for tool in ("podman", "runc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (run .ci/container-setup.sh)"
    if not BASE_TARBALL.is_file():
        return f"no base rootfs at {BASE_TARBALL} (run .ci/container-setup.sh)"
    if os.geteuid() != 0:
        return "the container tests run rootful podman: they need root"
    return None


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below `path` (from /proc/self/mountinfo)."""
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mountinfo", encoding="utf-8") as info:
        for line in info:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(point)
    return found


# Where a default podman keeps state: ours must create none of them.
DEFAULT_STATE = (
    "/var/lib/containers",
    "/run/containers/storage",
    "/run/libpod",
    "/var/lib/cni",
    "/etc/containers/networks",
)


def host_state() -> dict[str, object]:
    """What a container engine could change on the host: links, firewall rules, state dirs."""

    def out(*args: str) -> str:
        if shutil.which(args[0]) is None:
            return ""
        done = subprocess.run(args, capture_output=True, text=True, check=False).stdout
        # iptables-save stamps its output with the time: compare the rules only.
        return "\n".join(line for line in done.splitlines() if not line.startswith("#"))

    return {
        "links": out("ip", "-o", "link", "show"),
        "iptables": out("iptables-save"),
        "ip6tables": out("ip6tables-save"),
        "nft": out("nft", "list", "ruleset"),
        "forwarding": Path("/proc/sys/net/ipv4/ip_forward").read_text(encoding="utf-8"),
        "state": {path for path in DEFAULT_STATE if Path(path).exists()},
    }


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


class Podman:
    """`podman` with its storage.conf/containers.conf/TMPDIR pointing under `root`."""

    def __init__(self, root: Path, *, driver: str = "overlay") -> None:
        self.root = root
        for sub in ("storage", "run", "tmp", "libpod", "networks", "cni"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "storage.conf").write_text(
            "[storage]\n"
            f'driver = "{driver}"\n'
            f'graphroot = "{root / "storage"}"\n'
            f'runroot = "{root / "run"}"\n',
            encoding="utf-8",
        )
        (root / "containers.conf").write_text(
            "[containers]\n"
            'netns = "host"\n'
            f"default_ulimits = {_toml_list(ULIMITS)}\n"
            'log_driver = "k8s-file"\n'
            "[engine]\n"
            'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'tmp_dir = "{root / "libpod"}"\n'
            "[network]\n"
            f'network_config_dir = "{root / "networks"}"\n'
            f'cni_plugin_dirs = ["/usr/lib/cni"]\n',
            encoding="utf-8",
        )
        # No registry here: short names resolve to local images only, never a prompt.
        (root / "registries.conf").write_text(
            'unqualified-search-registries = []\nshort-name-mode = "permissive"\n', encoding="utf-8"
        )
        self.env = {
            **os.environ,
            "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
            "CONTAINERS_CONF": str(root / "containers.conf"),
            "CONTAINERS_REGISTRIES_CONF": str(root / "registries.conf"),
            "TMPDIR": str(root / "tmp"),
        }
        self.env.pop("DOCKER_HOST", None)
        self._service: subprocess.Popen[bytes] | None = None
        # Rootful podman keeps its blob-info cache here whatever storage.conf says.
        self._made_system_dir = not SYSTEM_DIR.exists()

    def run(
        self, *args: str, check: bool = True, timeout: float = 900, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["podman", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"podman {' '.join(args)} -> {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done

    def import_base(self, tarball: Path = BASE_TARBALL, name: str = BASE_IMAGE) -> None:
        """The debootstrap rootfs as the image the Dockerfile's FROM names."""
        self.run("import", "--quiet", str(tarball), name)

    def build(self, tag: str, context: Path, *, dockerfile: Path | None = None) -> None:
        args = ["build", "--pull=never", "--network=host", "-t", tag]
        for ulimit in ULIMITS:
            args.append(f"--ulimit={ulimit}")
        if dockerfile is not None:
            args += ["-f", str(dockerfile)]
        self.run(*args, str(context), timeout=1800)

    def image_ids(self) -> list[str]:
        return self.run("images", "-aq", "--no-trunc").stdout.split()

    def container_ids(self) -> list[str]:
        return self.run("ps", "-aq", "--no-trunc").stdout.split()

    def image_size(self, tag: str) -> int:
        return int(self.run("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())

    # --- the Docker-compatible API (for the docker SDK) -------------------------------------

    @property
    def socket(self) -> Path:
        return self.root / "podman.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket}"

    def start_service(self) -> str:
        """`podman system service` on a socket under root; returns the DOCKER_HOST value."""
        if self._service is None:
            self._service = subprocess.Popen(
                ["podman", "system", "service", "--time=0", self.docker_host],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=open(self.root / "service.log", "wb"),  # noqa: SIM115 - lives with the child
                start_new_session=True,
            )
            deadline = time.monotonic() + 60
            while not self.socket.exists():
                if self._service.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "service.log").read_text(errors="replace")
                    raise AssertionError(f"podman system service did not start:\n{log}")
                time.sleep(0.1)
        return self.docker_host

    def stop_service(self) -> None:
        if self._service is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._service.pid, signal.SIGTERM)
            try:
                self._service.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self._service.pid, signal.SIGKILL)
                self._service.wait(timeout=30)
            self._service = None

    # --- teardown ---------------------------------------------------------------------------

    def close(self) -> None:
        """Remove every container and image, unmount the storage, delete root."""
        self.stop_service()
        self.run("rm", "--all", "--force", "--time=0", check=False, timeout=300)
        self.run("rmi", "--all", "--force", check=False, timeout=300)
        # Unmounts the storage driver's own mounts; then nothing of ours is left mounted.
        self.run("system", "reset", "--force", check=False, timeout=300)
        for point in reversed(mounts_under(self.root)):
            subprocess.run(["umount", "-l", point], check=False, capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)
        if self._made_system_dir:
            shutil.rmtree(SYSTEM_DIR, ignore_errors=True)
