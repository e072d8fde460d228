#!/bin/sh
# run --sample-rate: estimates within 10% of the exact run per function over
# 1% of the bytes allocated, marked as estimates, leak kinds from the scan.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/exact.hws" -- "$P/sampled" > /dev/null
"$HW" run --sample-rate 32KiB -o "$T/samp.hws" -- "$P/sampled" > "$T/out" 2> "$T/err"
expect "the program's output is its own" "$(cat "$T/out")" "sampled done"

by_function() { "$HW" top -f json --by function --sort allocated -n 0 "$1@exit" |
	json /dev/stdin '{g["function"]: g["bytes_allocated"] for g in j["groups"]}'; }
exact=$(by_function "$T/exact.hws")
samp=$(by_function "$T/samp.hws")
check="e = $exact; s = $samp; total = sum(e.values())
big = [f for f in e if e[f] >= total / 100]
bad = [(f, e[f], s.get(f, 0)) for f in big if abs(s.get(f, 0) - e[f]) > e[f] / 10]"
expect "the sites that matter are all there" \
	"$(python3 -c "$check
print(sorted(big))")" "['grown_blocks', 'large_blocks', 'main', 'medium_blocks', 'small_blocks']"
expect "bytes allocated per function within 10% of the exact run" "$(python3 -c "$check
print(bad)")" "[]"

stats_json "$T/exact.hws" > "$T/e.json"
stats_json "$T/samp.hws" > "$T/s.json"
expect "exact: not sampled" "$(json "$T/e.json" '(j["sampled"], j["sample_rate"])')" "(False, 0)"
expect "sampled: says so, with its rate" "$(json "$T/s.json" '(j["sampled"], j["sample_rate"])')" "(True, 32768)"
expect "allocations within 10% of the exact count" \
	"$(python3 -c "import json; e = json.load(open('$T/e.json')); s = json.load(open('$T/s.json'))
print(abs(s['allocations'] - e['allocations']) <= e['allocations'] / 10)")" True
expect "the huge blocks kept at exit: all caught, each its own weight" \
	"$(json "$T/s.json" 'j["live_bytes"] >= 8 * (4 << 20)')" True
expect_match "the summary says it sampled" "$(cat "$T/err")" \
	"^heapwise: sampled: one allocation in 32.0 KiB allocated recorded, by size"
expect_match "the summary marks estimates" "$(cat "$T/err")" "^heapwise: ~[0-9]* allocations, ~[0-9]* frees"
expect_match "top marks estimates" "$("$HW" top -n 1 "$T/samp.hws@peak")" "size=~[0-9.]* [KMG]*i*B, count=~"
expect "top's JSON says it is sampled" \
	"$("$HW" top -f json -n 1 "$T/samp.hws@exit" | json /dev/stdin '(j["snapshot"]["sampled"], j["snapshot"]["sample_rate"])')" \
	"(True, 32768)"
# the 4 MiB blocks are nearly always recorded (1 - exp(-128)): the scan finds them lost
"$HW" leaks -f json "$T/samp.hws" > "$T/leaks.json"
expect "leaks: the huge blocks definitely lost" \
	"$(json "$T/leaks.json" '(j["definite"]["blocks"], j["definite"]["bytes"])')" "(8, 33554432)"

# leak kinds weigh the recorded blocks: bigheap's 500k blocks of 80-136 bytes,
# all reachable but a lost tail of 5,000 (one definite block owning the rest).
# At 4 KiB about 1 block in 40 is recorded, and the others hold the list
# together unseen: malloc's heaps are read as roots then, so what the exact
# run calls reachable is reachable sampled too (within 5%, about five times
# the estimate's error), and nothing is called lost that was not (the tail
# is held by its own unrecorded blocks: sampled, it counts reachable)
"$HW" run -q -o "$T/big-exact.hws" -- "$P/bigheap" 500000 > /dev/null
"$HW" run -q --sample-rate 4KiB -o "$T/big-samp.hws" -- "$P/bigheap" 500000 > /dev/null
"$HW" leaks -f json "$T/big-exact.hws" > "$T/be.json"
"$HW" leaks -f json "$T/big-samp.hws" > "$T/bs.json"
expect "leaks, sampled: reachable within 5% of the exact run's, nothing lost that is not" \
	"$(python3 -c "import json; e = json.load(open('$T/be.json')); s = json.load(open('$T/bs.json'))
lost = lambda j: j['definite']['bytes'] + j['indirect']['bytes'] + j['possible']['bytes']
r = lambda j: j['reachable']['bytes']
print(abs(r(s) - r(e)) <= r(e) * 0.05, lost(s) <= lost(e), lost(e) > 400000)")" "True True True"
expect_match "leaks, sampled: the summary marks estimates" "$("$HW" leaks "$T/big-samp.hws")" \
	"still reachable: ~[0-9,]+ bytes in ~[0-9,]+ blocks"
expect_match "leaks, exact: no marks" "$("$HW" leaks "$T/big-exact.hws")" \
	"still reachable: [0-9,]+ bytes in [0-9,]+ blocks"

# while it runs: the dashboard, `heapwise snapshot` and the reports mark
# estimates too, and weigh what they count. watched's small_many holds 5,000
# blocks of 16 B: at 1 KiB about 80 are recorded, each standing for ~64, so
# the estimate is within 50% (some 4.5 times its error); unweighted it would
# be about 90 blocks.
mkfifo "$T/in"
"$HW" run -q --sample-rate 1KiB -o "$T/w.hws" -- "$P/watched" < "$T/in" > "$T/w.out" &
hw=$!
exec 3> "$T/in"
for _ in $(seq 100); do grep -q "ready 1" "$T/w.out" 2>/dev/null && break; sleep 0.05; done
"$HW" live --batch --count 1 --rows 3 "$hw" > "$T/batch" 2>&1
expect_match "live --batch: the header marks estimates and says so" "$(head -1 "$T/batch")" \
	"heap ~[0-9.]+ [KM]iB, peak ~[0-9.]+ [KM]iB, RSS [0-9.]+ [KM]iB, ~[0-9.k]+ allocs/s, ~[0-9.k]+ frees/s, ~[0-9]+ blocks, .* \\(sampled: ~ marks estimates\\)$"
expect_match "live --batch: each row's numbers are marked" "$(grep small_many "$T/batch")" \
	"^ +~[0-9.]+ KiB +[0-9.]+% +~[0-9]+ +~[0-9.k]+ +~[-+0-9.]+ [KM]?i?B? +~[0-9.]+ KiB +small_many "
"$HW" snapshot --scan --label mid "$hw" > "$T/snap.txt"
expect_match "snapshot --scan: estimates, marked" "$(cat "$T/snap.txt")" \
	"^snapshot mid taken: ~[0-9]+ blocks, ~[0-9.]+ [KM]iB; scanned"
echo x >&3
echo x >&3
exec 3>&-
wait "$hw"
expect "the program ran on" "$?" "0"
expect "snapshot --scan: its blocks weighed (5,000 small ones and the rest, within 50%)" \
	"$(sed 's/^snapshot mid taken: ~\([0-9]*\) blocks.*/\1/' "$T/snap.txt" | awk '{ print ($1 > 2500 && $1 < 8000) }')" 1
expect_match "stats: the snapshots' bytes marked, their blocks those recorded" "$("$HW" stats "$T/w.hws" | grep ' mid ')" \
	"^ +1 mid +at +[0-9.]+ m?s +[0-9]+ blocks recorded +~[0-9.]+ [KM]iB$"
expect_match "stats: traced memory marked" "$("$HW" stats "$T/w.hws" | grep '^traced memory')" \
	"^traced memory: current ~[0-9.]+ [KM]iB \\(at exit\\), peak ~[0-9.]+ [KM]iB$"
expect_match "diff marks estimates" "$("$HW" diff "$T/w.hws@mid" "$T/w.hws@exit" | tail -1)" \
	"^total: size=~[0-9.]+ [KM]iB \\(~[-+][0-9.]+ [KM]?i?B\\), count=~[0-9]+ \\(~[-+][0-9]+\\), average="
expect_match "diff, exact: no marks" "$("$HW" diff "$T/exact.hws@peak" "$T/exact.hws@exit" | tail -1)" \
	"^total: size=[0-9.]+ [KM]iB \\([-+][0-9.]+ [KM]?i?B\\), count=[0-9]+ \\([-+][0-9]+\\), average="
small=$("$HW" refs -n 1 "$T/w.hws@mid" small_many | tail -1)
expect_match "refs: says the blocks listed are those recorded, and what they stand for" "$small" \
	"^\\(sampled: the [0-9]+ blocks recorded, which stand for ~[0-9]+\\)$"

# export's JSON and CSV give the same estimates as top, not the recorded blocks' sums
expect "export -f json: live bytes and blocks per site are top's estimates" \
	"$("$HW" export -f json "$T/w.hws@mid" | json /dev/stdin '(sum(s["live_bytes"] for s in j["sites"]), sum(s["live_blocks"] for s in j["sites"]))')" \
	"$("$HW" top -f json -n 0 "$T/w.hws@mid" | json /dev/stdin '(j["total"]["size"], j["total"]["count"])')"
expect "export -f csv: the same" \
	"$("$HW" export -f csv "$T/w.hws@mid" | python3 -c 'import csv, sys; r = list(csv.DictReader(sys.stdin)); print((sum(int(x["live_bytes"]) for x in r), sum(int(x["live_blocks"]) for x in r)))')" \
	"$("$HW" top -f json -n 0 "$T/w.hws@mid" | json /dev/stdin '(j["total"]["size"], j["total"]["count"])')"

# far fewer records: a smaller profile
expect "the sampled profile is the smaller" \
	"$(python3 -c "import os; print(os.path.getsize('$T/samp.hws') < os.path.getsize('$T/exact.hws'))")" True

"$HW" run --sample-rate 12XB -- /bin/true 2> "$T/err"
expect "a bad rate: usage error" "$?" 2
expect_match "a bad rate: says which" "$(cat "$T/err")" "sample-rate takes bytes from 0 to 1 TiB"
"$HW" run --sample-rate 2TiB -- /bin/true 2> /dev/null
expect "a rate over 1 TiB: usage error" "$?" 2

# each snapshot's JSON counts what its recorded blocks stand for, as its bytes do, without
# reading them (stats reads heads only): steadyheap holds 20,000 blocks throughout
"$HW" run -q --sample-rate 4KiB -s 0.05 -o "$T/steady.hws" -- "$P/steadyheap" 20000 10 > /dev/null 2>&1
expect "sampled snapshots: blocks are estimates near the true 20,000, recorded_blocks the few recorded" \
	"$(stats_json "$T/steady.hws" | json /dev/stdin '(lambda a: (len(a) >= 3, all(16000 <= s["blocks"] <= 24000 and s["recorded_blocks"] < s["blocks"] / 10 for s in a)))([s for s in j["snapshots"] if s["name"].startswith("auto-")])')" \
	"(True, True)"
