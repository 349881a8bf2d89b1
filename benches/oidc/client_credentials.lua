-- wrk script: POST grant_type=client_credentials with HTTP Basic client authentication.
--
--   BASIC_AUTH=$(printf 'demo-backoffice:demo-secret' | base64 -w0) \
--     wrk -t1 -c32 -d15s -s client_credentials.lua http://127.0.0.1:PORT/token-endpoint
--
-- Env: BASIC_AUTH (required), SCOPE (optional). done() prints one RESULT line.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Basic " .. assert(os.getenv("BASIC_AUTH"), "BASIC_AUTH is not set")
wrk.body = "grant_type=client_credentials"
local scope = os.getenv("SCOPE")
if scope and scope ~= "" then
  wrk.body = wrk.body .. "&scope=" .. scope:gsub(" ", "+")
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d " ..
    "connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.status, e.connect, e.read, e.write, e.timeout))
end
