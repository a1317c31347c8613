-- wrk script for scripts/soak: one connection per wrk thread, each acting as a stream of users.
-- A user logs in (POST /app/login without a cookie: a new server-side session), adds to the cart
-- and looks at it with that session's cookie, then drops the cookie and logs in as the next user,
-- so every login makes one new session. Logins are paced: a thread starts at most
-- budget * elapsed / seconds sessions by each second of the run, and keeps using its current
-- session in between, so the run makes `budget` sessions per thread at an even rate.
--
--   wrk -t8 -c8 -d60s -s scripts/soak.lua http://127.0.0.1:PORT -- RUN BUDGET SECONDS LIFETIME
--
-- Every response must be the expected one (303 with the session cookie after login, 303 after an
-- addition, 200 for a page); done() prints one line for scripts/soak (sessions: logins answered
-- with a session cookie; logins: logins sent, of which the last may be cut off as wrk stops):
--   soak: requests=N sessions=N logins=N unexpected=N errors=N p99_ms=N

local threads = {}
local next_id = 1

function setup(thread)
   thread:set("id", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local catalog = { "apple", "pear", "coffee", "tea", "bread" }
local form = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Sec-Fetch-Site"] = "same-origin" }

function init(args)
   run = args[1] or "0"
   budget = tonumber(args[2]) or 100
   seconds = tonumber(args[3]) or 60
   lifetime = tonumber(args[4]) or 3600
   started = os.time()
   sessions = 0      -- logins sent by this thread (the first thread's count includes wrk's check)
   made = 0          -- logins answered with a session cookie: sessions made
   unexpected = 0    -- responses other than the expected status (and cookie)
   cookie = nil      -- the current session's Cookie header value
   step = 0          -- requests made with the current session
   since = 0         -- when the current session was made
   last = nil        -- what the request in flight was
end

local function may_start_session()
   -- The pace counts sessions made, not logins sent: wrk calls request() once on the first
   -- thread's state before the run to check the script, and that login is never sent (counting
   -- it left the first thread one session short: 9,999 a minute instead of 10,000). One connection
   -- a thread, so every earlier login has its answer when request() runs. The pace ends two seconds
   -- early, so the last logins are answered before wrk stops (os.time() counts whole seconds).
   local elapsed = os.time() - started + 1
   local allowed = math.min(budget, math.floor(budget * elapsed / math.max(1, seconds - 2)))
   return made < allowed
end

function request()
   local old = os.time() - since >= lifetime / 2
   if cookie == nil or ((step >= 3 or old) and may_start_session()) then
      sessions = sessions + 1
      cookie = nil
      step = 0
      since = os.time()
      last = "login"
      local user = "soak-" .. run .. "-" .. id .. "-" .. sessions
      return wrk.format("POST", "/app/login", form, "username=" .. user)
   end
   if old then
      -- Waiting for the budget with a session about to expire: a page without any session (a
      -- request with an expired cookie would make a new session that no login counted).
      last = "page"
      return wrk.format("GET", "/app/login")
   end
   step = step + 1
   local headers = { ["Cookie"] = cookie, ["Sec-Fetch-Site"] = "same-origin" }
   if step % 3 == 1 and step < 300 then
      last = "add"
      headers["Content-Type"] = form["Content-Type"]
      return wrk.format("POST", "/app/cart/add", headers, "item=" .. catalog[(step % #catalog) + 1])
   elseif step % 3 == 2 then
      last = "page"
      return wrk.format("GET", "/app/cart", headers)
   else
      last = "page"
      return wrk.format("GET", "/app", headers)
   end
end

function response(status, headers, body)
   local set_cookie = nil
   for name, value in pairs(headers) do
      if string.lower(name) == "set-cookie" and string.find(value, "^session=") then
         set_cookie = string.match(value, "^([^;]*)")
      end
   end
   if last == "login" then
      if status ~= 303 or set_cookie == nil then
         unexpected = unexpected + 1
         cookie = nil
         return
      end
      made = made + 1
   elseif last == "add" then
      if status ~= 303 then unexpected = unexpected + 1 end
   elseif status ~= 200 then
      unexpected = unexpected + 1
   end
   if set_cookie ~= nil then
      if string.find(set_cookie, "^session=$") then cookie = nil else cookie = set_cookie end
   end
end

function done(summary, latency, requests)
   local total_sent, total_made, total_unexpected = 0, 0, 0
   for _, thread in ipairs(threads) do
      total_sent = total_sent + thread:get("sessions")
      total_made = total_made + thread:get("made")
      total_unexpected = total_unexpected + thread:get("unexpected")
   end
   local errors = summary.errors
   local failed = errors.connect + errors.read + errors.write + errors.timeout + errors.status
   io.write(string.format("soak: requests=%d sessions=%d logins=%d unexpected=%d errors=%d p99_ms=%.1f\n",
      summary.requests, total_made, total_sent, total_unexpected, failed, latency:percentile(99) / 1000))
end
