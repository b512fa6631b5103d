-- wrk script for make bench (bench/run.py).
--
--   wrk -s summary.lua URL                      every request asks for URL
--   wrk -s summary.lua URL -- /u/user%d 1 200   each asks for one of /u/user1../u/user200
--
-- At the end it prints one line, "SUMMARY {json}": requests, errors and latency
-- percentiles, for bench/run.py to read (wrk's own text has no 95th percentile).

local pattern, first, last
local fixed

function init(args)
  if args[1] then
    pattern, first, last = args[1], tonumber(args[2]), tonumber(args[3])
    -- Each wrk thread has its own Lua state: seed each differently.
    math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
  else
    fixed = wrk.format()
  end
end

function request()
  if pattern then
    return wrk.format(nil, string.format(pattern, math.random(first, last)))
  end
  return fixed
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'SUMMARY {"requests": %d, "duration_us": %d, "bad_status": %d, "socket_errors": %d, '
      .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end
