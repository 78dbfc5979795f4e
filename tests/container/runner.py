"""Run the action image the way GitHub's runner runs a container action.

The runner's `docker run` (see the "Run <action>" log of any container action): --workdir
/github/workspace, the workspace, /github/home, /github/workflow (event.json) and
/github/file_commands mounted, every INPUT_* (hyphens kept: INPUT_DATABASE-URL) and GITHUB_*
variable set, the image's ENTRYPOINT with no arguments. We use the host network so that the fake
GitHub API and PostgreSQL on the host's loopback/unix socket are reachable, as the job's services
are on a runner.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg

from tests.container.podman import Podman
from tests.fakes.runner_env import ACTION_INPUTS

WORKSPACE = "/github/workspace"


def socket_dirs(*dsns: str) -> set[str]:
    """Unix socket directories the DSNs connect through: mounted at the same path."""
    dirs = set()
    for dsn in dsns:
        host = psycopg.conninfo.conninfo_to_dict(dsn).get("host")
        if isinstance(host, str) and host.startswith("/"):
            dirs.add(host)
    return dirs


class RunnerHost:
    """The runner's temp folders on the host for one job, and `run()` for one step."""

    def __init__(self, podman: Podman, image: str, tmp_path: Path, api_url: str) -> None:
        self.podman, self.image, self.api_url = podman, image, api_url
        self.workspace = tmp_path / "workspace"
        self.home = tmp_path / "_github_home"
        self.workflow = tmp_path / "_github_workflow"
        self.file_commands = tmp_path / "_runner_file_commands"
        for folder in (self.workspace, self.home, self.workflow, self.file_commands):
            folder.mkdir(parents=True, exist_ok=True)
        self.output_file = self.file_commands / "set_output_unset"
        self.summary_file = self.file_commands / "step_summary_unset"

    def run(
        self,
        event_name: str,
        payload: Mapping[str, Any],
        inputs: Mapping[str, str],
        *,
        mounts: set[str] = frozenset(),  # type: ignore[assignment]
        timeout: float = 600,
    ) -> subprocess.CompletedProcess[str]:
        (self.workflow / "event.json").write_text(json.dumps(payload), encoding="utf-8")
        # Each step gets fresh command files, as on the runner.
        step = uuid.uuid4()
        self.output_file = self.file_commands / f"set_output_{step}"
        self.summary_file = self.file_commands / f"step_summary_{step}"
        self.output_file.touch()
        self.summary_file.touch()
        repo = str(payload.get("repository", {}).get("full_name", "octo/app"))
        pr = payload.get("pull_request")
        if pr is not None:
            sha = str(pr["head"]["sha"])
            ref = f"refs/pull/{pr['number']}/merge"
        else:
            sha = str(payload.get("after") or "f" * 40)
            ref = str(payload.get("ref") or "refs/heads/main")
        env = {
            "HOME": "/github/home",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": "/github/workflow/event.json",
            "GITHUB_OUTPUT": f"/github/file_commands/{self.output_file.name}",
            "GITHUB_STEP_SUMMARY": f"/github/file_commands/{self.summary_file.name}",
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_REPOSITORY": repo,
            "GITHUB_SHA": sha,
            "GITHUB_REF": ref,
            "GITHUB_WORKSPACE": WORKSPACE,
            "GITHUB_RUN_ID": "4242",
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": "/home/runner/work/_temp",
        }
        for name in ACTION_INPUTS:
            env["INPUT_" + name.replace(" ", "_").upper()] = inputs.get(name, "")
        unknown = set(inputs) - set(ACTION_INPUTS)
        assert not unknown, f"unknown action inputs {sorted(unknown)}"
        args = ["run", "--rm", "--network=host", "--workdir", WORKSPACE]
        for name, value in env.items():
            args += ["-e", f"{name}={value}"]
        volumes = {
            str(self.home): "/github/home",
            str(self.workflow): "/github/workflow",
            str(self.file_commands): "/github/file_commands",
            str(self.workspace): WORKSPACE,
        }
        volumes.update({path: path for path in mounts})
        for source, target in volumes.items():
            args += ["-v", f"{source}:{target}"]
        args.append(self.image)
        return self.podman.run(*args, check=False, timeout=timeout)

    def outputs(self) -> dict[str, str]:
        """Parse the step's `$GITHUB_OUTPUT` heredoc records."""
        lines = self.output_file.read_text(encoding="utf-8").split("\n")
        found: dict[str, str] = {}
        i = 0
        while i < len(lines):
            if "<<" in lines[i]:
                name, delimiter = lines[i].split("<<", 1)
                end = lines.index(delimiter, i + 1)
                found[name] = "\n".join(lines[i + 1 : end])
                i = end
            i += 1
        return found

    def summary(self) -> str:
        return self.summary_file.read_text(encoding="utf-8")
