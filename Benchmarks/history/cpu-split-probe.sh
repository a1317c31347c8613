#!/bin/bash
# usage: Benchmarks/history/cpu-split-probe.sh SERVER_PID ROUTE COOKIE PORT [ENGINE_PATTERN] (round 12)
# 4 s of wrk -t2 -c32 on ROUTE (LUA=script.lua adds a wrk script, e.g. one that rotates 32 session
# cookies), then per request: the server's user and system CPU, the engine's (every process whose
# command line matches ENGINE_PATTERN, redis-server by default; "postgres:" for PostgreSQL's
# backends) and the server's voluntary and involuntary context switches, from /proc.
eng=${5:-redis-server}
ticks() { local u=0 s=0; for p in $(pgrep -f "$1"); do a=($(sed 's/^.*) //' /proc/$p/stat 2>/dev/null)); u=$((u+${a[11]:-0})); s=$((s+${a[12]:-0})); done; echo "$u $s"; }
srv() { a=($(sed 's/^.*) //' /proc/$1/stat)); echo "${a[11]} ${a[12]}"; }
cs() { local v=0 n=0; for t in /proc/$1/task/*; do v=$((v+$(awk '/^voluntary_ctxt/{print $2}' $t/status))); n=$((n+$(awk '/^nonvoluntary_ctxt/{print $2}' $t/status))); done; echo "$v $n"; }
read su1 ss1 < <(srv $1); read eu1 es1 < <(ticks $eng); read v1 n1 < <(cs $1)
n=$(wrk -t2 -c32 -d4s ${LUA:+-s $LUA} -H "Cookie: $3" http://127.0.0.1:$4/$2 | awk '/^Requests\/sec/{print $2}')
read su2 ss2 < <(srv $1); read eu2 es2 < <(ticks $eng); read v2 n2 < <(cs $1)
python3 -c "
n=float('$n'); req=n*4
print(f'$2: {n:.0f} req/s; µs/request server user {($su2-$su1)*1e4/req:.1f} sys {($ss2-$ss1)*1e4/req:.1f}; engine user {($eu2-$eu1)*1e4/req:.1f} sys {($es2-$es1)*1e4/req:.1f}; server ctx switches/request vol {($v2-$v1)/req:.2f} invol {($n2-$n1)/req:.2f}')"
