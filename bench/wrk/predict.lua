-- POST one body per request, cycling through BENCH_BODIES (one JSON body per line), and print
-- the summary as one JSON line that bench/load.py reads.

local threads_started = 0

function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_number", threads_started)
end

function init(args)
  bodies = {}
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    bodies[#bodies + 1] = line
  end
  -- Threads start far apart so that they do not send the same texts in lockstep.
  next_body = (thread_number * 7919) % #bodies
end

-- A paced client (BENCH_PAUSE_MS before each request) instead of a closed loop; wrk looks for
-- delay() only if it is defined, so the unpaced runs do not pay for a timer per request.
local pause_ms = tonumber(os.getenv("BENCH_PAUSE_MS") or "0")
if pause_ms > 0 then
  function delay()
    return pause_ms
  end
end

function request()
  next_body = next_body % #bodies + 1
  return wrk.format("POST", nil, nil, bodies[next_body])
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_status": %d, ' ..
    '"errors_timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
