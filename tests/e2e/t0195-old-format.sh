#!/bin/sh
# Profiles in format version 1 (fixed 32-byte snapshot blocks, written by
# heapwise before the blocks were packed) and 2 (packed blocks, no zstd, no
# snapshot deltas, a whole-file checksum) still read: tests/fixtures/
# leaky-v1.hws and leaky-v2.hws were made by `heapwise run --
# build/progs/leaky` then.
. "$(dirname "$0")/lib.sh"

OLD=tests/fixtures/leaky-v1.hws
"$HW" stats "$OLD" > "$T/stats" 2> "$T/err"
expect "version 1 reads" "$?" 0
expect_match "its totals" "$(cat "$T/stats")" "^1110 allocations, 1000 frees, 77.0 KiB allocated$"
expect_match "its peak" "$(cat "$T/stats")" "^peak heap 14.5 KiB in 111 blocks"
expect_match "its exit snapshot" "$(cat "$T/stats")" "^still allocated at exit: 110 blocks, 14.5 KiB$"

"$HW" leaks "$OLD" > "$T/leaks"
expect_match "its leaks: definitely lost" "$(cat "$T/leaks")" "definitely lost: 10,048 bytes in 11 blocks"
expect_match "its leaks: indirectly lost" "$(cat "$T/leaks")" "indirectly lost: 4,752 bytes in 99 blocks"

# the same program traced now (version 3) has the same exit snapshot, block for block by site
"$HW" run -q -o "$T/new.hws" -- "$P/leaky" > /dev/null 2>&1
expect "a run writes version 3" "$(od -A n -t u4 -j 8 -N 4 "$T/new.hws" | tr -d ' ')" 3
for v in 1 2; do
	"$HW" diff --fail-if 'total.size_diff != 0' --fail-if 'total.count_diff != 0' \
		"tests/fixtures/leaky-v$v.hws@exit" "$T/new.hws@exit" > "$T/diff"
	expect "version $v and 3 of one program agree" "$?" 0
	expect_match "version $v: by site too" "$(cat "$T/diff")" "leaky.c:28: size=9.8 KiB \(\+0 B\), count=10 \(\+0\)"
done
# version 2 kept the scan too: its leak report is the new run's, but for
# how long the program was stopped
"$HW" leaks tests/fixtures/leaky-v2.hws | sed 1d > "$T/leaks2"
"$HW" leaks "$T/new.hws" | sed 1d > "$T/leaks3"
expect "versions 2 and 3: one leak report" "$(diff "$T/leaks2" "$T/leaks3")" ""
expect_match "with its leaks" "$(cat "$T/leaks3")" "definitely lost: 10,048 bytes in 11 blocks"

# CPU times: the old profile has none (null, no line); a run now records the
# program's and heapwise's own, and a busy loop's CPU is nearly its wall time
expect "old profile: no CPU times" "$(stats_json "$OLD" | python3 -c 'import json, sys; j = json.load(sys.stdin); print(j["program_cpu_ns"], j["heapwise_cpu_ns"])')" "None None"
expect "old profile: no CPU line" "$(grep -c '^CPU:' "$T/stats")" 0
"$HW" run -q -o "$T/busy.hws" -- sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done' > /dev/null 2>&1
stats_json "$T/busy.hws" > "$T/busy.json"
expect "a busy loop: its CPU is most of its wall time, heapwise's a small part of it" \
	"$(json "$T/busy.json" 'j["program_cpu_ns"] > 0.7 * j["duration_ns"] and 0 < j["heapwise_cpu_ns"] < 0.5 * j["program_cpu_ns"]')" True
expect_match "and the text says both" "$("$HW" stats "$T/busy.hws")" "^CPU: the program [0-9.]+ s, heapwise [0-9.]+ s$"
