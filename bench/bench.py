#!/usr/bin/env python3
"""pixelhook's bench: every row in one run, one table (issue #15 item 4).

    python3 bench/bench.py                 # build (scripts/build-static.sh), every row: ~15 min
    python3 bench/bench.py --quick         # a few seconds per row: ~5 min (CI does not run it)
    python3 bench/bench.py --only X1n,F1s,P4x --no-build
    python3 bench/bench.py --list          # the rows

The rows are data (ROWS below): what a row runs, under which servers, with which body, what
its ratio divides by (its baseline) and which A/B pairs it takes part in. The pixelhook rows
run under the shipped nginx.conf.example and lighttpd.conf.example, rendered with the same
substitutions as Tests/IntegrationTests/WebServerFixture.swift; the floors and peers behind
nginx are copies of the shipped FastCGI or CGI location with only the upstream changed, so a
floor and its pixelhook row pass through the same nginx directives.

Every server runs in a process group of its own, in one temporary directory, on a free
127.0.0.1 port or a unix socket there; it is stopped by its PID (TERM to its group, KILL after
5 s) and nothing else is signalled. pixelhook's detached handler runners are found by their
executable (the copy of the binary in the run directory) and waited for.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BODY = BENCH / "body.json"
POST_LUA = BENCH / "lua/post.lua"          # the same body every request: the duplicate path
UNIQUE_LUA = BENCH / "lua/post-unique.lua"  # a new uploadId every request: the new-delivery path
NGINX_EXAMPLE = ROOT / "nginx.conf.example"
LIGHTTPD_EXAMPLE = ROOT / "lighttpd.conf.example"
CGI_PATH = "/hooks/streampixel"             # the examples' CGI location
FASTCGI_PATH = "/hooks/streampixel-fastcgi"  # the examples' FastCGI location


# ------------------------------------------------------------------------------------ rows

@dataclass(frozen=True)
class Row:
    """One line of the table.

    kind: `http` (wrk at -c16 and -c1 against `url`), `disk` (durable_ceiling, no HTTP),
    `start` (one CGI process started directly: wall time per start), `callgrind` (instructions
    of one duplicate CGI POST), `steps` (store_steps.c: µs and journal commits per store).
    url: `SERVER:PATH`, SERVER one of the services below. body: `dup` or `new`.
    baseline: the row the ratio column divides by (medians of this run).
    pairs: rows measured in A/B pairs with this one (baseline run, then this row, seconds
    apart, both servers up); the verdict is the median of the per-pair ratios.
    target: (row, lowest ratio) checked on the pairs, e.g. ("F1s", 0.8); a ratio of times
    per request when `lower_is_better`.
    spool: the spool whose stored payloads and handler results are counted around each run.
    needs: services that must be up; backend: those whose processes' RSS is sampled.
    """
    id: str
    what: str
    kind: str = "http"
    url: str = ""
    body: str = "dup"
    baseline: str | None = None
    pairs: tuple[str, ...] = ()
    targets: tuple[tuple[str, float], ...] = ()
    lower_is_better: bool = False
    spool: str | None = None
    needs: tuple[str, ...] = ()
    backend: tuple[str, ...] = ()
    handler: str = "—"
    fresh: str | None = None     # a service started anew before each run (webhook's backlog)
    build: str | None = None     # `start` rows: the build variant's scratch path (BUILD_VARIANTS)


PEERS_WITH_HANDLER = ("P2x", "P2gx", "P4x")

ROWS: list[Row] = [
    Row("L0", "nginx `return 200` (the ceiling)", url="nginx:/l0", needs=("nginx",), backend=()),
    Row("F1", "C libfcgi responder, 2 procs (FastCGI floor)", url="nginx:/f1", baseline="F1",
        needs=("nginx", "f1"), backend=("f1",)),
    Row("X1", "pixelhook FastCGI (nginx example), duplicate", url="nginx:" + FASTCGI_PATH, baseline="F1",
        pairs=("F1",), targets=(("F1", 0.8),), needs=("nginx", "responder"), backend=("responder",)),
    Row("F1n", "C new-delivery floor: store durably, answer, spawn `true`", url="nginx:/f1n", body="new",
        baseline="F1n", needs=("nginx", "f1n"), backend=("f1n",), handler="in line"),
    Row("F1s", "C durable receiver, 16 procs, store and answer, no handler", url="nginx:/f1s", body="new",
        baseline="F1s", needs=("nginx", "f1s"), backend=("f1s",), handler="none"),
    Row("X1n", "pixelhook FastCGI (nginx example), new delivery: durable store + handler", url="nginx:" + FASTCGI_PATH,
        body="new", baseline="F1s", pairs=("F1s",) + PEERS_WITH_HANDLER,
        targets=(("F1s", 0.8),) + tuple((p, 1.0) for p in PEERS_WITH_HANDLER),
        spool="nginx", needs=("nginx", "responder"), backend=("responder",), handler="after answer"),
    Row("C2", "C CGI program under nginx + fcgiwrap (CGI floor)", url="nginx:/c2", baseline="C2",
        needs=("nginx", "fcgiwrap"), backend=("fcgiwrap",)),
    Row("X2", "pixelhook CGI (nginx example, fcgiwrap), duplicate", url="nginx:" + CGI_PATH, baseline="C2",
        needs=("nginx", "fcgiwrap"), backend=("fcgiwrap",)),
    Row("X2n", "pixelhook CGI (nginx example, fcgiwrap), new delivery", url="nginx:" + CGI_PATH, body="new",
        baseline="C2", spool="nginx", needs=("nginx", "fcgiwrap"), backend=("fcgiwrap",), handler="after answer"),
    Row("C3", "C CGI program under lighttpd (CGI floor)", url="lighttpd:/cgi_floor", baseline="C3",
        needs=("lighttpd",), backend=("lighttpd-children",)),
    Row("X3", "pixelhook CGI (lighttpd example), duplicate", url="lighttpd:" + CGI_PATH, baseline="C3",
        pairs=("C3",), targets=(("C3", 1.5),), lower_is_better=True, needs=("lighttpd",),
        backend=("lighttpd-children",)),
    Row("X3n", "pixelhook CGI (lighttpd example), new delivery", url="lighttpd:" + CGI_PATH, body="new",
        baseline="C3", spool="lighttpd", needs=("lighttpd",), backend=("lighttpd-children",), handler="after answer"),
    Row("X4", "pixelhook FastCGI (lighttpd example, its own responder), duplicate", url="lighttpd:" + FASTCGI_PATH,
        baseline="F1", needs=("lighttpd",), backend=("lighttpd-children",)),
    Row("X4n", "pixelhook FastCGI (lighttpd example), new delivery", url="lighttpd:" + FASTCGI_PATH, body="new",
        baseline="F1s", spool="lighttpd", needs=("lighttpd",), backend=("lighttpd-children",), handler="after answer"),
    Row("P1", "adnanh/webhook, runs `true` after answering", url="webhook:/hooks/streampixel", baseline="F1n",
        needs=("webhook",), backend=("webhook",), handler="after answer", fresh="webhook"),
    Row("P2", "Flask docs receiver, dev server", url="flask:/webhooks/streampixel", baseline="F1",
        needs=("flask",), backend=("flask",)),
    Row("P2g", "Flask, gunicorn 2 workers", url="gunicorn:/webhooks/streampixel", baseline="F1",
        needs=("gunicorn",), backend=("gunicorn",)),
    Row("P2x", "Flask dev server + `subprocess.run(true)`", url="flask:/webhooks/streampixel-exec", baseline="F1n",
        needs=("flask",), backend=("flask",), handler="in line"),
    Row("P2gx", "gunicorn + `subprocess.run(true)`", url="gunicorn:/webhooks/streampixel-exec", baseline="F1n",
        needs=("gunicorn",), backend=("gunicorn",), handler="in line"),
    Row("P4", "nginx → php-fpm (2), `json_decode`", url="nginx:/p4", baseline="F1",
        needs=("nginx", "php"), backend=("php",)),
    Row("P4x", "nginx → php-fpm + `exec('true')`", url="nginx:/p4x", baseline="F1n",
        needs=("nginx", "php"), backend=("php",), handler="in line"),
    Row("B1", "burst: N new deliveries, each sent twice, 64 connections (nginx example, FastCGI), recording handler, 4 at once",
        kind="burst", url="nginx:/burst", spool="burst-nginx", needs=("nginx", "responder"), backend=("responder",),
        handler="after answer"),
    Row("B3", "the same burst under the lighttpd example, CGI", kind="burst", url="lighttpd:/burst",
        spool="burst-lighttpd", needs=("lighttpd",), backend=("lighttpd-children",), handler="after answer"),
    Row("G1", "what grows with the spool: one runner draining one build of N deliveries", kind="spool"),
    Row("G2", "what grows with the spool: retry, retry --dry-run, builds --limit 1 on N finished builds", kind="spool"),
    Row("D0", "the disk: durable stores/s, 16 threads / 1 thread, no HTTP", kind="disk", baseline="D0",
        handler="none"),
    Row("S0", "C CGI program started directly (fork+exec, body on stdin)", kind="start", baseline="S0"),
    Row("S1", "pixelhook CGI started directly, duplicate POST", kind="start", baseline="S0",
        pairs=("S0",), lower_is_better=True),
    Row("S2", "pixelhook CGI started directly, `--static-swift-stdlib` build", kind="start", baseline="S0",
        build=".build-static-stdlib"),
    Row("S3", "pixelhook CGI started directly, plain `-c release` build (Swift runtime shared)", kind="start",
        baseline="S0", build=".build"),
    Row("S1i", "pixelhook CGI, one duplicate POST: callgrind instructions", kind="callgrind"),
    Row("T0", "one durable store, D0's order (one file): µs and journal commits", kind="steps", baseline="T0"),
    Row("T1", "one durable store, pixelhook's order (name, then sync)", kind="steps", baseline="T0"),
]
STEPS_ORDER = {"T0": "flat", "T1": "pixelhook"}
# The builds `--variants` makes besides the shipped one (scripts/build-static.sh, .build-static).
BUILD_VARIANTS = {".build-static-stdlib": ["--static-swift-stdlib"], ".build": []}
ROW = {row.id: row for row in ROWS}


@dataclass
class Knobs:
    rounds: int = 2
    dur: float = 8.0         # each -c16 run, s
    dur1: float = 4.0        # each -c1 run, s
    warm: float = 1.0        # whole seconds, as every duration wrk runs
    pairs: int = 5
    pair_dur: float = 2.0
    drain_max: float = 60.0
    rss_requests: int = 100_000
    starts: int = 200        # CGI starts per S0/S1 run
    stores: int = 300        # stores per T0/T1 run
    burst: int = 10_000      # distinct deliveries per burst row (each sent twice)
    burst_conc: int = 64
    max_handlers: int = 4    # PIXELHOOK_MAX_HANDLERS in the burst rows
    grow_drain: int = 1_200  # deliveries in G1's one build
    grow_builds: int = 5_000  # finished builds in G2's spool (7 events each)


QUICK = Knobs(rounds=1, dur=2, dur1=1, warm=1, pairs=3, pair_dur=1, drain_max=30, rss_requests=20_000,
              starts=50, stores=100, burst=500, burst_conc=16,
              grow_drain=200, grow_builds=500)


# ------------------------------------------------------------------------- processes

def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


class Processes:
    """Every process this run starts: each in a session of its own, so that its group can be
    stopped without touching anything else; stopped by PID, last started first."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[subprocess.Popen] = []

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "ab")
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=env, start_new_session=True)
        out.close()
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
        # What its group still holds (children that outlived it) gets the same.
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        for process in reversed(list(self.started)):
            self.stop(process)


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree(pid: int, kids: dict[int, list[int]], include_root: bool = True) -> set[int]:
    out, stack = ({pid} if include_root else set()), list(kids.get(pid, []))
    while stack:
        p = stack.pop()
        out.add(p)
        stack.extend(kids.get(p, []))
    return out


def memory_kib(pid: int) -> tuple[int, int]:
    """VmRSS and PSS of one process (0, 0 once it is gone)."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


def processes_running(executable: Path, exclude: set[int]) -> list[int]:
    """PIDs whose executable is `executable` (the run's copy of pixelhook), minus `exclude`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in exclude:
            try:
                if os.readlink(f"/proc/{entry}/exe") == str(executable):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, seconds: float = 10, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise BenchError(f"{what} not ready within {seconds:g} s")
        time.sleep(0.05)


def post_status(url: str, body: bytes) -> int:
    import urllib.request
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


class BenchError(Exception):
    pass


# ---------------------------------------------------------------------- configs

def substitute(text: str, pairs: list[tuple[str, str]], source: Path) -> str:
    for old, new in pairs:
        if old not in text:
            raise BenchError(f"{source.name} no longer contains {old!r}: update its header and bench.py")
        text = text.replace(old, new)
    return text


def location_block(lines: list[str], path: str) -> list[str]:
    """nginx: the `location = PATH { ... }` lines, closing brace included."""
    start = next(i for i, line in enumerate(lines) if line.strip() == f"location = {path} {{")
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    end = next(i for i in range(start, len(lines)) if lines[i] == indent + "}")
    return lines[start:end + 1]


def copied_location(block: list[str], path: str, upstream: str, script: str | None) -> list[str]:
    """A copy of a shipped location for a floor or a peer: only its path, its upstream and
    its SCRIPT_FILENAME differ (pixelhook's own PIXELHOOK_* lines stay: harmless variables)."""
    out = []
    for line in block:
        text = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if text.startswith("location = "):
            out.append(f"{indent}location = {path} {{")
        elif text.startswith("fastcgi_pass "):
            out.append(f"{indent}fastcgi_pass unix:{upstream};")
            if script and not any(b.strip().startswith("fastcgi_param SCRIPT_FILENAME") for b in block):
                out.append(f"{indent}fastcgi_param SCRIPT_FILENAME {script};")
        elif text.startswith("fastcgi_param SCRIPT_FILENAME"):
            out.append(f"{indent}fastcgi_param SCRIPT_FILENAME {script};")
        else:
            out.append(line)
    return out


def with_settings(block: list[str], settings: dict[str, str]) -> list[str]:
    """nginx: a location with its `fastcgi_param PIXELHOOK_X` lines (set or commented out in
    the example) set to these values."""
    out = []
    for line in block:
        text = line.strip().lstrip("#").strip()
        indent = line[: len(line) - len(line.lstrip())]
        key = text.split()[1] if text.startswith("fastcgi_param ") and len(text.split()) > 1 else None
        out.append(f"{indent}fastcgi_param {key} {settings[key]};" if key in settings else line)
    missing = set(settings) - {l.split()[1] for l in out if l.strip().startswith("fastcgi_param ")}
    if missing:
        raise BenchError(f"nginx.conf.example has no line for {', '.join(sorted(missing))}")
    return out


def render_nginx(run: "Run", port: int) -> str:
    """nginx.conf.example with the test fixture's substitutions, plus the bench's locations."""
    text = substitute(NGINX_EXAMPLE.read_text(), [
        ("listen 8080;", f"listen 127.0.0.1:{port};"),
        ("user www-data;", "user root;"),
        ("/run/nginx.pid", str(run.dir / "nginx.pid")),
        ("/var/log/nginx", str(run.logs)),
        ("/var/lib/nginx", str(run.dir / "nginx")),
        ("/run/fcgiwrap.socket", str(run.sock("fcgiwrap"))),
        ("/run/pixelhook/pixelhook.sock", str(run.sock("responder"))),
        ("/usr/local/bin/pixelhook", str(run.pixelhook)),
        ("/var/spool/pixelhook", str(run.spool("nginx"))),
        ("/etc/pixelhook/handlers", str(run.handlers)),
    ], NGINX_EXAMPLE)
    lines = text.split("\n")
    fastcgi = location_block(lines, FASTCGI_PATH)
    cgi = location_block(lines, CGI_PATH)
    extra = ["        location = /l0 { default_type application/json; return 200 '{\"received\":true}'; }"]
    extra += copied_location(fastcgi, "/f1", str(run.sock("f1")), None)
    extra += copied_location(fastcgi, "/f1n", str(run.sock("f1n")), None)
    extra += copied_location(fastcgi, "/f1s", str(run.sock("f1s")), None)
    extra += copied_location(cgi, "/c2", str(run.sock("fcgiwrap")), str(run.cgi_floor))
    extra += copied_location(fastcgi, "/p4", str(run.sock("php")), str(BENCH / "peers/php/index.php"))
    extra += copied_location(fastcgi, "/p4x", str(run.sock("php")), str(BENCH / "peers/php/exec.php"))
    extra += with_settings(copied_location(fastcgi, "/burst", str(run.sock("responder")), None), run.burst_settings("nginx"))
    end = max(i for i, line in enumerate(lines) if line.strip() == "}")   # the http block's brace
    server_end = max(i for i in range(end) if lines[i].strip() == "}")     # the server block's
    return "\n".join(lines[:server_end] + extra + lines[server_end:])


def render_lighttpd(run: "Run", port: int) -> str:
    text = substitute(LIGHTTPD_EXAMPLE.read_text(), [
        ("8080", str(port)),
        ('"0.0.0.0"', '"127.0.0.1"'),
        ("/usr/local/bin/pixelhook", str(run.pixelhook)),
        ("/var/spool/pixelhook", str(run.spool("lighttpd"))),
        ("/etc/pixelhook/handlers", str(run.handlers)),
        ("/var/log/lighttpd", str(run.logs)),
        ("/run/lighttpd", str(run.dir / "lighttpd")),
    ], LIGHTTPD_EXAMPLE)
    lines = ["# " + line if line.lstrip().startswith(("server.username", "server.groupname")) else line
             for line in text.split("\n")]
    lines += [f'$HTTP["url"] == "/cgi_floor" {{',
              f'    alias.url  = ( "/cgi_floor" => "{run.cgi_floor}" )',
              '    cgi.assign = ( "" => "" )', "}"]
    settings = ", ".join(f'"{k}" => "{v}"' for k, v in run.burst_settings("lighttpd").items())
    lines += [f'$HTTP["url"] == "/burst" {{',
              f'    alias.url  = ( "/burst" => "{run.pixelhook}" )',
              '    cgi.assign = ( "" => "" )',
              f'    setenv.add-environment = ( {settings}, "PIXELHOOK_PROJECT_IDS" => "{run.project}" )', "}"]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- services

@dataclass
class Service:
    name: str
    process: subprocess.Popen
    url: str = ""             # http://127.0.0.1:PORT for those clients reach directly


class Run:
    """The run directory, the binaries built for it, and the services, started on demand and
    kept up for the whole run (pairs need two rows' servers at once)."""

    def __init__(self, knobs: Knobs, keep: bool):
        self.knobs = knobs
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="pixelhook-bench."))
        self.logs = self.dir / "log"
        self.raw = self.dir / "raw"
        for sub in ("log", "raw", "sock", "bin", "nginx", "lighttpd", "handlers", "spool"):
            (self.dir / sub).mkdir()
        self.processes = Processes(self.logs)
        self.services: dict[str, Service] = {}
        self.failed: dict[str, str] = {}
        self.pixelhook = self.dir / "bin/pixelhook"
        self.cgi_floor = self.dir / "bin/cgi_floor"
        self.handlers = self.dir / "handlers"
        self.true = shutil.which("true") or "/bin/true"
        (self.handlers / "default").symlink_to(self.true)
        self.project = json.loads(BODY.read_text())["projectId"]
        self.nonce = int.from_bytes(os.urandom(3), "big")
        self.served_by_responder = 0

    def burst_settings(self, server: str) -> dict[str, str]:
        return {"PIXELHOOK_SPOOL": str(self.spool("burst-" + server)), "PIXELHOOK_HANDLERS": str(self.burst_handlers),
                "PIXELHOOK_MAX_HANDLERS": str(self.knobs.max_handlers)}

    @property
    def burst_handlers(self) -> Path:
        """A `default` handler that records each run: a marker per running handler, and a
        line `DELIVERY RUNNING` (markers present: never more than hold a slot) per run."""
        directory = self.dir / "burst-handlers"
        if not directory.exists():
            directory.mkdir()
            (self.dir / "burst-running").mkdir()
            script = directory / "default"
            script.write_text(f"#!/bin/sh\n: > {self.dir}/burst-running/$$\nset -- {self.dir}/burst-running/*\n"
                              f"echo \"$PIXELHOOK_DELIVERY $#\" >> {self.dir}/burst-runs.log\nsleep 0.005\n"
                              f"rm -f {self.dir}/burst-running/$$\n")
            script.chmod(0o755)
        return directory

    def sock(self, name: str) -> Path:
        return self.dir / "sock" / f"{name}.sock"

    def spool(self, name: str) -> Path:
        return self.dir / "spool" / name

    # ---- building what the rows run
    def build(self, build: bool, variants: bool = False) -> None:
        for scratch, flags in BUILD_VARIANTS.items():
            if variants:
                log(f"swift build -c release --scratch-path {scratch} {' '.join(flags)}")
                subprocess.run(["swift", "build", "-c", "release", "--product", "pixelhook", "--scratch-path", scratch]
                               + flags, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(self.logs / "build.log", "ab"))
            if (ROOT / scratch / "release/pixelhook").exists():
                shutil.copy2(ROOT / scratch / "release/pixelhook", self.dir / "bin" / ("pixelhook" + scratch))
        if build:
            log("scripts/build-static.sh (the shipped build, into .build-static)")
            result = subprocess.run(["bash", str(ROOT / "scripts/build-static.sh")], cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=open(self.logs / "build.log", "wb"))
            if result.returncode:
                log(f"build failed (see {self.logs / 'build.log'}): the pixelhook rows are skipped")
        built = ROOT / ".build-static/release/pixelhook"
        if built.exists():
            shutil.copy2(built, self.pixelhook)   # a copy: others may rebuild; runners are found by it
        for name, source, flags in [("cgi_floor", "src/cgi_floor.c", []),
                                    ("durable_ceiling", "src/durable_ceiling.c", ["-pthread"]),
                                    ("store_steps", "src/store_steps.c", []),
                                    ("fcgi_floor", "src/fcgi_floor.c", ["-lfcgi"]),
                                    ("fcgi_store", "peers/fcgi_store.c", ["-lfcgi"])]:
            result = subprocess.run(["cc", "-O2", "-o", str(self.dir / "bin" / name), str(BENCH / source)] + flags,
                                    capture_output=True, text=True)
            if result.returncode:
                log(f"cc {source} failed: {result.stderr.strip()[:200]}")

    def binary(self, name: str) -> Path:
        path = self.dir / "bin" / name
        if not path.exists():
            raise BenchError(f"no {name} (its build failed)")
        return path

    # ---- services
    def need(self, name: str) -> Service:
        if name in self.failed:
            raise BenchError(self.failed[name])
        if name not in self.services:
            try:
                self.services[name] = getattr(self, "start_" + name.replace("-", "_"))()
            except (BenchError, OSError, StopIteration) as error:
                self.failed[name] = f"{name} did not start: {error}"
                raise BenchError(self.failed[name]) from None
        service = self.services[name]
        if service.process.poll() is not None:
            raise BenchError(f"{name} exited ({service.process.returncode}); see {self.logs}")
        return service

    def restart(self, name: str) -> Service:
        if name in self.services:
            self.processes.stop(self.services.pop(name).process)
        return self.need(name)

    def tool(self, name: str) -> str:
        path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
        if not path:
            raise BenchError(f"{name} is not installed")
        return path

    def wait_socket(self, path: Path, process: subprocess.Popen) -> None:
        wait_until(lambda: path.exists() or process.poll() is not None, 10, str(path))
        if process.poll() is not None:
            raise BenchError(f"exited ({process.returncode}) before creating {path.name}")

    def wait_http(self, url: str, process: subprocess.Popen, body: bytes | None = None) -> None:
        body = body or BODY.read_bytes()
        def up() -> bool:
            return process.poll() is not None or post_status(url, body) == 200
        wait_until(up, 15, url)
        if process.poll() is not None:
            raise BenchError(f"exited ({process.returncode})")

    def spawn_fcgi(self, name: str, children: int, argv: list[str]) -> Service:
        process = self.processes.start(name, [self.tool("spawn-fcgi"), "-n", "-s", str(self.sock(name)),
                                              "-M", "0600", "-F", str(children), "--"] + argv)
        self.wait_socket(self.sock(name), process)
        return Service(name, process)

    def web_server(self, name: str, render, argv, probe: str) -> Service:
        """A web server on a free port from a config rendered for it; another port if the one
        probed free was taken before the server bound it."""
        for _ in range(3):
            port = free_port()
            config = self.dir / f"{name}.conf"
            config.write_text(render(self, port))
            process = self.processes.start(name, argv(config))
            url = f"http://127.0.0.1:{port}"
            try:
                self.wait_http(url + probe, process)
                return Service(name, process, url)
            except BenchError:
                self.processes.stop(process)
        raise BenchError(f"{name} did not answer on three ports")

    def start_nginx(self) -> Service:
        nginx = self.tool("nginx")
        return self.web_server("nginx", render_nginx, lambda config: [
            nginx, "-g", "daemon off;", "-p", str(self.dir / "nginx") + "/", "-c", str(config),
            "-e", str(self.logs / "nginx-startup.log")], "/l0")

    def start_lighttpd(self) -> Service:
        lighttpd = self.tool("lighttpd")
        if not self.pixelhook.exists():
            raise BenchError("no pixelhook build")
        return self.web_server("lighttpd", render_lighttpd, lambda config: [lighttpd, "-D", "-f", str(config)],
                               "/cgi_floor")

    def start_responder(self) -> Service:
        if not self.pixelhook.exists():
            raise BenchError("no pixelhook build")
        # As the nginx example says to start it; the spool and handlers the rendered
        # fastcgi_param lines name must be allowed.
        process = self.processes.start("responder", [
            str(self.pixelhook), "fastcgi", "--listen", str(self.sock("responder")), "--socket-mode", "0660",
            "--allow-spool", str(self.spool("nginx")), "--allow-handlers", str(self.handlers),
            "--allow-spool", str(self.spool("burst-nginx")), "--allow-handlers", str(self.burst_handlers)])
        self.wait_socket(self.sock("responder"), process)
        return Service("responder", process)

    def start_fcgiwrap(self) -> Service:
        if not self.pixelhook.exists():
            raise BenchError("no pixelhook build")
        process = self.processes.start("fcgiwrap", [self.tool("fcgiwrap"), "-c", "4", "-s",
                                                    "unix:" + str(self.sock("fcgiwrap"))])
        self.wait_socket(self.sock("fcgiwrap"), process)
        return Service("fcgiwrap", process)

    def start_f1(self) -> Service:
        return self.spawn_fcgi("f1", 2, [str(self.binary("fcgi_floor"))])

    def start_f1n(self) -> Service:
        self.spool("f1n").mkdir(exist_ok=True)
        return self.spawn_fcgi("f1n", 2, [str(self.binary("fcgi_store")), str(self.spool("f1n")), self.true])

    def start_f1s(self) -> Service:
        self.spool("f1s").mkdir(exist_ok=True)
        return self.spawn_fcgi("f1s", 16, [str(self.binary("fcgi_store")), str(self.spool("f1s")), "-"])

    def start_php(self) -> Service:
        fpm = sorted((p for d in ("/usr/sbin", "/usr/bin") if os.path.isdir(d) for p in os.listdir(d)
                      if re.fullmatch(r"php-fpm[0-9.]*", p)), key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        if not fpm:
            raise BenchError("php-fpm is not installed")
        config = self.dir / "php-fpm.conf"
        config.write_text(f"[global]\npid = {self.dir}/php-fpm.pid\nerror_log = {self.logs}/php-fpm.log\n"
                          f"daemonize = no\n[bench]\nuser = root\ngroup = root\nlisten = {self.sock('php')}\n"
                          "listen.mode = 0666\npm = static\npm.max_children = 2\n")
        process = self.processes.start("php-fpm", [self.tool(fpm[-1]), "-F", "-R", "-y", str(config)])
        self.wait_socket(self.sock("php"), process)
        return Service("php", process)

    def python_peer(self, name: str, argv: list[str], port: int) -> Service:
        env = dict(os.environ, PORT=str(port))
        process = self.processes.start(name, argv, env)
        url = f"http://127.0.0.1:{port}"
        self.wait_http(url + "/webhooks/streampixel", process)
        return Service(name, process, url)

    def start_flask(self) -> Service:
        return self.python_peer("flask", [sys.executable, str(BENCH / "peers/flask_app.py")], free_port())

    def start_gunicorn(self) -> Service:
        port = free_port()
        return self.python_peer("gunicorn", [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                                             "--chdir", str(BENCH / "peers"), "flask_app:app"], port)

    def start_webhook(self) -> Service:
        hooks = self.dir / "hooks.json"
        hooks.write_text((BENCH / "peers/hooks.json").read_text().replace('"/bin/true"', json.dumps(self.true)))
        port = free_port()
        process = self.processes.start("webhook", [self.tool("webhook"), "-hooks", str(hooks), "-ip", "127.0.0.1",
                                                   "-port", str(port)])
        url = f"http://127.0.0.1:{port}"
        self.wait_http(url + "/hooks/streampixel", process)
        return Service("webhook", process, url)

    # ---- what a row's URL and processes are
    def url(self, row: Row) -> str:
        server, _, path = row.url.partition(":")
        return self.need(server).url + path

    def backend_pids(self, row: Row) -> set[int]:
        kids = children_map()
        pids: set[int] = set()
        for name in row.backend:
            if name == "lighttpd-children":
                pids |= tree(self.services["lighttpd"].process.pid, kids, include_root=False)
            elif name in self.services:
                pids |= tree(self.services[name].process.pid, kids)
        return pids

    def server_pids(self) -> set[int]:
        """The long-lived processes: the servers and what they started in their own session
        (lighttpd's responder, the responder's worker); pixelhook's runners start a session of
        their own, so they are not among these."""
        kids = children_map()
        pids: set[int] = set()
        for service in self.services.values():
            for pid in tree(service.process.pid, kids):
                try:
                    if os.getsid(pid) == service.process.pid:
                        pids.add(pid)
                except ProcessLookupError:
                    pass
        return pids

    def close(self) -> None:
        self.processes.stop_all()
        for pid in processes_running(self.pixelhook, set()):
            try:
                os.kill(pid, signal.SIGTERM)   # a runner still going after the drains: ours
                log(f"stopped handler runner {pid}")
            except ProcessLookupError:
                pass
        if not self.keep:
            shutil.rmtree(self.dir / "spool", ignore_errors=True)


# -------------------------------------------------------------------------- measuring

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


def cgi_environment(run: Run, spool: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(BODY.stat().st_size), "REMOTE_ADDR": "127.0.0.1", "SCRIPT_NAME": CGI_PATH,
            "QUERY_STRING": "", "PIXELHOOK_SPOOL": str(spool), "PIXELHOOK_HANDLERS": str(run.handlers),
            "PIXELHOOK_PROJECT_IDS": run.project}


def start_command(run: Run, row_id: str) -> list[str]:
    row = ROW[row_id]
    if row.build:
        if not (run.dir / "bin" / ("pixelhook" + row.build)).exists():
            raise BenchError(f"no {row.build}/release/pixelhook (--variants builds it)")
        return [str(run.dir / "bin" / ("pixelhook" + row.build))]
    return [str(run.binary("cgi_floor") if row_id == "S0" else run.pixelhook)]


def peak_rss_kib(run: Run, argv: list[str], runs: int = 5) -> int:
    """The median peak RSS of one CGI process, by /usr/bin/time (a child of this Python would
    report Python's own peak: exec keeps the old image's high-water mark in ru_maxrss)."""
    if not os.path.exists("/usr/bin/time"):
        raise BenchError("no /usr/bin/time")
    env = cgi_environment(run, run.spool("start"))
    peaks = []
    for _ in range(runs):
        with open(BODY, "rb") as body:
            result = subprocess.run(["/usr/bin/time", "-f", "%M"] + argv, stdin=body, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, env=env, timeout=30)
        peaks.append(int(result.stderr.strip().splitlines()[-1]))
    return int(statistics.median(peaks))


def timed_starts(run: Run, argv: list[str], count: int) -> float:
    """Median wall seconds of `count` spawn+wait of one CGI process (the body on stdin)."""
    env = cgi_environment(run, run.spool("start"))
    times = []
    for _ in range(count):
        with open(BODY, "rb") as body:
            t0 = time.perf_counter()
            pid = os.posix_spawn(argv[0], argv, env, file_actions=[
                (os.POSIX_SPAWN_DUP2, body.fileno(), 0),
                (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)])
            _, status = os.waitpid(pid, 0)
            times.append(time.perf_counter() - t0)
        if status:
            raise BenchError(f"{argv[0]} exited with status {status}")
    return statistics.median(times)


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


# ------------------------------------------------------------------------------ report

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
            ratio = f"{' / '.join(parts)} ({row.baseline})"
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


# -------------------------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few seconds per row (the table in bench/README.md)")
    parser.add_argument("--only", help="comma-separated row ids (see --list)")
    parser.add_argument("--list", action="store_true", help="print the rows and exit")
    parser.add_argument("--no-build", action="store_true", help="use the last .build-static binary")
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
        run.build(not args.no_build, args.variants)
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
