-- wrk script for scenario (b): every request creates a new, empty session of the native API (the server picks the id).
-- All of them belong to one app and a handful of users, as an app's sign-ups would.

local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  headers = { ["Content-Type"] = "application/json" }
  counter = 0
end

function request()
  counter = counter + 1
  local body = string.format('{"appName":"bench","userId":"creator-%d-%d","title":"Created by the load harness"}',
    thread_index, counter % 16)
  return wrk.format("POST", "/v1/sessions", headers, body)
end
