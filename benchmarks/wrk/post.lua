-- POST one valid transaction per request (make bench-api). Environment:
--   BENCH_PATH      the URL path (/v1/transactions, or /echo for the ceiling)
--   BENCH_AUTH      "Basic ..." Authorization header, unset for the ceiling
--   BENCH_FRESH_KEYS=1  a new Idempotency-Key on every request
--   BENCH_DELAY_MS  milliseconds each connection waits after an answer before its next request (0):
--                   the ceiling at the API's pace
-- done() prints one JSON line: requests/s, errors and latency percentiles in microseconds.
local path = os.getenv("BENCH_PATH") or "/v1/transactions"
local auth = os.getenv("BENCH_AUTH")
local fresh_keys = os.getenv("BENCH_FRESH_KEYS") == "1"
local delay_ms = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
local year = tonumber(os.date("%Y")) + 1
local body = '{"amount": "10.50", "credit_card": {"number": "4111111111111111", "name": "Bench Mark", '
  .. '"expiration_month": 12, "expiration_year": ' .. year .. ', "cvv": "123"}}'
local headers = {["Content-Type"] = "application/json"}
if auth then headers["Authorization"] = auth end

local threads = {}
local counter = 0
local prefix = ""

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + (thread_id or 0))
  -- One word (underscores): a counter after a dash would read as a 3-digit number of its own to the
  -- card-data scan of the shared test stack (tests/support/card_data.py), like a CVV.
  prefix = string.format("bench_%d_%d_%d_", os.time(), thread_id or 0, math.random(1, 1000000000))
end

function request()
  if fresh_keys then
    counter = counter + 1
    headers["Idempotency-Key"] = prefix .. counter
  end
  return wrk.format("POST", path, headers, body)
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
