"""Run `pgflux-ci` as the Actions runner would, against the fake GitHub, and collect EVERY output
(stdout, stderr, GITHUB_OUTPUT, job summary, workspace files, everything sent to GitHub)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.fakes.github_api import FakeGitHub
from tests.fakes.runner_env import github_env, load_payload

PGFLUX_CI = str(Path(sys.executable).parent / "pgflux-ci")
PG_FLUX = str(Path(sys.executable).parent / "pg-flux")
REPO = "Codertocat/Hello-World"
PASSTHROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PGFLUX_POSTGRES_BIN", "XDG_CACHE_HOME")


class ActionRun:
    """One pull request: `push(files, inputs)` writes schema/ and runs the action once."""

    def __init__(self, fake: FakeGitHub, tmp_path: Path, payload: str = "pull_request.synchronize"):
        self.fake, self.tmp_path = fake, tmp_path
        self.payload: dict[str, Any] = load_payload(payload)
        self.number = int(self.payload["number"])
        self.workspace = tmp_path / "workspace"
        self.pushes = 0
        self.result: subprocess.CompletedProcess[str] | None = None
        # every() of each run so far: a later run rewrites GITHUB_OUTPUT and the summary.
        self.transcript: list[dict[str, str]] = []

    def push(
        self,
        files: Mapping[str, str | bytes] | None,
        inputs: Mapping[str, str],
        *,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        self.pushes += 1
        sha = f"{self.pushes:040x}"
        self.payload["pull_request"]["head"]["sha"] = sha
        self.payload["after"] = sha
        return self.run_event(
            "pull_request", self.payload, files, inputs, extra_env=extra_env, timeout=timeout
        )

    def run_event(
        self,
        event: str,
        payload: Mapping[str, Any],
        files: Mapping[str, str | bytes] | None,
        inputs: Mapping[str, str],
        *,
        extra_env: Mapping[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        """Run the action for any event (deploy on push, canary on schedule, ...)."""
        schema = self.workspace / "schema"
        shutil.rmtree(schema, ignore_errors=True)
        if files is not None:
            schema.mkdir(parents=True)
            for name, sql in files.items():
                path = schema / name
                if isinstance(sql, bytes):
                    path.write_bytes(sql)
                else:
                    path.write_text(sql, encoding="utf-8")
        env = github_env(self.fake, self.tmp_path, event, payload, dict(inputs), seed=False)
        if event == "pull_request" and REPO not in self.fake.repos:
            self.fake.seed_from_payload(dict(payload))
        env["GITHUB_REPOSITORY"] = REPO
        for name in PASSTHROUGH:
            if name in os.environ:
                env[name] = os.environ[name]
        env.update(extra_env or {})
        self.output_file = Path(env["GITHUB_OUTPUT"])
        self.summary_file = Path(env["GITHUB_STEP_SUMMARY"])
        self.output_file.write_text("", encoding="utf-8")
        self.summary_file.write_text("", encoding="utf-8")
        self.result = subprocess.run(
            [PGFLUX_CI], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        self.transcript.append(self.everything())
        return self.result

    def comments(self) -> list[str]:
        return [c.body for c in self.fake.comments_on(REPO, self.number)]

    def everything(self) -> dict[str, str]:
        """Every channel a secret could leak through, by name."""
        assert self.result is not None
        out: dict[str, str] = {
            # The runner hides masked values; the ::add-mask:: command itself must carry them.
            "stdout": "\n".join(
                line
                for line in self.result.stdout.splitlines()
                if not line.startswith("::add-mask::")
            ),
            "stderr": self.result.stderr,
            "GITHUB_OUTPUT": self.output_file.read_text(encoding="utf-8", errors="replace"),
            "summary": self.summary_file.read_text(encoding="utf-8", errors="replace"),
            "comments": "\n".join(self.comments()),
            "issues": "\n".join(
                f"{i.title}\n{i.body}\n"
                + "\n".join(c.body for c in self.fake.comments_on(REPO, i.number))
                for i in self.fake.issues_in(REPO)
            )
            if REPO in self.fake.repos
            else "",
            "github requests": "\n".join(
                f"{r.method} {r.path} {r.query} {json.dumps(r.body)}" for r in self.fake.log
            ),
        }
        for path in sorted(self.workspace.rglob("*")):
            if path.is_file() and "schema" not in path.relative_to(self.workspace).parts:
                out[f"workspace/{path.name}"] = path.read_text(encoding="utf-8", errors="replace")
        return out
