#!/bin/sh
# The demo program: sites, lines, peak, temporary allocations, snapshots,
# and valgrind's totals.
. "$(dirname "$0")/lib.sh"

"$HW" run -o "$T/l.hws" -- "$P/leaky" > "$T/out" 2> "$T/err"
expect "exit status" "$?" 0
summary=$(cat "$T/err")
expect_match "summary counts" "$summary" '^heapwise: 1110 allocations, 1000 frees, 77\.0 KiB allocated$'
expect_match "summary live" "$summary" '^heapwise: still allocated at exit: 110 blocks, 14\.5 KiB$'
expect_match "summary top site 1" "$summary" '^heapwise: +9\.8 KiB in +10 blocks  leak_buffers tests/progs/leaky\.c:28$'
expect_match "summary top site 2" "$summary" '^heapwise: +4\.7 KiB in +100 blocks  make_node tests/progs/leaky\.c:18$'
expect_match "summary lost" "$summary" '^heapwise: lost events: 0$'
expect_match "summary path" "$summary" "^heapwise: profile written to $T/l.hws\$"
expect "nothing on stdout" "$(cat "$T/out")" ""

stats_json "$T/l.hws" > "$T/l.json"
expect "peak" "$(json "$T/l.json" '(j["peak_bytes"], j["peak_blocks"])')" "(14864, 111)"
expect "temporary" "$(json "$T/l.json" 'j["temporary_allocations"]')" 1000
expect "snapshots" "$(json "$T/l.json" '[(s["name"], s["blocks"], s["bytes"]) for s in j["snapshots"]]')" \
	"[('peak', 111, 14864), ('exit', 110, 14800)]"
expect "sites" "$(json "$T/l.json" '[(s["function"], s["file"].split("/")[-1], s["line"], s["blocks"], s["bytes"]) for s in j["top_sites"]]')" \
	"[('leak_buffers', 'leaky.c', 28, 10, 10000), ('make_node', 'leaky.c', 18, 100, 4800)]"
expect "json has the documented keys" "$(json "$T/l.json" 'sorted(k for k in ["allocations","frees","bytes_allocated","peak_bytes","live_blocks","live_bytes","lost_events","exit_status","snapshots"] if k not in j)')" "[]"

if have valgrind; then
	expect "totals equal valgrind's" "$(heapwise_totals "$T/l.hws")" "$(valgrind_totals "$P/leaky")"
fi

"$HW" stats "$T/l.hws" > "$T/stats.txt"
expect_match "stats text lists snapshots" "$(cat "$T/stats.txt")" '^  2 exit +at +[0-9]+ ms +110 blocks  14\.5 KiB$'
