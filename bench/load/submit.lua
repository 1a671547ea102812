-- wrk script: POST one survey submission per request, each with its own idempotency key.
--
-- Bodies come from a file prepared by bench/load_submissions.py, one urlencoded body per line
-- (unique key, signed start token, CSRF token, answer). Each wrk thread takes every n-th line,
-- so no key is sent twice; when a thread runs out it stops sending (counted as "exhausted").
-- Extra headers (the session cookie the CSRF token belongs to) come from WRK_COOKIE.
--
--   wrk -t2 -c16 -d20s -s bench/load/submit.lua http://127.0.0.1:8000/s/<code> -- bodies.txt

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  local nthreads = tonumber(args[2] or "2")
  bodies = {}
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == tid then
      table.insert(bodies, line)
    end
    i = i + 1
  end
  nextbody = 1
  ok, other, exhausted = 0, 0, 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  local cookie = os.getenv("WRK_COOKIE")
  if cookie and cookie ~= "" then
    wrk.headers["Cookie"] = cookie
  end
end

function request()
  local body = bodies[nextbody]
  if body == nil then
    exhausted = exhausted + 1
    body = "exhausted=1"
  end
  nextbody = nextbody + 1
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 303 then
    ok = ok + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local acked, failed, ex = 0, 0, 0
  for _, t in ipairs(threads) do
    acked = acked + t:get("ok")
    failed = failed + t:get("other")
    ex = ex + t:get("exhausted")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "acknowledged": %d, "not_acknowledged": %d, ' ..
    '"exhausted": %d, "socket_errors": %d, "p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration, acked, failed, ex,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
