#!/bin/sh
# Hundreds of short-lived threads: rings are reclaimed and reused, every
# thread's leak is found, nothing is lost.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/m.hws" -- "$P/manythreads" 600 > "$T/out"
expect "program ran" "$(cat "$T/out")" "600 threads"
stats_json "$T/m.hws" > "$T/m.json"
expect "nothing lost" "$(json "$T/m.json" '(j["lost_events"], j["unknown_frees"])')" "(0, 0)"
expect "one leak per thread" "$(json "$T/m.json" '[(s["blocks"], s["bytes"]) for s in j["top_sites"] if s["function"] == "work"]')" "[(600, 46200)]"
expect "threads seen" "$(json "$T/m.json" 'j["threads"] >= 600')" True
expect "allocations = frees + live" "$(json "$T/m.json" 'j["allocations"] - j["frees"] - j["live_blocks"]')" 0
