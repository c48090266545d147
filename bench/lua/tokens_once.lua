-- wrk script: every request carries its own token, read from a file (one per
-- line), and each token is sent exactly once. Used for refresh with rotation
-- + blacklist (every refresh token may succeed once) and for logout
-- (/api/token/blacklist/).
--
--   TOKENS_FILE   file of tokens, one per line                    (required)
--   TOKENS_FIELD  JSON field the token goes in                     (default "refresh")
--   WRK_THREADS   wrk's -t, to split the file between threads      (default 1)
--
-- Any status other than 200 is counted ("non200"; with one fresh token per
-- request there must be none: a 401 here is a refused valid token or a double
-- spend). When the file runs out the thread stops and "exhausted" is > 0:
-- the run is then shorter than -d and its rate is a lower bound; mint more.
-- Prints one RESULT line (the shape of ../../shared/anchors/load/scenario.lua,
-- plus non200, exhausted, sent and statuses: [{status, count}] of the non-200s).

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  local file = os.getenv("TOKENS_FILE")
  local field = os.getenv("TOKENS_FIELD") or "refresh"
  local n = tonumber(os.getenv("WRK_THREADS") or "1")
  prefix = '{"' .. field .. '": "'
  tokens = {}
  idx = 0
  exhausted = 0
  non200 = 0
  counts = {}
  local i = 0
  for line in io.lines(file) do
    if line ~= "" then
      if i % n == thread_index then
        tokens[#tokens + 1] = line
      end
      i = i + 1
    end
  end
  ntokens = #tokens
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  idx = idx + 1
  local token = tokens[idx]
  if token == nil then
    exhausted = exhausted + 1
    wrk.thread:stop()
    token = "exhausted"
  end
  return wrk.format(nil, nil, nil, prefix .. token .. '"}')
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    counts[status] = (counts[status] or 0) + 1
  end
end

done = function(summary, latency, requests)
  local non, ex, sent, st = 0, 0, 0, {}
  for _, t in ipairs(threads) do
    non = non + (t:get("non200") or 0)
    ex = ex + (t:get("exhausted") or 0)
    sent = sent + math.min(t:get("idx") or 0, t:get("ntokens") or 0)
    for status, count in pairs(t:get("counts") or {}) do
      st[#st + 1] = string.format('{"status":%d,"count":%d}', status, count)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"err_connect":%d,"err_read":%d,"err_write":%d,"err_timeout":%d,"err_status":%d,' ..
    '"non200":%d,"exhausted":%d,"sent":%d,"statuses":[%s]}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status,
    non, ex, sent, table.concat(st, ",")))
end
