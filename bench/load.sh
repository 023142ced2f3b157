#!/usr/bin/env bash
# bench/load.sh: a burst of distinct deliveries and as many duplicates through a real web
# server, then the checks that matter after a burst, one summary line per gateway.
#
#   bash bench/load.sh                       # build (static release), both gateways
#   NO_BUILD=1 bash bench/load.sh            # use the last static build
#   N=2000 C=32 GATEWAYS=nginx-fastcgi bash bench/load.sh
#
# WHAT IT DOES, per gateway (nginx -> `pixelhook fastcgi` over a unix socket; lighttpd
# mod_cgi -> pixelhook once per request)
#   1. Starts the server on 127.0.0.1 with its own spool, PIXELHOOK_MAX_HANDLERS=$MAX_HANDLERS
#      and one handler, `default`, that records each run: it creates a marker file named by
#      its PID in running/, appends `DELIVERY RUNNING` to runs.log (RUNNING = markers present:
#      never more than the handlers really holding a slot), sleeps $HANDLER_SLEEP s, removes
#      its marker.
#   2. Warm-up: 2*C requests of one body (1 new + the rest duplicates); then the FastCGI
#      responder's RSS.
#   3. The burst: N distinct deliveries (a new uploadId each, the bench body otherwise), each
#      sent twice, the second copy C/2 requests behind the first (so that some race), 2*N
#      POSTs from one `curl --parallel --parallel-max C` (keep-alive; bounded by `timeout`).
#   4. Waits until every stored delivery has its handler result and no `run-queue` runner is
#      left (at most DRAIN_MAX s), sampling the number of live runners and their summed RSS.
#   5. Checks: zero non-2xx answers; requests.log has N+1 `stored` and N+2C-1 `duplicate`;
#      exactly one handler run per stored delivery; RUNNING never above the cap; the
#      responder's RSS after the drain next to the one before.
#   Exit status 1 if any check failed.
#
# KNOBS: N=10000 C=64 MAX_HANDLERS=4 HANDLER_SLEEP=0.005 GATEWAYS="nginx-fastcgi lighttpd-cgi"
#        DRAIN_MAX=600 BURST_MAX=600 (seconds) SCRATCH=.build-static NO_BUILD=1 KEEP=1
# Rules it keeps: only 127.0.0.1; all state in one mktemp -d; the binary is copied there, so
# the processes it waits for are found by their /proc/PID/exe, never by name; only the PIDs it
# started are signalled.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
N=${N:-10000}
C=${C:-64}
MAX_HANDLERS=${MAX_HANDLERS:-4}
HANDLER_SLEEP=${HANDLER_SLEEP:-0.005}
GATEWAYS=${GATEWAYS:-nginx-fastcgi lighttpd-cgi}
DRAIN_MAX=${DRAIN_MAX:-600}
BURST_MAX=${BURST_MAX:-600}
SCRATCH=${SCRATCH:-.build-static}
KEEP=${KEEP:-0}

log() { printf '[load %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in nginx lighttpd curl python3 timeout; do
    command -v "$tool" >/dev/null || die "missing $tool: run bash scripts/setup-and-demo.sh"
done

if [[ -z ${NO_BUILD:-} ]]; then
    if [[ $SCRATCH == .build-static ]]; then
        log "scripts/build-static.sh (the shipped build)"
        bash "$ROOT/scripts/build-static.sh" >/dev/null || die "build failed"
    else
        log "swift build -c release --product pixelhook --scratch-path $SCRATCH -Xswiftc -static-executable"
        swift build -c release --product pixelhook --scratch-path "$SCRATCH" -Xswiftc -static-executable >&2 ||
            die "build failed"
    fi
fi
BUILT=$ROOT/$SCRATCH/release/pixelhook
[[ -x $BUILT ]] || die "no $BUILT (drop NO_BUILD)"

RUN=$(mktemp -d /tmp/pixelhook-load.XXXXXX) || die "mktemp failed"
mkdir -p "$RUN"/{bin,log}
cp "$BUILT" "$RUN/bin/pixelhook"
PIXELHOOK=$RUN/bin/pixelhook
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    wait 2>/dev/null
    if [[ $KEEP != 1 ]]; then rm -rf "$RUN"; else log "kept $RUN"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PROJECT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["projectId"])' bench/body.json)
free_port() {
    local p
    for p in $(seq 18300 18399 | shuf); do
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    die "no free port in 18300-18399"
}

# runners: "COUNT KIB" of live `run-queue` processes of our binary.
runners() {
    local exe pid n=0 kib=0 r
    while read -r exe; do
        pid=${exe#/proc/}; pid=${pid%/exe}
        [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") == *" run-queue"* ]] || continue
        r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
        n=$((n + 1)); kib=$((kib + ${r:-0}))
    done < <(find /proc -mindepth 2 -maxdepth 2 -name exe -lname "$PIXELHOOK" 2>/dev/null)
    echo "$n $kib"
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# curl_config FILE URL NONCE COUNT LAG: COUNT distinct bodies, each twice (second LAG behind);
# COUNT=0 writes the warm-up (2*C copies of one body).
curl_config() {
    python3 - "$@" "$C" <<'PY'
import json, sys
path, url, nonce, count, lag, c = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
base = json.load(open("bench/body.json"))
def body(i):
    b = dict(base); b["uploadId"] = f"{nonce}{i:010d}"
    return json.dumps(b, separators=(",", ":"))
order = [body(0)] * (2 * c) if count == 0 else []
for i in range(count + lag if count else 0):
    if i < count: order.append(body(i + 1))
    if i >= lag: order.append(body(i - lag + 1))
with open(path, "w") as f:
    for n, text in enumerate(order):
        text = text.replace("\\", "\\\\").replace('"', '\\"')
        if n: f.write("next\n")  # between transfers only: a last `next` is an empty transfer
        f.write(f'url = "{url}"\nheader = "Content-Type: application/json"\nheader = "Expect:"\n'
                f'data-binary = "{text}"\noutput = "/dev/null"\nwrite-out = "%{{http_code}}\\n"\n')
PY
}

burst() {  # burst CONFIG CODES: one curl --parallel, bounded; prints wall seconds
    local t0=$EPOCHREALTIME
    timeout -k 5 "$BURST_MAX" curl -s --noproxy '*' -m 60 --parallel --parallel-immediate --parallel-max "$C" \
        -K "$1" >"$2" 2>/dev/null
    awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b - a}'
}

start_gateway() {  # start_gateway NAME DIR PORT: starts the servers, sets RESPONDER, PIDS
    local name=$1 dir=$2 port=$3
    RESPONDER=
    case $name in
    nginx-fastcgi)
        mkdir -p "$dir/nginx"
        cat >"$dir/nginx.conf" <<CONF
daemon off;
user root;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/nginx/body; fastcgi_temp_path $dir/nginx/fastcgi;
    proxy_temp_path $dir/nginx/proxy; uwsgi_temp_path $dir/nginx/uwsgi; scgi_temp_path $dir/nginx/scgi;
    server {
        listen 127.0.0.1:$port;
        location = /pixelhook {
            include /etc/nginx/fastcgi_params;
            fastcgi_param PIXELHOOK_SPOOL $dir/spool;
            fastcgi_param PIXELHOOK_HANDLERS $dir/handlers;
            fastcgi_param PIXELHOOK_PROJECT_IDS $PROJECT;
            fastcgi_param PIXELHOOK_MAX_HANDLERS $MAX_HANDLERS;
            fastcgi_pass unix:$dir/pixelhook.sock;
        }
    }
}
CONF
        env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
            "$PIXELHOOK" fastcgi --listen "$dir/pixelhook.sock" --socket-mode 0600 >"$dir/pixelhook.out" 2>&1 &
        RESPONDER=$!
        PIDS+=("$RESPONDER")
        nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" >"$dir/nginx.out" 2>&1 &
        PIDS+=("$!")
        ;;
    lighttpd-cgi)
        cat >"$dir/lighttpd.conf" <<CONF
server.modules        = ( "mod_alias", "mod_setenv", "mod_cgi" )
server.bind           = "127.0.0.1"
server.port           = $port
server.document-root  = "$dir"
server.errorlog       = "$dir/lighttpd-error.log"
server.max-keep-alive-requests = 100000
\$HTTP["url"] == "/pixelhook" {
    alias.url = ( "/pixelhook" => "$PIXELHOOK" )
    cgi.assign = ( "" => "" )
    setenv.add-environment = (
        "PIXELHOOK_SPOOL" => "$dir/spool", "PIXELHOOK_HANDLERS" => "$dir/handlers",
        "PIXELHOOK_PROJECT_IDS" => "$PROJECT", "PIXELHOOK_MAX_HANDLERS" => "$MAX_HANDLERS",
    )
}
CONF
        env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$(command -v lighttpd)" -D -f "$dir/lighttpd.conf" >"$dir/lighttpd.out" 2>&1 &
        PIDS+=("$!")
        ;;
    *) die "unknown gateway $name (nginx-fastcgi, lighttpd-cgi)" ;;
    esac
    local i
    for i in $(seq 100); do
        [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/pixelhook") == 200 ]] && return 0
        sleep 0.1
    done
    die "$name did not answer the health check on port $port (see $dir)"
}

stop_gateway() {
    local pid keep=()
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    PIDS=()
}

FAILED=0
NONCE=$(printf '%06x' $(((RANDOM << 15 | RANDOM) & 0xffffff)))
SUMMARY=()
for name in $GATEWAYS; do
    dir=$RUN/$name
    mkdir -p "$dir"/{handlers,running}
    cat >"$dir/handlers/default" <<SH
#!/bin/sh
: > $dir/running/\$\$
set -- $dir/running/*
echo "\$PIXELHOOK_DELIVERY \$#" >> $dir/runs.log
sleep $HANDLER_SLEEP
rm -f $dir/running/\$\$
SH
    chmod 755 "$dir/handlers/default"
    port=$(free_port)
    url=http://127.0.0.1:$port/pixelhook
    log "$name: starting on 127.0.0.1:$port"
    start_gateway "$name" "$dir" "$port"
    curl_config "$dir/warm.curl" "$url" "${NONCE}w" 0 0
    curl_config "$dir/burst.curl" "$url" "${NONCE}${name:0:1}" "$N" $((C / 2))
    burst "$dir/warm.curl" "$dir/warm.codes" >/dev/null
    sleep 1
    rss_before=${RESPONDER:+$(rss_kib "$RESPONDER")}

    log "$name: burst of $((2 * N)) POSTs ($N distinct) at concurrency $C"
    peak_file=$dir/peak
    echo "0 0" >"$peak_file"
    ( # sampler: peak number of live runners and their summed RSS
        while :; do
            read -r n kib < <(runners)
            read -r pn pk <"$peak_file"
            ((n > pn)) && pn=$n
            ((kib > pk)) && pk=$kib
            echo "$pn $pk" >"$peak_file"
            sleep 0.2
        done
    ) &
    SAMPLER=$!
    seconds=$(burst "$dir/burst.curl" "$dir/burst.codes")
    log "$name: burst done in ${seconds} s; draining handlers"
    t0=$SECONDS
    while :; do
        stored=$(find "$dir/spool/deliveries" -name '*.json' | wc -l)
        results=$(find "$dir/spool/deliveries" -name '*.result' | wc -l)
        read -r live _ < <(runners)
        ((stored == results && live == 0)) && break
        if ((SECONDS - t0 > DRAIN_MAX)); then log "$name: not drained after ${DRAIN_MAX}s ($results/$stored results, $live runners)"; break; fi
        sleep 1
    done
    drain_s=$((SECONDS - t0))
    kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
    read -r peak_runners peak_kib <"$peak_file"
    rss_after=${RESPONDER:+$(rss_kib "$RESPONDER")}

    total=$(wc -l <"$dir/burst.codes")
    non2xx=$(grep -cv '^2' "$dir/burst.codes")
    stored_log=$(grep -c '"outcome":"stored"' "$dir/spool/requests.log")
    dup_log=$(grep -c '"outcome":"duplicate"' "$dir/spool/requests.log")
    runs=$(wc -l <"$dir/runs.log")
    distinct_runs=$(cut -d' ' -f1 "$dir/runs.log" | sort -u | wc -l)
    done_results=$(grep -l '"state":"done"' -r "$dir/spool/deliveries" --include='*.result' | wc -l)
    max_conc=$(cut -d' ' -f2 "$dir/runs.log" | sort -n | tail -1)
    rps=$(awk -v n="$total" -v s="$seconds" 'BEGIN{printf "%\047.0f", n / s}')
    line="load $name: $N new + $((total - N)) dup, non2xx $non2xx, handler runs $((runs - 1))/$N"
    line+=" ($((distinct_runs - 1)) distinct), max concurrent $max_conc/$MAX_HANDLERS"
    [[ -n $RESPONDER ]] && line+=$(awk -v a="$rss_before" -v b="$rss_after" 'BEGIN{printf ", responder RSS %.1f -> %.1f MiB", a / 1024, b / 1024}')
    line+=", $rps req/s; drain ${drain_s} s, peak runners $peak_runners ($((peak_kib / 1024)) MiB RSS)"
    problems=()
    ((total == 2 * N)) || problems+=("$total answers of $((2 * N))")
    ((non2xx == 0)) || problems+=("non-2xx: $(grep -v '^2' "$dir/burst.codes" | sort | uniq -c | tr '\n' ' ')")
    ((stored_log == N + 1)) || problems+=("requests.log: $stored_log stored, expected $((N + 1))")
    ((dup_log == N + 2 * C - 1)) || problems+=("requests.log: $dup_log duplicate, expected $((N + 2 * C - 1))")
    ((runs == N + 1 && distinct_runs == N + 1)) || problems+=("$runs handler runs, $distinct_runs distinct, expected $((N + 1))")
    ((done_results == N + 1)) || problems+=("$done_results results done, expected $((N + 1))")
    ((max_conc <= MAX_HANDLERS)) || problems+=("cap broken: $max_conc handlers at once")
    if [[ -n $RESPONDER ]] && ((rss_after - rss_before > 4096)); then problems+=("responder grew by $((rss_after - rss_before)) KiB"); fi
    if ((${#problems[@]})); then
        FAILED=1
        line+="  FAILED: ${problems[*]}"
    fi
    SUMMARY+=("$line")
    echo "$line"
    stop_gateway
done

echo
echo "date: $(date -u +%FT%TZ); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); N=$N C=$C MAX_HANDLERS=$MAX_HANDLERS HANDLER_SLEEP=$HANDLER_SLEEP"
printf '%s\n' "${SUMMARY[@]}"
exit "$FAILED"
