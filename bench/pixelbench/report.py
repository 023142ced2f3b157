"""The one table, and the checks' verdicts."""
from __future__ import annotations

import os
import statistics
import subprocess
import time
from pathlib import Path

from .measure import Results
from .paths import ROOT
from .rows import Knobs, Row
from .services import Run


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def cell(row_id: str, conc: int, key: str, results: Results) -> float | None:
    return med([r[key] for r in results.wrk.get((row_id, conc), []) if key in r])


def table(results: Results, selected: list[Row]) -> str:
    head = ["row", "what", "req/s c16", "p99 c16 ms", "req/s c1", "p50 c1 ms", "peak RSS MiB (backend)",
            "÷ baseline c16 / c1", "paired ÷ (median of pairs) c16 / c1", "checks and notes"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def num(v: float | None, fmt: str) -> str:
        return "—" if v is None else format(v, fmt)

    for row in selected:
        if row.id in results.skipped:
            lines.append(f"| {row.id} | {row.what} | skipped: {results.skipped[row.id]} |" + " |" * (len(head) - 3))
            continue
        rps16, rps1 = cell(row.id, 16, "rps", results), cell(row.id, 1, "rps", results)
        p99, p50 = cell(row.id, 16, "p99_us", results), cell(row.id, 1, "p50_us", results)
        rss = results.rss.get(row.id)
        rss_text = "—"
        if rss:
            peak = max(r[0] for r in rss)
            pss = max(r[1] for r in rss)
            rss_text = f"{peak / 1024:.1f}" + (f" (PSS {pss / 1024:.1f})" if pss and pss < peak * 0.7 else "")
        ratio = "—"
        if row.baseline and row.baseline != row.id:
            parts = []
            for conc in (16, 1):
                mine, base = cell(row.id, conc, "rps", results), cell(row.baseline, conc, "rps", results)
                parts.append("—" if not (mine and base) else f"{mine / base:.2f}")
            ratio = "—" if parts == ["—", "—"] else f"{' / '.join(parts)} ({row.baseline})"
        paired = []
        for base_id in row.pairs:
            per = [med(results.pairs.get((row.id, base_id, c), [])) for c in (16, 1)]
            if any(p is not None for p in per):
                shown = [num(p, ".2f") for p in per] if row.kind != "start" else [num(per[1], ".2f")]
                paired.append(f"{base_id} {' / '.join(shown)}")
        notes = list(results.notes.get(row.id, []))
        counts = results.counts.get(row.id)
        if counts:
            notes.append("handler runs: {:,} answered, {:,} stored, {:,} done".format(
                *(sum(c[k] for c in counts) for k in ("answered", "stored", "done"))))
        lines.append("| " + " | ".join([
            f"**{row.id}**" if row.id.startswith(("X", "S1")) else row.id, row.what,
            num(rps16, ",.0f"), num(p99 / 1000 if p99 else None, ".2f"), num(rps1, ",.0f"),
            num(p50 / 1000 if p50 else None, ".3f"), rss_text, ratio,
            "; ".join(paired) or "—", "; ".join(notes) or ""]) + " |")
    return "\n".join(lines)


def judge_pairs(results: Results, selected: list[Row]) -> None:
    for row in selected:
        for base_id, bound in row.targets:
            for conc in ((1,) if row.kind == "start" else (16, 1)):
                ratios = results.pairs.get((row.id, base_id, conc))
                if not ratios:
                    continue
                m = statistics.median(ratios)
                ok = m <= bound if row.lower_is_better else (m > bound if bound == 1.0 else m >= bound)
                sense = f"≤ {bound}×" if row.lower_is_better else ("> 1 (ahead)" if bound == 1.0 else f"≥ {bound}")
                what = "time per request" if row.lower_is_better else "req/s"
                results.checks.append((f"{row.id} ÷ {base_id} {what} at -c{conc}, paired, target {sense}", ok,
                                       f"median {m:.2f} of {len(ratios)} pairs ({min(ratios):.2f}–{max(ratios):.2f})"))


def judge_counts(results: Results) -> None:
    for row_id, runs in results.counts.items():
        answered = sum(r["answered"] for r in runs)
        stored = sum(r["stored"] for r in runs)
        done = sum(r["done"] for r in runs)
        last = runs[-1]
        # After the last drain every payload in the spool has its `done` result, and the
        # runs stored at least what they answered (wrk stops with requests in flight).
        ok = last["spool_done"] == last["spool_stored"] and stored >= answered
        results.checks.append((f"{row_id}: every answered delivery stored and its handler run to `done`", ok,
                               f"{answered:,} answered 200, {stored:,} stored, {done:,} done; spool after the "
                               f"last drain: {last['spool_stored']:,} payloads, {last['spool_done']:,} done"))


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("pass" if ok else "**FAIL**")


def environment_text(run: Run, knobs: Knobs, quick: bool) -> str:
    def version(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (out.stdout + out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "n/a"
    commit = version(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    fs = version(["findmnt", "-no", "FSTYPE,SOURCE", "-T", str(run.dir)])
    return (f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, {os.cpu_count()} cores, "
            f"load {' '.join(Path('/proc/loadavg').read_text().split()[:3])}, spools on {fs}; "
            f"{'--quick: ' if quick else ''}{knobs.rounds} round(s) of {knobs.dur:g} s at -c16 and {knobs.dur1:g} s "
            f"at -c1, {knobs.pairs} pairs of {knobs.pair_dur:g} s; {version(['nginx', '-v'])}, "
            f"{version(['lighttpd', '-v'])}, {version(['wrk', '-v'])}")
