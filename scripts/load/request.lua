-- wrk script for scripts/load/run.sh. Everything comes from the environment:
--   WRK_METHOD        GET or POST (default GET)
--   WRK_BODY_FILE     file whose bytes are the request body (optional)
--   WRK_CONTENT_TYPE  Content-Type of the body (default application/json)
--   WRK_TOKEN         sent as "Authorization: Bearer <token>" (optional)
--   WRK_UNIQUE_NAME   when set, every request's path gets "&name=<this>-<thread>-<n>.csv"
--                     appended (the upload scenario: a unique name per upload)
--   WRK_CHECK_ERRORS  when "1", answers whose body contains "errors" are counted
--                     (GraphQL reports failures with status 200)
-- done() prints one line that run.sh parses:
--   RESULT requests=.. duration_us=.. rps=.. p50_us=.. p99_us=.. non2xx=.. connect=.. read=.. write=.. timeout=.. gqlerrors=..

local method = os.getenv("WRK_METHOD") or "GET"
local body_file = os.getenv("WRK_BODY_FILE")
local content_type = os.getenv("WRK_CONTENT_TYPE") or "application/json"
local token = os.getenv("WRK_TOKEN")
local unique = os.getenv("WRK_UNIQUE_NAME")
local check = os.getenv("WRK_CHECK_ERRORS") == "1"

wrk.method = method
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = content_type
end
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local threads = {}
local next_id = 0
function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
  thread:set("gqlerrors", 0)
  table.insert(threads, thread)
end

if unique and unique ~= "" then
  local n = 0
  request = function()
    n = n + 1
    return wrk.format(nil, wrk.path .. "&name=" .. unique .. "-" .. thread_id .. "-" .. n .. ".csv")
  end
end

if check then
  response = function(status, headers, body)
    if body and string.find(body, '"errors"', 1, true) then
      gqlerrors = gqlerrors + 1
    end
  end
end

function done(summary, latency, requests)
  local gql = 0
  for _, t in ipairs(threads) do
    gql = gql + (t:get("gqlerrors") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d gqlerrors=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout, gql))
end
