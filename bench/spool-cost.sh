#!/bin/sh
# Times what grows with the spool (issue #12, items 11 and 13), on a spool that
# bench/big-spool.py writes directly, with the binary given (default: the release build).
#   bench/spool-cost.sh drain N      one build of N test deliveries, drained by one runner
#   bench/spool-cost.sh builds N     N finished builds: the first retry (after a boot it reads
#                                    every build once), then retry --dry-run, retry, builds --limit 1
# Prints each timing (seconds, median of 3 for the commands): wall clock and CPU (user + system,
# children included), which a loaded machine disturbs less.
set -eu
mode=$1 count=$2
bin=${PIXELHOOK_BIN:-$(dirname "$0")/../.build/release/pixelhook}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/handlers"
printf '#!/bin/sh\nexit 0\n' > "$work/handlers/default"
chmod +x "$work/handlers/default"
export PIXELHOOK_SPOOL="$work/spool" PIXELHOOK_HANDLERS="$work/handlers" PIXELHOOK_PROJECT_IDS=p1
seconds() {
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" > /dev/null
    awk '{ printf "%.2f/%.2f\n", $1, $2 + $3 }' "$work/time"
}
median() { sort -t/ -k2 -n | sed -n 2p; }  # by CPU time
case $mode in
drain)
    python3 "$(dirname "$0")/big-spool.py" one-build "$work/spool" "$count"
    echo "drain of $count deliveries: $(seconds "$bin" run-queue) s (wall/CPU)"
    ;;
builds)
    python3 "$(dirname "$0")/big-spool.py" builds "$work/spool" "$count"
    echo "first retry on $count builds: $(seconds "$bin" retry) s (wall/CPU)"
    for command in "retry --dry-run" "retry" "builds --limit 1"; do
        # shellcheck disable=SC2086
        times=$(for _ in 1 2 3; do seconds "$bin" $command; done | tr '\n' ' ')
        echo "$command on $count builds: median $(echo "$times" | tr ' ' '\n' | grep . | median) s (wall/CPU; runs: $times)"
    done
    ;;
*) echo "usage: $0 drain|builds N" >&2; exit 64 ;;
esac
