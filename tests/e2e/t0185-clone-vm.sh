#!/bin/sh
# A thread made with clone(CLONE_VM) and no TLS of its own shares the
# tracer's per-thread state (and glibc's) with the thread that made it.
# The tracer tells it apart (its stack is not the state's owner's, nor its
# tid) and sends its events through ring 0 without a stack: taking turns
# or at the same time, every event of both arrives.
. "$(dirname "$0")/lib.sh"

for how in turns together; do
	GLIBC_TUNABLES=glibc.malloc.tcache_count=0 "$HW" run -q -o "$T/$how.hws" -- "$P/clonevm" 100000 $how > "$T/out"
	expect "$how: the program ran" "$(cat "$T/out")" "done"
	stats_json "$T/$how.hws" > "$T/c.json"
	# both threads' 100,000, the clone's stack, the pthread's and stdout's buffer
	expect "$how: every allocation and free of both threads, none lost" \
		"$(json "$T/c.json" '(j["allocations"], j["frees"], j["lost_events"])')" "(200003, 200000, 0)"
done
"$HW" top --by function --sort allocations -n 0 -f json "$T/together.hws" > "$T/top.json"
expect "together: the main thread's with their stack, the clone's without one" \
	"$(json "$T/top.json" 'sorted(g["allocations"] for g in j["groups"] if g["allocations"] >= 100000)')" \
	"[100000, 100000]"
