#!/usr/bin/env bash
# bench/compare.sh: pixelhook next to its ceiling, its C floors and its peers, in ONE run, ONE table
# (issue #6). wrk on 127.0.0.1 only, same POST body (bench/body.json) everywhere.
#
#   bash bench/compare.sh            # build pixelhook (static release), run every row: ~10 min on 2 cores
#   bash bench/compare.sh --quick    # smoke run: ROUNDS=1 REPS=1 DUR=2s DUR1=1s (~2 min)
#   bash bench/compare.sh --list     # the row ids
#   ONLY=F1,X1 NO_BUILD=1 bash bench/compare.sh
#
# ROWS (id: what; "floor" = what its ratio divides by)
#   L0   nginx `return 200` (the ceiling)
#   F1   nginx -> C libfcgi responder, bench/src/fcgi_floor.c, 2 procs (spawn-fcgi)   FastCGI floor
#   F1n  nginx -> C libfcgi, bench/peers/fcgi_store.c, 2 procs: O_EXCL create + fdatasync file, fsync dir,
#        answer, posix_spawn /bin/true; new uploadId per request              new-delivery floor
#   F1s  the same program with no handler and 16 procs (one per -c16 connection): the most
#        answers/s a FastCGI receiver that stores durably before it answers gets here (SPEC §9)
#   D0   no server: bench/src/durable_ceiling.c, 16 threads (the c16 columns) and 1 (c1) looping
#        O_TMPFILE + write body + linkat + fdatasync + fsync(dir) in the spools' filesystem: the
#        most durable stores/s this disk allows, what any receiver that stores before answering
#        (SPEC) is bound by                                                      disk ceiling
#   C2   nginx -> fcgiwrap -> C CGI bench/src/cgi_floor.c                        CGI floor (nginx)
#   C3   lighttpd mod_cgi -> C CGI bench/src/cgi_floor.c                         CGI floor (lighttpd)
#   X1   nginx -> `pixelhook fastcgi --listen` (default workers), fixed body: duplicate path  (F1)
#   X1n  the same, new uploadId per request: durable store + handler `default`      (F1n, D0)
#   X2   nginx -> fcgiwrap -> pixelhook as CGI, duplicate path                       (C2)
#   X2n  the same, new-delivery path                                                 (C2)
#   X3   lighttpd mod_cgi -> pixelhook as CGI, duplicate path                        (C3)
#   X3n  the same, new-delivery path                                                 (C3)
#   P1   adnanh/webhook (Debian `webhook`), direct, runs /bin/true $event per hook (after answering)
#   P2   Flask receiver of Streampixel's docs, dev server (app.run)                  (F1)
#   P2g  the same under gunicorn, 2 sync workers                                     (F1)
#   P2x  P2 + subprocess.run(/bin/true) per request                                  (F1n)
#   P2gx P2g + subprocess.run(/bin/true)                                             (F1n)
#   P4   nginx -> php-fpm (static 2): json_decode                                    (F1)
#   P4x  P4 + exec('/bin/true')                                                      (F1n)
#   pixelhook settings: PIXELHOOK_SPOOL under the run dir (one spool per row), PIXELHOOK_HANDLERS
#   with `default` a symlink to /bin/true, the command the peers run (PH_HANDLER=sh: the script
#   `#!/bin/sh\nexit 0` instead),
#   PIXELHOOK_PROJECT_IDS = body.json's projectId, PIXELHOOK_MAX_HANDLERS default.
#
# ROUNDS: the whole list of rows runs ROUNDS times (default 2), REPS runs of each row per round,
# so a row's runs and its floor's are spread over the same stretch of a noisy machine's time.
# MEASURED per row and round: warm-up (WARM, unrecorded), then REPS x (wrk -t2 -c16 -d$DUR with RSS sampling,
# wrk -t1 -c1 -d$DUR1); medians. Then, below the table, the target checks of the issue from this
# same run: X1 >= 80 % of F1 (c16, c1); X1n vs P1 and vs the best of P2x/P2gx/P4x, and X1n and
# P1 against the disk's durable ceiling D0; X3 time per
# request / C3 <= 1.5x (c1); responder RSS after >= RSS_REQUESTS (100,000) requests < 16 MB;
# one CGI process's peak RSS < 8 MB (/usr/bin/time -f %M); for X1n/X2n/X3n the handler runs
# (results "done" in the spool, after the runners drained) against the 200 answers; for P1 the
# same from webhook's own -verbose log (one burst, then up to 30 s of backlog): webhook answers
# before it runs the command.
#
# KNOBS (environment): ROUNDS=2 REPS=1 DUR=8s DUR1=4s WARM=1s ONLY=ids (comma/space separated)
#   RSS_REQUESTS=100000  CGI_RSS_RUNS=5  P1_BURST=3s  DRAIN_MAX=60 (s, per run, new-delivery rows)
#   FCGIWRAP_CHILDREN=4  NGINX_WORKERS=auto  NO_BUILD=1 (use the last .build-static binary) F1S_PROCS=16
#   NO_INSTALL=1 (never apt-get/pip)  PH_HANDLER=true|sh  PH_WORKERS=N (responder --workers)
#   KEEP=1 (keep spools)  PYTHON=python3  SPOOL_FS=ext4 (spools on a new journalled ext4 loop image;
#   root; SPOOL_FS_SIZE=4G)
#   PAIRS=5 PAIR_DUR=2s (the paired checks, below)
#   --quick sets ROUNDS=1 REPS=1 DUR=2s DUR1=1s WARM=0.5s P1_BURST=1s RSS_REQUESTS=20000 (no RSS verdict)
#   CGI_RSS_RUNS=3 PAIRS=2 PAIR_DUR=1s unless they are set.
#
# PAIRED CHECKS (last round): the two targets that divide a pixelhook row by its floor, X1 ÷ F1 and
# X3 ÷ C3, are also measured as PAIRS pairs of short runs, floor then row, seconds apart, with both
# servers up; the verdict is the median of the per-pair ratios. On a shared 2-core VM the load moves
# by 2x within minutes, which moves the ratio of two medians taken minutes apart; a pair's two runs
# see the same load.
#
# SAFETY: only 127.0.0.1 ports (free ones in 18300-18399) and unix sockets under the run dir
# (mktemp -d /tmp/pixelhook-compare.XXXXXX); every wrk run has -d and `timeout`; every server
# runs in the foreground in its own process group (setsid), backgrounded here, PID recorded in
# RUN/pids; only those groups/PIDs (and their children) are signalled, on exit too (trap). The
# detached pixelhook handler runners are waited for; what is left after DRAIN_MAX is found by
# its executable (a copy under the run dir) and stopped.
#
# Results: RUN/results/{table.md,results.jsonl,env.txt,raw/}; the table is also printed.
set -uo pipefail

BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
CMP=$BENCH/compare
PEERS=$BENCH/peers
PY=${PYTHON:-python3}

# Each pixelhook row runs right after its floor, so that a ratio compares two runs minutes, not
# a quarter of an hour, apart on this shared machine (the load moves).
ALL_TARGETS=(L0 F1 X1 F1n X1n F1s C2 X2 X2n C3 X3 X3n P1 P2 P2g P2x P2gx P4 P4x D0)
declare -A LABEL=(
  [L0]="nginx \`return 200\` (ceiling)"
  [F1]="C libfcgi floor: nginx → fcgi_floor.c, 2 procs"
  [F1n]="C new-delivery floor: nginx → libfcgi, O_EXCL+fdatasync file+fsync dir, answer, spawn true; new ids"
  [F1s]="C durable-receiver ceiling: nginx → libfcgi, 16 procs, O_EXCL+fdatasync file+fsync dir, answer, no handler; new ids"
  [D0]="disk ceiling, no HTTP: C threads O_TMPFILE+linkat+fdatasync+fsync dir; c16 = 16 threads, c1 = 1"
  [C2]="C CGI floor: nginx → fcgiwrap → cgi_floor.c"
  [C3]="C CGI floor: lighttpd mod_cgi → cgi_floor.c"
  [X1]="pixelhook FastCGI (nginx), dup path"
  [X1n]="pixelhook FastCGI (nginx), new delivery: store + handler; new ids"
  [X2]="pixelhook CGI, nginx → fcgiwrap, dup path"
  [X2n]="pixelhook CGI, nginx → fcgiwrap, new delivery; new ids"
  [X3]="pixelhook CGI, lighttpd mod_cgi, dup path"
  [X3n]="pixelhook CGI, lighttpd mod_cgi, new delivery; new ids"
  [P1]="adnanh/webhook, direct, runs true \$event (answers first)"
  [P2]="Flask docs receiver, dev server"
  [P2g]="Flask docs receiver, gunicorn 2 sync workers"
  [P2x]="Flask dev server + subprocess.run(true)"
  [P2gx]="Flask gunicorn 2 workers + subprocess.run(true)"
  [P4]="nginx → php-fpm (static 2): json_decode"
  [P4x]="nginx → php-fpm + exec('true')"
)
declare -A FLOOR=([F1]=F1 [F1n]=F1n [F1s]=F1s [D0]=D0 [C2]=C2 [C3]=C3 [X1]=F1 [X1n]=F1n [X2]=C2 [X2n]=C2 [X3]=C3
  [X3n]=C3 [P1]=F1n [P2]=F1 [P2g]=F1 [P2x]=F1n [P2gx]=F1n [P4]=F1 [P4x]=F1n)
declare -A HANDLER=([D0]="none" [F1s]="none" [F1n]="in-line" [P2x]="in-line" [P2gx]="in-line" [P4x]="in-line")

QUICK=0
for a in "$@"; do
  case $a in
    --quick) QUICK=1 ;;
    --list) for t in "${ALL_TARGETS[@]}"; do printf '%-5s %s\n' "$t" "${LABEL[$t]}"; done; exit 0 ;;
    -h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $a (--quick, --list, --help)" >&2; exit 2 ;;
  esac
done
if [[ $QUICK == 1 ]]; then
  ROUNDS=${ROUNDS:-1} REPS=${REPS:-1} DUR=${DUR:-2s} DUR1=${DUR1:-1s} WARM=${WARM:-0.5s} P1_BURST=${P1_BURST:-1s}
  RSS_REQUESTS=${RSS_REQUESTS:-20000} CGI_RSS_RUNS=${CGI_RSS_RUNS:-3} PAIRS=${PAIRS:-2} PAIR_DUR=${PAIR_DUR:-1s}
fi
ROUNDS=${ROUNDS:-2}
REPS=${REPS:-1}
ROUND=1
# run_number REP: the run's number across rounds (raw file names, D0 directories, records)
run_number() { echo $(((ROUND - 1) * REPS + $1)); }
DUR=${DUR:-8s}
DUR1=${DUR1:-4s}
WARM=${WARM:-1s}
P1_BURST=${P1_BURST:-3s}
RSS_REQUESTS=${RSS_REQUESTS:-100000}
CGI_RSS_RUNS=${CGI_RSS_RUNS:-5}
DRAIN_MAX=${DRAIN_MAX:-60}
FCGIWRAP_CHILDREN=${FCGIWRAP_CHILDREN:-4}
F1S_PROCS=${F1S_PROCS:-16}
PAIRS=${PAIRS:-5}
PAIR_DUR=${PAIR_DUR:-2s}
NGINX_WORKERS=${NGINX_WORKERS:-auto}
PH_HANDLER=${PH_HANDLER:-true}
for v in DUR DUR1 WARM P1_BURST; do
  [[ ${!v} =~ ^[0-9]+(\.[0-9]+)?s?$ ]] || { echo "$v must be seconds, like 8s (got ${!v})" >&2; exit 2; }
done

TARGETS=()
if [[ -n ${ONLY:-} ]]; then
  for t in ${ONLY//,/ }; do
    [[ -n ${LABEL[$t]:-} ]] || { echo "unknown id in ONLY: $t (see --list)" >&2; exit 2; }
  done
  for t in "${ALL_TARGETS[@]}"; do [[ " ${ONLY//,/ } " == *" $t "* ]] && TARGETS+=("$t"); done
else
  TARGETS=("${ALL_TARGETS[@]}")
fi
want() { [[ " ${TARGETS[*]} " == *" $1 "* ]]; }

log() { printf '[compare %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }
secs() { local v=${1%s}; echo "$v"; }

RUN=$(mktemp -d /tmp/pixelhook-compare.XXXXXX) || { echo "mktemp failed" >&2; exit 1; }
OUT=$RUN/results
RAW=$OUT/raw
JSONL=$OUT/results.jsonl
mkdir -p "$RAW" "$RUN"/{log,sock,bin,cgi-bin/new,spool,nginx,conf,handlers}
# SPOOL_FS=ext4: every spool (and D0) on a new ext4 filesystem with a journal, in a loop image
# under the run dir (root only). Without it they share the run dir's filesystem, whose history
# counts: on ext4 *without* a journal (this VM's root) creating files is slow for minutes after
# many were removed (the allocator skips recently deleted inodes), e.g. after a previous run.
SPOOL_MOUNTED=0
if [[ ${SPOOL_FS:-} == ext4 ]]; then
  if truncate -s "${SPOOL_FS_SIZE:-4G}" "$RUN/spool.img" && mkfs.ext4 -q -F "$RUN/spool.img" &&
     mount -o loop "$RUN/spool.img" "$RUN/spool" 2>"$RUN/log/mount.log"; then
    SPOOL_MOUNTED=1
  else
    echo "SPOOL_FS=ext4: could not make or mount the loop image (root and a loop device are needed; see $RUN/log/mount.log)" >&2
    exit 1
  fi
fi
: >"$RUN/pids"
: >"$JSONL"

# ---------------------------------------------------------------- processes
STARTED=()   # PIDs this script started (each the leader of its own process group)

# start NAME CMD...: CMD in the background in a process group of its own (setsid execs it,
# so the PID is the group's id), output in RUN/log/NAME.log; PID in LASTPID and RUN/pids.
start() {
  local name=$1; shift
  setsid "$@" >"$RUN/log/$name.log" 2>&1 </dev/null &
  LASTPID=$!
  STARTED+=("$LASTPID")
  echo "$LASTPID $name" >>"$RUN/pids"
}

descendants() {  # PIDs below $1 (children, grandchildren, ...)
  local c
  for c in $(pgrep -P "$1" 2>/dev/null); do echo "$c"; descendants "$c"; done
}
running() {  # exists and is not a zombie
  local s
  s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  s=${s##*) }
  [[ ${s%% *} != Z ]]
}
MYPGID=$(ps -o pgid= -p $$ | tr -d ' ')
own_group() {  # true if PID leads its own process group (never ours)
  local g
  g=$(ps -o pgid= -p "$1" 2>/dev/null | tr -d ' ')
  [[ -n $g && $g == "$1" && $g != "$MYPGID" ]]
}
signal() {  # signal SIG PID: the PID's group if it leads one, else the PID
  if own_group "$2"; then kill -"$1" -- -"$2" 2>/dev/null; else kill -"$1" "$2" 2>/dev/null; fi
}

# stop PID...: TERM each given PID's group (and children listed before); what still runs after
# 0.5 s gets TERM again, after 5 s KILL. The PIDs are then forgotten.
stop() {
  local p kids=() i alive=() keep=()
  for p in "$@"; do
    [[ -n $p ]] || continue
    kids+=($(descendants "$p"))
    signal TERM "$p"
  done
  for i in $(seq 50); do
    alive=()
    for p in "$@" "${kids[@]}"; do [[ -n $p ]] && running "$p" && alive+=("$p"); done
    [[ ${#alive[@]} == 0 ]] && break
    [[ $i == 5 ]] && for p in "${alive[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.1
  done
  for p in "$@"; do [[ -n $p ]] && running "$p" && signal KILL "$p"; done
  for p in "${alive[@]}"; do kill -KILL "$p" 2>/dev/null; done
  for p in "$@"; do [[ -n $p ]] && wait "$p" 2>/dev/null; done
  for p in "${STARTED[@]}"; do [[ " $* " == *" $p "* ]] || keep+=("$p"); done
  STARTED=("${keep[@]}")
  return 0
}

# pixelhook's detached handler runners (`pixelhook run-queue ID`, own session): processes whose
# executable is the copy under RUN and whose argv[1] is run-queue.
runners() {
  local e p
  for e in /proc/[0-9]*/exe; do
    [[ $(readlink "$e" 2>/dev/null) == "$RUN"/* ]] || continue
    p=${e#/proc/}; p=${p%/exe}
    [[ $({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null) == *" run-queue "* ]] && echo "$p"
  done
}

cleanup() {
  local p n i
  if [[ ${#STARTED[@]} -gt 0 ]]; then
    log "stopping what this run started: ${STARTED[*]}"
    stop "${STARTED[@]}"
    log "stopped"
  fi
  STARTED=()
  NGINX_PID= PHP_PID= PH_PID= FCGIWRAP_PID= LT_PID=
  for i in $(seq $((DRAIN_MAX * 5))); do
    n=$(runners | wc -l)
    ((n == 0)) && break
    ((i == 1)) && log "waiting for $n pixelhook handler runners to finish"
    sleep 0.2
  done
  for p in $(runners); do kill -TERM "$p" 2>/dev/null && log "stopped handler runner $p"; done
  if [[ ${KEEP:-0} != 1 && $RUN == /tmp/pixelhook-compare.* && -d $RUN/spool ]]; then
    local t=$SECONDS
    if ((SPOOL_MOUNTED)); then
      umount "$RUN/spool" || umount -l "$RUN/spool"
      SPOOL_MOUNTED=0
      rm -f "$RUN/spool.img"
    fi
    rm -rf "$RUN/spool" "$RUN/cgi-bin" "$RUN/bin" "$RUN/nginx"
    log "removed the spools ($((SECONDS - t)) s; KEEP=1 keeps them)"
  elif ((SPOOL_MOUNTED)); then
    log "the spools stay mounted at $RUN/spool (KEEP=1): umount $RUN/spool when done"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORTS_TAKEN=" "
free_port() {  # free_port VAR: a free 127.0.0.1 port in 18300-18399 into VAR
  local p
  for p in $(seq 18300 18399 | shuf); do
    [[ $PORTS_TAKEN == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      PORTS_TAKEN+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  return 1
}

BODY=$BENCH/body.json
POST=$BENCH/lua/post.lua
UNIQ=$BENCH/lua/post-unique.lua
PROJECT=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["projectId"])' "$BODY")

code_of() {  # code_of URL [BODYFILE]: HTTP status of one POST
  curl -s -o "$RUN/last-answer" -m 5 -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary @"${2:-$BODY}" "$1"
}
wait_http() {  # until a POST answers 200 (10 s at most)
  local i
  for i in $(seq 100); do
    [[ $(code_of "$1") == 200 ]] && return 0
    sleep 0.1
  done
  return 1
}
wait_sock() {
  local i
  for i in $(seq 100); do [[ -S $1 ]] && return 0; sleep 0.1; done
  return 1
}

# ---------------------------------------------------------------- setup
T0=$SECONDS
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "run dir $RUN (load $LOAD_BEFORE)"

PHPFPM=$(compgen -c php-fpm | grep -E '^php-fpm[0-9.]*$' | sort -V | tail -1)
install_deps() {
  [[ ${NO_INSTALL:-0} == 1 ]] && return 0
  local need=() c
  for c in nginx lighttpd fcgiwrap spawn-fcgi wrk curl cc; do have "$c" || need+=("$c"); done
  [[ -f /usr/include/fcgiapp.h ]] || need+=(libfcgi-dev)
  want P1 && ! have webhook && need+=(webhook)
  { want P4 || want P4x; } && [[ -z $PHPFPM ]] && need+=(php-fpm)
  if ((${#need[@]})); then
    local pkgs=()
    for c in "${need[@]}"; do case $c in cc) pkgs+=(gcc) ;; *) pkgs+=("$c") ;; esac; done
    log "apt-get install ${pkgs[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}"; } \
      >"$RUN/log/apt.log" 2>&1 || log "apt-get install failed (see $RUN/log/apt.log); those rows are skipped"
    PHPFPM=$(compgen -c php-fpm | grep -E '^php-fpm[0-9.]*$' | sort -V | tail -1)
  fi
  if want P2 || want P2g || want P2x || want P2gx; then
    local mods=()
    $PY -c 'import flask' 2>/dev/null || mods+=(flask)
    $PY -c 'import gunicorn' 2>/dev/null || mods+=(gunicorn)
    if ((${#mods[@]})); then
      log "pip install ${mods[*]}"
      $PY -m pip install -q "${mods[@]}" >"$RUN/log/pip.log" 2>&1 ||
        log "pip install failed (see $RUN/log/pip.log); those rows are skipped"
    fi
  fi
}
install_deps
for c in wrk curl timeout setsid; do have "$c" || { echo "$c is required" >&2; exit 1; }; done

PH=
if want X1 || want X1n || want X2 || want X2n || want X3 || want X3n; then
  if [[ ${NO_BUILD:-0} != 1 ]]; then
    log "scripts/build-static.sh (the shipped build, into .build-static)"
    if ! (cd "$ROOT" && bash scripts/build-static.sh) >"$RUN/log/build.log" 2>&1; then
      log "build failed (see $RUN/log/build.log): the pixelhook rows are skipped"; tail -5 "$RUN/log/build.log" >&2
    fi
  fi
  if [[ -x $ROOT/.build-static/release/pixelhook ]]; then
    # A copy: others may rebuild while this runs; and the runners are found by this path.
    cp "$ROOT/.build-static/release/pixelhook" "$RUN/bin/pixelhook"
    ln "$RUN/bin/pixelhook" "$RUN/cgi-bin/pixelhook"
    ln "$RUN/bin/pixelhook" "$RUN/cgi-bin/new/pixelhook"
    PH=$RUN/bin/pixelhook
  fi
fi
if [[ $PH_HANDLER == true ]]; then
  ln -s /bin/true "$RUN/handlers/default"
else
  printf '#!/bin/sh\nexit 0\n' >"$RUN/handlers/default"; chmod 0755 "$RUN/handlers/default"
fi

if have cc; then
  cc -O2 -o "$RUN/cgi-bin/cgi_floor" "$BENCH/src/cgi_floor.c" || log "cc cgi_floor.c failed"
  cc -O2 -pthread -o "$RUN/bin/durable_ceiling" "$BENCH/src/durable_ceiling.c" || log "cc durable_ceiling.c failed"
  if [[ -f /usr/include/fcgiapp.h ]]; then
    cc -O2 -o "$RUN/bin/fcgi_floor" "$BENCH/src/fcgi_floor.c" -lfcgi || log "cc fcgi_floor.c failed"
    cc -O2 -o "$RUN/bin/fcgi_store" "$PEERS/fcgi_store.c" -lfcgi || log "cc fcgi_store.c failed"
  fi
fi

free_port NPORT && free_port LPORT && free_port WPORT && free_port FPORT && free_port GPORT ||
  { echo "no free ports in 18300-18399" >&2; exit 1; }
render() {  # render TEMPLATE OUT
  sed -e "s|@RUN@|$RUN|g" -e "s|@CMP@|$CMP|g" -e "s|@PEERS@|$PEERS|g" -e "s|@PORT@|$NPORT|g" \
      -e "s|@LPORT@|$LPORT|g" -e "s|@PROJECT@|$PROJECT|g" "$1" >"$2"
}
render "$CMP/nginx.conf.in" "$RUN/conf/nginx.conf"
sed -i "s|^worker_processes auto;|worker_processes $NGINX_WORKERS;|" "$RUN/conf/nginx.conf"
render "$CMP/lighttpd.conf.in" "$RUN/conf/lighttpd.conf"
render "$CMP/php-fpm.conf.in" "$RUN/conf/php-fpm.conf"
TRUE=$(type -P true)   # the executable (command -v gives the builtin)
sed -e "s|\"/bin/true\"|\"$TRUE\"|" "$PEERS/hooks.json" >"$RUN/conf/hooks.json"

# ---------------------------------------------------------------- measuring
meta() {  # meta ID STATUS
  printf '{"kind":"meta","target":"%s","label":"%s","status":"%s","floor":"%s","handler":"%s"}\n' \
    "$1" "${LABEL[$1]//\"/\\\"}" "${2//\"/\'}" "${FLOOR[$1]:-}" "${HANDLER[$1]:-—}" >>"$JSONL"
}
skip() { log "$1: skipped ($2)"; meta "$1" "skipped ($2)"; }

# spool_counts DIR -> "stored results" (payloads and handler results under DIR/deliveries)
spool_counts() {
  local s r
  s=$(find "$1/deliveries" -name '*.json' ! -name '.*' 2>/dev/null | wc -l)
  r=$(find "$1/deliveries" -name '*.result' 2>/dev/null | wc -l)
  echo "$s $r"
}
spool_done() { grep -rl --include='*.result' '"state":"done"' "$1/deliveries" 2>/dev/null | wc -l; }
# drain_spool DIR: wait until every stored payload has its result and no runner is left, or
# nothing moved for 5 s, or DRAIN_MAX s. Sets DRAINED (seconds).
drain_spool() {
  local t0=$SECONDS s r last=-1 still=0 n
  while :; do
    read -r s r < <(spool_counts "$1")
    n=$(runners | wc -l)
    ((r >= s && n == 0)) && break
    if ((r == last)); then still=$((still + 1)); else still=0; last=$r; fi
    ((still >= 10 || SECONDS - t0 >= DRAIN_MAX)) && break
    sleep 0.5
  done
  DRAINED=$((SECONDS - t0))
}

# record_result ID CONC REP LOAD1 LINE: a BENCHRESULT line as one JSON record of results.jsonl
record_result() {
  awk -v id="$1" -v c="$2" -v r="$3" -v l="$4" '{
      printf "{\"kind\":\"wrk\",\"target\":\"%s\",\"conc\":%d,\"rep\":%d,\"load1\":%s", id, c, r, l
      for (i = 2; i <= NF; i++) { split($i, kv, "="); printf ",\"%s\":%s", kv[1], kv[2] }
      print "}" }' <<<"$5" >>"$JSONL"
}

NONCE=$(((RANDOM << 15 | RANDOM) & 0xffffff))
PH_SERVED=0
# run_wrk ID CONC REP URL LUA: one bounded wrk run -> one JSON line (and a count line for spools)
run_wrk() {
  local id=$1 conc=$2 rep=$3 url=$4 lua=$5 t d raw line load1 s0 r0 d0 s1 r1 d1 req non
  if [[ $conc == 1 ]]; then t=1; d=$DUR1; else t=2; d=$DUR; fi
  d=$(secs "$d")s
  raw=$RAW/$id.c$conc.$rep.txt
  echo "wrk -t$t -c$conc -d$d --latency -s $(basename "$lua") $url" >"$raw"
  if [[ -n $COUNT_SPOOL ]]; then read -r s0 r0 < <(spool_counts "$COUNT_SPOOL"); d0=$(spool_done "$COUNT_SPOOL"); fi
  read -r load1 _ </proc/loadavg
  NONCE=$((NONCE + 1))
  BENCH_NONCE=$NONCE timeout -k 5 120 wrk -t"$t" -c"$conc" -d"$d" --latency -s "$lua" "$url" >>"$raw" 2>&1
  line=$(grep '^BENCHRESULT ' "$raw" | tail -1)
  if [[ -z $line ]]; then log "$id c$conc #$rep: no result (see $raw)"; return; fi
  record_result "$id" "$conc" "$rep" "$load1" "$line"
  req=$(sed -E 's/.*requests=([0-9]+).*/\1/' <<<"$line")
  non=$(sed -E 's/.* non2xx=([0-9]+).*/\1/' <<<"$line")
  [[ $id == X1 || $id == X1n ]] && PH_SERVED=$((PH_SERVED + req))
  local extra=""
  if [[ -n $COUNT_SPOOL ]]; then
    drain_spool "$COUNT_SPOOL"
    read -r s1 r1 < <(spool_counts "$COUNT_SPOOL"); d1=$(spool_done "$COUNT_SPOOL")
    printf '{"kind":"count","target":"%s","conc":%d,"rep":%d,"answered":%d,"stored":%d,"results":%d,"done":%d,"drain_s":%d,"capped":%d}\n' \
      "$id" "$conc" "$rep" $((req - non)) $((s1 - s0)) $((r1 - r0)) $((d1 - d0)) "$DRAINED" $((DRAINED >= DRAIN_MAX)) >>"$JSONL"
    extra=", $((req - non)) answered 200, $((s1 - s0)) stored, $((d1 - d0)) handlers done (drain ${DRAINED}s)"
  fi
  log "$id c$conc #$rep: $(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$line") req/s$( ((non)) && echo ", $non non-2xx")$extra"
}

# measure ID URL LUA GROUP...: preflight, warm-up, REPS x (c16 with RSS sampling, c1)
COUNT_SPOOL=
BEFORE_RUN=
measure() {
  local id=$1 url=$2 lua=$3; shift 3
  local code rep sampler
  code=$(code_of "$url")
  if [[ $code != 200 ]]; then
    skip "$id" "preflight answered HTTP $code: $(head -c 120 "$RUN/last-answer" | tr -d '\r\n"\\')"
    return
  fi
  meta "$id" ok
  BENCH_NONCE=$((NONCE++)) timeout -k 5 60 wrk -t2 -c16 -d"$(secs "$WARM")s" -s "$lua" "$url" >"$RAW/$id.warmup.txt" 2>&1
  [[ $id == X1 || $id == X1n ]] &&
    PH_SERVED=$((PH_SERVED + $(sed -nE 's/^BENCHRESULT requests=([0-9]+).*/\1/p' "$RAW/$id.warmup.txt" | tail -1) + 0))
  [[ -n $COUNT_SPOOL ]] && drain_spool "$COUNT_SPOOL"
  for rep in $(seq "$REPS"); do
    rep=$(run_number "$rep")
    [[ -n $BEFORE_RUN ]] && $BEFORE_RUN
    $PY "$CMP/pb.py" rss --dur "$(secs "$DUR")" --interval 0.5 --out "$RAW/$id.rss.$rep.json" "$@" &
    sampler=$!
    run_wrk "$id" 16 "$rep" "$url" "$lua"
    wait "$sampler"
    printf '{"kind":"rss","target":"%s",%s\n' "$id" "$(cut -c2- "$RAW/$id.rss.$rep.json")" >>"$JSONL"
    [[ -n $BEFORE_RUN ]] && $BEFORE_RUN
    run_wrk "$id" 1 "$rep" "$url" "$lua"
  done
}

# paired_check ROW FLOOR ROW_URL FLOOR_URL CONC...: PAIRS x (floor, then row) wrk runs of
# PAIR_DUR at each concurrency, one JSON line per pair (see PAIRED CHECKS).
paired_check() {
  local row=$1 floor=$2 row_url=$3 floor_url=$4 conc i a b; shift 4
  for conc in "$@"; do
    for i in $(seq "$PAIRS"); do
      a=$(pair_rps "$floor" "$floor_url" "$conc" "$i")
      b=$(pair_rps "$row" "$row_url" "$conc" "$i")
      [[ -n $a && -n $b ]] || { log "pair $row/$floor c$conc #$i: no result"; continue; }
      printf '{"kind":"pair","target":"%s","floor":"%s","conc":%d,"pair":%d,"floor_rps":%s,"row_rps":%s}\n' \
        "$row" "$floor" "$conc" "$i" "$a" "$b" >>"$JSONL"
    done
    log "paired $row ÷ $floor c$conc: $PAIRS pairs of $(secs "$PAIR_DUR") s recorded"
  done
}
pair_rps() {  # pair_rps ID URL CONC N -> requests/s of one short wrk run of the fixed POST
  local raw=$RAW/$1.pair.c$3.$4.txt t=1
  ((${3} > 1)) && t=2
  timeout -k 5 60 wrk -t"$t" -c"$3" -d"$(secs "$PAIR_DUR")s" -s "$POST" "$2" >"$raw" 2>&1
  sed -nE 's/^BENCHRESULT .* rps=([0-9.]+) .* non2xx=0 .*/\1/p' "$raw" | tail -1
}
paired_x1() {  # X1 ÷ F1, with the C responder started again beside pixelhook's
  want F1 && [[ -n $PH_PID && -x $RUN/bin/fcgi_floor ]] && running "$PH_PID" || return 0
  spawn_fcgi f1 "$RUN/sock/f1.sock" 2 "$RUN/bin/fcgi_floor" || { stop "$LASTPID"; return 0; }
  local pid=$LASTPID
  paired_check X1 F1 "$NURL/x1" "$NURL/f1" 16 1
  stop "$pid"
}
paired_x3() {  # X3 ÷ C3: lighttpd serves both
  want C3 && [[ -n $LT_PID && -x $RUN/cgi-bin/cgi_floor ]] || return 0
  paired_check X3 C3 "$LURL/pixelhook" "$LURL/cgi_floor" 1 16
}

# ---------------------------------------------------------------- servers
NGINX_PID= FCGIWRAP_PID= PHP_PID= PH_PID= LT_PID= WEBHOOK_PID=
NURL=http://127.0.0.1:$NPORT
LURL=http://127.0.0.1:$LPORT

nginx_up() {
  [[ -n $NGINX_PID ]] && return 0
  have nginx || return 1
  start nginx nginx -e "$RUN/log/nginx-error.log" -p "$RUN/nginx/" -c "$RUN/conf/nginx.conf"
  NGINX_PID=$LASTPID
  wait_http "$NURL/l0"
}
spawn_fcgi() {  # spawn_fcgi NAME SOCK CHILDREN CMD...: spawn-fcgi -n in the foreground -> LASTPID
  local name=$1 sock=$2 n=$3; shift 3
  rm -f "$sock"
  start "$name" spawn-fcgi -n -s "$sock" -M 0600 -F "$n" -- "$@"
  wait_sock "$sock"
}
fcgiwrap_up() {
  [[ -n $FCGIWRAP_PID ]] && return 0
  have fcgiwrap || return 1
  start fcgiwrap fcgiwrap -c "$FCGIWRAP_CHILDREN" -s "unix:$RUN/sock/fcgiwrap.sock"
  FCGIWRAP_PID=$LASTPID
  wait_sock "$RUN/sock/fcgiwrap.sock"
}
lighttpd_up() {
  [[ -n $LT_PID ]] && return 0
  have lighttpd || return 1
  start lighttpd lighttpd -D -f "$RUN/conf/lighttpd.conf"
  LT_PID=$LASTPID
  wait_http "$LURL/cgi_floor"
}
pixelhook_up() {
  [[ -n $PH_PID ]] && return 0
  [[ -n $PH ]] || return 1
  start pixelhook "$PH" fastcgi --listen "$RUN/sock/pixelhook.sock" --socket-mode 0600 ${PH_WORKERS:+--workers "$PH_WORKERS"}
  PH_PID=$LASTPID
  wait_sock "$RUN/sock/pixelhook.sock"
}

# ---------------------------------------------------------------- targets
t_L0() {
  nginx_up || { skip L0 "nginx missing or did not start"; return; }
  measure L0 "$NURL/l0" "$POST" front=tree:$NGINX_PID
}
t_F1() {
  [[ -x $RUN/bin/fcgi_floor ]] && have spawn-fcgi || { skip F1 "libfcgi-dev or spawn-fcgi missing"; return; }
  nginx_up || { skip F1 "nginx did not start"; return; }
  spawn_fcgi f1 "$RUN/sock/f1.sock" 2 "$RUN/bin/fcgi_floor" || { skip F1 "spawn-fcgi failed"; stop "$LASTPID"; return; }
  local pid=$LASTPID
  measure F1 "$NURL/f1" "$POST" front=tree:$NGINX_PID backend=tree:$pid
  stop "$pid"
}
t_F1n() {
  [[ -x $RUN/bin/fcgi_store ]] && have spawn-fcgi || { skip F1n "libfcgi-dev or spawn-fcgi missing"; return; }
  nginx_up || { skip F1n "nginx did not start"; return; }
  mkdir -p "$RUN/spool/f1n"
  spawn_fcgi f1n "$RUN/sock/f1n.sock" 2 "$RUN/bin/fcgi_store" "$RUN/spool/f1n" "$TRUE" ||
    { skip F1n "spawn-fcgi failed"; stop "$LASTPID"; return; }
  local pid=$LASTPID
  measure F1n "$NURL/f1n" "$UNIQ" front=tree:$NGINX_PID backend=tree:$pid
  stop "$pid"
}
t_F1s() {
  [[ -x $RUN/bin/fcgi_store ]] && have spawn-fcgi || { skip F1s "libfcgi-dev or spawn-fcgi missing"; return; }
  nginx_up || { skip F1s "nginx did not start"; return; }
  mkdir -p "$RUN/spool/f1s"
  spawn_fcgi f1s "$RUN/sock/f1s.sock" "$F1S_PROCS" "$RUN/bin/fcgi_store" "$RUN/spool/f1s" - ||
    { skip F1s "spawn-fcgi failed"; stop "$LASTPID"; return; }
  local pid=$LASTPID
  measure F1s "$NURL/f1s" "$UNIQ" front=tree:$NGINX_PID backend=tree:$pid
  stop "$pid"
}
# run_ceiling THREADS REP: one bounded durable_ceiling run -> one JSON line, as run_wrk does
run_ceiling() {
  local threads=$1 rep=$2 d raw line load1 conc
  if ((threads == 1)); then conc=1; d=$(secs "$DUR1"); else conc=16; d=$(secs "$DUR"); fi
  raw=$RAW/D0.c$conc.$rep.txt
  # A new directory each run, removed only with the other spools at the end: on ext4 a mass
  # removal makes new inodes slow to allocate for minutes after (recently_deleted), which would
  # tax the rows after this one.
  mkdir -p "$RUN/spool/d0.c$conc.$rep"
  read -r load1 _ </proc/loadavg
  timeout -k 5 120 "$RUN/bin/durable_ceiling" "$RUN/spool/d0.c$conc.$rep" "$threads" "$d" "$BENCH/body.json" >"$raw" 2>&1
  line=$(grep '^BENCHRESULT ' "$raw" | tail -1)
  if [[ -z $line ]]; then log "D0 c$conc #$rep: no result (see $raw)"; return; fi
  record_result D0 "$conc" "$rep" "$load1" "$line"
  log "D0 $threads thread(s) #$rep: $(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$line") durable stores/s"
}
t_D0() {
  [[ -x $RUN/bin/durable_ceiling ]] || { skip D0 "cc durable_ceiling.c failed"; return; }
  meta D0 ok
  local rep
  for rep in $(seq "$REPS"); do
    rep=$(run_number "$rep")
    run_ceiling 16 "$rep"
    run_ceiling 1 "$rep"
  done
}
t_C2() {
  [[ -x $RUN/cgi-bin/cgi_floor ]] || { skip C2 "cc failed"; return; }
  nginx_up || { skip C2 "nginx did not start"; return; }
  fcgiwrap_up || { skip C2 "fcgiwrap missing or did not start"; return; }
  measure C2 "$NURL/c2" "$POST" front=tree:$NGINX_PID backend=tree:$FCGIWRAP_PID
}
t_C3() {
  [[ -x $RUN/cgi-bin/cgi_floor ]] || { skip C3 "cc failed"; return; }
  lighttpd_up || { skip C3 "lighttpd missing or did not start"; return; }
  measure C3 "$LURL/cgi_floor" "$POST" front=proc:$LT_PID backend=children:$LT_PID
}
t_X1() {
  [[ -n $PH ]] || { skip X1 "no pixelhook build"; return; }
  nginx_up || { skip X1 "nginx did not start"; return; }
  pixelhook_up || { skip X1 "pixelhook fastcgi did not start"; return; }
  [[ -n ${PH_RSS0:-} ]] || PH_RSS0=$(awk '/^VmRSS/{print $2}' "/proc/$PH_PID/status")
  measure X1 "$NURL/x1" "$POST" front=tree:$NGINX_PID backend=tree:$PH_PID
}
t_X1n() {
  [[ -n $PH ]] || { skip X1n "no pixelhook build"; return; }
  nginx_up || { skip X1n "nginx did not start"; return; }
  pixelhook_up || { skip X1n "pixelhook fastcgi did not start"; return; }
  [[ -n ${PH_RSS0:-} ]] || PH_RSS0=$(awk '/^VmRSS/{print $2}' "/proc/$PH_PID/status")
  COUNT_SPOOL=$RUN/spool/x1n
  measure X1n "$NURL/x1n" "$UNIQ" front=tree:$NGINX_PID backend=tree:$PH_PID
  COUNT_SPOOL=
}
# responder_rss: VmRSS of the FastCGI responder once it has served >= RSS_REQUESTS requests
# (the X1/X1n runs count; the rest is a top-up on the duplicate path).
responder_rss() {
  [[ -n $PH_PID ]] && running "$PH_PID" || return 0
  local line n i=0
  while ((PH_SERVED < RSS_REQUESTS && i < 40)); do
    i=$((i + 1))
    timeout -k 5 60 wrk -t2 -c16 -d5s -s "$POST" "$NURL/x1" >"$RAW/rss-topup.$i.txt" 2>&1
    n=$(sed -nE 's/^BENCHRESULT requests=([0-9]+).*/\1/p' "$RAW/rss-topup.$i.txt" | tail -1)
    PH_SERVED=$((PH_SERVED + ${n:-0}))
  done
  local rss hwm
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$PH_PID/status")
  hwm=$(awk '/^VmHWM/{print $2}' "/proc/$PH_PID/status")
  printf '{"kind":"responder_rss","requests":%d,"before_kib":%d,"after_kib":%d,"hwm_kib":%d}\n' \
    "$PH_SERVED" "${PH_RSS0:-0}" "$rss" "$hwm" >>"$JSONL"
  log "pixelhook responder: $rss KiB RSS after $PH_SERVED requests (first: ${PH_RSS0:-?} KiB, VmHWM $hwm KiB)"
}
t_X2_any() {  # t_X2_any ID LOCATION LUA
  [[ -n $PH ]] || { skip "$1" "no pixelhook build"; return; }
  nginx_up || { skip "$1" "nginx did not start"; return; }
  fcgiwrap_up || { skip "$1" "fcgiwrap missing or did not start"; return; }
  measure "$1" "$NURL/$2" "$3" front=tree:$NGINX_PID backend=tree:$FCGIWRAP_PID
}
t_X2() { t_X2_any X2 x2 "$POST"; }
t_X2n() { COUNT_SPOOL=$RUN/spool/x2n; t_X2_any X2n x2n "$UNIQ"; COUNT_SPOOL=; }
t_X3_any() {  # t_X3_any ID PATH LUA
  [[ -n $PH ]] || { skip "$1" "no pixelhook build"; return; }
  lighttpd_up || { skip "$1" "lighttpd missing or did not start"; return; }
  measure "$1" "$LURL/$2" "$3" front=proc:$LT_PID backend=children:$LT_PID
}
t_X3() { t_X3_any X3 pixelhook "$POST"; }
t_X3n() { COUNT_SPOOL=$RUN/spool/x3n; t_X3_any X3n new/pixelhook "$UNIQ"; COUNT_SPOOL=; }

# cgi_rss: peak RSS of one pixelhook CGI process (dup and new-delivery path) and of the C floor,
# started directly with a CGI environment; median of CGI_RSS_RUNS runs each.
cgi_rss() {
  [[ -x /usr/bin/time ]] || { log "no /usr/bin/time: CGI peak RSS not measured"; return 0; }
  local envs name bin i kib spool=$RUN/spool/cgi-rss
  envs=(PATH=/usr/bin:/bin GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=POST
    CONTENT_TYPE=application/json CONTENT_LENGTH=$(stat -c %s "$BODY") REMOTE_ADDR=127.0.0.1
    SCRIPT_NAME=/hooks/streampixel QUERY_STRING= PIXELHOOK_SPOOL=$spool
    PIXELHOOK_HANDLERS=$RUN/handlers PIXELHOOK_PROJECT_IDS=$PROJECT)
  one() {  # one BIN INPUT -> KiB
    env -i "${envs[@]}" /usr/bin/time -f %M -o "$RUN/time.out" "$1" <"$2" >/dev/null 2>&1
    tail -1 "$RUN/time.out"
  }
  median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }
  if [[ -x $RUN/cgi-bin/cgi_floor ]]; then
    kib=$(for i in $(seq "$CGI_RSS_RUNS"); do one "$RUN/cgi-bin/cgi_floor" "$BODY"; done | median)
    printf '{"kind":"cgi_rss","name":"C floor","kib":%d}\n' "$kib" >>"$JSONL"
  fi
  [[ -n $PH ]] || return 0
  one "$PH" "$BODY" >/dev/null   # stores the body: from now on the duplicate path
  kib=$(for i in $(seq "$CGI_RSS_RUNS"); do one "$PH" "$BODY"; done | median)
  printf '{"kind":"cgi_rss","name":"pixelhook dup","kib":%d}\n' "$kib" >>"$JSONL"
  kib=$(for i in $(seq "$CGI_RSS_RUNS"); do
    sed "s/\"uploadId\":\"[^\"]*\"/\"uploadId\":\"$(printf '%08x%08x%08x' $$ "$RANDOM" "$i")\"/" "$BODY" >"$RUN/new-body.json"
    one "$PH" "$RUN/new-body.json"; done | median)
  printf '{"kind":"cgi_rss","name":"pixelhook new","kib":%d}\n' "$kib" >>"$JSONL"
  log "CGI peak RSS (KiB): $(grep '"cgi_rss"' "$JSONL" | sed -E 's/.*"name":"([^"]*)","kib":([0-9]+).*/\1 \2/' | paste -sd, -)"
}

# adnanh/webhook answers first and starts its command later, so a run leaves a backlog behind:
# each run gets a fresh webhook (what was still queued is dropped); p1_check follows one burst
# to its end in webhook's own -verbose log.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
webhook_restart() {  # a fresh webhook; the old one may hold its port a moment after it is gone
  local try i
  for try in 1 2 3; do
    [[ -n $WEBHOOK_PID ]] && stop "$WEBHOOK_PID"
    WEBHOOK_PID=
    for i in $(seq 50); do port_free "$WPORT" && break; sleep 0.1; done
    start webhook webhook -hooks "$RUN/conf/hooks.json" -ip 127.0.0.1 -port "$WPORT"
    WEBHOOK_PID=$LASTPID
    echo "$WEBHOOK_PID" >"$RUN/webhook.pid"
    wait_http "http://127.0.0.1:$WPORT/hooks/streampixel" && return 0
    log "webhook did not answer (try $try): $(tail -1 "$RUN/log/webhook.log")"
  done
  return 1
}
t_P1() {
  have webhook || { skip P1 "webhook not installable"; return; }
  webhook_restart || { skip P1 "webhook did not answer"; stop "$WEBHOOK_PID"; WEBHOOK_PID=; return; }
  BEFORE_RUN=webhook_restart
  measure P1 "http://127.0.0.1:$WPORT/hooks/streampixel" "$POST" backend=tree:@"$RUN/webhook.pid"
  BEFORE_RUN=
  stop "$WEBHOOK_PID"; WEBHOOK_PID=
  ((ROUND == ROUNDS)) && p1_check
}
p1_check() {
  local pid acked fin=0 err i prev=-1 w0 vlog=$RUN/log/webhook-verbose.log
  for i in $(seq 50); do port_free "$WPORT" && break; sleep 0.1; done
  start webhook-verbose webhook -hooks "$RUN/conf/hooks.json" -ip 127.0.0.1 -port "$WPORT" -verbose
  pid=$LASTPID
  wait_http "http://127.0.0.1:$WPORT/hooks/streampixel" || { stop "$pid"; return 0; }
  timeout -k 5 60 wrk -t2 -c16 -d"$(secs "$P1_BURST")s" -s "$POST" "http://127.0.0.1:$WPORT/hooks/streampixel" \
    >"$RAW/P1.check.txt" 2>&1
  w0=$SECONDS
  for i in $(seq 60); do
    fin=$(grep -c 'finished handling' "$vlog")
    [[ $fin == "$prev" ]] && break
    prev=$fin
    sleep 0.5
  done
  acked=$(grep -c '\] 200 |' "$vlog")
  err=$(grep -c 'error occurred' "$vlog")
  printf '{"kind":"p1check","burst":"%s","acked":%d,"finished":%d,"failed":%d,"wait_s":%d,"first_error":"%s"}\n' \
    "$(secs "$P1_BURST")s" "$acked" "$fin" "$err" $((SECONDS - w0)) \
    "$(grep -m1 -o 'error occurred: .*' "$vlog" | tr -d '"\\' | cut -c1-80)" >>"$JSONL"
  log "P1 check: $acked answered 200, $fin handler runs finished, $err of them failed"
  stop "$pid"
}

t_P2_any() {  # t_P2_any ID dev|gunicorn ROUTE
  local id=$1 port pid
  $PY -c 'import flask' 2>/dev/null || { skip "$id" "flask not installable"; return; }
  if [[ $2 == dev ]]; then
    port=$FPORT
    start "$id" env PORT=$port "$PY" "$PEERS/flask_app.py"
  else
    $PY -c 'import gunicorn' 2>/dev/null || { skip "$id" "gunicorn not installable"; return; }
    port=$GPORT
    start "$id" "$PY" -m gunicorn -w 2 -b "127.0.0.1:$port" --chdir "$PEERS" flask_app:app
  fi
  pid=$LASTPID
  wait_http "http://127.0.0.1:$port/$3" || { skip "$id" "server did not answer"; stop "$pid"; return; }
  measure "$id" "http://127.0.0.1:$port/$3" "$POST" backend=tree:$pid
  stop "$pid"
}
t_P2() { t_P2_any P2 dev webhooks/streampixel; }
t_P2g() { t_P2_any P2g gunicorn webhooks/streampixel; }
t_P2x() { t_P2_any P2x dev webhooks/streampixel-exec; }
t_P2gx() { t_P2_any P2gx gunicorn webhooks/streampixel-exec; }

php_up() {
  [[ -n $PHP_PID ]] && return 0
  [[ -n $PHPFPM ]] || return 1
  start php-fpm "$PHPFPM" -F -R -y "$RUN/conf/php-fpm.conf"
  PHP_PID=$LASTPID
  wait_sock "$RUN/sock/php-fpm.sock"
}
t_P4_any() {
  php_up || { skip "$1" "php-fpm not installable or did not start"; return; }
  nginx_up || { skip "$1" "nginx did not start"; return; }
  wait_http "$NURL/$2" || true
  measure "$1" "$NURL/$2" "$POST" front=tree:$NGINX_PID backend=tree:$PHP_PID
}
t_P4() { t_P4_any P4 p4; }
t_P4x() { t_P4_any P4x p4x; }

# ---------------------------------------------------------------- main
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) (+ working tree)"
  echo "host: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
  echo "load before: $LOAD_BEFORE"
  echo "spools: $(if ((SPOOL_MOUNTED)); then echo "a new ext4 with a journal (SPOOL_FS=ext4, loop image)"; else
    echo "the run dir's filesystem: $(findmnt -no FSTYPE,SOURCE -T "$RUN" 2>/dev/null | tr -s ' ')"; fi)"
  echo "versions: $(nginx -v 2>&1 | sed 's/.*: //'), $(lighttpd -v 2>&1 | head -1 | cut -d' ' -f1)," \
    "libfcgi $(dpkg-query -W -f='${Version}' libfcgi-dev 2>/dev/null), fcgiwrap $(dpkg-query -W -f='${Version}' fcgiwrap 2>/dev/null)," \
    "webhook $(have webhook && webhook -version 2>&1 | awk '{print $3}'), $([[ -n $PHPFPM ]] && $PHPFPM -v 2>/dev/null | head -1 | cut -d' ' -f1-2)," \
    "python $($PY -V 2>&1 | cut -d' ' -f2), flask $($PY -c 'import importlib.metadata as m; print(m.version("flask"))' 2>/dev/null)," \
    "gunicorn $($PY -c 'import gunicorn; print(gunicorn.__version__)' 2>/dev/null), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "knobs: ROUNDS=$ROUNDS REPS=$REPS DUR=$DUR DUR1=$DUR1 WARM=$WARM$([[ $QUICK == 1 ]] && echo ' (--quick)') RSS_REQUESTS=$RSS_REQUESTS" \
    "FCGIWRAP_CHILDREN=$FCGIWRAP_CHILDREN F1S_PROCS=$F1S_PROCS PAIRS=$PAIRS PAIR_DUR=$PAIR_DUR NGINX_WORKERS=$NGINX_WORKERS PH_HANDLER=$PH_HANDLER; pixelhook workers: ${PH_WORKERS:-default}"
} >"$OUT/env.txt"
cat "$OUT/env.txt" >&2

for ROUND in $(seq "$ROUNDS"); do
  ((ROUNDS > 1)) && log "==== round $ROUND of $ROUNDS"
  for t in "${TARGETS[@]}"; do
    log "== $t: ${LABEL[$t]}"
    "t_$t"
    ((ROUND == ROUNDS)) || continue  # the one-off measurements: once, in the last round
    case $t in
      X1n) responder_rss ;;
      X1) want X1n || responder_rss; paired_x1 ;;
      X3n) cgi_rss ;;
      X3) want X3n || cgi_rss; paired_x3 ;;
    esac
  done
done
cleanup
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg); wall: $((SECONDS - T0)) s" >>"$OUT/env.txt"

$PY "$CMP/pb.py" table "$JSONL" >"$OUT/table.md"
echo
echo '```'
cat "$OUT/env.txt"
echo '```'
echo
cat "$OUT/table.md"
echo
echo "raw wrk output: $RAW/   results: $JSONL   logs: $RUN/log/"
