-- wrk script for bench/bench.py: like post.lua, but every request carries a new uploadId
-- (24 hex digits: run nonce, thread, counter), so pixelhook takes its new-delivery path
-- every time: validate, store the body durably, answer, start the detached handler runner.
-- Costs one Lua call per request in wrk, negligible at CGI rates.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "post.lua")

local head, tail = wrk.body:match('^(.*"uploadId":")[^"]*(".*)$')
assert(head, "body has no uploadId string")

local counter = 0
local nthreads = 0
-- $BENCH_NONCE (bench.py passes a new one per run) keeps ids unique across runs; os.time()
-- alone repeats when two runs start within the same second.
local run_nonce = (tonumber(os.getenv("BENCH_NONCE") or "") or os.time()) % 0x100000000

function setup(thread)            -- main Lua state, once per thread
  thread:set("tid", nthreads)
  thread:set("nonce", run_nonce)
  nthreads = nthreads + 1
end

function request()                -- each thread: a uploadId unique within and across runs
  counter = counter + 1
  return wrk.format(nil, nil, nil,
    string.format("%s%08x%04x%012x%s", head, nonce, tid, counter, tail))
end
