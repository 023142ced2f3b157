#!/usr/bin/env bash
# bench/cgi.sh: what one CGI request costs pixelhook, next to a C floor, in one run.
#
#   bash bench/cgi.sh                     # build, measure, print one markdown table
#   VARIANTS=static bash bench/cgi.sh     # only the fully static build
#   NO_BUILD=1 bash bench/cgi.sh          # measure what the last builds left (no swift build)
#
# WHAT IT MEASURES
#   pixelhook's CGI mode starts one process per request, so the figure that matters is the
#   cost of one process start + one request. Three release builds of the same sources are
#   compared (VARIANTS, default all three):
#     static         -Xswiftc -static-executable  (scratch path .build-static): no shared libs
#     static-stdlib  --static-swift-stdlib        (.build-static-stdlib): glibc etc. shared
#     dynamic        plain `-c release`           (.build): Swift runtime as shared libs
#   against the floor: bench/src/cgi_floor.c, which only reads CONTENT_LENGTH bytes and answers
#   200 {"received":true}, built with `cc -O2` (dynamic) and `cc -O2 -static`.
#   1. hyperfine -N: one process, started directly (no web server), with a CGI environment
#      (GATEWAY_INTERFACE, REQUEST_METHOD, CONTENT_TYPE, CONTENT_LENGTH, PIXELHOOK_* pointing at
#      a temporary spool) and the body on stdin:
#        POST dup  the same body every run; after the first run it is a duplicate
#                  (validate, look up the dedup marker, append the request log, answer)
#        GET       the health check (settings valid, spool writable)
#      hyperfine 1.15 (Debian 12) has no --input: then every row, the C floor included, runs
#      as `sh -c 'exec BINARY < FILE'`, and a `wrapper` row (`sh -c 'exec /bin/true < FILE'`)
#      shows what the wrapper itself costs. It is in every row, so differences between rows
#      (the "+ms" figures) are free of it; ratios of hyperfine means are diluted by it.
#   2. lighttpd mod_cgi on 127.0.0.1 (a free port in 18100-18199), one process per request, wrk
#      keep-alive: `-t1 -c1 -d$DUR1` (latency of one request, nothing queued) and
#      `-t2 -c4 -d$DUR` (2 cores busy). Targets: the C floors; pixelhook on the duplicate path
#      (bench/lua/post.lua, fixed body); pixelhook on the new-delivery path
#      (bench/lua/post-unique.lua, a new uploadId per request: the body is stored durably and a
#      detached runner starts the handler `default` = `#!/bin/sh\nexit 0` after the answer).
#      REPS rounds, targets interleaved in each round; the median of each figure is kept.
#   3. Size of each binary (bytes, and after `strip`) and the peak RSS of one CGI process
#      (/usr/bin/time -f %M, else python3 getrusage; median of RSS_RUNS runs).
#
# HOW TO READ THE TABLE
#   req/s c1 is 1 / (time of one whole request through lighttpd); "ratio to C floor" divides
#   pixelhook's time per request by the dynamic C floor's (c1 figures; >1 = slower), and the
#   same for the hyperfine means, followed by (median - floor's median): the milliseconds one
#   pixelhook start costs beyond the floor's. c4 shows how many requests per second 2 cores
#   sustain when every request is a process start; p99 c4 is the tail under that load. The
#   new-delivery row also pays an fsync and the handler runner, which competes for the same
#   cores after the answer: compare it with the dup row to see the cost of storing. After the
#   runs the script counts stored payloads against handler results in the new-delivery spool:
#   every stored delivery should have its result. The machine may be shared: figures are
#   medians, and the header gives the load average before and after; compare rows of one run,
#   not runs of different days.
#
# KNOBS (environment)
#   VARIANTS="static static-stdlib dynamic"  builds to measure (any subset, in this order)
#   WRK_VARIANTS=$VARIANTS    variants served by lighttpd on the duplicate path
#   NEW_VARIANTS=static       variants measured on the new-delivery path (wrk)
#   REPS=3 DUR=10s DUR1=5s WARM=1s   wrk rounds, c4 and c1 durations, unrecorded warm-up
#   HF_RUNS=300 HF_WARMUP=10  hyperfine runs per command (each of REPS rounds)
#   RSS_RUNS=5                peak-RSS samples per row
#   NO_BUILD=1                skip `swift build` (use the binaries the scratch paths hold)
#   PORT=181xx                lighttpd port (default: a random free one in 18100-18199)
#   DRAIN_MAX=60              seconds to wait for handler runners to finish after a run
#   KEEP=1                    keep spools and binaries (results and raw output are always kept)
#
# Rules it keeps: only 127.0.0.1; all state in one `mktemp -d /tmp/pixelhook-bench.XXXXXX`;
# the one server it starts (lighttpd) has its PID recorded and is stopped by that PID on exit;
# every wrk run is bounded by `timeout 120`. Needs: swift, cc, strip, wrk, hyperfine, lighttpd,
# curl (`bash scripts/setup-and-demo.sh` installs them).
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)

VARIANTS=${VARIANTS:-static static-stdlib dynamic}
WRK_VARIANTS=${WRK_VARIANTS-$VARIANTS}
NEW_VARIANTS=${NEW_VARIANTS-static}
REPS=${REPS:-3}
DUR=${DUR:-10s}
DUR1=${DUR1:-5s}
WARM=${WARM:-1s}
HF_RUNS=${HF_RUNS:-300}
HF_WARMUP=${HF_WARMUP:-10}
RSS_RUNS=${RSS_RUNS:-5}
NO_BUILD=${NO_BUILD:-0}
PORT=${PORT:-}
DRAIN_MAX=${DRAIN_MAX:-60}
KEEP=${KEEP:-0}

PROJECT_ID=664f1a2b3c4d5e6f7a8b9c0d          # the projectId in bench/body.json
BODY=$BENCH/body.json
POST_LUA=$BENCH/lua/post.lua
UNIQ_LUA=$BENCH/lua/post-unique.lua
CLEAN_PATH=/usr/local/bin:/usr/bin:/bin

log() { printf '[cgi-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

for v in $VARIANTS $WRK_VARIANTS $NEW_VARIANTS; do
  case $v in static | static-stdlib | dynamic) ;; *) die "unknown variant '$v' (static, static-stdlib, dynamic)" ;; esac
done
for c in swift cc strip readelf wrk hyperfine lighttpd curl timeout; do
  have "$c" || die "$c is missing (bash scripts/setup-and-demo.sh installs what the bench needs)"
done

RUN=$(mktemp -d /tmp/pixelhook-bench.XXXXXX) || die "mktemp failed"
RES=$RUN/results
RAW=$RES/raw
mkdir -p "$RAW" "$RUN"/{bin,stripped,cgi-bin/new,conf,log,handlers,hf/spool,rss/spool,lt-dup/spool,lt-new/spool}

# ------------------------------------------------------------------ processes
STARTED=()   # PIDs of the servers this script started; only these are ever signalled

start() {  # start NAME CMD...: background, log in $RUN/log/NAME.log, PID in LASTPID
  local name=$1; shift
  "$@" >"$RUN/log/$name.log" 2>&1 &
  LASTPID=$!
  STARTED+=("$LASTPID")
  echo "$LASTPID $name" >>"$RUN/pids"
}

stop() {  # stop PID: TERM, then KILL after 5 s; its children listed first get the same
  local pid=$1 kids i p keep=()
  kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ')
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  for p in $kids; do kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null; done
  for p in "${STARTED[@]}"; do [[ $p == "$pid" ]] || keep+=("$p"); done
  STARTED=("${keep[@]}")
}

# drain: wait until no process runs a binary under $RUN (in-flight CGI processes and the
# detached handler runners pixelhook starts for new deliveries; they end by themselves).
# Prints the seconds it took.
drain() {
  local t0=$EPOCHREALTIME n e
  while :; do
    n=0
    for e in /proc/[0-9]*/exe; do
      [[ $(readlink "$e" 2>/dev/null) == "$RUN"/* ]] && n=$((n + 1))
    done
    if ((n == 0)); then break; fi
    if (($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{print (b - a >= '"$DRAIN_MAX"')}'))); then
      log "drain: $n processes still running after ${DRAIN_MAX}s"
      break
    fi
    sleep 0.2
  done
  awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b - a}'
}

cleanup() {
  local p
  for p in "${STARTED[@]}"; do log "stopping lighttpd (pid $p)"; stop "$p"; done
  if [[ $KEEP != 1 && -n ${RUN:-} && $RUN == /tmp/pixelhook-bench.* ]]; then
    drain >/dev/null
    rm -rf "$RUN"/{bin,stripped,cgi-bin,hf,rss,lt-dup,lt-new}
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

median() {  # numbers on stdin, one a line -> their median (empty if none)
  sort -g | awk '{a[NR] = $1} END {if (NR) print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
commas() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/' -e 'ta' <<<"$1"; }
ms() {  # microseconds -> ms, 3 significant figures
  [[ -n $1 ]] || { echo "n/a"; return; }
  awk -v v="$1" 'BEGIN{v /= 1000; if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else if (v >= 1) printf "%.2f", v; else printf "%.3f", v}'
}

T0=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "state in $RUN"

# ------------------------------------------------------------------ builds
declare -A BUILD_ARGS=(
  [static]="--scratch-path $ROOT/.build-static -Xswiftc -static-executable -Xswiftc -Xfrontend -Xswiftc -disable-concrete-type-metadata-mangled-name-accessors"
  [static-stdlib]="--scratch-path $ROOT/.build-static-stdlib --static-swift-stdlib"
  [dynamic]=""
)
declare -A BUILD_S LINKAGE SIZE STRIPPED
BUILT=()
for v in $VARIANTS; do
  read -ra args <<<"${BUILD_ARGS[$v]}"
  t=$EPOCHREALTIME
  if [[ $NO_BUILD != 1 ]]; then
    log "swift build -c release --product pixelhook ${BUILD_ARGS[$v]}"
    if ! (cd "$ROOT" && swift build -c release --product pixelhook "${args[@]}") >"$RUN/log/build-$v.log" 2>&1; then
      log "build $v failed, variant skipped; last lines of $RUN/log/build-$v.log:"
      tail -15 "$RUN/log/build-$v.log" >&2
      continue
    fi
  fi
  BUILD_S[$v]=$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b - a}')
  bindir=$(cd "$ROOT" && swift build -c release --product pixelhook "${args[@]}" --show-bin-path 2>/dev/null)
  [[ -x $bindir/pixelhook ]] || { log "no $bindir/pixelhook, variant $v skipped"; continue; }
  # A copy: others may rebuild the package while this runs.
  cp "$bindir/pixelhook" "$RUN/bin/pixelhook-$v"
  BUILT+=("$v")
done
((${#BUILT[@]})) || die "no pixelhook variant built"

log "cc -O2 bench/src/cgi_floor.c (dynamic and -static)"
cc -O2 -o "$RUN/bin/cgi_floor" "$BENCH/src/cgi_floor.c" || die "cc failed"
FLOORS=(dyn)
if cc -O2 -static -o "$RUN/bin/cgi_floor_static" "$BENCH/src/cgi_floor.c" 2>"$RUN/log/cc-static.log"; then
  FLOORS+=(static)
else
  log "cc -static failed (no libc.a?): static floor skipped"
fi
floor_bin() { [[ $1 == dyn ]] && echo "$RUN/bin/cgi_floor" || echo "$RUN/bin/cgi_floor_static"; }

for b in "$RUN"/bin/*; do
  n=$(basename "$b")
  SIZE[$n]=$(stat -c %s "$b")
  strip -o "$RUN/stripped/$n" "$b" 2>/dev/null && STRIPPED[$n]=$(stat -c %s "$RUN/stripped/$n")
  needed=$(readelf -d "$b" 2>/dev/null | grep -c '(NEEDED)')
  if ((needed == 0)); then LINKAGE[$n]="static"; else LINKAGE[$n]="$needed NEEDED, $(ldd "$b" 2>/dev/null | wc -l) mapped"; fi
done

# ------------------------------------------------------------------ CGI environment
printf '#!/bin/sh\nexit 0\n' >"$RUN/handlers/default"
chmod 0755 "$RUN/handlers/default"
BODY_LEN=$(stat -c %s "$BODY")
# Every process is started with `env -i` and exactly these variables.
cgi_common=(PATH=$CLEAN_PATH GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 SERVER_SOFTWARE=cgi-bench
  SERVER_NAME=127.0.0.1 SERVER_PORT=80 REMOTE_ADDR=127.0.0.1 SCRIPT_NAME=/hooks/streampixel QUERY_STRING=
  PIXELHOOK_HANDLERS=$RUN/handlers PIXELHOOK_PROJECT_IDS=$PROJECT_ID)
ENV_POST=("${cgi_common[@]}" REQUEST_METHOD=POST CONTENT_TYPE=application/json CONTENT_LENGTH=$BODY_LEN PIXELHOOK_SPOOL=$RUN/hf/spool)
ENV_GET=("${cgi_common[@]}" REQUEST_METHOD=GET PIXELHOOK_SPOOL=$RUN/hf/spool)
ENV_NEW=("${cgi_common[@]}" REQUEST_METHOD=POST CONTENT_TYPE=application/json CONTENT_LENGTH=$BODY_LEN PIXELHOOK_SPOOL=$RUN/rss/spool)

cgi_call() {  # cgi_call ENV_ARRAY INPUT BINARY: one CGI run, response on stdout
  local -n _env=$1
  env -i "${_env[@]}" "$3" <"$2"
}
unique_body() {  # a copy of the body with a new uploadId of the same length (24 hex)
  sed "s/\"uploadId\":\"[^\"]*\"/\"uploadId\":\"$(printf '%08x%08x%08x' $$ "$RANDOM" "$1")\"/" "$BODY"
}

# Sanity: every binary answers as expected before anything is timed.
for f in "${FLOORS[@]}"; do
  cgi_call ENV_POST "$BODY" "$(floor_bin "$f")" | grep -q '"received":true' || die "C floor ($f) gave no 200"
done
for v in "${BUILT[@]}"; do
  b=$RUN/bin/pixelhook-$v
  cgi_call ENV_POST "$BODY" "$b" >/dev/null       # the first run of all stores the body
  out=$(cgi_call ENV_POST "$BODY" "$b")
  grep -q '"duplicate":true' <<<"$out" || die "pixelhook-$v: POST twice is not a duplicate: $(tr '\r\n' '  ' <<<"$out")"
  out=$(cgi_call ENV_GET /dev/null "$b")
  grep -q '"ok":true' <<<"$out" || die "pixelhook-$v: GET is not ok: $(tr '\r\n' '  ' <<<"$out")"
  unique_body 1 >"$RUN/check.json"
  out=$(cgi_call ENV_NEW "$RUN/check.json" "$b")
  grep -q '"duplicate":false' <<<"$out" || die "pixelhook-$v: a new uploadId is not a new delivery: $(tr '\r\n' '  ' <<<"$out")"
done
drain >/dev/null

# ------------------------------------------------------------------ 1. hyperfine
if hyperfine --help 2>&1 | grep -q -- '--input'; then HF_MODE=input; else HF_MODE=sh; fi
HF_VERSION=$(hyperfine --version | awk '{print $2}')
# hf_group GROUP REP ENV_ARRAY INPUT: one hyperfine run over the floors and the variants
hf_group() {
  local group=$1 rep=$2 envname=$3 input=$4 f v name bin args
  local -n _env=$envname
  args=(-N --style basic --runs "$HF_RUNS" --warmup "$HF_WARMUP" --export-csv "$RAW/hf-$group.$rep.csv")
  [[ $HF_MODE == input ]] && args+=(--input "$input")
  add() {
    if [[ $HF_MODE == input ]]; then args+=(-n "$1" "$2"); else args+=(-n "$1" "sh -c 'exec $2 < $input'"); fi
  }
  local names=() bins=() i n
  for f in "${FLOORS[@]}"; do names+=("floor-$f"); bins+=("$(floor_bin "$f")"); done
  for v in "${BUILT[@]}"; do names+=("pixelhook-$v"); bins+=("$RUN/bin/pixelhook-$v"); done
  [[ $HF_MODE == sh ]] && { names+=(wrapper); bins+=(/bin/true); }
  n=${#names[@]}
  for i in $(seq 0 $((n - 1))); do   # each round starts one command later (load drifts)
    add "${names[(i + rep - 1) % n]}" "${bins[(i + rep - 1) % n]}"
  done
  if ! env -i "${_env[@]}" timeout -k 5 600 hyperfine "${args[@]}" >"$RAW/hf-$group.$rep.txt" 2>&1; then
    log "hyperfine $group failed (see $RAW/hf-$group.$rep.txt)"
    return
  fi
  # command,mean,stddev,median,user,system,min,max (seconds)
  tail -n +2 "$RAW/hf-$group.$rep.csv" |
    awk -F, -v g="$group" -v r="$rep" '{printf "%s\t%s\t%s\t%.1f\t%.1f\t%.1f\n", g, r, $1, $2 * 1e6, $3 * 1e6, $4 * 1e6}' >>"$RES/hf.tsv"
}
: >"$RES/hf.tsv"
log "hyperfine -N ($HF_MODE mode): $REPS rounds x (POST dup, GET) x $HF_RUNS runs"
for rep in $(seq "$REPS"); do
  hf_group post "$rep" ENV_POST "$BODY"
  hf_group get "$rep" ENV_GET /dev/null
done
drain >/dev/null
declare -A HF_MEAN HF_SD HF_MED
while read -r group name; do
  HF_MEAN[$group/$name]=$(awk -F'\t' -v g="$group" -v n="$name" '$1 == g && $3 == n {print $4}' "$RES/hf.tsv" | median)
  HF_SD[$group/$name]=$(awk -F'\t' -v g="$group" -v n="$name" '$1 == g && $3 == n {print $5}' "$RES/hf.tsv" | median)
  HF_MED[$group/$name]=$(awk -F'\t' -v g="$group" -v n="$name" '$1 == g && $3 == n {print $6}' "$RES/hf.tsv" | median)
done < <(cut -f1,3 "$RES/hf.tsv" | sort -u)

# ------------------------------------------------------------------ 3. size and peak RSS
if [[ -x /usr/bin/time ]]; then RSS_TOOL="/usr/bin/time -f %M"
elif have python3; then RSS_TOOL="python3 getrusage(RUSAGE_CHILDREN)"; PY=$(command -v python3)
else RSS_TOOL=""; fi
peak_rss() {  # peak_rss ENV_ARRAY INPUT BINARY -> KB (one run)
  local -n _env=$1
  if [[ -x /usr/bin/time ]]; then
    env -i "${_env[@]}" /usr/bin/time -f %M -o "$RUN/rss.out" "$3" <"$2" >/dev/null 2>&1
    tail -1 "$RUN/rss.out"
  elif [[ -n $RSS_TOOL ]]; then
    env -i "${_env[@]}" "$PY" -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$3" <"$2"
  fi
}
declare -A RSS
if [[ -n $RSS_TOOL ]]; then
  log "peak RSS ($RSS_TOOL), median of $RSS_RUNS runs each"
  for f in "${FLOORS[@]}"; do
    RSS[floor-$f]=$(for i in $(seq "$RSS_RUNS"); do peak_rss ENV_POST "$BODY" "$(floor_bin "$f")"; done | median)
  done
  for v in "${BUILT[@]}"; do
    b=$RUN/bin/pixelhook-$v
    RSS[$v/dup]=$(for i in $(seq "$RSS_RUNS"); do peak_rss ENV_POST "$BODY" "$b"; done | median)
    RSS[$v/get]=$(for i in $(seq "$RSS_RUNS"); do peak_rss ENV_GET /dev/null "$b"; done | median)
    RSS[$v/new]=$(for i in $(seq "$RSS_RUNS"); do
      unique_body "$i$RANDOM" >"$RUN/rss/body.json"; peak_rss ENV_NEW "$RUN/rss/body.json" "$b"; done | median)
  done
  drain >/dev/null
fi

# ------------------------------------------------------------------ 2. lighttpd mod_cgi + wrk
cp "$RUN/bin/cgi_floor" "$RUN/cgi-bin/cgi_floor"
[[ -x $RUN/bin/cgi_floor_static ]] && cp "$RUN/bin/cgi_floor_static" "$RUN/cgi-bin/cgi_floor_static"
WRK_TARGETS=()   # key|path|lua
WRK_TARGETS+=("floor-dyn|/cgi_floor|$POST_LUA")
[[ -x $RUN/cgi-bin/cgi_floor_static ]] && WRK_TARGETS+=("floor-static|/cgi_floor_static|$POST_LUA")
for v in "${BUILT[@]}"; do
  if [[ " $WRK_VARIANTS " == *" $v "* ]]; then
    cp "$RUN/bin/pixelhook-$v" "$RUN/cgi-bin/pixelhook-$v"
    WRK_TARGETS+=("$v/dup|/pixelhook-$v|$POST_LUA")
  fi
  if [[ " $NEW_VARIANTS " == *" $v "* ]]; then
    cp "$RUN/bin/pixelhook-$v" "$RUN/cgi-bin/new/pixelhook-$v"
    WRK_TARGETS+=("$v/new|/new/pixelhook-$v|$UNIQ_LUA")
  fi
done

write_conf() {  # write_conf PORT
  local dup new
  dup="\"PIXELHOOK_SPOOL\" => \"$RUN/lt-dup/spool\", \"PIXELHOOK_HANDLERS\" => \"$RUN/handlers\", \"PIXELHOOK_PROJECT_IDS\" => \"$PROJECT_ID\""
  new="\"PIXELHOOK_SPOOL\" => \"$RUN/lt-new/spool\", \"PIXELHOOK_HANDLERS\" => \"$RUN/handlers\", \"PIXELHOOK_PROJECT_IDS\" => \"$PROJECT_ID\""
  cat >"$RUN/conf/lighttpd.conf" <<EOF
# Generated by bench/cgi.sh: mod_cgi runs $RUN/cgi-bin/<path> once per request.
server.modules        = ( "mod_setenv", "mod_cgi" )
server.bind           = "127.0.0.1"
server.port           = $1
server.document-root  = "$RUN/cgi-bin"
server.errorlog       = "$RUN/log/lighttpd-error.log"
server.max-keep-alive-requests = 100000
cgi.assign            = ( "" => "" )
# duplicate path (fixed body) and new-delivery path (unique uploadIds): one spool each
\$HTTP["url"] =~ "^/pixelhook-" { setenv.add-environment = ( $dup ) }
\$HTTP["url"] =~ "^/new/"       { setenv.add-environment = ( $new ) }
EOF
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
LT_PID=
for try in 1 2 3 4 5; do
  if [[ -z $PORT ]] || ((try > 1)); then
    PORT=
    for p in $(seq 18100 18199 | shuf); do port_free "$p" && { PORT=$p; break; }; done
    [[ -n $PORT ]] || die "no free port in 18100-18199"
  fi
  write_conf "$PORT"
  start lighttpd env -i PATH=$CLEAN_PATH "$(command -v lighttpd)" -D -f "$RUN/conf/lighttpd.conf"
  LT_PID=$LASTPID
  for i in $(seq 50); do
    [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/cgi_floor") == 200 ]] && break 2
    kill -0 "$LT_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "lighttpd did not come up on port $PORT; see $RUN/log/lighttpd.log"
  stop "$LT_PID"; LT_PID=
done
[[ -n $LT_PID ]] || die "lighttpd did not start"
log "lighttpd pid $LT_PID on 127.0.0.1:$PORT"
URL=http://127.0.0.1:$PORT

post() { curl -s -m 10 -X POST -H 'Content-Type: application/json' --data-binary @"$1" "$URL$2"; }
# Preflight each target: the answer it must give before it is timed.
declare -A SKIP
for t in "${WRK_TARGETS[@]}"; do
  IFS='|' read -r key path lua <<<"$t"
  case $key in
    floor-*) out=$(post "$BODY" "$path"); want='"received":true' ;;
    */dup) post "$BODY" "$path" >/dev/null; out=$(post "$BODY" "$path"); want='"duplicate":true' ;;
    */new) unique_body 7 >"$RUN/check.json"; out=$(post "$RUN/check.json" "$path"); want='"duplicate":false' ;;
  esac
  grep -q "$want" <<<"$out" || { SKIP[$key]="preflight: $(head -c 200 <<<"$out")"; log "$key skipped: ${SKIP[$key]}"; }
done

: >"$RES/wrk.tsv"
NONCE=$(((RANDOM << 15 | RANDOM) & 0xffffff))
run_wrk() {  # run_wrk KEY CONC REP PATH LUA: one bounded wrk run, one line in wrk.tsv
  local key=$1 conc=$2 rep=$3 path=$4 lua=$5 t d raw line load drained=0
  if ((conc == 1)); then t=1 d=$DUR1; else t=2 d=$DUR; fi
  raw=$RAW/wrk-${key//\//-}.c$conc.$rep.txt
  read -r load _ </proc/loadavg
  NONCE=$((NONCE + 1))
  echo "wrk -t$t -c$conc -d$d --latency -s $(basename "$lua") $URL$path" >"$raw"
  BENCH_BODY=$BODY BENCH_NONCE=$NONCE timeout -k 5 120 wrk -t"$t" -c"$conc" -d"$d" --latency -s "$lua" "$URL$path" >>"$raw" 2>&1
  [[ $key == */new ]] && drained=$(drain)
  line=$(grep '^BENCHRESULT ' "$raw" | tail -1)
  if [[ -z $line ]]; then log "$key c$conc #$rep: no result (see $raw)"; return; fi
  # key conc rep rps p50_us p99_us non2xx errors load1 drain_s
  awk -v k="$key" -v c="$conc" -v r="$rep" -v l="$load" -v dr="$drained" '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k, c, r, v["rps"], v["p50_us"], v["p99_us"], v["non2xx"], v["errors"], l, dr
    }' <<<"$line" >>"$RES/wrk.tsv"
  log "$key c$conc #$rep: $(awk '{for (i = 2; i <= NF; i++) if ($i ~ /^rps=/) print substr($i, 5)}' <<<"$line") req/s$([[ $key == */new ]] && echo ", handlers drained in ${drained}s")"
}

log "warm-up: $WARM per target at -c4"
for t in "${WRK_TARGETS[@]}"; do
  IFS='|' read -r key path lua <<<"$t"
  [[ -n ${SKIP[$key]:-} ]] && continue
  BENCH_BODY=$BODY BENCH_NONCE=1 timeout -k 5 60 wrk -t2 -c4 -d"$WARM" -s "$lua" "$URL$path" >"$RAW/warmup-${key//\//-}.txt" 2>&1
done
drain >/dev/null
log "wrk: $REPS rounds x ${#WRK_TARGETS[@]} targets x (c1 $DUR1, c4 $DUR), interleaved"
for rep in $(seq "$REPS"); do
  for t in "${WRK_TARGETS[@]}"; do
    IFS='|' read -r key path lua <<<"$t"
    [[ -n ${SKIP[$key]:-} ]] && continue
    run_wrk "$key" 1 "$rep" "$path" "$lua"
    run_wrk "$key" 4 "$rep" "$path" "$lua"
  done
done
stop "$LT_PID"; LT_PID=
# Did every stored new delivery get its handler run? (payload EVENT.json, outcome EVENT.result)
NEW_STORED=$(find "$RUN/lt-new/spool/deliveries" -name '*.json' 2>/dev/null | wc -l)
NEW_RESULTS=$(find "$RUN/lt-new/spool/deliveries" -name '*.result' 2>/dev/null | wc -l)
NEW_DONE=$(find "$RUN/lt-new/spool/deliveries" -name '*.result' -exec grep -l '"state":"done"' {} + 2>/dev/null | wc -l)

# ------------------------------------------------------------------ 5. table
col() {  # col KEY CONC FIELD(4=rps 5=p50 6=p99 10=drain) -> median over the rounds
  awk -F'\t' -v k="$1" -v c="$2" -v f="$3" '$1 == k && $2 == c {print $f}' "$RES/wrk.tsv" | median
}
errs() { awk -F'\t' -v k="$1" '$1 == k {s += $7 + $8} END {print s + 0}' "$RES/wrk.tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "" || b == "" || b + 0 == 0) print "n/a"; else printf "%.2f×", a / b }'; }
hf_cell() {  # hf_cell GROUP NAME: "mean ± σ (median)"
  local m=${HF_MEAN[$1/$2]:-} s=${HF_SD[$1/$2]:-} d=${HF_MED[$1/$2]:-}
  [[ -n $m ]] && echo "$(ms "$m") ± $(ms "$s") (med $(ms "$d"))" || echo "n/a"
}
hf_ratio() {  # hf_ratio GROUP NAME: mean / dynamic floor's mean, and median - floor's median
  local m=${HF_MEAN[$1/$2]:-} f=${HF_MEAN[$1/floor-dyn]:-} d=${HF_MED[$1/$2]:-} fd=${HF_MED[$1/floor-dyn]:-}
  [[ -n $m && -n $f ]] || { echo "n/a"; return; }
  echo "$(ratio "$m" "$f") ($(awk -v a="$d" -v b="$fd" 'BEGIN{printf "%+.2f", (a - b) / 1000}') ms)"
}
size_cell() {  # size_cell BINARY_NAME
  echo "$(commas "${SIZE[$1]}") ($(commas "${STRIPPED[$1]:-?}") stripped)"
}
FLOOR_RPS1=$(col floor-dyn 1 4)

row() {  # row LABEL WRK_KEY HF_GROUP HF_NAME BINARY RSS_KEY
  local label=$1 k=$2 g=$3 n=$4 bin=$5 rk=$6 rps1="" p501="" rps4="" p504="" p994="" e c1r hfr note=""
  if [[ -n $k && -n ${SKIP[$k]:-} ]]; then note=" (skipped: ${SKIP[$k]})"; k=""; fi
  if [[ -n $k ]]; then
    rps1=$(col "$k" 1 4) p501=$(col "$k" 1 5) rps4=$(col "$k" 4 4) p504=$(col "$k" 4 5) p994=$(col "$k" 4 6)
    e=$(errs "$k"); ((e > 0)) && note=" ($e errors/non-2xx)"
  fi
  if [[ -n $rps1 ]]; then c1r=$(ratio "$FLOOR_RPS1" "$rps1"); else c1r="n/a"; fi
  if [[ -n $g ]]; then hfr=$(hf_ratio "$g" "$n"); else hfr="n/a"; fi
  printf '| %s%s | %s | %s | %s | %s | %s | %s | %s | %s | c1 %s · hf %s |\n' "$label" "$note" \
    "${rps1:+$(printf '%.0f' "$rps1")}" "$(ms "$p501")" "${rps4:+$(printf '%.0f' "$rps4")}" "$(ms "$p504")" "$(ms "$p994")" \
    "$([[ -n $g ]] && hf_cell "$g" "$n" || echo n/a)" "$(size_cell "$bin")" "${RSS[$rk]:-n/a}" "$c1r" "$hfr" |
    sed -e 's/|  |/| n\/a |/g' -e 's/|  |/| n\/a |/g'
}

{
  echo "## pixelhook one-shot CGI cost (bench/cgi.sh)"
  echo
  echo '```'
  echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host:        $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), Linux $(uname -r)"
  echo "load:        before $LOAD_BEFORE, after $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min); wall $((SECONDS - T0)) s"
  echo "versions:    $(swift --version 2>&1 | grep -o 'Swift version [^ ]*' | head -1), $(cc --version | head -1), glibc $(ldd --version | head -1 | awk '{print $NF}'),"
  echo "             $(lighttpd -v 2>&1 | head -1 | cut -d' ' -f1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), hyperfine $HF_VERSION"
  echo "commit:      $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') (binaries built from the working tree as it was)"
  echo "knobs:       VARIANTS='${BUILT[*]}' REPS=$REPS DUR=$DUR DUR1=$DUR1 WARM=$WARM HF_RUNS=$HF_RUNS RSS_RUNS=$RSS_RUNS"
  if [[ $HF_MODE == sh ]]; then
    echo "hyperfine:   no --input in $HF_VERSION: every row runs as sh -c 'exec BIN < FILE'; wrapper alone:" \
         "POST $(ms "${HF_MEAN[post/wrapper]:-}") ms, GET $(ms "${HF_MEAN[get/wrapper]:-}") ms (mean); the +ms differences cancel it"
  else
    echo "hyperfine:   -N --input FILE (no wrapper)"
  fi
  echo "peak RSS:    ${RSS_TOOL:-n/a} of the CGI process alone (the detached handler runner is not included)"
  echo '```'
  echo
  echo "| target | req/s c1 | p50 c1 ms | req/s c4 | p50 c4 ms | p99 c4 ms | hyperfine mean ms ± σ (median) | size bytes | peak RSS KB | ratio to C floor (time/request) |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  row "C floor, cc -O2 (dynamic): POST" floor-dyn post floor-dyn cgi_floor floor-dyn
  [[ " ${FLOORS[*]} " == *" static "* ]] &&
    row "C floor, cc -O2 -static: POST" floor-static post floor-static cgi_floor_static floor-static
  for v in "${BUILT[@]}"; do
    row "pixelhook $v: POST duplicate" "$([[ " $WRK_VARIANTS " == *" $v "* ]] && echo "$v/dup")" post "pixelhook-$v" "pixelhook-$v" "$v/dup"
    [[ " $NEW_VARIANTS " == *" $v "* ]] &&
      row "pixelhook $v: POST new delivery (+ handler)" "$v/new" "" "" "pixelhook-$v" "$v/new"
    row "pixelhook $v: GET health" "" get "pixelhook-$v" "pixelhook-$v" "$v/get"
  done
  echo
  echo "Medians of $REPS rounds (wrk: each figure on its own; hyperfine: mean and σ of each round's $HF_RUNS runs)."
  echo "c1 = wrk -t1 -c1 -d$DUR1, c4 = wrk -t2 -c4 -d$DUR, through lighttpd mod_cgi (keep-alive); ratios divide time"
  echo "per request by the dynamic C floor's (c1: floor req/s ÷ row req/s; hf: row mean ÷ floor mean on the same input,"
  echo "and in brackets row median − floor median, the extra ms one start costs, free of any wrapper; GET rows against"
  echo "the floor's GET run: $(ms "${HF_MEAN[get/floor-dyn]:-}") ms mean)."
  if [[ -n $NEW_VARIANTS ]]; then
    echo "New-delivery path: the handler runners were still finishing for $(awk -F'\t' '$1 ~ /\/new$/ && $2 == 4 {print $10}' "$RES/wrk.tsv" | median) s" \
         "(median) after each c4 run ended; its spool holds $NEW_STORED stored deliveries, $NEW_RESULTS handler results" \
         "($NEW_DONE done)$( ((NEW_STORED > NEW_RESULTS)) && echo ": $((NEW_STORED - NEW_RESULTS)) stored deliveries never got their handler run (see \`pixelhook retry\`)")."
  fi
  echo
  echo "| build variant | swift build flags | linkage | size bytes | stripped bytes | hf POST dup ms | hf GET ms | peak RSS KB dup | build s (this run) |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for v in "${BUILT[@]}"; do
    flags=${BUILD_ARGS[$v]//$ROOT\//}
    printf '| %s | `-c release %s` | %s | %s | %s | %s | %s | %s | %s |\n' "$v" "$flags" "${LINKAGE[pixelhook-$v]}" \
      "$(commas "${SIZE[pixelhook-$v]}")" "$(commas "${STRIPPED[pixelhook-$v]:-?}")" "$(hf_cell post "pixelhook-$v")" \
      "$(hf_cell get "pixelhook-$v")" "${RSS[$v/dup]:-n/a}" "${BUILD_S[$v]:-n/a}"
  done
  for f in "${FLOORS[@]}"; do
    n=$(basename "$(floor_bin "$f")")
    printf '| C floor %s | `cc -O2%s` | %s | %s | %s | %s | %s | %s | n/a |\n' "$f" "$([[ $f == static ]] && echo ' -static')" \
      "${LINKAGE[$n]}" "$(commas "${SIZE[$n]}")" "$(commas "${STRIPPED[$n]:-?}")" "$(hf_cell post "floor-$f")" \
      "$(hf_cell get "floor-$f")" "${RSS[floor-$f]:-n/a}"
  done
  echo
  echo "Raw output: $RAW (wrk, hyperfine), $RES/wrk.tsv, $RES/hf.tsv."
} >"$RES/table.md"

echo
cat "$RES/table.md"
