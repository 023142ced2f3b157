#!/usr/bin/env python3
"""pixelhook's bench: every row in one run, one table (issue #15 item 4).

    python3 bench/bench.py                 # build (scripts/build-static.sh), every row: ~15 min
    python3 bench/bench.py --quick         # a few seconds per row: ~6 min (CI does not run it)
    python3 bench/bench.py --only X1n,F1s,P4x --no-build
    python3 bench/bench.py --list          # the rows

The rows are data (pixelbench/rows.py): what a row runs, under which servers, with which body,
what its ratio divides by (its baseline) and which A/B pairs it takes part in. The pixelhook
rows run under the shipped nginx.conf.example and lighttpd.conf.example, rendered with the same
substitutions as Tests/IntegrationTests/WebServerFixture.swift; the floors and peers behind
nginx are copies of the shipped FastCGI or CGI location with only the upstream changed, so a
floor and its pixelhook row pass through the same nginx directives.

Every server runs in a session of its own, in one temporary directory, on a free 127.0.0.1
port or a unix socket there; it is stopped by its PID (TERM to its group, KILL after 5 s) and
nothing else is signalled. pixelhook's detached handler runners are found by their executable
(the copy of the binary in the run directory) and waited for.
"""
from __future__ import annotations

import argparse
import json
import shutil
import signal
import statistics
import subprocess
import sys
from pathlib import Path

from pixelbench.kinds import MEASURE
from pixelbench.measure import Results, measure_pairs, responder_rss
from pixelbench.processes import BenchError, log
from pixelbench.report import environment_text, judge_counts, judge_pairs, table, verdict
from pixelbench.rows import QUICK, ROW, ROWS, Knobs
from pixelbench.services import Run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds per row (the table in bench/README.md)")
    parser.add_argument("--only", help="comma-separated row ids (see --list)")
    parser.add_argument("--list", action="store_true", help="print the rows and exit")
    parser.add_argument("--no-build", action="store_true", help="use the last .build-static binary")
    parser.add_argument("--binary", help="use this pixelhook binary (no build): to measure a commit before a change")
    parser.add_argument("--keep", action="store_true", help="keep the spools")
    parser.add_argument("--variants", action="store_true",
                        help="also build the --static-swift-stdlib and plain release variants (rows S2, S3)")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--dur", type=float, help="seconds of each -c16 run")
    parser.add_argument("--dur1", type=float, help="seconds of each -c1 run")
    parser.add_argument("--pairs", type=int, help="A/B pairs per paired check and concurrency")
    parser.add_argument("--pair-dur", type=float, help="seconds of each run of a pair")
    parser.add_argument("--set", action="append", default=[], metavar="KNOB=VALUE",
                        help="any other knob: " + ", ".join(Knobs.__dataclass_fields__))
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    if args.list:
        for row in ROWS:
            print(f"{row.id:5} {row.what}" + (f"  (÷ {row.baseline})" if row.baseline and row.baseline != row.id else ""))
        return 0
    knobs = QUICK if args.quick else Knobs()
    for name in ("rounds", "dur", "dur1", "pairs", "pair_dur"):
        if getattr(args, name) is not None:
            setattr(knobs, name, getattr(args, name))
    for setting in args.set:
        name, _, value = setting.partition("=")
        if name not in Knobs.__dataclass_fields__ or not value:
            parser.error(f"--set {setting}: not KNOB=VALUE with a knob of {', '.join(Knobs.__dataclass_fields__)}")
        try:
            setattr(knobs, name, type(getattr(Knobs(), name))(value))
        except ValueError:
            parser.error(f"--set {setting}: {value!r} is not a number")
    selected = ROWS
    if args.only:
        wanted = [x.strip() for x in args.only.split(",") if x.strip()]
        unknown = [x for x in wanted if x not in ROW]
        if unknown:
            parser.error(f"unknown row(s) {', '.join(unknown)} (see --list)")
        selected = [row for row in ROWS if row.id in wanted]
    for tool in ("wrk", "cc"):
        if not shutil.which(tool):
            parser.error(f"{tool} is required")

    run = Run(knobs, args.keep)
    results = Results()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log(f"run directory {run.dir}")
    try:
        run.build(not (args.no_build or args.binary), args.variants, binary=args.binary)
        header = environment_text(run, knobs, args.quick)
        ids = {row.id for row in selected}
        for round_ in range(1, knobs.rounds + 1):
            log(f"==== round {round_} of {knobs.rounds}")
            for row in selected:
                if row.id in results.skipped:
                    continue
                log(f"== {row.id}: {row.what}")
                try:
                    if row.kind in ("http", "burst"):
                        for need in row.needs:
                            run.need(need)
                    elif row.kind in ("start", "callgrind", "spool") and row.id != "S0" and not run.pixelhook.exists():
                        raise BenchError("no pixelhook build")
                    if row.kind == "callgrind" and round_ > 1:
                        continue
                    MEASURE[row.kind](run, results, row, round_)
                except (BenchError, subprocess.SubprocessError, OSError) as error:
                    results.skipped[row.id] = str(error)
                    log(f"{row.id}: skipped ({error})")
        for row in selected:   # the pairs, after every row's own runs: all servers are up
            if row.id not in results.skipped and row.pairs:
                measure_pairs(run, results, row, ids)
        if ids & {"X1", "X1n"}:
            responder_rss(run, results)
        cgi = results.rss.get("S1")
        if cgi:
            peak = statistics.median(r[0] for r in cgi)
            results.checks.append(("one CGI process (duplicate POST) peak RSS < 8 MB", peak * 1024 < 8e6,
                                   f"{peak / 1024:.1f} MiB"))
        judge_pairs(results, selected)
        judge_counts(results)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        run.close()

    report = [header, "", table(results, selected), "", "Checks (same run):", ""]
    report += [f"- {what}: {detail} — {verdict(ok)}" for what, ok, detail in results.checks]
    text = "\n".join(report) + "\n"
    (run.dir / "table.md").write_text(text)
    if args.json:
        args.json.write_text(json.dumps({"wrk": {f"{k[0]}.c{k[1]}": v for k, v in results.wrk.items()},
                                         "pairs": {f"{k[0]}/{k[1]}.c{k[2]}": v for k, v in results.pairs.items()},
                                         "rss": results.rss, "counts": results.counts,
                                         "skipped": results.skipped}, indent=1))
    print(text)
    log(f"raw wrk output {run.raw}, logs {run.logs}, table {run.dir / 'table.md'}")
    return 1 if any(ok is False for _, ok, _ in results.checks) else 0


if __name__ == "__main__":
    sys.exit(main())
