"""Measuring a row over HTTP: bounded wrk runs, RSS, draining the handler runners, the
handler-run accounting, and the A/B pairs."""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .paths import BODY, POST_LUA, UNIQUE_LUA
from .processes import BenchError, log, memory_kib, post_status, processes_running
from .rows import ROW, Row
from .services import Run
from .starts import start_command, timed_starts


@dataclass
class Results:
    wrk: dict[tuple[str, int], list[dict]] = field(default_factory=dict)      # (row, conc) -> runs
    rss: dict[str, list[tuple[int, int]]] = field(default_factory=dict)       # row -> (rss, pss) KiB
    pairs: dict[tuple[str, str, int], list[float]] = field(default_factory=dict)  # (row, base, conc) -> ratios
    counts: dict[str, list[dict]] = field(default_factory=dict)               # row -> handler accounting
    notes: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    checks: list[tuple[str, bool | None, str]] = field(default_factory=list)

    def note(self, row: str, text: str) -> None:
        self.notes.setdefault(row, []).append(text)


def wrk(run: Run, url: str, conc: int, seconds: float, lua: Path, name: str) -> dict | None:
    run.nonce += 1
    threads = 1 if conc == 1 else 2
    seconds = max(1, round(seconds))   # wrk takes whole seconds
    argv = ["wrk", f"-t{threads}", f"-c{conc}", f"-d{seconds}s", "--latency", "-s", str(lua), url]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                                env=dict(os.environ, BENCH_NONCE=str(run.nonce)))
    except subprocess.TimeoutExpired:
        log(f"{name}: wrk timed out")
        return None
    (run.raw / f"{name}.txt").write_text(" ".join(argv) + "\n" + result.stdout + result.stderr)
    line = next((l for l in result.stdout.splitlines() if l.startswith("BENCHRESULT ")), None)
    if not line:
        log(f"{name}: no result (see {run.raw / (name + '.txt')})")
        return None
    out = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    out["load1"] = float(Path("/proc/loadavg").read_text().split()[0])
    return out


class RssSampler(threading.Thread):
    """The peak summed RSS and PSS of a row's backend processes, every 0.5 s."""

    def __init__(self, run: Run, row: Row):
        super().__init__(daemon=True)
        self.run_, self.row, self.peak, self.stop_ = run, row, (0, 0), threading.Event()

    def run(self) -> None:
        while not self.stop_.is_set():
            mem = [memory_kib(p) for p in self.run_.backend_pids(self.row)]
            self.peak = (max(self.peak[0], sum(m[0] for m in mem)), max(self.peak[1], sum(m[1] for m in mem)))
            self.stop_.wait(0.5)


def spool_counts(spool: Path) -> tuple[int, int]:
    """Stored payloads and handler results in state done, under SPOOL/deliveries."""
    stored = done = 0
    for directory, _, files in os.walk(spool / "deliveries"):
        for name in files:
            if name.startswith("."):
                continue
            if name.endswith(".json"):
                stored += 1
            elif name.endswith(".result"):
                try:
                    done += b'"state":"done"' in Path(directory, name).read_bytes()
                except OSError:
                    pass
    return stored, done


def drain(run: Run, spool: Path | None) -> float:
    """Waits until no pixelhook process but the servers runs and every stored payload has its
    result (nothing moved for 5 s, or drain_max, ends it too). Returns the seconds waited."""
    start = time.monotonic()
    last, still = None, 0
    while True:
        servers = run.server_pids()
        busy = processes_running(run.pixelhook, servers) if run.pixelhook.exists() else []
        counts = spool_counts(spool) if spool else (0, 0)
        if not busy and counts[1] >= counts[0]:
            break
        still = still + 1 if counts == last else 0
        last = counts
        if still >= 10 or time.monotonic() - start > run.knobs.drain_max:
            break
        time.sleep(0.5)
    return time.monotonic() - start


def http_run(run: Run, results: Results, row: Row, conc: int, seconds: float, label: str,
             sample_rss: bool = False) -> dict | None:
    """One bounded wrk run of a row, with its handler accounting and RSS where asked."""
    if row.fresh:
        run.restart(row.fresh)
    url = run.url(row)
    spool = run.spool(row.spool) if row.spool else None
    before = spool_counts(spool) if spool else None
    sampler = RssSampler(run, row) if sample_rss and row.backend else None
    if sampler:
        sampler.start()
    out = wrk(run, url, conc, seconds, UNIQUE_LUA if row.body == "new" else POST_LUA, f"{row.id}.c{conc}.{label}")
    if sampler:
        sampler.stop_.set()
        sampler.join()
        results.rss.setdefault(row.id, []).append(sampler.peak)
    if out and "responder" in row.needs:
        run.served_by_responder += int(out["requests"])
    if spool:
        waited = drain(run, spool)
        after = spool_counts(spool)
        answered = int(out["requests"] - out["non2xx"]) if out else 0
        results.counts.setdefault(row.id, []).append(
            {"answered": answered, "stored": after[0] - before[0], "done": after[1] - before[1], "drain_s": waited,
             "spool_stored": after[0], "spool_done": after[1]})
    elif row.handler == "after answer":
        time.sleep(min(2, seconds))   # webhook's backlog: let it settle before the next run
    if out:
        log(f"{row.id} c{conc} {label}: {out['rps']:,.0f} req/s"
            + (f", {int(out['non2xx'])} non-2xx" if out["non2xx"] else "")
            + (f"; {results.counts[row.id][-1]}" if spool else ""))
    return out


def measure_http(run: Run, results: Results, row: Row, round_: int) -> None:
    url = run.url(row)
    body = BODY.read_bytes()
    if row.body == "new":
        body = re.sub(rb'"uploadId":"[^"]*"', b'"uploadId":"%024x"' % (run.nonce << 40 | round_), body)
    status = post_status(url, body)
    if status != 200:
        raise BenchError(f"preflight POST answered {status}")
    k = run.knobs
    http_run(run, results, row, 16, k.warm, f"warm{round_}")
    for conc, seconds in ((16, k.dur), (1, k.dur1)):
        out = http_run(run, results, row, conc, seconds, f"r{round_}", sample_rss=conc == 16)
        if out:
            results.wrk.setdefault((row.id, conc), []).append(out)


def one_pair(run: Run, results: Results, row: Row, base: Row, conc: int, index: int) -> None:
    if base.kind == "start":
        a = timed_starts(run, start_command(run, base.id), run.knobs.starts // 2)
        b = timed_starts(run, start_command(run, row.id), run.knobs.starts // 2)
        ratio = b / a   # time per start: lower is better
    else:
        seconds = run.knobs.pair_dur
        a_out = http_run(run, results, base, conc, seconds, f"pair-{row.id}-{index}")
        b_out = http_run(run, results, row, conc, seconds, f"pair-{base.id}-{index}")
        if not (a_out and b_out) or a_out["non2xx"] or b_out["non2xx"]:
            return
        ratio = (a_out["rps"] / b_out["rps"]) if row.lower_is_better else (b_out["rps"] / a_out["rps"])
    results.pairs.setdefault((row.id, base.id, conc), []).append(ratio)


def measure_pairs(run: Run, results: Results, row: Row, selected: set[str]) -> None:
    for base_id in row.pairs:
        if base_id not in selected or base_id in results.skipped:
            continue
        base = ROW[base_id]
        try:
            for need in base.needs:
                run.need(need)
        except BenchError as error:
            log(f"pairs {row.id} ÷ {base_id}: {error}")
            continue
        for conc in ((1,) if row.kind == "start" else (16, 1)):
            for index in range(run.knobs.pairs):
                one_pair(run, results, row, base, conc, index)
            ratios = results.pairs.get((row.id, base_id, conc), [])
            if ratios:
                log(f"paired {row.id} ÷ {base_id} c{conc}: median {statistics.median(ratios):.2f} "
                    f"({', '.join(f'{r:.2f}' for r in ratios)})")


def responder_rss(run: Run, results: Results) -> None:
    """The responder's RSS once it has served rss_requests requests (topped up on the dup path)."""
    service = run.services.get("responder")
    if not service or service.process.poll() is not None:
        return
    row = ROW["X1"]
    for _ in range(40):
        if run.served_by_responder >= run.knobs.rss_requests:
            break
        out = wrk(run, run.url(row), 16, 5, POST_LUA, f"rss-topup.{run.served_by_responder}")
        run.served_by_responder += int(out["requests"]) if out else 0
    rss, _ = memory_kib(service.process.pid)
    enough = run.served_by_responder >= 100_000
    results.checks.append((f"FastCGI responder RSS after {run.served_by_responder:,} requests < 16 MB",
                           (rss * 1024 < 16e6) if enough else None, f"{rss / 1024:.1f} MiB"))
