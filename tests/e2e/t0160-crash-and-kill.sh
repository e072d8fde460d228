#!/bin/sh
# A program killed by a signal still gets its profile and its status; a
# collector killed mid-run leaves the program running, unharmed.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/c.hws" -- "$P/crasher" 2> "$T/err"
expect "status 128+SIGSEGV" "$?" 139
stats_json "$T/c.hws" > "$T/c.json"
expect "profile of the crashed run" "$(json "$T/c.json" '(j["allocations"], j["frees"], j["exit_status"], j["term_signal"])')" "(7, 2, 139, 11)"
"$HW" run -o "$T/c2.hws" -- "$P/crasher" 2> "$T/err"
expect_match "summary names the signal" "$(cat "$T/err")" 'was killed by signal 11 \(SIGSEGV\), status 139'

# the collector dies with SIGKILL while the program runs
"$P/steady" 60 > "$T/untraced.out"
expect "steady's own status" "$?" 3
"$HW" run -q -o "$T/k.hws" -- "$P/steady" 60 > "$T/traced.out" 2>/dev/null &
hw=$!
sleep 0.3
kill -9 "$hw"
wait "$hw" 2>/dev/null
# the orphaned program finishes on its own: wait for its last line
for i in $(seq 1 100); do
	[ "$(wc -l < "$T/traced.out")" -ge 60 ] && break
	sleep 0.1
done
expect "program finished, output unchanged" "$(cmp "$T/untraced.out" "$T/traced.out" && echo same)" same
