#!/bin/sh
# A burst: 100 threads started at once, 100,000 allocations each, then
# exit (freeing as they go, or keeping all until the end). Threads that
# find their ring full sleep on a futex the collector wakes, instead of
# spinning on the two cores the collector needs: every event arrives, in
# order, in a few seconds.
. "$(dirname "$0")/lib.sh"

# burst NAME MAX_MS ARGS...: trace burst ARGS, and check it all arrived within MAX_MS
burst() {
	name=$1 max=$2
	shift 2
	t0=$(date +%s%N)
	"$HW" run -q -o "$T/$name.hws" -- "$P/burst" "$@" > "$T/out"
	ms=$((($(date +%s%N) - t0) / 1000000))
	expect "$name: the program ran" "$(cat "$T/out")" "done"
	stats_json "$T/$name.hws" > "$T/$name.json"
	expect "$name: nothing lost, nothing out of order" \
		"$(json "$T/$name.json" '(j["lost_events"], j["unknown_frees"])')" "(0, 0)"
	"$HW" top --by function --sort allocations -n 0 -f json "$T/$name.hws" > "$T/top.json"
	expect "$name: every allocation of the threads, every one freed" \
		"$(json "$T/top.json" '[(g["allocations"], g["count"]) for g in j["groups"] if g["function"] == "work"]')" \
		"[(10000000, 0)]"
	expect "$name: in a few seconds (under $((max / 1000)) s on two cores)" \
		"$([ $ms -lt "$max" ] && echo yes || echo "no: $ms ms")" yes
}

burst freed 10000 100 100000
# each thread keeping its blocks until it made them all: millions live at once
burst kept 20000 100 100000 keep
