"""The rows of the table, as data, and the knobs of a run."""
from __future__ import annotations

from dataclasses import dataclass

from .paths import CGI_PATH, FASTCGI_PATH


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
