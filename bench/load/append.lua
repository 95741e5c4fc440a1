-- wrk script for scenarios (c) and (d): every request appends one event to one session of the native API.
-- Arguments (after `--`): how many sessions, and the id prefix; ids are <prefix>0000, <prefix>0001, ...
-- Scenario (c) spreads the connections over append-0000 .. append-0999; (d) passes "1 hot-" for one hot session.
-- Every thread counts the appends the server acknowledged (2xx); `done` prints the totals as ACKED / REJECTED lines,
-- which run.sh compares with what the store holds after kill -9 and a restart.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  sessions = tonumber(args[1]) or 1000
  prefix = args[2] or "append-"
  acked = 0
  rejected = 0
  -- Threads start far apart, so connections spread over the sessions instead of moving through them in step.
  next_index = thread_index * 7919
  headers = { ["Content-Type"] = "application/json" }
  -- The same typical event as Sessiond.Load.Seed's LoadData.SampleEventJson; the server adds id, seq and timestamp.
  body = '{"events":[{"author":"assistant","invocationId":"inv-bench","content":{"role":"model","parts":[{"text":'
    .. '"The session keeps every event in order, so a client that reconnects reads what it missed and then follows '
    .. 'the live stream without gaps."}]},"usage":{"inputTokens":812,"outputTokens":64,"cost":0.0012}}]}'
end

function request()
  local id = string.format("%s%04d", prefix, next_index % sessions)
  next_index = next_index + 1
  return wrk.format("POST", "/v1/sessions/" .. id .. "/events", headers, body)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    acked = acked + 1
  else
    rejected = rejected + 1
  end
end

function done(summary, latency, requests)
  local total_acked, total_rejected = 0, 0
  for _, thread in ipairs(threads) do
    total_acked = total_acked + thread:get("acked")
    total_rejected = total_rejected + thread:get("rejected")
  end
  io.write(string.format("ACKED %d\nREJECTED %d\n", total_acked, total_rejected))
end
