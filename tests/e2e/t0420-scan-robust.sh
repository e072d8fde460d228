#!/bin/sh
# The scan at scale and under fire (tests/progs/bigheap.c): a million live
# blocks scanned within 5 seconds with exact kinds; the program killed in
# the middle of a scan; heapwise killed in the middle of a scan (the program
# must run on).
. "$(dirname "$0")/lib.sh"

# --- a million blocks, about 100 MB -------------------------------------------
"$HW" run -q -o "$T/big.hws" -- "$P/bigheap" 1000000
"$HW" leaks -f json "$T/big.hws" > "$T/big.json"
# 990,000 blocks on the list + the index; the lost 10,000: one owner, the rest owned
expect "a million blocks: kinds" "$(json "$T/big.json" '(j["definite"]["blocks"], j["indirect"]["blocks"], j["possible"]["blocks"], j["reachable"]["blocks"])')" \
	"(1, 9999, 0, 990001)"
stop=$(json "$T/big.json" 'j["scan"]["stopped_ns"]')
if [ "$stop" -gt 0 ] && [ "$stop" -le 5000000000 ]; then
	ok "a million blocks scanned in at most 5 s (the program was stopped $((stop / 1000000)) ms)"
else
	not_ok "a million blocks scanned in at most 5 s" "stopped for $stop ns"
fi
expect "the heap read is the blocks' size" "$(json "$T/big.json" 'j["scan"]["heap_bytes"] == j["snapshot"]["bytes"]')" "True"

# start bigheap N wait under heapwise, with stdin on a fifo; sets hw and prog
start_waiting() {
	rm -f "$T/in" "$T/out"
	mkfifo "$T/in"
	"$HW" run -q -o "$T/$1.hws" -- "$P/bigheap" 1000000 wait < "$T/in" > "$T/out" 2> "$T/$1.err" &
	hw=$!
	exec 3> "$T/in"
	for _ in $(seq 600); do grep -q ready "$T/out" 2>/dev/null && break; sleep 0.05; done
	prog=$(pgrep -P "$hw" bigheap)
}

tracer_of() { sed -n 's/^TracerPid:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null; }

# wait until a scan holds the program (its tracer is heapwise)
wait_for_scan() {
	for _ in $(seq 400); do
		t=$(tracer_of "$prog")
		[ -n "$t" ] && [ "$t" != 0 ] && return 0
		sleep 0.01
	done
	return 1
}

# --- the program killed mid-scan -------------------------------------------------
start_waiting killed
"$HW" snapshot --scan "$prog" > "$T/snap.out" 2> "$T/snap.err" &
snap=$!
if wait_for_scan; then
	kill -KILL "$prog"
	wait "$snap"
	expect_match "program killed mid-scan: snapshot says so" "$? $(cat "$T/snap.err")" \
		"^1 heapwise: error: (no snapshot: .*the program ended|the traced program ended)"
	exec 3>&-
	wait "$hw"
	expect "program killed mid-scan: heapwise exits with its status" "$?" "137"
	"$HW" stats "$T/killed.hws" > /dev/null
	expect "program killed mid-scan: the profile is written" "$?" "0"
else
	not_ok "program killed mid-scan: the scan never started" "$(cat "$T/snap.err")"
	exec 3>&-
	kill "$prog" 2>/dev/null
	wait
fi

# --- heapwise killed mid-scan --------------------------------------------------------
start_waiting orphan
"$HW" snapshot --scan "$prog" > /dev/null 2>&1 &
snap=$!
if wait_for_scan; then
	kill -KILL "$hw"
	for _ in $(seq 200); do [ "$(tracer_of "$prog")" = 0 ] && break; sleep 0.01; done
	expect "heapwise killed mid-scan: the program is let go" "$(tracer_of "$prog")" "0"
	state=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$prog/status")
	expect "heapwise killed mid-scan: the program is not left stopped" "$(echo "$state" | tr -d 'tT')" "$state"
	echo x >&3
	exec 3>&-
	for _ in $(seq 200); do [ -d "/proc/$prog" ] || break; sleep 0.05; done
	expect "heapwise killed mid-scan: the program runs to its end" "$([ -d "/proc/$prog" ] && echo running || echo ended)" "ended"
	wait "$snap" 2>/dev/null
else
	not_ok "heapwise killed mid-scan: the scan never started"
	exec 3>&-
	kill "$prog" "$hw" 2>/dev/null
fi
wait 2>/dev/null
true

# --- the program runs on after a scan, traced as before ----------------------------
# steady allocates and frees 2000 blocks every 10 ms for 150 rounds; several scans
# in the middle must not lose or delay a single event
timeout -s KILL 60 "$HW" run -q -o "$T/steady.hws" -- "$P/steady" 150 > "$T/steady.out" &
hw=$!
for _ in $(seq 200); do grep -q "round 5" "$T/steady.out" 2>/dev/null && break; sleep 0.02; done
inner=$(pgrep -P "$hw")	# heapwise, under timeout
for i in 1 2 3; do
	"$HW" snapshot --scan --label "scan$i" "$inner" > /dev/null || not_ok "snapshot --scan $i on a busy program"
	sleep 0.1
done
wait "$hw"
expect "a busy program ends as it would" "$? $(wc -l < "$T/steady.out")" "3 150"
stats_json "$T/steady.hws" > "$T/steady.json"
expect "after scans, every event is there" "$(json "$T/steady.json" '(j["allocations"] >= 300000, j["lost_events"], j["frees"] >= 300000)')" \
	"(True, 0, True)"
"$HW" leaks -f json "$T/steady.hws@scan3" > "$T/scan3.json"
expect "the last mid-run scan is in the profile" "$(json "$T/scan3.json" 'j["snapshot"]["name"]')" "scan3"
