"""The README's first command: review examples/schema/ against a simulated production.

Starts a private PostgreSQL (the same embedded launcher the shadow uses), loads
examples/production/schema.sql into it as "production", then runs exactly what the action runs on
a pull request, outside GitHub: `pgflux-ci review --dry-run`, which writes the PR comment to a file.

    python examples/demo.py --out comment.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from engine.pgbin import find_postgres_bin
from engine.shadow import EmbeddedCluster
from pgflux_ci.cli import main as pgflux_ci_main

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="comment.md", help="where the PR comment goes")
    parser.add_argument("--plan-out", default="plan.json", help="where the plan JSON goes")
    args = parser.parse_args(argv)

    with EmbeddedCluster(find_postgres_bin()) as production_server:
        production = production_server.create_database()
        with psycopg.connect(production.admin_dsn, autocommit=True) as conn:
            conn.execute((HERE / "production" / "schema.sql").read_bytes())
        print(f"simulated production: PostgreSQL {production_server.major}, demo data loaded")
        return pgflux_ci_main(
            [
                "review",
                "--dry-run",
                "--out",
                args.out,
                "--plan-out",
                args.plan_out,
                "--dsn",
                production.admin_dsn,
                "--schema-dir",
                str(HERE / "schema"),
                "--fail-on",
                "none",
            ]
        )


if __name__ == "__main__":
    sys.exit(main())
