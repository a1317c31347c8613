/// The Lua scripts that make every write of ``RedisSessionStore`` atomic (Redis runs a script
/// without interleaving other commands). Every script gets the key prefix as `ARGV[1]` and the
/// store's clock as `ARGV[3]` where it needs one: a session counts as expired once `now >= e`
/// by the store's clock, whatever Redis's TTL says, so a store with an injected clock behaves as
/// one with the system clock.
///
/// The data, under prefix `p` and a session's key hash `h` (64 hex digits):
/// - `p:s:h`, a hash: `c` created, `l` last seen, `e` idle deadline, `a` absolute deadline, `ua`
///   and `ip` (absent for `nil`), and `v:<name>` the JSON text of each session value. Its Redis
///   TTL is the time left until `e`.
/// - `p:expiry`, a sorted set of every session's `h` scored by `e`: cleanup takes what is due.
/// - `p:owners`, a hash `h` → user ID for sessions with a user; `p:u:<user>`, a sorted set of
///   that user's `h` scored by `c`. Kept here so the user index can be cleaned after Redis has
///   expired a session's own key.
///
/// On Redis Cluster the prefix is a hash tag, `{prefix}`, so all these keys share one slot and
/// one node. Each script is sent with the keys it can name in advance as `KEYS` (a session's hash,
/// `p:owners`, `p:expiry`, the user index it writes), which routes it and makes the cluster answer
/// `TRYAGAIN` while a migration has moved some of them but not others. The keys it finds on the
/// way (a previous owner's index, the sessions behind an index) are read before the first write
/// (``prelude``'s `reach`): on a node whose slot is migrating, reading a key that has left fails the
/// script before it changed anything, and the store tries again.
///
/// Replies: `1` done, `0` missing or expired, `-1` a live session already has the key.
///
/// ```swift
/// let reply = try await store.evaluate(.touch, arguments: [hex, String(now), String(expiresAt)])
/// ```
enum RedisSessionScripts {
    /// Helpers every script starts with, on a Redis Cluster (``clusterReach``). On a single server
    /// (``forSingleServer(_:)``) `reach` does nothing: no slot there ever moves, and its reads cost a
    /// write script about a twentieth of Redis's throughput.
    static let prelude = """
        local p = ARGV[1]
        local function skey(h) return p .. ':s:' .. h end
        local function drop(h)
          local o = p .. ':owners'
          local u = redis.call('HGET', o, h)
          if u then
            redis.call('ZREM', p .. ':u:' .. u, h)
            redis.call('HDEL', o, h)
          end
          redis.call('ZREM', p .. ':expiry', h)
          return redis.call('DEL', skey(h))
        end
        local function setuser(h, u, c)
          local o = p .. ':owners'
          local old = redis.call('HGET', o, h)
          if old == u then return end
          if old then redis.call('ZREM', p .. ':u:' .. old, h) end
          if u then
            redis.call('HSET', o, h, u)
            redis.call('ZADD', p .. ':u:' .. u, c, h)
          else
            redis.call('HDEL', o, h)
          end
        end
        local function expire(h, e, now)
          redis.call('ZADD', p .. ':expiry', e, h)
          local ttl = tonumber(e) - now
          if ttl > 10000000000 then ttl = 10000000000 end
          redis.call('EXPIRE', skey(h), string.format('%d', ttl))
        end

        """ + clusterReach + """
        local function optional(arg)
          if string.sub(arg, 1, 1) == '1' then return string.sub(arg, 2) end
          return false
        end
        local function each(command, k, from, to)
          local i = from
          while i <= to do
            local j = math.min(i + 999, to)
            redis.call(command, k, unpack(ARGV, i, j))
            i = j + 1
          end
        end

        """

    /// `reach` on a cluster: reads h's hash and its owner's index, so that a script fails there,
    /// before any write, when one of them has left a migrating slot (Redis refuses a non-local key).
    static let clusterReach = """
        local function reach(h)
          redis.call('EXISTS', skey(h))
          local u = redis.call('HGET', p .. ':owners', h)
          if u then redis.call('EXISTS', p .. ':u:' .. u) end
        end

        """

    /// `reach` on a single server: nothing to check.
    static let singleServerReach = """
        local function reach(h) end

        """

    /// `source` (one of the scripts here) for a single server: its `reach` does nothing.
    static func forSingleServer(_ source: String) -> String {
        source.replacing(clusterReach, with: singleServerReach)
    }

    /// `create`: p, h, now, c, l, e (capped), a, ua, ip, user (optionals as `0` or `1`+text), then
    /// field/value pairs.
    static let create = prelude + """
        local h, now = ARGV[2], tonumber(ARGV[3])
        local k = skey(h)
        reach(h)
        local e = redis.call('HGET', k, 'e')
        if e and tonumber(e) > now then return -1 end
        drop(h)
        if tonumber(ARGV[6]) <= now then return 1 end
        redis.call('HSET', k, 'c', ARGV[4], 'l', ARGV[5], 'e', ARGV[6], 'a', ARGV[7])
        local ua, ip = optional(ARGV[8]), optional(ARGV[9])
        if ua then redis.call('HSET', k, 'ua', ua) end
        if ip then redis.call('HSET', k, 'ip', ip) end
        each('HSET', k, 11, #ARGV)
        setuser(h, optional(ARGV[10]), ARGV[4])
        expire(h, ARGV[6], now)
        return 1
        """

    /// `apply`: p, h, now, expiresAt, mode (`r` replace all, `u` update, `o` update and operate),
    /// user (`-` unchanged, `0` none, `1`+ID), number of field/value pairs to set, the pairs, then
    /// the fields to remove; in mode `o`, the number of fields to remove before them, and after
    /// them the operations, five arguments each: field, code, dictionary field, amount, value
    /// (``operations``). Mode `o` runs as ``applyOperations``. `KEYS`: the session's hash, `p:owners`,
    /// `p:expiry` (and the index of the user it sets), in that order: the script writes the first and
    /// the third by these names.
    static let apply = prelude + applyBody

    /// `apply` in mode `o`: the same, with ``operations`` defined. A script of its own because
    /// defining the operations' Lua functions on every run cost a plain update about a tenth of
    /// Redis's throughput (redis-benchmark of the two scripts: 78.8-82.2k against 84.1-85.3k runs/s).
    static let applyOperations = prelude + operations + applyBody

    /// ``apply``'s and ``applyOperations``'s body (``operate`` is called only in mode `o`). The
    /// common write (mode `u`, the user unchanged) reads two fields, writes the values and the
    /// deadlines in one `HSET`, and names its keys from `KEYS` rather than building them: about a
    /// tenth of Redis's time for the script (redis-benchmark, Benchmarks/history/round-13.md).
    static let applyBody = """
        local h, now = ARGV[2], tonumber(ARGV[3])
        local k = KEYS[1]
        reach(h)
        local m = redis.call('HMGET', k, 'e', 'a')
        if not m[1] or tonumber(m[1]) <= now then return 0 end
        local last = 8 + 2 * tonumber(ARGV[7]) - 1
        local first_op = #ARGV + 1
        local mode = ARGV[5]
        if mode == 'r' then
          local kept = redis.call('HMGET', k, 'c', 'ua', 'ip')
          redis.call('DEL', k)
          redis.call('HSET', k, 'c', kept[1], 'a', m[2])
          if kept[2] then redis.call('HSET', k, 'ua', kept[2]) end
          if kept[3] then redis.call('HSET', k, 'ip', kept[3]) end
        elseif mode == 'o' then
          local removes = tonumber(ARGV[last + 1])
          if removes > 0 then each('HDEL', k, last + 2, last + 1 + removes) end
          first_op = last + 2 + removes
        elseif last < #ARGV then
          each('HDEL', k, last + 1, #ARGV)
        end
        local e, deadline = ARGV[4], tonumber(ARGV[4])
        local absolute = tonumber(m[2])
        if deadline > absolute then e, deadline = m[2], absolute end
        -- The values and the deadlines in one HSET (unpack takes up to a few thousand arguments).
        if last - 7 <= 996 then
          redis.call('HSET', k, 'e', e, 'l', ARGV[3], unpack(ARGV, 8, last))
        else
          each('HSET', k, 8, last)
          redis.call('HSET', k, 'e', e, 'l', ARGV[3])
        end
        for i = first_op, #ARGV, 5 do
          operate(k, ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4])
        end
        if deadline <= now then
          drop(h)
          return 1
        end
        if ARGV[6] ~= '-' then setuser(h, optional(ARGV[6]), redis.call('HGET', k, 'c')) end
        redis.call('ZADD', KEYS[3], e, h)
        local ttl = deadline - now
        if ttl > 10000000000 then ttl = 10000000000 end
        redis.call('EXPIRE', k, string.format('%d', ttl))
        return 1
        """

    /// Atomic per-key operations on a session's hash field (``/SessionKit/SessionOperation``), with Redis's
    /// `cjson`: `operate(k, field, code, dictionary field, amount, value JSON)`. A missing value or
    /// one of another type counts as `0`, `[]` or `{}`; elements compare as JSON values; numbers are
    /// exact up to 2^53 (Lua's numbers), and a sum is kept within ±(2^53 - 1).
    static let operations = """
        local function decoded(k, f)
          local raw = redis.call('HGET', k, f)
          if not raw then return nil end
          local ok, v = pcall(cjson.decode, raw)
          if ok then return v end
          return nil
        end
        local function integer(v)
          if type(v) == 'number' and v == math.floor(v) and v > -9007199254740992 and v < 9007199254740992 then return v end
          return 0
        end
        local function add(a, b)
          local s = a + b
          if s > 9007199254740991 then return 9007199254740991 end
          if s < -9007199254740991 then return -9007199254740991 end
          return s
        end
        local function array(v)
          if type(v) ~= 'table' then return {} end
          local n = 0
          for key, _ in pairs(v) do
            if type(key) ~= 'number' then return {} end
            n = n + 1
          end
          if n ~= #v then return {} end
          return v
        end
        local function object(v)
          if type(v) ~= 'table' then return {} end
          for key, _ in pairs(v) do
            if type(key) ~= 'string' then return {} end
          end
          return v
        end
        local function equal(a, b)
          if type(a) ~= type(b) then return false end
          if type(a) ~= 'table' then return a == b end
          for key, x in pairs(a) do if not equal(x, b[key]) then return false end end
          for key, _ in pairs(b) do if a[key] == nil then return false end end
          return true
        end
        local function encode_array(t)
          if #t == 0 then return '[]' end
          return cjson.encode(t)
        end
        local function encode_object(t)
          if next(t) == nil then return '{}' end
          return cjson.encode(t)
        end
        local function operate(k, f, code, field, amount, value)
          local old = decoded(k, f)
          local new
          if code == 'inc' then
            new = string.format('%d', add(integer(old), amount))
          elseif code == 'app' then
            local t = array(old)
            t[#t + 1] = cjson.decode(value)
            new = encode_array(t)
          elseif code == 'ins' then
            local t, e = array(old), cjson.decode(value)
            local found = false
            for _, x in ipairs(t) do if equal(x, e) then found = true end end
            if not found then t[#t + 1] = e end
            new = encode_array(t)
          elseif code == 'rem' then
            local t, e, kept = array(old), cjson.decode(value), {}
            for _, x in ipairs(t) do if not equal(x, e) then kept[#kept + 1] = x end end
            new = encode_array(kept)
          elseif code == 'setf' then
            local t = object(old)
            t[field] = cjson.decode(value)
            new = encode_object(t)
          elseif code == 'remf' then
            local t = object(old)
            t[field] = nil
            new = encode_object(t)
          elseif code == 'incf' then
            local t = object(old)
            local n = add(integer(t[field]), amount)
            if n > 0 then t[field] = n else t[field] = nil end
            new = encode_object(t)
          else
            return redis.error_reply('sessionkit: unknown operation')
          end
          redis.call('HSET', k, f, new)
        end

        """

    /// `touch`: p, h, now, expiresAt.
    static let touch = prelude + """
        local h, now = ARGV[2], tonumber(ARGV[3])
        local k = skey(h)
        reach(h)
        local m = redis.call('HMGET', k, 'e', 'a')
        if not m[1] or tonumber(m[1]) <= now then return 0 end
        local e = ARGV[4]
        if tonumber(e) > tonumber(m[2]) then e = m[2] end
        redis.call('HSET', k, 'e', e, 'l', ARGV[3])
        if tonumber(e) <= now then
          drop(h)
          return 1
        end
        expire(h, e, now)
        return 1
        """

    /// `loadTouch`: p, h, now, deadline, due, permanent deadline, permanent due, the engine's now.
    /// The session's hash (one `HGETALL`), and when it is due (`l <= due`, or `permanent due` for a
    /// session whose `v:_permanent` is the JSON `true`; and `e >=` the engine's now), the touch's
    /// writes first, exactly as ``touch`` makes them. Replies `0` for a missing or expired session, else `{touched, fields}`: `1` or `0` and
    /// the hash's fields and values as `HGETALL` gives them, with the new `l` and `e` when touched.
    /// A session that is not due costs one read and a loop over its fields; nothing is written.
    static let loadTouch = prelude + """
        local h, now = ARGV[2], tonumber(ARGV[3])
        local k = skey(h)
        local f = redis.call('HGETALL', k)
        local ie, ia, il, permanent = nil, nil, nil, false
        for i = 1, #f, 2 do
          local n = f[i]
          if n == 'e' then ie = i + 1
          elseif n == 'a' then ia = i + 1
          elseif n == 'l' then il = i + 1
          elseif n == 'v:_permanent' then permanent = string.find(f[i + 1], '^[ \\t\\n\\r]*true[ \\t\\n\\r]*$') ~= nil
          end
        end
        if not ie or tonumber(f[ie]) <= now then return 0 end
        if not il or not ia then return redis.error_reply('sessionkit: malformed session') end
        local due, e = ARGV[5], ARGV[4]
        if permanent then due, e = ARGV[7], ARGV[6] end
        if tonumber(f[il]) > tonumber(due) or tonumber(f[ie]) < tonumber(ARGV[8]) then return {0, f} end
        reach(h)
        if tonumber(e) > tonumber(f[ia]) then e = f[ia] end
        redis.call('HSET', k, 'e', e, 'l', ARGV[3])
        if tonumber(e) <= now then
          drop(h)
          return 0
        end
        expire(h, e, now)
        f[ie], f[il] = e, ARGV[3]
        return {1, f}
        """

    /// `delete`: p, h.
    static let delete = prelude + """
        reach(ARGV[2])
        drop(ARGV[2])
        return 1
        """

    /// `rename`: p, old h, now, new h.
    static let rename = prelude + """
        local old, now, new = ARGV[2], tonumber(ARGV[3]), ARGV[4]
        reach(old)
        reach(new)
        local m = redis.call('HMGET', skey(old), 'e', 'c')
        if not m[1] or tonumber(m[1]) <= now then return 0 end
        local e = redis.call('HGET', skey(new), 'e')
        if e and tonumber(e) > now then return -1 end
        drop(new)
        redis.call('RENAME', skey(old), skey(new))
        redis.call('ZREM', p .. ':expiry', old)
        redis.call('ZADD', p .. ':expiry', m[1], new)
        local o = p .. ':owners'
        local u = redis.call('HGET', o, old)
        if u then
          redis.call('HDEL', o, old)
          redis.call('ZREM', p .. ':u:' .. u, old)
          redis.call('HSET', o, new, u)
          redis.call('ZADD', p .. ':u:' .. u, m[2], new)
        end
        return 1
        """

    /// `removeExpired`: p, batch size, now. Removes up to a batch of sessions due by the store's
    /// clock (their keys may be gone already: Redis's TTL) and returns how many.
    static let removeExpired = prelude + """
        local due = redis.call('ZRANGEBYSCORE', p .. ':expiry', '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, h in ipairs(due) do reach(h) end
        for _, h in ipairs(due) do drop(h) end
        return #due
        """

    /// `sessions`: p, user, now. A flat array of `h c l e a ua ip` per live session, oldest first;
    /// members whose key Redis has expired leave the user index on the way (``removeExpired``
    /// takes them off `p:expiry` and counts them).
    static let sessions = prelude + """
        local uk = p .. ':u:' .. ARGV[2]
        local now = tonumber(ARGV[3])
        local out = {}
        for _, h in ipairs(redis.call('ZRANGE', uk, 0, -1)) do
          local m = redis.call('HMGET', skey(h), 'c', 'l', 'e', 'a', 'ua', 'ip')
          if not m[3] then
            -- Redis expired it: out of the user index now; removeExpired still counts it.
            redis.call('ZREM', uk, h)
            if redis.call('HGET', p .. ':owners', h) == ARGV[2] then redis.call('HDEL', p .. ':owners', h) end
          elseif tonumber(m[3]) > now then
            out[#out + 1] = h
            for i = 1, 6 do out[#out + 1] = m[i] end
          end
        end
        return out
        """

    /// `revoke`: p, user, now, the key hash to keep (or empty). Returns how many live sessions it deleted.
    static let revoke = prelude + """
        local uk = p .. ':u:' .. ARGV[2]
        local now = tonumber(ARGV[3])
        local n = 0
        local gone = {}
        for _, h in ipairs(redis.call('ZRANGE', uk, 0, -1)) do
          if h ~= ARGV[4] then
            reach(h)
            local e = redis.call('HGET', skey(h), 'e')
            if e and tonumber(e) > now then n = n + 1 end
            gone[#gone + 1] = h
          end
        end
        for _, h in ipairs(gone) do
          drop(h)
          redis.call('ZREM', uk, h)
        end
        return n
        """
}
