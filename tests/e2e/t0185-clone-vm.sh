#!/bin/sh
# A thread made with clone(CLONE_VM) and no TLS of its own shares the
# tracer's per-thread state (and glibc's) with the thread that made it.
# Taking turns, as glibc's malloc needs, every event of both arrives.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/c.hws" -- "$P/clonevm" 100000 > "$T/out"
expect "the program ran" "$(cat "$T/out")" "done"
stats_json "$T/c.hws" > "$T/c.json"
# both threads' 100,000, the clone's stack and stdout's buffer
expect "every allocation and free of both threads, none lost" \
	"$(json "$T/c.json" '(j["allocations"], j["frees"], j["lost_events"])')" "(200002, 200000, 0)"
