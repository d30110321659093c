# SPDX-License-Identifier: Apache-2.0
-- wrk script for tests/bench/run: cycles through a corpus of pre-signed
-- requests written by gen_requests.py (file in HF_BENCH_REQUESTS), starting
-- at HF_BENCH_OFFSET so a measured run does not repeat what a warm-up just
-- sent. Threads interleave: thread k sends entries k, k+T, k+2T, ...
-- done() prints one machine-readable line for the runner.

local reqs, n = {}, 0
local pos, stride = 0, 1
local threads = {}

function setup(thread)
    thread:set("tid", #threads)
    table.insert(threads, thread)
end

function init(args)
    local path = assert(os.getenv("HF_BENCH_REQUESTS"), "HF_BENCH_REQUESTS is not set")
    local f = assert(io.open(path, "rb"))
    local data = f:read("*a")
    f:close()
    local p = 1
    while p <= #data do
        local nl = data:find("\n", p, true)
        local len = tonumber(data:sub(p, nl - 1))
        n = n + 1
        reqs[n] = data:sub(nl + 1, nl + len)
        p = nl + 1 + len
    end
    stride = tonumber(os.getenv("HF_BENCH_THREADS") or "1")
    pos = (tonumber(os.getenv("HF_BENCH_OFFSET") or "0") + tid) % n
end

function request()
    local r = reqs[pos + 1]
    pos = (pos + stride) % n
    return r
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "HFBENCH requests=%d duration_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d " ..
        "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
        summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
        latency.max))
end
