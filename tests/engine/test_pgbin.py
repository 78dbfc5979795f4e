"""PostgreSQL binary discovery."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import engine.pgbin as pgbin_module
from engine.errors import ShadowError
from engine.pgbin import ENV_BIN, find_postgres_bin, list_available, parse_version, probe


def test_parse_version_variants() -> None:
    assert parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)") == (15, "15.18")
    assert parse_version("postgres (PostgreSQL) 18.6") == (18, "18.6")
    assert parse_version("postgres (PostgreSQL) 18beta1") == (18, "18")
    with pytest.raises(ShadowError):
        parse_version("not postgres")


def test_list_available_is_distinct_and_runnable() -> None:
    found = list_available()
    assert found, "the test machine has PostgreSQL binaries"
    assert len({b.bindir for b in found}) == len(found)
    for pgbin in found:
        assert pgbin.postgres.is_file()
        assert pgbin.initdb.is_file()
        assert pgbin.pg_dump.is_file()
        assert pgbin.version.split(".")[0] == str(pgbin.major)


def test_probe_rejects_a_folder_without_postgres(tmp_path: Path) -> None:
    assert probe(tmp_path) is None


def test_probe_rejects_a_fake_postgres(tmp_path: Path) -> None:
    for name in ("postgres", "initdb"):
        fake = tmp_path / name
        fake.write_text("#!/bin/sh\necho hello\n")
        fake.chmod(0o755)
    assert probe(tmp_path) is None


def test_explicit_dir_wins_and_accepts_the_executable_itself() -> None:
    last = list_available()[-1]
    assert find_postgres_bin(explicit=str(last.bindir)) == last
    assert find_postgres_bin(explicit=str(last.postgres)) == last


def test_env_var_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    last = list_available()[-1]
    monkeypatch.setenv(ENV_BIN, str(last.bindir))
    assert find_postgres_bin() == last


def test_explicit_bad_dir_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BIN, raising=False)
    with pytest.raises(ShadowError, match="no runnable postgres"):
        find_postgres_bin(explicit=str(tmp_path))
    monkeypatch.setenv(ENV_BIN, str(tmp_path))
    with pytest.raises(ShadowError, match=ENV_BIN):
        find_postgres_bin()


def test_want_major_prefers_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BIN, raising=False)
    for pgbin in list_available():
        assert find_postgres_bin(pgbin.major).major == pgbin.major


def test_want_major_missing_gives_closest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BIN, raising=False)
    majors = {b.major for b in list_available()}
    assert find_postgres_bin(999).major == max(majors)
    assert find_postgres_bin(1).major == min(majors)


def test_default_is_first_in_search_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BIN, raising=False)
    assert find_postgres_bin() == list_available()[0]


def test_pg_config_comes_first_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BIN, raising=False)
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        pytest.skip("no pg_config on PATH")
    first = list_available()[0]
    bindir = subprocess.run(
        [pg_config, "--bindir"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert first.bindir == Path(bindir).resolve()


def test_a_search_probes_no_further_than_its_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each probe runs `postgres --version`: the search for a major stops at the first folder
    of that major, and the default search at the first runnable one."""
    monkeypatch.delenv(ENV_BIN, raising=False)
    found = list_available()
    probed: list[Path] = []

    def counting_probe(bindir: Path) -> object:
        probed.append(bindir)
        return probe(bindir)

    monkeypatch.setattr(pgbin_module, "probe", counting_probe)
    for position, pgbin in enumerate(found):
        if any(other.major == pgbin.major for other in found[:position]):
            continue  # an earlier folder answers for this major
        probed.clear()
        assert find_postgres_bin(pgbin.major) == pgbin
        assert pgbin.bindir in {p.resolve() for p in probed}
        later = {other.bindir for other in found[position + 1 :]}
        assert not any(p.resolve() in later for p in probed)
    probed.clear()
    assert find_postgres_bin() == found[0]
    assert not any(p.resolve() in {other.bindir for other in found[1:]} for p in probed)
    # a major nobody has: every folder is probed to find the closest
    probed.clear()
    find_postgres_bin(999)
    assert {later.bindir for later in found} <= {p.resolve() for p in probed}
