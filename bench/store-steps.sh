#!/usr/bin/env bash
# bench/store-steps.sh: what each step of storing a new delivery costs, and how many journal
# commits a store takes, for pixelhook's order (name, then sync) next to D0's one-file store (the
# baseline) and next to pixelhook's former order (sync, then name), in one run.
#
#   bash bench/store-steps.sh              # root: a new journalled ext4 loop image; ~15 s
#   STEPS_DIR=/var/spool/x bash bench/store-steps.sh   # on that directory's filesystem instead
#
# WHAT IT RUNS: bench/src/store_steps.c, one thread, STORES stores one after another, in a new
# directory per run; ROUNDS rounds, the three orders interleaved in each; the median of each
# step's mean over the rounds. On a loop device with a journal it also reads
# /proc/fs/jbd2/DEV/info before and after each run: journal commits per store, a count that does
# not depend on the machine's load (other writers to the same filesystem would add to it, which is
# why the default is a filesystem of its own).
#
# KNOBS: STORES=300 ROUNDS=3 STEPS_DIR (default: new ext4 loop image, root only) KEEP=1
set -uo pipefail
case ${1:-} in
  -h | --help) sed -n '2,/^set -uo/p' "${BASH_SOURCE[0]}" | sed '$d'; exit 0 ;;
  "") ;;
  *) echo "unknown argument: $1 (--help)" >&2; exit 2 ;;
esac
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STORES=${STORES:-300}
ROUNDS=${ROUNDS:-3}
ORDERS=(flat sync-first pixelhook)
command -v cc >/dev/null || { echo "cc is required" >&2; exit 1; }

RUN=$(mktemp -d /tmp/pixelhook-store-steps.XXXXXX) || exit 1
MOUNTED=0
JOURNAL=
cleanup() {
  if ((MOUNTED)) && [[ ${KEEP:-0} != 1 ]]; then umount "$RUN/fs" || umount -l "$RUN/fs"; fi
  [[ ${KEEP:-0} == 1 ]] || rm -rf "$RUN"
}
trap cleanup EXIT
cc -O2 -o "$RUN/store_steps" "$BENCH/src/store_steps.c" || exit 1

if [[ -n ${STEPS_DIR:-} ]]; then
  DIR=$STEPS_DIR/pixelhook-store-steps.$$
  mkdir -p "$DIR" || exit 1
  FS="$(df -T "$DIR" | awk 'NR==2{print $2" "$1}') (STEPS_DIR)"
else
  mkdir -p "$RUN/fs"
  if truncate -s 1G "$RUN/fs.img" && mkfs.ext4 -q -F "$RUN/fs.img" && mount -o loop "$RUN/fs.img" "$RUN/fs"; then
    MOUNTED=1
    DIR=$RUN/fs
    dev=$(basename "$(findmnt -n -o SOURCE "$RUN/fs")")
    JOURNAL=$(ls -d /proc/fs/jbd2/"$dev"-* 2>/dev/null | head -1)
    FS="a new ext4 with a journal (loop image, $dev)"
  else
    echo "could not make or mount a loop image (root is needed); set STEPS_DIR to measure an existing filesystem" >&2
    exit 1
  fi
fi
commits() { [[ -n $JOURNAL ]] && awk 'NR==1{print $1}' "$JOURNAL/info" || echo 0; }

# results: ORDER STEP MEAN_US lines, one per run; commits: ORDER COUNT_PER_STORE
: >"$RUN/steps.tsv"
for round in $(seq "$ROUNDS"); do
  for order in "${ORDERS[@]}"; do
    sync
    before=$(commits)
    "$RUN/store_steps" "$DIR/$order.$round" "$STORES" "$order" >"$RUN/out.txt" || { echo "store_steps $order failed" >&2; exit 1; }
    after=$(commits)
    awk -F'\t' -v o="$order" '$1 == "STEP" {print o "\t" $2 "\t" $3}' "$RUN/out.txt" >>"$RUN/steps.tsv"
    [[ -n $JOURNAL ]] && printf '%s\tjournal commits per store\t%s\n' "$order" \
      "$(awk -v a="$before" -v b="$after" -v n="$STORES" 'BEGIN{printf "%.2f", (b - a) / n}')" >>"$RUN/steps.tsv"
    echo "round $round: $order $(awk -F'\t' '$2 == "total" {printf "%.0f stores/s", 1e6 / $3}' "$RUN/out.txt")" >&2
  done
done

echo
echo "store steps, $(date -u +%FT%TZ), $(nproc) cores, $FS; $STORES stores per run, one thread;"
echo "medians of $ROUNDS rounds; µs per store (mean of the run), journal commits per store"
echo
python3 - "$RUN/steps.tsv" "${ORDERS[@]}" <<'EOF'
import statistics, sys
path, orders = sys.argv[1], sys.argv[2:]
values, steps = {}, []
for line in open(path):
    order, step, value = line.rstrip('\n').split('\t')
    if step not in steps:
        steps.append(step)
    values.setdefault((order, step), []).append(float(value))
for last in ('total', 'journal commits per store'):
    if last in steps:
        steps.remove(last)
        steps.append(last)
print('| step | ' + ' | '.join(orders) + ' |')
print('|---|' + '---:|' * len(orders))
for step in steps:
    cells = []
    for order in orders:
        v = values.get((order, step))
        cells.append('—' if not v else (f'{statistics.median(v):.2f}' if 'commits' in step
                                         else f'{statistics.median(v):,.0f}'))
    print(f'| {step} | ' + ' | '.join(cells) + ' |')
totals = {o: statistics.median(values[(o, 'total')]) for o in orders if (o, 'total') in values}
print('| stores/s | ' + ' | '.join(f'{1e6 / totals[o]:,.0f}' if o in totals else '—' for o in orders) + ' |')
if 'flat' in totals:
    print('| ÷ flat (time per store) | ' + ' | '.join(f'{totals[o] / totals["flat"]:.2f}' if o in totals else '—'
                                                   for o in orders) + ' |')
EOF
