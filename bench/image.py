"""`python -m bench.image`: build the action image from nothing and record its size and build time.

A private podman (tests/container/podman.py: storage in a temp dir, runc, host network) imports
the cached debootstrap base (.ci/container-setup.sh makes it), builds the repository's Dockerfile
without a layer cache, and writes the "Container image" section at the end of BENCHMARKS.md,
replacing that section only. Everything it made is removed afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.container.podman import BASE_TARBALL, Podman, podman_missing_reason

ROOT = Path(__file__).parents[1]
HEADING = "## Container image"
TAG = "localhost/pgflux-ci-bench:latest"


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB"


def measure() -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="pgflux-image-bench-") as tmp:
        podman = Podman(Path(tmp))
        try:
            podman.import_base()
            base_size = podman.image_size("debian:bookworm-slim")
            started = time.monotonic()
            podman.build(TAG, ROOT)
            build_s = time.monotonic() - started
            size = podman.image_size(TAG)
            history = podman.run(
                "history", "--no-trunc", "--format", "{{.Size}}\t{{.CreatedBy}}", TAG
            ).stdout
            version = podman.run("--version").stdout.strip()
        finally:
            podman.close()
    layers = []
    for line in history.splitlines():
        layer_size, _, created_by = line.partition("\t")
        if layer_size.strip() not in ("0B", "0 B"):
            step = " ".join(created_by.replace("/bin/bash -o pipefail -c", "").split())
            layers.append((layer_size.strip(), step[:90]))
    return {
        "size": size,
        "base_size": base_size,
        "build_s": build_s,
        "layers": layers,
        "podman": version,
        "load": f"{os.getloadavg()[1]:.1f}",
        "machine": f"{platform.machine()}, {_cpus()} CPUs",
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def _cpus() -> str:
    return subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()


def render(m: dict[str, object]) -> str:
    layers = m["layers"]
    assert isinstance(layers, list)
    rows = "\n".join(f"| {size} | `{step}` |" for size, step in layers)
    return (
        f"{HEADING}\n\n"
        f"Written by `python -m bench.image` ({m['date']}, {m['machine']}, {m['podman']}, runc, "
        "host network). The repository's Dockerfile built from nothing (no layer cache; apt and "
        "pip download everything) on a debootstrap `bookworm` minbase imported as "
        f"`debian:bookworm-slim` ({_mb(int(str(m['base_size'])))}; the real slim image is ~75 MB)."
        "\n\n"
        f"| image size (uncompressed) | build time |\n|---|---|\n"
        f"| {_mb(int(str(m['size'])))} | {float(str(m['build_s'])):.0f} s |\n\n"
        f"Load average over the build's last 5 minutes: {m['load']} (the machine is shared: the "
        "time is an upper bound for an idle runner; most of it is apt and pip downloads).\n\n"
        "Layers with content (newest first):\n\n"
        f"| size | step |\n|---|---|\n{rows}\n"
    )


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    head, found, tail = text.partition(f"\n{HEADING}\n")
    if found:
        # Keep whatever another section put after ours.
        rest = tail.split("\n## ", 1)
        tail = "\n## " + rest[1] if len(rest) == 2 else ""
        text = head.rstrip("\n") + tail
    path.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    reason = podman_missing_reason()
    if reason is not None:
        print(f"cannot build the image here: {reason} ({BASE_TARBALL})", file=sys.stderr)
        return 2
    section = render(measure())
    write_section(Path(args.output), section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
