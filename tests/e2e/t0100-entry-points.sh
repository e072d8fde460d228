#!/bin/sh
# Every allocator entry point, counted exactly (tests/progs/entry.c), and
# the same totals as valgrind's memcheck where it can run the program.
. "$(dirname "$0")/lib.sh"

# stdout to a file: glibc gives it a 4096-byte buffer (one more allocation, never freed)
"$HW" run -q -o "$T/e.hws" -- "$P/entry" > "$T/out" || not_ok "run entry" "status $?"
stats_json "$T/e.hws" > "$T/e.json"
# program: 10 allocations, 6494 bytes (pvalloc(1) counts a whole page), 8 frees;
# plus glibc's stdout buffer: 4096 bytes, live at exit.
expect "allocations" "$(json "$T/e.json" 'j["allocations"]')" 11
expect "frees" "$(json "$T/e.json" 'j["frees"]')" 8
expect "bytes allocated" "$(json "$T/e.json" 'j["bytes_allocated"]')" $((6494 + 4096))
expect "live at exit" "$(json "$T/e.json" '(j["live_blocks"], j["live_bytes"])')" "(3, 5196)"
expect "nothing lost" "$(json "$T/e.json" '(j["lost_events"], j["unknown_frees"])')" "(0, 0)"
expect "free(NULL) is no event" "$(json "$T/e.json" 'j["allocations"] - j["frees"] - j["live_blocks"]')" 0

# valgrind 3.19 aborts on pvalloc, so compare without it
"$HW" run -q -o "$T/v.hws" -- "$P/entry" no-pvalloc > "$T/out"
if have valgrind; then
	expect "totals equal valgrind's" "$(heapwise_totals "$T/v.hws")" "$(valgrind_totals "$P/entry" no-pvalloc)"
else
	not_ok "totals equal valgrind's" "valgrind is not installed (make check installs it)"
fi

# frees the tracer never saw (tests/progs/unseen.c): when the address comes
# back, the old block is settled and the new one (104 bytes) is kept
"$HW" run -q -o "$T/u.hws" -- "$P/unseen" > "$T/out" || not_ok "run unseen" "status $?"
expect "addresses came back" "$(cat "$T/out")" "5 1"
stats_json "$T/u.hws" > "$T/u.json"
expect "unseen frees settled" "$(json "$T/u.json" '(j["allocations"], j["frees"], j["bytes_freed"], j["live_blocks"], j["live_bytes"])')" "(12, 5, 520, 2, 4173)"
