#!/usr/bin/env bash
# The README's first command: install what pixelhook's build, tests and benchmarks need,
# build it, and run the main job on an embedded default: the sender's example events (from
# Streampixel's docs, in examples/events/) through `pixelhook handle` with the example handlers;
# then the release artifacts (scripts/package.sh: dist/*.tar.gz and dist/*.deb).
#
# Idempotent; needs root (or sudo) only for apt-get, and only when a package is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(nginx lighttpd fcgiwrap spawn-fcgi apache2 apache2-suexec-custom libfcgi-dev libssl-dev curl wrk hyperfine prometheus
          chromium fonts-dejavu-core  # chromium: the status page test (headless, --dump-dom, --screenshot)
          postgresql libpq-dev)       # cluster mode: the pixelhook-cluster helper and ClusterTests' throwaway server
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "== installing ${missing[*]}"
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # The metrics tests start their own Prometheus (and promtool) on a free port: the
    # package's service would only hold 9090 and scrape nothing.
    if [[ " ${missing[*]} " == *" prometheus "* && -d /run/systemd/system ]]; then
        $sudo systemctl disable --now prometheus.service >/dev/null 2>&1 || true
    fi
fi

echo "== building"
swift build --product pixelhook 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
binary="$(swift build --show-bin-path)/pixelhook"
[[ -x $binary ]] || { echo "build failed: no $binary" >&2; exit 1; }

echo "== demo: the seeds' example events through 'pixelhook handle'"
demo=$(mktemp -d /tmp/pixelhook-demo.XXXXXX)
cp -R examples/handlers "$demo/handlers"
sed -i "s|^ACTIVITY_LOG=.*|ACTIVITY_LOG=$demo/activity.log|" "$demo/handlers/handlers.env"
export PIXELHOOK_SPOOL="$demo/spool" PIXELHOOK_HANDLERS="$demo/handlers"
export PIXELHOOK_PROJECT_IDS=664f1a2b3c4d5e6f7a8b9c0d

failures=0
run() { # run EXPECTED_STATUS FILE
    local expected=$1 file=$2 status=0
    echo "-- $file"
    "$binary" handle < "$file" || status=$?
    if [[ $status -ne $expected ]]; then
        echo "   exit $status, expected $expected" >&2
        failures=$((failures + 1))
    fi
}
run 0 examples/events/webhook.test.json
run 0 examples/events/build.uploaded.json
run 0 examples/events/build.approved.json
run 0 examples/events/build.approved.json    # sent twice: a duplicate, no second handler run
run 0 examples/events/build.rejected.json
echo '{"event":"build.approved","projectId":"664f1a2b3c4d5e6f7a8b9c0d"}' > "$demo/bad.json"
run 65 "$demo/bad.json"                      # invalid: missing fields

echo "== activity log ($demo/activity.log)"
cat "$demo/activity.log"
lines=$(wc -l < "$demo/activity.log")
if [[ $lines -ne 4 ]]; then
    echo "expected 4 handler runs in the activity log, found $lines" >&2
    failures=$((failures + 1))
fi
echo "== request log ($PIXELHOOK_SPOOL/requests.log)"
cat "$PIXELHOOK_SPOOL/requests.log"

if ((failures)); then
    echo "demo: $failures unexpected outcome(s); state left in $demo" >&2
    exit 1
fi
rm -rf "$demo"
echo "== demo passed; binary: $binary"

# The release artifacts (static tarball, .deb) from the same sources: what users install, and
# what the package tests install (they rebuild them only when dist/ is older than the sources).
echo "== release artifacts (scripts/package.sh)"
bash scripts/package.sh
