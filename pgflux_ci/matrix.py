"""Fleets: `pgflux-ci matrix` turns pgflux.toml's [[targets]] into a `strategy.matrix`.

GitHub Actions then runs one job per database in parallel; each job passes its row's `target`
(which names its sticky comment and drift issue), `schema_dir`, and reads its DSN from the
secret named by `dsn_env` (`${{ secrets[matrix.dsn_env] }}`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.config import Config, load_config
from engine.errors import ConfigError


def matrix(config: Config) -> dict[str, Any]:
    """`{"include": [{"target", "dsn_env", "schema_dir"}, ...]}` in the file's order."""
    if not config.targets:
        raise ConfigError(
            f"{config.source or 'pgflux.toml'}: no [[targets]]: a fleet lists each database as"
            ' [[targets]] with name and dsn_env (e.g. name = "eu", dsn_env = "EU_DATABASE_URL")'
        )
    return {
        "include": [
            {
                "target": t.name,
                "dsn_env": t.dsn_env,
                "schema_dir": (t.schema_dir or config.schema_dir).as_posix(),
            }
            for t in config.targets
        ]
    }


def matrix_json(config_path: Path | None) -> str:
    """One line of JSON (so `echo "matrix=$(pgflux-ci matrix)" >> "$GITHUB_OUTPUT"` works)."""
    return json.dumps(matrix(load_config(config_path)), separators=(",", ":"))
