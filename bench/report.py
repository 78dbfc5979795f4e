"""BENCHMARKS.md from the measurements: tables, machine, versions, date, command, profile."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.pgbin import PgBin

NOTES = Path(__file__).resolve().parent / "notes.md"
PHASES = (
    "shadow start",
    "inspect current",
    "load desired",
    "inspect desired",
    "diff + plan",
    "verify",
    "render",
    "shadow stop",
)


def _s(value: Any) -> str:
    return f"{value:.2f} s" if isinstance(value, int | float) else "—"


def _machine() -> list[str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(ln.split()[1])
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        )
        mem = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration):
        mem = "?"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"- nproc: {os.cpu_count()} ({cpu})",
        f"- memory: {mem}",
        f"- load average when the report was written (1, 5, 15 min): {load} — the machine is "
        "shared, so compare tools within one run rather than across runs",
    ]


def _commit() -> str:
    res = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return res.stdout.strip() or "?"


def _runs(values: Any, fallback: Any = None) -> str:
    """A figure measured once, or the median of several runs with their range."""
    if isinstance(values, list) and len(values) > 1:
        ordered = sorted(values)
        low, high = ordered[0], ordered[-1]
        return f"{statistics.median(ordered):.2f} s ({low:.2f} to {high:.2f}, {len(ordered)} runs)"
    if isinstance(values, list) and values:
        return _s(values[0])
    return _s(fallback)


def _ratio(result: dict[str, Any]) -> str:
    """End to end over the floor: medians when either was run more than once."""
    pr = result.get("engine_pr", {})
    total = pr.get("median_total", pr.get("total"))
    floor = result.get("psql_load")
    if not isinstance(total, int | float) or not isinstance(floor, int | float) or not floor:
        return "—"
    return f"{total / floor:.2f}x"


def _mb(value: Any) -> str:
    return f"{value:.0f} MB" if isinstance(value, int | float) else "—"


def _conv(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return "not run"
    if "converges" not in result:
        return "error: " + str(result.get("error", "?"))
    return "yes" if result["converges"] else f"**no** ({result.get('why', '')})"


def render(results: list[dict[str, Any]], *, command: str, pgbin: PgBin, migra_version: str) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `" + command + "` (bench/__main__.py); raw numbers in "
        "bench/results/latest.json. Do not edit by hand: edit bench/notes.md (included below).",
        "",
        "## Summary",
        "",
        "| tables | columns | load avg | psql -1 -f load | pg-flux parse + load alone | "
        "raw catalog queries | deparse floor | pg-flux inspect | "
        "pg-flux engine only, PR | same phases inside end to end | pg-flux end to end, PR | "
        "end to end / psql floor | "
        "migra, PR | pg-flux end to end, empty -> full | migra, empty -> full |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        pr, full = r.get("engine_pr", {}), r.get("engine_full", {})
        mpr, mfull = r.get("migra_pr", {}), r.get("migra_full", {})
        ins = r.get("inspect", {})
        lines.append(
            f"| {r['tables']:,} | {r['columns']:,} | {r.get('load_average', 0):.1f} | "
            f"{_runs(r.get('psql_loads'), r.get('psql_load'))} | "
            f"{_s(r.get('load_alone', {}).get('load'))} | "
            f"{_s(ins.get('raw_queries'))} | {_s(ins.get('deparse_floor'))} | "
            f"{_s(ins.get('inspect'))} | "
            f"{_s(r.get('engine', {}).get('engine_only'))} | {_s(pr.get('engine_only'))} | "
            f"{_runs(pr.get('totals'), pr.get('total'))} | {_ratio(r)} | "
            f"{_s(mpr.get('seconds'))} | "
            f"{_s(full.get('total'))} | {_s(mfull.get('seconds'))} |"
        )
    lines += [
        "",
        "Engine only = inspect current and desired (at the same time, each over two",
        "connections) + diff and plan (the issue's target), run alone against the two databases",
        'psql loaded; "same phases inside end to end" is the sum of those phases in the',
        "end-to-end run, where schema/ is parsed and loaded while production is inspected",
        '("load desired" is the wait for the load after that) and verification\'s rebuild of',
        "the current schema (small schemas) runs on a background thread while the load ends.",
        "End to end = everything `pg-flux plan` does, including shadow start, load and verify.",
        "With `--repeat K` the end-to-end PR plan and the `psql -1 -f` load each ran K times,",
        "alternating (each load into a fresh database), and the cells give the median and the",
        "range; the ratio is between the medians. Parse + load alone: pg-flux loading the same",
        "change's schema/ into a shadow database with nothing else running (engine.load).",
        "Raw catalog queries: pg-flux's own inspection queries on one connection, without",
        "building the model. Deparse floor: issue 3's reference, a plain query per object kind",
        "returning its rows with PostgreSQL's deparse functions (format_type, pg_get_expr,",
        "pg_get_constraintdef, pg_get_indexdef, pg_get_viewdef, pg_get_functiondef,",
        "pg_get_triggerdef) and nothing else, on one connection (bench/deparse_floor.py).",
        "",
        "## Diff and plan by the size of the change",
        "",
        "The engine-only scenario (both sides inspected from databases psql loaded) against two",
        "changes: the one every other table uses, which scales with the schema (2% of its columns",
        "dropped, widened or added, an index per 100 tables added and dropped, a table per 200",
        "added), and one of a typical pull request's size whatever the schema's",
        "(`GeneratedSchema.mutate(small=True)`: three columns of each kind, an index added and",
        "one dropped, a new table, a view, a function, an enum value). Diff + plan excludes",
        'inspection. "Shared": the desired side read after production and sharing its equal',
        "objects, as `pg-flux plan` reads the shadow (engine.model.sharing), so that the diff",
        "compares most objects by identity; the other rows read both sides at once, unshared.",
        "",
        "| tables | change | mutations | plan statements | diff + plan | diff + plan, shared |"
        " engine only |",
        "|---|---|---|---|---|---|---|",
    ]
    unshared_only: dict[str, Any] = {}
    for r in results:
        for label, res, shared, count in (
            ("scaled", r.get("engine", {}), unshared_only, r.get("mutations")),
            (
                "pull request",
                r.get("engine_small", {}),
                r.get("engine_small_shared", {}),
                r.get("small_mutations"),
            ),
        ):
            lines.append(
                f"| {r['tables']:,} | {label} | {count if count is not None else '—'} | "
                f"{res.get('plan_statements', '—')} | "
                f"{_s(res.get('phases', {}).get('diff + plan'))} | "
                f"{_s(shared.get('phases', {}).get('diff + plan'))} | "
                f"{_s(res.get('engine_only'))} |"
            )
    lines += [
        "",
        "## Correctness: does each tool's output, applied to a copy of the source, converge?",
        "",
        "Oracle: `pg_dump --schema-only` of the copy after applying equals that of the target.",
        "",
        "| tables | pg-flux, PR | migra, PR | pg-flux, empty -> full | migra, empty -> full |",
        "|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['tables']:,} | {_conv(r.get('engine_pr', {}))} | {_conv(r.get('migra_pr', {}))}"
            f" | {_conv(r.get('engine_full', {}))} | {_conv(r.get('migra_full', {}))} |"
        )
    lines += ["", "## pg-flux phases (wall time)", ""]
    header = "| tables | scenario | " + " | ".join(PHASES) + " | total |"
    lines += [header, "|" + "---|" * (len(PHASES) + 3)]
    for r in results:
        for name in ("pr", "full"):
            res = r.get(f"engine_{name}", {})
            ph = res.get("phases", {})
            cells = " | ".join(_s(ph.get(p)) for p in PHASES)
            lines.append(f"| {r['tables']:,} | {name} | {cells} | {_s(res.get('total'))} |")
    lines += [
        "",
        "## Statements sent and memory",
        "",
        "Inspection statements come from InspectStats; statements sent count every psycopg "
        "execute per server (production = the database being planned against, shadow = the "
        "embedded shadow: load, inspection, verification). Peak RSS is the engine process's "
        "ru_maxrss; children is the largest process it waited for (the shadow postmaster).",
        "",
        "| tables | scenario | plan statements | inspect statements (current / desired) | "
        "sent to production | sent to shadow | peak RSS engine | peak RSS children | "
        "verified |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for name in ("pr", "full"):
            res = r.get(f"engine_{name}", {})
            ins = res.get("inspect_statements", {})
            lines.append(
                f"| {r['tables']:,} | {name} | {res.get('plan_statements', '—')} | "
                f"{ins.get('current', '—')} / {ins.get('desired', '—')} | "
                f"{res.get('sent_production', '—')} | {res.get('sent_shadow', '—')} | "
                f"{_mb(res.get('rss_self_mb'))} | {_mb(res.get('rss_children_mb'))} | "
                f"{res.get('verified', '—')} |"
            )
        ins = r.get("inspect", {})
        lines.append(
            f"| {r['tables']:,} | inspect alone | — | {ins.get('inspect_statements', '—')} | — | "
            f"— | {_mb(ins.get('rss_inspect_mb', ins.get('rss_self_mb')))} | — | — |"
        )
    errors = [
        f"- {r['tables']:,} {name}: {err}"
        for r in results
        for name in ("pr", "full")
        for err in r.get(f"engine_{name}", {}).get("verification_errors", [])
    ]
    if errors:
        lines += ["", "Verification errors reported by pg-flux (first lines):", "", *errors]
    lines += [
        "",
        "## Machine and versions",
        "",
        *_machine(),
        f"- PostgreSQL {pgbin.version} ({pgbin.bindir}), embedded cluster, fsync/"
        "synchronous_commit/full_page_writes off",
        f"- Python {platform.python_version()}, pg-flux commit {_commit()}",
        f"- migra {migra_version} in bench/.migra-venv with "
        "psycopg2-binary, sqlbag and SQLAlchemy<2 (1.4; the combination used here, 2.x not tried)",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- command: `{command}`",
        "",
    ]
    profiled = [r for r in results if r.get("profile")]
    if profiled:
        top = profiled[0]["profile"].splitlines()
        lines += [
            f"## Profile (pyinstrument, PR-sized plan at {profiled[0]['tables']:,} tables)",
            "",
            "```",
            *top[:60],
            "```",
            "",
        ]
    if NOTES.exists():
        lines += [NOTES.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines)
