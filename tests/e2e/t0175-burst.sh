#!/bin/sh
# A burst: 100 threads started at once, 100,000 allocations each, then
# exit (freeing as they go, or keeping all until the end). Threads that find their ring full sleep on a futex the collector
# wakes, instead of spinning on the two cores the collector needs: every
# event arrives, in order, in a few seconds.
. "$(dirname "$0")/lib.sh"

t0=$(date +%s%N)
"$HW" run -q -o "$T/b.hws" -- "$P/burst" 100 100000 > "$T/out"
ms=$((($(date +%s%N) - t0) / 1000000))
expect "the program ran" "$(cat "$T/out")" "done"
stats_json "$T/b.hws" > "$T/b.json"
expect "nothing lost, nothing out of order" \
	"$(json "$T/b.json" '(j["lost_events"], j["unknown_frees"])')" "(0, 0)"
"$HW" top --by function --sort allocations -n 0 -f json "$T/b.hws" > "$T/top.json"
expect "every allocation of the threads, every one freed" \
	"$(json "$T/top.json" '[(g["allocations"], g["count"]) for g in j["groups"] if g["function"] == "work"]')" \
	"[(10000000, 0)]"
expect "in a few seconds (under 10 s on two cores)" "$([ $ms -lt 10000 ] && echo yes || echo "no: $ms ms")" yes

# the same, each thread keeping its blocks until it made them all: millions live at once
t0=$(date +%s%N)
"$HW" run -q -o "$T/k.hws" -- "$P/burst" 100 100000 keep > "$T/out"
ms=$((($(date +%s%N) - t0) / 1000000))
stats_json "$T/k.hws" > "$T/k.json"
expect "kept: nothing lost, nothing out of order" \
	"$(json "$T/k.json" '(j["lost_events"], j["unknown_frees"])')" "(0, 0)"
"$HW" top --by function --sort allocations -n 0 -f json "$T/k.hws" > "$T/top.json"
expect "kept: every allocation of the threads, every one freed" \
	"$(json "$T/top.json" '[(g["allocations"], g["count"]) for g in j["groups"] if g["function"] == "work"]')" \
	"[(10000000, 0)]"
expect "kept: in a few seconds (under 20 s on two cores)" \
	"$([ $ms -lt 20000 ] && echo yes || echo "no: $ms ms")" yes
