-- Mixed traffic for bench/soak.sh: logins, rotations, protected calls and
-- blacklists, as a client population would send them.
--
-- Each wrk thread keeps a pool of refresh tokens it was handed (by logins
-- and rotations) and the latest access token. Every refresh token is sent
-- exactly once — to rotate it or to blacklist it — so with
-- ROTATE_REFRESH_TOKENS and BLACKLIST_AFTER_ROTATION every answer must be
-- 200: any other status is an error. A login is sent when the pool is empty
-- and otherwise once in LOGIN_EVERY requests (hashing is the costly part).
--
-- Mix (per 50 requests, pool permitting): 35 protected, 14 rotations,
-- 1 blacklist, and the logins (about one per blacklist: each blacklist
-- takes a refresh token out of the pool, each login puts one in).

local LOGIN_EVERY = tonumber(os.getenv("SOAK_LOGIN_EVERY") or "200")
local login_body = '{"username": "alice", "password": "alice-Password-1"}'
local json = { ["Content-Type"] = "application/json" }

local pool = {}
local access = nil
local n = 0
-- Requests sent, by kind, and answers that were not 200.
counts = { login = 0, rotate = 0, protected = 0, blacklist = 0, errors = 0 }

local function pop()
  local t = table.remove(pool)
  return t
end

request = function()
  n = n + 1
  if access == nil or #pool == 0 or n % LOGIN_EVERY == 0 then
    counts.login = counts.login + 1
    return wrk.format("POST", "/api/token/", json, login_body)
  end
  local slot = n % 50
  if slot < 35 then
    counts.protected = counts.protected + 1
    return wrk.format("GET", "/api/protected/", { ["Authorization"] = "Bearer " .. access })
  elseif slot < 49 or #pool < 4 then
    counts.rotate = counts.rotate + 1
    return wrk.format("POST", "/api/token/refresh/", json, '{"refresh": "' .. pop() .. '"}')
  else
    counts.blacklist = counts.blacklist + 1
    return wrk.format("POST", "/api/token/blacklist/", json, '{"refresh": "' .. pop() .. '"}')
  end
end

response = function(status, headers, body)
  if status ~= 200 then
    counts.errors = counts.errors + 1
    if counts.errors <= 5 then
      io.stderr:write("soak: status " .. status .. ": " .. string.sub(body, 1, 200) .. "\n")
    end
    return
  end
  local r = string.match(body, '"refresh"%s*:%s*"([^"]+)"')
  if r then
    table.insert(pool, r)
  end
  local a = string.match(body, '"access"%s*:%s*"([^"]+)"')
  if a then
    access = a
  end
end

local threads = {}
setup = function(thread)
  table.insert(threads, thread)
end

done = function(summary, latency, requests)
  local total = { login = 0, rotate = 0, protected = 0, blacklist = 0, errors = 0 }
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do
      total[k] = total[k] + v
    end
  end
  local socket = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    "SOAK requests=%d logins=%d rotations=%d protected=%d blacklists=%d non200=%d socket_errors=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, total.login, total.rotate, total.protected, total.blacklist,
    total.errors, socket, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000))
end
