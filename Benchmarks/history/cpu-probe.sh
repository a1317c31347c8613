#!/bin/bash
# usage: Benchmarks/history/cpu-probe.sh SERVER_PID ROUTE COOKIE PORT: 4 s of wrk -t2 -c32 on ROUTE, then the CPU per request of the server, of all postgres processes, and the idle time, from /proc (round 10)
pgticks() { local t=0; for p in $(pgrep -x postgres); do s=($(cat /proc/$p/stat 2>/dev/null | sed 's/^.*) //')); t=$((t + ${s[11]:-0} + ${s[12]:-0})); done; echo $t; }
srv() { s=($(sed 's/^.*) //' /proc/$1/stat)); echo $((${s[11]} + ${s[12]})); }
idle() { awk '/^cpu /{print $5}' /proc/stat; }
a1=$(srv $1); p1=$(pgticks); i1=$(idle)
n=$(wrk -t2 -c32 -d4s -H "Cookie: $3" http://127.0.0.1:$4/$2 | awk '/^Requests\/sec/{print $2}')
a2=$(srv $1); p2=$(pgticks); i2=$(idle)
python3 -c "
n=float('$n'); req=n*4
print(f'$2: {n:.0f} req/s; per request µs: server {($a2-$a1)*1e4/req:.1f}, postgres {($p2-$p1)*1e4/req:.1f}, idle {($i2-$i1)*1e4/req:.1f}')"
