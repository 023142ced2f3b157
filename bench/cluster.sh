#!/usr/bin/env bash
# Cluster mode end to end (docs/cluster.md): deliveries per second from the POST to the end of
# its handler, and the time from the 200 to the handler's start, for
#   one-host   one nginx + fcgiwrap + CGI pixelhook, no PIXELHOOK_CLUSTER
#   cluster-1  the same host with PIXELHOOK_CLUSTER (a throwaway PostgreSQL, unix socket)
#   cluster-2  two such hosts behind examples/cluster/nginx-balancer.conf
# Usage (as root, with postgresql, nginx, fcgiwrap, wrk, curl installed):
#   bash bench/cluster.sh [PIXELHOOK [PIXELHOOK_CLUSTER]]   default: the release builds
#   (.build-static/release/pixelhook from scripts/build-static.sh, .build/release/pixelhook-cluster)
# Every process it starts is stopped by PID at the end; everything lives in one temporary directory.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
pixelhook=${1:-$root/.build-static/release/pixelhook}
helper=${2:-$root/.build/release/pixelhook-cluster}
seconds=${BENCH_SECONDS:-5}
connections=${BENCH_CONNECTIONS:-8}
project=664f1a2b3c4d5e6f7a8b9c0d
work=$(mktemp -d /tmp/pixelhook-cluster-bench.XXXXXX)
chmod 711 "$work"  # postgres must reach its directory inside
pids=()
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

cleanup() {
    # fcgiwrap's preforked workers outlive their parent: their PIDs first.
    for pid in "${pids[@]}"; do
        for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill "$child" 2>/dev/null || true; done
        kill "$pid" 2>/dev/null || true
    done
    [ -f "$work/pg/data/postmaster.pid" ] && kill -INT "$(head -1 "$work/pg/data/postmaster.pid")" 2>/dev/null || true
    sleep 1
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# PostgreSQL, as postgres (it refuses root), on a unix socket in $work/pg.
mkdir -p "$work/pg" && chown postgres "$work/pg" && chmod 700 "$work/pg"
(cd /tmp && runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -A trust -U postgres --no-sync >/dev/null)
(cd /tmp && runuser -u postgres -- "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
    -o "-c listen_addresses='' -c unix_socket_directories=$work/pg -c max_connections=100" start >/dev/null)
conninfo="host=$work/pg dbname=postgres user=postgres"
PIXELHOOK_CLUSTER=$conninfo PIXELHOOK_SPOOL=$work/none "$helper" init >/dev/null

# The handler: the delivery and its start time (ns since the epoch), one line per run.
mkdir -p "$work/handlers"
printf '#!/bin/sh\necho "$PIXELHOOK_DELIVERY $(date +%%s%%N)" >> %s/runs.log\n' "$work" > "$work/handlers/default"
chmod 755 "$work/handlers/default"
mkdir -p "$work/bin" && cp "$pixelhook" "$work/bin/pixelhook" && cp "$helper" "$work/bin/pixelhook-cluster"

# start_host NAME CLUSTER(0|1): nginx + fcgiwrap serving /hooks/streampixel; sets $port.
# (Not `$(start_host …)`: the substitution would wait for the servers' stdout to close.)
start_host() {
    local name=$1 cluster=$2 dir=$work/$1
    port=$(free_port)
    mkdir -p "$dir/tmp" "$dir/log"
    local cluster_line=""
    [ "$cluster" = 1 ] && cluster_line="fastcgi_param PIXELHOOK_CLUSTER \"$conninfo\";"
    cat > "$dir/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/log/error.log;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body; fastcgi_temp_path $dir/tmp/fastcgi; proxy_temp_path $dir/tmp/proxy;
    uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        location = /hooks/streampixel {
            fastcgi_pass unix:$dir/fcgiwrap.sock;
            fastcgi_param SCRIPT_FILENAME $work/bin/pixelhook;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param REQUEST_METHOD \$request_method;
            fastcgi_param CONTENT_TYPE \$content_type;
            fastcgi_param CONTENT_LENGTH \$content_length;
            fastcgi_param REMOTE_ADDR \$remote_addr;
            fastcgi_param PIXELHOOK_SPOOL $dir/spool;
            fastcgi_param PIXELHOOK_HANDLERS $work/handlers;
            fastcgi_param PIXELHOOK_PROJECT_IDS $project;
            $cluster_line
        }
    }
}
EOF
    fcgiwrap -c 4 -s "unix:$dir/fcgiwrap.sock" >/dev/null 2>&1 & pids+=($!)
    nginx -g 'daemon off;' -p "$dir/tmp/" -c "$dir/nginx.conf" -e "$dir/log/startup.log" >/dev/null 2>&1 & pids+=($!)
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/hooks/streampixel" && break; sleep 0.05; done
}

start_balancer() { # PORT_A PORT_B; sets $port
    local dir=$work/balancer
    port=$(free_port)
    mkdir -p "$dir/tmp" "$dir/log"
    sed -e "s|listen 8080;|listen 127.0.0.1:$port;|" -e "s|user www-data;|user root;|" \
        -e "s|10.0.0.11:80|127.0.0.1:$1|" -e "s|10.0.0.12:80|127.0.0.1:$2|" \
        -e "s|/run/nginx-balancer.pid|$dir/nginx.pid|" -e "s|/var/log/nginx|$dir/log|" -e "s|/var/lib/nginx|$dir/tmp|" \
        examples/cluster/nginx-balancer.conf > "$dir/nginx.conf"
    nginx -g 'daemon off;' -p "$dir/tmp/" -c "$dir/nginx.conf" -e "$dir/log/startup.log" >/dev/null 2>&1 & pids+=($!)
    for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/hooks/streampixel" && break; sleep 0.05; done
}

now_ns() { date +%s%N; }
runs() { [ -f "$work/runs.log" ] && wc -l < "$work/runs.log" || echo 0; }

# wait_done EXPECTED: until runs.log has EXPECTED lines (60 s at most); prints the last line's time.
wait_done() {
    for _ in $(seq 1200); do [ "$(runs)" -ge "$1" ] && break; sleep 0.05; done
    tail -1 "$work/runs.log" | awk '{print $2}'
}

# measure NAME URL SPOOLS...: a wrk burst of new deliveries, then sequential single deliveries.
measure() {
    local name=$1 url=$2; shift 2
    : > "$work/runs.log"
    printf '{"event":"build.uploaded","projectId":"%s","uploadId":"665a2b3c4d5e6f7a8b9c0e1f","fileUrl":null,"status":"pending","objection":null,"timestamp":"2026-03-29T13:00:00.000Z"}' "$project" > "$work/body.json"
    local start end stored=0 answered spool
    for spool in "$@"; do stored=$((stored - $(grep -c '"outcome":"stored"' "$spool/requests.log" 2>/dev/null || true))); done
    start=$(now_ns)
    answered=$(BENCH_BODY=$work/body.json BENCH_NONCE=$RANDOM$RANDOM wrk -t2 -c"$connections" -d"${seconds}s" -s bench/lua/post-unique.lua "$url" \
        | sed -n 's/^BENCHRESULT requests=\([0-9]*\).*/\1/p')
    for spool in "$@"; do stored=$((stored + $(grep -c '"outcome":"stored"' "$spool/requests.log"))); done
    end=$(wait_done "$stored")
    local handled; handled=$(runs)
    # The time from the 200 to the handler's start: 20 deliveries one at a time.
    local before=$handled total=0
    for i in $(seq 20); do
        sed "s/665a2b3c4d5e6f7a8b9c0e1f/seq$RANDOM$RANDOM$i/" "$work/body.json" > "$work/one.json"
        curl -s -o /dev/null --data-binary "@$work/one.json" -H 'Content-Type: application/json' "$url"
        local answered_at; answered_at=$(now_ns)
        wait_done $((before + i)) >/dev/null
        local started; started=$(tail -1 "$work/runs.log" | awk '{print $2}')
        total=$((total + started - answered_at))
    done
    awk -v n="$name" -v a="$answered" -v s="$stored" -v h="$handled" -v t0="$start" -v t1="$end" -v lat="$total" 'BEGIN {
        secs = (t1 - t0) / 1e9
        printf "%-10s answered %6d  stored %6d  handled %6d in %6.2f s  = %7.1f deliveries/s end to end;  200 -> handler start %6.1f ms (mean of 20)\n",
            n, a, s, h, secs, h / secs, lat / 20 / 1e6 }'
}

start_host one 0
measure one-host "http://127.0.0.1:$port/hooks/streampixel" "$work/one/spool"
start_host a 1; a=$port
start_host b 1; b=$port
measure cluster-1 "http://127.0.0.1:$a/hooks/streampixel" "$work/a/spool"
start_balancer "$a" "$b"
measure cluster-2 "http://127.0.0.1:$port/hooks/streampixel" "$work/a/spool" "$work/b/spool"
