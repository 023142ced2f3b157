#!/usr/bin/env bash
# bench/fastcgi.sh: pixelhook's FastCGI responder behind nginx, next to its ceiling and floor,
# in one run.
#
#   bash bench/fastcgi.sh              # build (static release), measure, print one table
#   NO_BUILD=1 bash bench/fastcgi.sh   # use the last static build
#
# WHAT IT MEASURES (wrk on 127.0.0.1, keep-alive, the same POST body as bench/cgi.sh)
#   ceiling         nginx `return 200` with the same JSON: what nginx alone can do
#   C floor         nginx -> bench/src/fcgi_floor.c (libfcgi, reads the body, answers 200),
#                   2 processes under spawn-fcgi (one per core)
#   pixelhook dup   nginx -> `pixelhook fastcgi` (default workers): the duplicate path
#                   (validate, find the dedup marker, sync the build directory, log, answer)
#   pixelhook new   the same with a new uploadId per request (bench/lua/post-unique.lua): the
#                   full path (validate, store durably with two fsyncs, log, answer, then start
#                   a detached runner that runs the handler `true`)
#   Each at -t1 -c1 (latency of one request) and -t2 -c16 (throughput), REPS rounds
#   interleaved, median kept. Then RSS of the responder before and after RSS_REQUESTS
#   (100,000) duplicate-path requests: it must not grow.
#
# HOW TO READ IT
#   "÷ floor" is the row's requests/s divided by the C floor's at the same concurrency. The
#   new-delivery path is bound by fsync (the C floor does none), so compare it with the dup
#   row to see what durability costs. The machine may be shared: medians, one run, one table.
#
# KNOBS: REPS=3 DUR=10s DUR1=5s WARM=1s RSS_REQUESTS=100000 PORT (default: free in 18200-18299)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
REPS=${REPS:-3}; DUR=${DUR:-10s}; DUR1=${DUR1:-5s}; WARM=${WARM:-1s}
RSS_REQUESTS=${RSS_REQUESTS:-100000}

for tool in nginx spawn-fcgi wrk cc; do
    command -v "$tool" >/dev/null || { echo "missing $tool: run bash scripts/setup-and-demo.sh" >&2; exit 1; }
done

if [[ -z ${NO_BUILD:-} ]]; then
    echo "== building pixelhook (release, -static-executable)" >&2
    swift build -c release --product pixelhook --scratch-path .build-static -Xswiftc -static-executable 2>&1 \
        | grep -E "error|warning: unre|Compiling|Build" | grep -v '^\[' >&2 || true
fi
PIXELHOOK=$ROOT/.build-static/release/pixelhook
[[ -x $PIXELHOOK ]] || { echo "no $PIXELHOOK (drop NO_BUILD)" >&2; exit 1; }

RUN=$(mktemp -d /tmp/pixelhook-bench-fcgi.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    rm -rf "$RUN"
}
trap cleanup EXIT
mkdir -p "$RUN"/{nginx,log,sock,handlers,spool}
ln -s /bin/true "$RUN/handlers/default"   # the handler `true`

cc -O2 -o "$RUN/fcgi_floor" bench/src/fcgi_floor.c -lfcgi

port=${PORT:-}
if [[ -z $port ]]; then
    for candidate in $(seq 18200 18299); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
    done
fi
PROJECT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["projectId"])' bench/body.json)

cat > "$RUN/nginx.conf" <<CONF
daemon off;
user root;
worker_processes auto;
pid $RUN/nginx.pid;
error_log $RUN/log/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $RUN/nginx/body; fastcgi_temp_path $RUN/nginx/fastcgi;
    proxy_temp_path $RUN/nginx/proxy; uwsgi_temp_path $RUN/nginx/uwsgi; scgi_temp_path $RUN/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        location = /ceiling { default_type application/json; return 200 '{"received":true}'; }
        location = /floor {
            include /etc/nginx/fastcgi_params;
            fastcgi_pass unix:$RUN/sock/floor.sock;
        }
        location = /pixelhook {
            include /etc/nginx/fastcgi_params;
            fastcgi_param PIXELHOOK_SPOOL $RUN/spool;
            fastcgi_param PIXELHOOK_HANDLERS $RUN/handlers;
            fastcgi_param PIXELHOOK_PROJECT_IDS $PROJECT;
            fastcgi_pass unix:$RUN/sock/pixelhook.sock;
        }
    }
}
CONF

nginx -p "$RUN" -c "$RUN/nginx.conf" -e "$RUN/log/nginx-error.log" >"$RUN/log/nginx.out" 2>&1 &
PIDS+=($!)
spawn-fcgi -n -F 2 -s "$RUN/sock/floor.sock" -M 0600 -- "$RUN/fcgi_floor" >"$RUN/log/floor.out" 2>&1 &
PIDS+=($!)
"$PIXELHOOK" fastcgi --listen "$RUN/sock/pixelhook.sock" --socket-mode 0600 >"$RUN/log/pixelhook.out" 2>&1 &
RESPONDER=$!
PIDS+=($RESPONDER)
for _ in $(seq 50); do
    [[ -S $RUN/sock/pixelhook.sock && -S $RUN/sock/floor.sock ]] && curl -fs "http://127.0.0.1:$port/ceiling" >/dev/null && break
    sleep 0.1
done
# spawn-fcgi -F 2 -n: the two floor processes are its children; record them for cleanup.
PIDS+=($(pgrep -P "${PIDS[1]}" || true))

BASE=http://127.0.0.1:$port
curl -fs -H 'Content-Type: application/json' --data-binary @bench/body.json "$BASE/pixelhook" >/dev/null  # now a duplicate

# run TARGET PATH LUA THREADS CONNECTIONS DURATION -> "rps p50_us p99_us non2xx errors"
measure() {
    local path=$1 lua=$2 threads=$3 connections=$4 duration=$5 line
    line=$(BENCH_NONCE=$RANDOM$RANDOM timeout -k 5 120 wrk -t"$threads" -c"$connections" -d"$duration" --latency \
        -s "bench/lua/$lua" "$BASE/$path" | grep '^BENCHRESULT')
    python3 - "$line" <<'PY'
import sys
fields = dict(kv.split("=") for kv in sys.argv[1].split()[1:])
print(fields["rps"], fields["p50_us"], fields["p99_us"], fields["non2xx"], fields["errors"])
PY
}

TARGETS=("ceiling|ceiling|post.lua" "floor|C floor (libfcgi, 2 procs)|post.lua"
         "pixelhook|pixelhook dup|post.lua" "pixelhook|pixelhook new (store+fsync+handler true)|post-unique.lua")
RESULTS=$RUN/results.txt   # one line per run: LABEL|CONCURRENCY|rps p50 p99 non2xx errors
: > "$RESULTS"
echo "== warm-up" >&2
for entry in "${TARGETS[@]}"; do
    IFS='|' read -r path label lua <<<"$entry"
    measure "$path" "$lua" 1 4 "$WARM" >/dev/null
done
for rep in $(seq "$REPS"); do
    for entry in "${TARGETS[@]}"; do
        IFS='|' read -r path label lua <<<"$entry"
        echo "== round $rep: $label" >&2
        echo "$label|c1|$(measure "$path" "$lua" 1 1 "$DUR1")" >> "$RESULTS"
        echo "$label|c16|$(measure "$path" "$lua" 2 16 "$DUR")" >> "$RESULTS"
    done
done

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
echo "== RSS over $RSS_REQUESTS duplicate-path requests" >&2
rss_before=$(rss_kb "$RESPONDER")
sent=0
while ((sent < RSS_REQUESTS)); do
    line=$(timeout -k 5 120 wrk -t2 -c16 -d5s -s bench/lua/post.lua "$BASE/pixelhook" | grep '^BENCHRESULT')
    sent=$((sent + $(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")))
done
rss_after=$(rss_kb "$RESPONDER")

{
    echo "date: $(date -u +%FT%TZ); $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'), libfcgi $(dpkg-query -W -f='${Version}' libfcgi-dev 2>/dev/null), pixelhook workers: default"
    echo "knobs: REPS=$REPS DUR=$DUR DUR1=$DUR1"
    echo
    python3 - "$RESULTS" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    label, concurrency, values = line.rstrip("\n").split("|")
    runs.setdefault((label, concurrency), []).append([float(x) for x in values.split()])
def med(label, concurrency):
    return [statistics.median(column) for column in zip(*runs[(label, concurrency)])]
labels = list(dict.fromkeys(label for label, _ in runs))
floor_label = next(label for label in labels if label.startswith("C floor"))
floor = {c: med(floor_label, c)[0] for c in ("c1", "c16")}
print("| target | req/s c1 | p50 c1 ms | p99 c1 ms | req/s c16 | p50 c16 ms | p99 c16 ms | non-2xx/errors | c1 ÷ floor | c16 ÷ floor |")
print("|---|---|---|---|---|---|---|---|---|---|")
for label in labels:
    a, b = med(label, "c1"), med(label, "c16")
    print(f"| {label} | {a[0]:,.0f} | {a[1]/1000:.3f} | {a[2]/1000:.3f} | {b[0]:,.0f} | {b[1]/1000:.3f} | {b[2]/1000:.3f} | {int(a[3]+b[3])}/{int(a[4]+b[4])} | {a[0]/floor['c1']:.2f} | {b[0]/floor['c16']:.2f} |")
PY
    echo
    echo "pixelhook responder RSS: ${rss_before} KiB after warm-up, ${rss_after} KiB after $sent more requests"
}
