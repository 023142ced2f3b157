-- wrk script for bench/bench.py: POST the same Streampixel body on every request.
--   wrk -t1 -c1 -d5s --latency -s bench/lua/post.lua http://127.0.0.1:PORT/path
-- The body is read from $BENCH_BODY, else from ../body.json beside this script. Only
-- wrk.method/body/headers are set, so wrk builds the request once (no Lua per request).
-- Against pixelhook this is the duplicate path: after the first request, every request
-- carries an already stored projectId + uploadId + event.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local path = os.getenv("BENCH_BODY") or (here .. "../body.json")
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

-- One machine-readable line after wrk's report (times in microseconds). non2xx counts
-- responses with status >= 400; errors counts socket errors (connect/read/write/timeout).
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHRESULT requests=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d non2xx=%d errors=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect + e.read + e.write + e.timeout))
end
