#!/bin/sh
# Blocks freed on other threads, addresses reused at once: nothing lost,
# nothing unmatched, totals equal valgrind's.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/t.hws" -- "$P/threads" 4 3 100000 > "$T/out"
stats_json "$T/t.hws" > "$T/t.json"
expect "nothing lost or unmatched" "$(json "$T/t.json" '(j["lost_events"], j["unknown_frees"])')" "(0, 0)"
# 400000 blocks of 16..128 bytes cycling: 4 x 12500 x (16+32+...+128) bytes
expect "program blocks all freed" "$(json "$T/t.json" '[s for s in j["top_sites"] if s["function"] in ("produce", "consume")]')" "[]"
expect "at least the program's allocations" "$(json "$T/t.json" 'j["allocations"] >= 400000 and j["bytes_allocated"] >= 4*12500*576')" True
expect "allocations = frees + live" "$(json "$T/t.json" 'j["allocations"] - j["frees"] - j["live_blocks"]')" 0
expect "threads seen" "$(json "$T/t.json" 'j["threads"] >= 8')" True

if have valgrind; then
	"$HW" run -q -o "$T/v.hws" -- "$P/threads" 4 3 20000 > "$T/out"
	expect "totals equal valgrind's" "$(heapwise_totals "$T/v.hws")" "$(valgrind_totals "$P/threads" 4 3 20000)"
fi
