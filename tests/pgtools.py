"""Test helpers around PostgreSQL's own tools: schema dumps that compare equal when schemas do."""

from __future__ import annotations

import os
import subprocess

from engine import dsn as dsnlib
from engine.pgbin import PgBin, find_postgres_bin


def slow_positive_function(seconds: float) -> str:
    """SQL for `slow_positive(n)`: n > 0, after sleeping `seconds` on n = 1.

    A CHECK that calls it makes VALIDATE (and only VALIDATE, which reads existing rows) run for
    seconds whatever the machine's load, without a big table that slows the other statements too.
    """
    return f"""
CREATE FUNCTION slow_positive(n int) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF n = 1 THEN PERFORM pg_sleep({seconds}); END IF;
    RETURN n > 0;
END $$;
"""


# Lines that change between two dumps of the same schema.
_VOLATILE_PREFIXES = ("-- Dumped from", "-- Dumped by", "\\restrict", "\\unrestrict")


def _default_pgbin() -> PgBin:
    from tests import conftest  # the session cluster's binaries

    pgbin = conftest.session_pgbin()
    return pgbin if pgbin is not None else find_postgres_bin()


def normalise_dump(text: str) -> str:
    """Drop volatile lines and collapse the blank-line runs they leave behind; sort each run of
    consecutive GRANT lines.

    pg_dump prints an object's grants in the order of its ACL array, which is the order they
    were granted in: a set to PostgreSQL (and to pg-flux), so the same grants made in another
    order are the same schema.
    """
    kept = [ln for ln in text.splitlines() if not ln.startswith(_VOLATILE_PREFIXES)]
    out: list[str] = []
    grants: list[str] = []
    for line in [*kept, ""]:
        if line.startswith("GRANT "):
            grants.append(line)
            continue
        out.extend(sorted(grants))
        grants.clear()
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return "\n".join(out).strip() + "\n"


def pg_dump_schema(
    dsn: str, *, pgbin: PgBin | None = None, extra_args: list[str] | None = None
) -> str:
    """`pg_dump --schema-only` of the database at `dsn`, owners and comments kept, normalised."""
    tool = (pgbin or _default_pgbin()).pg_dump
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C.UTF-8"
    res = subprocess.run(
        [str(tool), "--schema-only", "--no-password", *(extra_args or []), "--dbname", dsn],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    if res.returncode != 0:
        raise RuntimeError(
            f"pg_dump failed on {dsnlib.redact(dsn)}: {dsnlib.scrub(res.stderr.strip(), dsn)}"
        )
    return normalise_dump(res.stdout)
