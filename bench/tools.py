"""PostgreSQL's own tools and migra, as the benchmark uses them: psql loads, dumps, migra runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from engine.pgbin import PgBin

BENCH_DIR = Path(__file__).resolve().parent
MIGRA_VENV = BENCH_DIR / ".migra-venv"
# The combination this benchmark ran migra 3.0 with (SQLAlchemy 1.4; 2.x was not tried).
MIGRA_REQUIREMENTS = ("migra==3.0.1663481299", "psycopg2-binary", "sqlbag", "sqlalchemy<2")
_VOLATILE = ("-- Dumped from", "-- Dumped by", "\\restrict", "\\unrestrict")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    return env


@dataclass
class Run:
    seconds: float
    returncode: int
    stdout: str
    stderr: str


def run(args: list[str], *, timeout: float = 3600) -> Run:
    start = time.perf_counter()
    res = subprocess.run(
        args, capture_output=True, text=True, env=_env(), timeout=timeout, check=False
    )
    return Run(time.perf_counter() - start, res.returncode, res.stdout, res.stderr)


def psql_file(pgbin: PgBin, dsn: str, path: Path) -> Run:
    """`psql -1 -f`: the whole file in one transaction, stopping at the first error."""
    return run([str(pgbin.psql), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", str(path), dsn])


def pg_dump(pgbin: PgBin, dsn: str) -> str:
    res = run([str(pgbin.pg_dump), "--schema-only", "--no-password", "--dbname", dsn])
    if res.returncode != 0:
        raise RuntimeError(f"pg_dump failed: {res.stderr.strip()}")
    lines = [ln for ln in res.stdout.splitlines() if not ln.startswith(_VOLATILE)]
    return "\n".join(ln for ln in lines if ln.strip()) + "\n"


def ensure_migra() -> str:
    """Create bench/.migra-venv with migra when missing; return migra's version."""
    python = MIGRA_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(MIGRA_VENV)], check=True)
    probe = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('migra'))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *MIGRA_REQUIREMENTS], check=True)
        return ensure_migra()
    return probe.stdout.strip()


def migra_url(sockdir: Path, port: int, user: str, dbname: str) -> str:
    """SQLAlchemy URL for a unix socket: the socket dir goes in the `host` query parameter."""
    return f"postgresql://{user}@/{dbname}?host={quote(str(sockdir))}&port={port}"


def migra(url_from: str, url_to: str) -> Run:
    """migra's CLI; exit code 2 means "differences found" (its normal output), 0 "none"."""
    return run([str(MIGRA_VENV / "bin" / "migra"), "--unsafe", url_from, url_to])
