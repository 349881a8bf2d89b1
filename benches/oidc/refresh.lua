-- wrk script: refresh-token grant with rotation. Every refresh token can be used once, so each
-- wrk thread keeps a queue of valid refresh tokens: request() takes the oldest, response() puts
-- the rotated one from the answer back. The queue is filled at start from a file of pre-minted
-- tokens (one per line, benches/oidc/mint-refresh-tokens.mjs); it needs at least as many tokens
-- per thread as the thread has connections, plus a margin.
--
--   TOKENS_FILE=tokens.txt WRK_THREADS=1 CLIENT_ID=demo-spa \
--     wrk -t1 -c32 -d15s -s refresh.lua http://127.0.0.1:PORT/token-endpoint
--
-- Env: TOKENS_FILE, WRK_THREADS (must equal -t), CLIENT_ID (public client, default demo-spa).
-- done() prints one RESULT line; "starved" counts requests sent with no valid token left (they
-- fail with 400 and show up in non2xx), "no_refresh_token" counts answers without a new token.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "1")
  local file = assert(os.getenv("TOKENS_FILE"), "TOKENS_FILE is not set")
  client_id = urlencode(os.getenv("CLIENT_ID") or "demo-spa")
  queue, head, tail = {}, 1, 0
  starved, no_refresh_token = 0, 0
  local i = 0
  for line in io.lines(file) do
    if line ~= "" then
      if i % nthreads == tid then
        tail = tail + 1
        queue[tail] = line
      end
      i = i + 1
    end
  end
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
  }
end

function request()
  local token
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  else
    starved = starved + 1
    token = "pool-empty"
  end
  return wrk.format("POST", nil, headers,
    "grant_type=refresh_token&client_id=" .. client_id .. "&refresh_token=" .. urlencode(token))
end

function response(status, headers, body)
  local token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if token then
    tail = tail + 1
    queue[tail] = token
  else
    no_refresh_token = no_refresh_token + 1
  end
end

function done(summary, latency, requests)
  local st, nrt = 0, 0
  for _, t in ipairs(threads) do
    st = st + (t:get("starved") or 0)
    nrt = nrt + (t:get("no_refresh_token") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d starved=%d no_refresh_token=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout, st, nrt))
end
