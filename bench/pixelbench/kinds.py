"""The rows that are not a wrk run: the disk, CGI starts, callgrind, the store's steps, the
burst, a big spool."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from .measure import Results, RssSampler, drain, measure_http, spool_counts
from .paths import BENCH, BODY
from .processes import BenchError, log
from .rows import STEPS_ORDER, Row
from .services import Run
from .starts import cgi_environment, peak_rss_kib, start_command, timed_starts


def measure_disk(run: Run, results: Results, row: Row, round_: int) -> None:
    binary = run.binary("durable_ceiling")
    for conc, seconds in ((16, run.knobs.dur), (1, run.knobs.dur1)):
        # A new directory each run, removed only at the end: on ext4 a mass removal makes new
        # inodes slow to allocate for minutes after, which would tax the rows after this one.
        target = run.spool(f"d0.c{conc}.{round_}")
        target.mkdir()
        result = subprocess.run([str(binary), str(target), str(conc), f"{seconds:g}", str(BODY)],
                                capture_output=True, text=True, timeout=seconds + 60)
        line = next((l for l in result.stdout.splitlines() if l.startswith("BENCHRESULT ")), None)
        if line:
            out = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
            results.wrk.setdefault((row.id, conc), []).append(out)
            log(f"D0 {conc} thread(s): {out['rps']:,.0f} durable stores/s")


def measure_start(run: Run, results: Results, row: Row, round_: int) -> None:
    argv = start_command(run, row.id)
    run.spool("start").mkdir(exist_ok=True)
    timed_starts(run, argv, 3)   # the first stores the body: from then on, the duplicate path
    seconds = timed_starts(run, argv, run.knobs.starts)
    peak = peak_rss_kib(run, argv)
    results.wrk.setdefault((row.id, 1), []).append({"rps": 1 / seconds, "p50_us": seconds * 1e6})
    results.rss.setdefault(row.id, []).append((peak, 0))
    stripped = run.dir / "bin/size-check"
    if subprocess.run(["strip", "-o", str(stripped), argv[0]], capture_output=True).returncode == 0:
        size = stripped.stat().st_size
        results.note(row.id, f"{size / 1e6:.1f} MB stripped" if size > 1e6 else f"{size / 1e3:.0f} KB stripped")
        stripped.unlink()
    log(f"{row.id}: {seconds * 1e3:.2f} ms per start, peak RSS {peak} KiB")


def measure_callgrind(run: Run, results: Results, row: Row, round_: int) -> None:
    if not shutil.which("valgrind"):
        raise BenchError("valgrind is not installed")
    spool = run.spool("callgrind")
    spool.mkdir(exist_ok=True)
    env = cgi_environment(run, spool)
    # valgrind cannot read the static binary's debug information: a stripped copy, as shipped.
    stripped = run.dir / "bin/pixelhook-stripped"
    subprocess.run(["strip", "-o", str(stripped), str(run.pixelhook)], check=True)
    counts = []
    for i in range(3):   # the first stores the body; the two after it are duplicates
        out = run.dir / f"callgrind.{i}.out"
        with open(BODY, "rb") as body:
            result = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                     str(stripped)], stdin=body, capture_output=True, env=env, timeout=120)
        match = re.search(rb"Collected : (\d+)", result.stderr)
        if match:
            counts.append(int(match.group(1)))
    if len(counts) < 3:
        raise BenchError("callgrind gave no count")
    results.note(row.id, f"{counts[2]:,} instructions (the first, storing, POST: {counts[0]:,})")
    results.wrk.setdefault((row.id, 0), []).append({"instructions": counts[2]})


def journal_commits(directory: Path) -> int | None:
    """Commits of the journal of the filesystem holding `directory` (None: no jbd2 info)."""
    device = os.stat(directory).st_dev
    name = f"{os.major(device)}:{os.minor(device)}"
    for info in Path("/proc/fs/jbd2").glob("*/info") if Path("/proc/fs/jbd2").exists() else []:
        block = Path(f"/sys/dev/block/{name}")
        if block.exists() and info.parent.name.startswith(block.resolve().name + "-"):
            return int(info.read_text().split()[0])
    return None


def measure_steps(run: Run, results: Results, row: Row, round_: int) -> None:
    binary = run.binary("store_steps")
    target = run.spool(f"steps.{row.id}.{round_}")
    os.sync()
    before = journal_commits(run.spool(""))
    result = subprocess.run([str(binary), str(target), str(run.knobs.stores), STEPS_ORDER[row.id]],
                            capture_output=True, text=True, timeout=600)
    after = journal_commits(run.spool(""))
    steps = {f[1]: float(f[2]) for f in (l.split("\t") for l in result.stdout.splitlines()) if f[0] == "STEP"}
    if "total" not in steps:
        raise BenchError(f"store_steps gave no total: {result.stderr.strip()[:200]}")
    out = {"rps": 1e6 / steps["total"], "p50_us": steps["total"]}
    if before is not None and after is not None:
        out["commits"] = (after - before) / run.knobs.stores
    results.wrk.setdefault((row.id, 1), []).append(out)
    slow = sorted(((v, k) for k, v in steps.items() if k != "total"), reverse=True)[:2]
    results.note(row.id, ", ".join(f"{k} {v:,.0f} µs" for v, k in slow)
                 + (f"; {out['commits']:.2f} journal commits per store" if "commits" in out else ""))


def measure_burst(run: Run, results: Results, row: Row, round_: int) -> None:
    """N distinct deliveries, each sent twice (the copy conc/2 requests behind, so that some
    race), from `conc` keep-alive connections; then the handler runs are read back."""
    import http.client
    import queue
    from collections import Counter
    if round_ > 1:
        return
    k = run.knobs
    url = run.url(row)
    host, port = url.split("//")[1].split("/")[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    base = json.loads(BODY.read_text())
    prefix = f"{run.nonce:06x}{row.id.lower()}"[:14]
    def body(i: int) -> bytes:
        return json.dumps(dict(base, uploadId=f"{prefix}{i:010d}"), separators=(",", ":")).encode()
    lag = k.burst_conc // 2
    work: queue.Queue = queue.Queue()
    for i in range(k.burst + lag):
        if i < k.burst:
            work.put(body(i))
        if i >= lag:
            work.put(body(i - lag))
    codes: Counter = Counter()
    lock = threading.Lock()
    def client() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        while True:
            try:
                item = work.get_nowait()
            except queue.Empty:
                break
            try:
                connection.request("POST", path, item, {"Content-Type": "application/json"})
                answer = connection.getresponse()
                answer.read()
                code = answer.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=60)
                code = 0
            with lock:
                codes[code] += 1
        connection.close()
    spool = run.spool(row.spool)
    runs_log = run.dir / "burst-runs.log"
    sampler = RssSampler(run, row)
    sampler.start()
    t0 = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(k.burst_conc)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - t0
    waited = drain(run, spool)
    sampler.stop_.set()
    sampler.join()
    results.rss.setdefault(row.id, []).append(sampler.peak)
    stored, done = spool_counts(spool)
    runs = [line.split() for line in runs_log.read_text().splitlines()] if runs_log.exists() else []
    per_delivery = Counter(r[0] for r in runs if prefix in r[0])
    not_once = sum(1 for n in per_delivery.values() if n != 1) + (k.burst - len(per_delivery))
    peak_running = max((int(r[1]) for r in runs if prefix in r[0]), default=0)
    sent = sum(codes.values())
    results.wrk.setdefault((row.id, k.burst_conc), []).append({"rps": sent / seconds})
    results.note(row.id, f"{sent:,} POSTs in {seconds:.1f} s, drained {waited:.1f} s later")
    results.checks.append((f"{row.id}: every POST of the burst answered 200", codes.get(200, 0) == sent,
                           ", ".join(f"{n:,} × {c}" for c, n in sorted(codes.items()))))
    results.checks.append((f"{row.id}: each of the {k.burst:,} deliveries stored once, its handler run exactly once",
                           stored == k.burst and done == stored and not_once == 0,
                           f"{stored:,} stored, {done:,} done, {len(per_delivery):,} delivered to the handler, "
                           f"{not_once} not exactly once"))
    results.checks.append((f"{row.id}: handlers running at once never above PIXELHOOK_MAX_HANDLERS={k.max_handlers}",
                           peak_running <= k.max_handlers, f"at most {peak_running}"))
    log(f"{row.id}: {sent:,} POSTs in {seconds:.1f} s, {stored:,} stored, {done:,} done, peak {peak_running} running")


def measure_spool(run: Run, results: Results, row: Row, round_: int) -> None:
    """Commands on a spool bench/big-spool.py writes directly: wall and CPU seconds (the
    command and the handlers it waited for), the median of three where a command repeats."""
    import resource
    if round_ > 1:
        return
    spool = run.spool(f"grow.{row.id}")
    handlers = run.dir / "grow-handlers"
    if not handlers.exists():
        handlers.mkdir()
        (handlers / "default").write_text("#!/bin/sh\nexit 0\n")
        (handlers / "default").chmod(0o755)
    count = run.knobs.grow_drain if row.id == "G1" else run.knobs.grow_builds
    subprocess.run([sys.executable, str(BENCH / "big-spool.py"), "one-build" if row.id == "G1" else "builds",
                    str(spool), str(count)], check=True, stdout=subprocess.DEVNULL)
    env = {"PATH": "/usr/bin:/bin", "PIXELHOOK_SPOOL": str(spool), "PIXELHOOK_HANDLERS": str(handlers),
           "PIXELHOOK_PROJECT_IDS": "p1"}

    def timed(arguments: list[str]) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([str(run.pixelhook)] + arguments, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=900)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    plan = ([("run-queue", ["run-queue"], 1)] if row.id == "G1" else
            [("first retry", ["retry"], 1), ("retry --dry-run", ["retry", "--dry-run"], 3),
             ("retry", ["retry"], 3), ("builds --limit 1", ["builds", "--limit", "1"], 3)])
    what = f"{count:,} deliveries in one build" if row.id == "G1" else f"{count:,} builds"
    for name, arguments, times in plan:
        runs = sorted((timed(arguments) for _ in range(times)), key=lambda r: r[1])
        wall, cpu = runs[len(runs) // 2]
        results.note(row.id, f"{name}: {wall:.2f} s wall / {cpu:.2f} s CPU")
        log(f"{row.id} {name} on {what}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    results.note(row.id, f"({what})")



MEASURE = {"http": measure_http, "disk": measure_disk, "start": measure_start,
           "callgrind": measure_callgrind, "steps": measure_steps, "burst": measure_burst,
           "spool": measure_spool}


