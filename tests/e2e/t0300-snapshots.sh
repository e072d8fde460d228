#!/bin/sh
# Snapshots during a run: `heapwise snapshot PID` at three known points of
# tests/progs/phases.c (by heapwise's pid and by the program's), generations,
# selectors, and --snapshot-every.
. "$(dirname "$0")/lib.sh"

phases_with_snapshots "$T/ph.hws"
expect "run exits with the program's status" "$run_status" 0
expect "snapshot says what it took" "$(cat "$T/snap.out")" "snapshot p1 taken: 150 blocks, 107.4 KiB
snapshot p2 taken: 230 blocks, 315.3 KiB
snapshot p3 taken: 320 blocks, 373.0 KiB"
expect "snapshot prints no errors" "$(cat "$T/snap.err")" ""

stats_json "$T/ph.hws" > "$T/s.json"
expect "snapshots in time order, peak by its time" \
	"$(json "$T/s.json" '" ".join("%s:%d:%d" % (s["name"], s["blocks"], s["bytes"]) for s in j["snapshots"])')" \
	"p1:150:110000 p2:230:322880 p3:320:381920 peak:420:481920 exit:420:481920"
expect "snapshot times increase" \
	"$(json "$T/s.json" 'all(a["time_ns"] <= b["time_ns"] for a, b in zip(j["snapshots"], j["snapshots"][1:]))')" True

# selectors: by label, by number, @exit, bare file
"$HW" top -f json "$T/ph.hws@p2" > "$T/t.json"
expect "FILE@p2 selects p2" "$(json "$T/t.json" 'j["snapshot"]["name"], j["total"]["count"]')" "('p2', 230)"
"$HW" top -f json "$T/ph.hws@2" > "$T/t.json"
expect "FILE@2 selects the second" "$(json "$T/t.json" 'j["snapshot"]["name"]')" "p2"
"$HW" top -f json "$T/ph.hws" > "$T/t.json"
expect "a bare FILE is @exit" "$(json "$T/t.json" 'j["snapshot"]["name"]')" "exit"
"$HW" top "$T/ph.hws@p9" 2> "$T/err"
expect "an unknown snapshot: status 1" "$?" 1
expect "an unknown snapshot: says which exist" "$(cat "$T/err")" \
	"heapwise: error: '$T/ph.hws' has no snapshot 'p9' (it has: 1 p1, 2 p2, 3 p3, 4 peak, 5 exit)"

# generations at exit: site A's blocks of phases 1-4 survived 3, 2, 1, 0 of
# p1..p3 (the peak is not counted); C's 20 survivors 2
gen() { "$HW" top -f json -g "$1" "$T/ph.hws" > "$T/g.json"; json "$T/g.json" '[(g["line"], g["count"], g["size"]) for g in j["groups"]]'; }
expect "generation 2+ at exit" "$(gen 2)" "[(20, 200, 200000), (30, 20, 81920)]"
expect "generation 1 at exit" "$(gen 1)" "[(20, 100, 100000)]"
expect "generation 0 at exit" "$(gen 0)" "[(20, 100, 100000)]"
"$HW" top -f json -g 1 "$T/ph.hws@p3" > "$T/g.json"
expect "generation 1 at p3" "$(json "$T/g.json" '[(g["line"], g["count"]) for g in j["groups"]]')" "[(20, 100), (30, 20)]"

# growth: A grew at each of the last 3 steps (p1 -> p2 -> p3 -> exit), C did not
"$HW" top --growth -k 3 "$T/ph.hws" > "$T/growth"
expect "growth finds site A only" "$(cat "$T/growth")" \
	"tests/progs/phases.c:20: size=390.6 KiB, count=400, grew 293.0 KiB over 3 snapshots, old generations 293.0 KiB"
"$HW" top --growth -k 3 -f json "$T/ph.hws" > "$T/g.json"
expect "growth as json" "$(json "$T/g.json" '[(g["function"], g["size"], g["growth"], g["old_size"]) for g in j["groups"]]')" \
	"[('site_a', 400000, 300000, 300000)]"
"$HW" top --growth -k 5 "$T/ph.hws" 2> "$T/err"
expect "growth needs enough snapshots" "$?" 1

# refused requests
"$HW" snapshot 999999999 2> "$T/err"
expect "no such process: status 1" "$?" 1
"$HW" snapshot $$ 2> "$T/err"
expect_match "an untraced process: says so" "$(cat "$T/err")" "is not traced by heapwise run"
"$HW" snapshot --label exit $$ 2> "$T/err"
expect "a reserved label: status 2" "$?" 2

# --snapshot-every: a program that lives 0.6 s gets snapshots every 0.1 s
"$HW" run -q -s 0.1 -o "$T/every.hws" -- sh -c 'sleep 0.6' 
stats_json "$T/every.hws" > "$T/e.json"
expect "--snapshot-every takes about one per period" \
	"$(json "$T/e.json" '3 <= len([s for s in j["snapshots"] if s["name"].startswith("auto-")]) <= 7')" True
"$HW" run -s 0 -- true 2> "$T/err"
expect "--snapshot-every 0: status 2" "$?" 2

# a diff between two snapshots of the run: B only in p1 shows with size 0
expect "diff p1 p2" "$("$HW" diff "$T/ph.hws@p1" "$T/ph.hws@p2")" \
"tests/progs/phases.c:30: size=120.0 KiB (+120.0 KiB), count=30 (+30), average=4.0 KiB
tests/progs/phases.c:20: size=195.3 KiB (+97.7 KiB), count=200 (+100), average=1000 B
tests/progs/phases.c:25: size=0 B (-9.8 KiB), count=0 (-50), average=0 B
total: size=315.3 KiB (+207.9 KiB), count=230 (+80), average=1.4 KiB"

# stats: allocation sizes over the run, traced memory, RSS against the heap
"$HW" stats "$T/ph.hws" > "$T/stats.txt"
expect "stats: traced memory" "$(grep '^traced memory' "$T/stats.txt")" \
	"traced memory: current 470.6 KiB (at exit), peak 470.6 KiB"
expect "stats: size histogram" "$(sed -n '/^allocation sizes/,/^snapshots/p' "$T/stats.txt" | sed '1d;$d' | tr -s ' ')" \
" 128 B - 255 B 50 allocations 9.8 KiB
 512 B - 1023 B 400 allocations 390.6 KiB
 4.0 KiB - 8.0 KiB 30 allocations 120.0 KiB"
expect "stats json: size histogram" "$(json "$T/s.json" '[(b["min"], b["max"], b["count"], b["bytes"]) for b in j["size_histogram"]]')" \
	"[(128, 255, 50, 10000), (512, 1023, 400, 400000), (4096, 8191, 30, 122880)]"
expect "stats json: rss against heap" \
	"$(json "$T/s.json" 'j["rss_vs_heap"]["rss_at_max_gap"] > 0 and j["rss_vs_heap"]["max_gap_bytes"] == max(0, j["rss_vs_heap"]["rss_at_max_gap"] - j["rss_vs_heap"]["heap_at_max_gap"])')" True

# memory the allocator keeps: fragment.c frees 99% of 50 MiB of small blocks
# but keeps every 100th, so glibc cannot give the heap back
"$HW" run -q -o "$T/frag.hws" -- "$P/fragment"
stats_json "$T/frag.hws" > "$T/f.json"
expect "rss against heap: the kept 50 MiB show, the live heap is 500 KB" \
	"$(json "$T/f.json" '(j["rss_vs_heap"]["max_gap_bytes"] > 45 << 20, j["rss_vs_heap"]["heap_at_max_gap"])')" "(True, 512000)"
# and the resident set at exit in parts: the free space in malloc's heaps is glibc's own
# count of its free bytes (mallinfo2's fordblks, written by the program) within 2%
fordblks=$("$HW" run -q -o "$T/frag2.hws" -- "$P/fragment" info | sed -n 's/^fordblks //p')
stats_json "$T/frag2.hws" > "$T/f2.json"
expect "resident set at exit in parts: live heap 500 KB, malloc's free space as glibc counts it" \
	"$(json "$T/f2.json" '(lambda r: (r["snapshot"], r["live_heap"], abs(r["allocator_free"] - '"$fordblks"') <= 0.02 * '"$fordblks"', r["pymalloc_free"], r["live_heap"] + r["allocator_free"] + r["other"] == r["rss"]))(j["rss_breakdown"])')" \
	"('exit', 512000, True, 0, True)"
expect_match "stats: the resident set at exit in parts" "$("$HW" stats "$T/frag2.hws")" \
	"^resident set at exit: [0-9.]+ MiB = live heap 500\.0 KiB \+ free in malloc's heaps 5[0-9]\.[0-9] MiB \+ other [0-9.]+ MiB$"
"$HW" export -f svg --timeline -o "$T/frag2.svg" "$T/frag2.hws"
expect_match "the timeline's exit marker tells the resident set in parts" \
	"$(grep -o '<title>snapshot exit[^<]*' "$T/frag2.svg")" \
	"; resident [0-9.]+ MiB: live heap 500\.0 KiB, free in malloc's heaps 5[0-9]\.[0-9] MiB, free in pymalloc's arenas 0 B, other [0-9.]+ MiB$"
# ... and at every snapshot, read as the program runs: the periodic ones taken while it
# sleeps with its 500 KB kept tell the same parts as the exit's
fordblks=$("$HW" run -q -s 0.1 -o "$T/frag4.hws" -- "$P/fragment" info | sed -n 's/^fordblks //p')
stats_json "$T/frag4.hws" > "$T/f4.json"
expect "resident set at each periodic snapshot in the sleep: live heap 500 KB, malloc's free space as glibc counts it" \
	"$(json "$T/f4.json" 'sorted({(r["live_heap"], abs(r["allocator_free"] - '"${fordblks:-0}"') <= 0.02 * '"${fordblks:-0}"', r["live_heap"] + r["allocator_free"] + r["other"] == r["rss"]) for s in j["snapshots"] if s["name"].startswith("auto-") and s["bytes"] == 512000 for r in [s["rss_breakdown"]]}) + [sum(s["name"].startswith("auto-") and s["bytes"] == 512000 for s in j["snapshots"]) >= 2]')" \
	"[(512000, True, True), True]"
expect "a sampled run has no parts: its blocks are a few of the heap's" \
	"$("$HW" run -q --sample-rate 64KiB -o "$T/frag3.hws" -- "$P/fragment" > /dev/null; stats_json "$T/frag3.hws" | json /dev/stdin 'j["rss_breakdown"]')" "None"

# the timeline at the program's time, not replay's: bigheap builds 2M blocks faster than replay
# keeps up, says "ready" and holds them until told to go. A snapshot taken then holds the
# whole heap; every point of the timeline from its time on is that heap (points taken while
# replay caught up used to show the heap replay had reached, 175 MB for 218, at the
# snapshot's own millisecond), none before it is above it, and the peak is not after it.
mkfifo "$T/hold"
"$HW" run -q -o "$T/held.hws" -- "$P/bigheap" 2000000 wait < "$T/hold" > "$T/held.out" &
hw=$!
exec 3> "$T/hold"
i=0
while ! grep -q ready "$T/held.out" 2>/dev/null && [ $i -lt 400 ]; do sleep 0.02; i=$((i + 1)); done
"$HW" snapshot --label held "$hw" > /dev/null
sleep 0.3
echo go >&3
exec 3>&-
wait "$hw"
"$HW" export -f massif -o "$T/held.massif" "$T/held.hws"
expect "the timeline holds the heap at its own time: after the held snapshot, its heap" \
	"$(python3 - "$T/held.massif" <<'PYEOF'
import re, sys
points = []
for block in open(sys.argv[1]).read().split("snapshot=")[1:]:
    points.append((int(re.search(r"\ntime=(\d+)", block).group(1)), int(re.search(r"\nmem_heap_B=(\d+)", block).group(1)),
                   re.search(r"\nheap_tree=(\w+)", block).group(1)))
held = [p for p in points if p[2] == "detailed"][0]
peak = [p for p in points if p[2] == "peak"][0]
after = sorted({b for t, b, _ in points if t >= held[0]})
before = [p for p in points if p[0] < held[0] and p[1] > held[1]]
print("%d points; after: %s; above it before: %s; peak after it: %s" %
      (len(points) > 20, after == [held[1]] or after, before, peak[0] > held[0]))
PYEOF
)" "1 points; after: True; above it before: []; peak after it: False"
