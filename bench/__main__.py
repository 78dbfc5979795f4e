"""`python -m bench --sizes 100,1000,5000`: run the scenarios and rewrite BENCHMARKS.md.

A "production" embedded cluster (durability off) holds the source, target and empty databases,
loaded with `psql -1 -f` (the floor). Each engine scenario runs in its own process (bench.worker)
against a shadow it starts itself; migra runs from its own venv on the same pairs. Every plan is
applied to a copy of its source and compared with the target by `pg_dump --schema-only`.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from bench import image, report, tools
from bench.generator import generate
from engine.catalog.runner import analyze_catalogs
from engine.execute import execute_statements
from engine.pgbin import PgBin, find_postgres_bin
from engine.plan.model import Plan
from engine.shadow import EmbeddedCluster, ShadowDatabase
from engine.shadow.embedded import ADMIN_ROLE, PORT

ROOT = Path(__file__).resolve().parent.parent


def worker(spec: dict[str, Any], admin_dsn: str, timeout: float) -> dict[str, Any]:
    try:
        res = tools.run([sys.executable, "-m", "bench.worker", json.dumps(spec)], timeout=timeout)
    except subprocess.TimeoutExpired:
        # The killed worker's query may still run on the production cluster: stop it.
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
            )
        return {"error": f"timed out after {timeout:.0f} s (--worker-timeout)"}
    if res.returncode != 0:
        return {"error": (res.stderr.strip().splitlines() or ["?"])[-1][:300]}
    result: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    return result


def converges(
    cluster: EmbeddedCluster, source: ShadowDatabase, target_dump: str, apply: Any
) -> tuple[bool, str]:
    """Apply (a callable taking a dsn) to a copy of `source`; compare its dump with the target's."""
    with cluster.database(template=source.name) as copy:
        try:
            problem = apply(copy.admin_dsn)
        except (psycopg.Error, RuntimeError) as exc:
            return False, f"failed to apply: {str(exc).strip().splitlines()[0][:200]}"
        if problem:
            return False, problem
        dump = tools.pg_dump(cluster.pgbin, copy.admin_dsn)
    if dump == target_dump:
        return True, ""
    have, want = set(dump.splitlines()), set(target_dump.splitlines())
    missing = sorted(want - have)
    sample = f"; e.g. missing `{missing[0][:80]}`" if missing else ""
    return False, f"dump differs: {len(missing)} lines missing, {len(have - want)} extra{sample}"


def apply_engine(plan_path: Path) -> Any:
    def apply(dsn: str) -> str:
        plan = Plan.model_validate_json(plan_path.read_text(encoding="utf-8"))
        with psycopg.connect(dsn) as conn:
            execute_statements(conn, plan.statements)
        return ""

    return apply


def apply_sql(cluster: EmbeddedCluster, sql: str, path: Path) -> Any:
    def apply(dsn: str) -> str:
        path.write_text(sql, encoding="utf-8")
        res = tools.psql_file(cluster.pgbin, dsn, path)
        if res.returncode != 0:
            return f"failed to apply: {res.stderr.strip().splitlines()[-1][:200]}"
        return ""

    return apply


def run_size(
    cluster: EmbeddedCluster,
    n: int,
    work: Path,
    seed: int,
    profile: bool,
    id_style: str,
    timeout: float,
    with_full: bool = True,
    repeat: int = 1,
) -> dict[str, Any]:
    out: dict[str, Any] = {"tables": n, "load_average": os.getloadavg()[0]}
    base = generate(n, seed, id_style)
    changed = base.mutate(1)
    small = base.mutate(1, small=True)
    out["columns"] = base.column_count
    out["mutations"] = len(changed.mutations)
    out["small_mutations"] = len(small.mutations)
    base_dir, changed_dir = work / "base" / "schema", work / "changed" / "schema"
    (work / "base.sql").write_text(base.write(base_dir), encoding="utf-8")
    (work / "changed.sql").write_text(changed.write(changed_dir), encoding="utf-8")
    url = {}
    src, dst, empty, dst_small = (cluster.create_database() for _ in range(4))
    for name, db in (("src", src), ("dst", dst), ("empty", empty)):
        url[name] = tools.migra_url(cluster.sockdir, PORT, ADMIN_ROLE, db.name)
    load = tools.psql_file(cluster.pgbin, src.admin_dsn, work / "base.sql")
    if load.returncode != 0:
        raise RuntimeError(f"psql load failed: {load.stderr[-500:]}")
    out["psql_load"] = load.seconds
    out["psql_loads"] = [load.seconds]
    (work / "small.sql").write_text(small.sql, encoding="utf-8")
    for db, sql in ((dst, "changed.sql"), (dst_small, "small.sql")):
        loaded = tools.psql_file(cluster.pgbin, db.admin_dsn, work / sql)
        if loaded.returncode != 0:
            raise RuntimeError(f"psql load of {sql} failed: {loaded.stderr[-500:]}")
    # A production database has catalog statistics (autovacuum saw its DDL long ago); one just
    # loaded has none, and the catalog queries' plans go wrong without them.
    for db in (src, dst, empty, dst_small):
        analyze_catalogs(db.admin_dsn)
    dumps = {
        "src": tools.pg_dump(cluster.pgbin, src.admin_dsn),
        "dst": tools.pg_dump(cluster.pgbin, dst.admin_dsn),
    }
    prod_host = str(cluster.sockdir)

    def hosts(result: dict[str, Any]) -> None:
        if "sent" not in result:
            return  # the worker was killed: nothing was counted
        sent = result.pop("sent", None) or {}
        shadow_host = result.pop("shadow_host", "")
        result["sent_production"] = sent.get(prod_host, 0)
        result["sent_shadow"] = sent.get(shadow_host, 0)

    scenarios = [("pr", src, changed_dir, "dst")]
    if with_full:
        scenarios.append(("full", empty, base_dir, "src"))
    else:
        skipped = {"skipped": "not run at this size (--full-max)"}
        out["engine_full"], out["migra_full"] = dict(skipped), dict(skipped)
    for name, current, schema_dir, target_name in scenarios:
        plan_out = work / f"{name}.plan.json"
        spec = {
            "scenario": "plan",
            "schema_dir": str(schema_dir),
            "current_dsn": current.admin_dsn,
            "plan_out": str(plan_out),
            "profile_out": str(work / f"{name}.profile.txt") if profile and name == "pr" else "",
        }
        if name == "pr":
            result = repeated_pr_plan(
                cluster, spec, work / "base.sql", out, repeat, timeout, src.admin_dsn
            )
        else:
            result = worker(spec, src.admin_dsn, timeout)
        hosts(result)
        if "error" not in result:
            ok, why = converges(cluster, current, dumps[target_name], apply_engine(plan_out))
            result["converges"], result["why"] = ok, why
        out[f"engine_{name}"] = result
        src_url = url["src"] if name == "pr" else url["empty"]
        m = tools.migra(src_url, url[target_name])
        mres: dict[str, Any] = {"seconds": m.seconds, "returncode": m.returncode}
        if m.returncode in (0, 2):
            ok, why = converges(
                cluster, current, dumps[target_name], apply_sql(cluster, m.stdout, work / "m.sql")
            )
            mres["converges"], mres["why"] = ok, why
        else:
            mres["converges"], mres["why"] = False, m.stderr.strip()[-200:]
        out[f"migra_{name}"] = mres
    out["inspect"] = worker(
        {"scenario": "inspect", "current_dsn": src.admin_dsn}, src.admin_dsn, timeout
    )
    # pg-flux's own parse + load of the change, alone: what the psql -1 -f floor stands for
    out["load_alone"] = worker(
        {"scenario": "load", "schema_dir": str(changed_dir)}, src.admin_dsn, timeout
    )
    # Both sides as loaded by psql (desired = the target database): the engine in isolation.
    out["engine"] = worker(
        {"scenario": "engine", "current_dsn": src.admin_dsn, "desired_dsn": dst.admin_dsn},
        src.admin_dsn,
        timeout,
    )
    # The same against a change of a typical pull request's size (bench.generator).
    small_spec = {
        "scenario": "engine",
        "current_dsn": src.admin_dsn,
        "desired_dsn": dst_small.admin_dsn,
    }
    out["engine_small"] = worker(small_spec, src.admin_dsn, timeout)
    out["engine_small_shared"] = worker(small_spec | {"like": True}, src.admin_dsn, timeout)
    for db in (src, dst, empty, dst_small):
        cluster.drop_database(db)
    if profile:
        prof = work / "pr.profile.txt"
        out["profile"] = prof.read_text(encoding="utf-8") if prof.exists() else ""
    return out


def repeated_pr_plan(
    cluster: EmbeddedCluster,
    spec: dict[str, Any],
    base_sql: Path,
    out: dict[str, Any],
    repeat: int,
    timeout: float,
    admin_dsn: str,
) -> dict[str, Any]:
    """The pull request's end-to-end plan `repeat` times, each run after a `psql -1 -f` load of
    the schema into a fresh database (the first is the load into the source database, already
    in out["psql_loads"]): on a shared machine one pair of figures can be 30% off either way,
    so the ratio is taken between medians of runs that alternate. Returns the run whose total
    is the median (its phases are reported), with every run's total in "totals"."""
    runs: list[dict[str, Any]] = []
    for attempt in range(repeat):
        if attempt:
            with cluster.database() as scratch:
                load = tools.psql_file(cluster.pgbin, scratch.admin_dsn, base_sql)
            if load.returncode != 0:
                raise RuntimeError(f"psql load failed: {load.stderr[-500:]}")
            out["psql_loads"].append(load.seconds)
        run = worker(spec if attempt == 0 else spec | {"profile_out": ""}, admin_dsn, timeout)
        if "error" in run:
            # a failed or timed-out run is the result: the report must show it, and the
            # next attempt would most likely fail the same way
            out["psql_load"] = statistics.median(out["psql_loads"])
            return run
        runs.append(run)
    out["psql_load"] = statistics.median(out["psql_loads"])
    totals = [r["total"] for r in runs]
    chosen = sorted(runs, key=lambda r: r["total"])[(len(runs) - 1) // 2]
    return chosen | {"totals": totals, "median_total": statistics.median(totals)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", default="100,1000", help="table counts, comma-separated")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--id-style",
        choices=("mixed", "serial", "identity"),
        default="mixed",
        help="primary key columns: bigserial and identity mixed (default), or only one kind",
    )
    parser.add_argument("--profile-size", type=int, default=1000, help="pyinstrument this size")
    parser.add_argument(
        "--worker-timeout",
        type=float,
        default=1800,
        help="seconds one pg-flux scenario may take before it is recorded as timed out",
    )
    parser.add_argument(
        "--full-max",
        type=int,
        default=None,
        help="run the empty -> full scenarios only up to this many tables (they are the longest)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run the PR plan end to end and the psql -1 -f floor this many times each, "
        "alternating, and compare their medians",
    )
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument(
        "--results",
        default=str(ROOT / "bench" / "results" / "latest.json"),
        help="where the raw figures go (JSON)",
    )
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    migra_version = tools.ensure_migra()
    pgbin = find_postgres_bin()
    results: list[dict[str, Any]] = []
    with EmbeddedCluster(pgbin, superuser_loader=True) as cluster:
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix=f"pgflux-bench-{n}-") as tmp:
                print(f"bench: {n} tables ...", file=sys.stderr, flush=True)
                results.append(
                    run_size(
                        cluster,
                        n,
                        Path(tmp),
                        args.seed,
                        n == args.profile_size,
                        args.id_style,
                        args.worker_timeout,
                        with_full=args.full_max is None or n <= args.full_max,
                        repeat=max(1, args.repeat),
                    )
                )
                print(json.dumps(results[-1], default=str)[:2000], file=sys.stderr, flush=True)
                # after every size: a run cut short still leaves the sizes it finished
                _write(results, args.output, args.results, argv, pgbin, migra_version)
    return 0


def _write(
    results: list[dict[str, Any]],
    output_path: str,
    results_path: str,
    argv: list[str] | None,
    pgbin: PgBin,
    migra_version: str,
) -> None:
    raw = Path(results_path)
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(results, indent=2), encoding="utf-8")
    command = "python -m bench " + shlex.join(argv if argv is not None else sys.argv[1:])
    output = Path(output_path)
    text = report.render(results, command=command, pgbin=pgbin, migra_version=migra_version)
    # bench.image owns the "Container image" section: keep it as it is.
    previous = output.read_text(encoding="utf-8") if output.exists() else ""
    _, found, section = previous.partition(f"\n{image.HEADING}\n")
    if found:
        text = text.rstrip("\n") + f"\n\n{image.HEADING}\n" + section
    output.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
