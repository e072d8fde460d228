#!/bin/sh
# Periodic snapshots of a steady heap cost little: steadyheap holds 100,000
# blocks (and its array of them) for 3 s while it replaces one in a thousand
# every 20 ms; thirty snapshots of it, written as deltas and packed with
# zstd, make a profile at most 3 times the size of one taken without them;
# read lazily, stats, top and export read it in under a second each, with
# the blocks of the snapshots they need in memory, not all of them. That each snapshot
# reads back block for block is tests/unit/test-profile.c's.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/none.hws" -- "$P/steadyheap" 100000 150 > /dev/null 2>&1
expect "traced without snapshots" "$?" 0
"$HW" run -q -s 0.1 -o "$T/every.hws" -- "$P/steadyheap" 100000 150 > /dev/null 2>&1
expect "traced with a snapshot every 0.1 s" "$?" 0
stats_json "$T/every.hws" > "$T/every.json"
expect "about thirty snapshots, their heaps as the program holds them: 100,000 blocks and the array" \
	"$(json "$T/every.json" '[len([s for s in j["snapshots"] if s["name"].startswith("auto-") and s["blocks"] == 100001]) >= 25, max(s["blocks"] for s in j["snapshots"])]')" \
	"[True, 100001]"
none=$(stat -c %s "$T/none.hws")
every=$(stat -c %s "$T/every.hws")
expect "the profile with them is at most 3 times the one without ($every and $none bytes)" \
	"$(python3 -c "print($every <= 3 * $none)")" True

# what a steady heap does between two snapshots: nothing to its count
"$HW" diff --fail-if 'total.count_diff != 0' "$T/every.hws@auto-10" "$T/every.hws@auto-20" > /dev/null
expect "two snapshots of the steady heap: the same count" "$?" 0

# took CMD...: "True True" when CMD ran in under a second and in under 40
# MiB: a lazy reader's, which reads the blocks of the snapshots it needs
# (thirty snapshots' blocks in memory would be 96 MB)
took() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(time.monotonic() - t < 1, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 40 * 1024)
PY
}
expect "stats reads it in under a second, a snapshot's blocks at most" "$(took "$HW" stats "$T/every.hws")" "True True"
expect "top reads it in under a second, one snapshot's blocks" "$(took "$HW" top "$T/every.hws@auto-15")" "True True"
expect "top --growth over 5 steps too" "$(took "$HW" top --growth -k 5 "$T/every.hws")" "True True"
expect "export as massif (every snapshot in full) too" "$(took "$HW" export -f massif -o "$T/massif.out" "$T/every.hws")" "True True"
expect "with every snapshot in it" "$(grep -c '^heap_tree=detailed' "$T/massif.out")" \
	"$(json "$T/every.json" 'len(j["snapshots"]) - 1')"
"$HW" top -n 12 --format json "$T/every.hws@auto-15" > "$T/top.json"
expect "top of a middle snapshot: the ten sites hold the 100,000 blocks, the array 800,000 bytes in one" \
	"$(json "$T/top.json" '[len([g for g in j["groups"] if g["function"].startswith("site")]), sum(g["count"] for g in j["groups"] if g["function"].startswith("site")), [g["size"] for g in j["groups"] if g["function"] == "main"]]')" \
	"[10, 100000, [800000]]"

# and heapwise run keeps them as it cuts them: each as the blocks born and
# gone since the one before, made whole again one at a time as the profile
# is written. 150 snapshots of the 100,000 blocks, a snapshot's blocks at
# most a few times over (all of them would take 800 MB)
hw_rss() { HEAPWISE_DEBUG=1 "$HW" run -q "$@" 2>&1 >/dev/null | sed -n "s/.*heapwise's peak RSS \([0-9]*\) KiB.*/\1/p"; }
rss_none=$(hw_rss -o "$T/none2.hws" -- "$P/steadyheap" 100000 150)
rss_many=$(hw_rss -s 0.02 -o "$T/many.hws" -- "$P/steadyheap" 100000 150)
expect "about 150 snapshots taken" \
	"$(stats_json "$T/many.hws" | json /dev/stdin 'len([s for s in j["snapshots"] if s["name"].startswith("auto-") and s["blocks"] == 100001]) >= 120')" True
expect "heapwise run's peak RSS with them at most 24 MiB above one without ($rss_many and $rss_none KiB)" \
	"$(python3 -c "print($rss_many <= $rss_none + 24 * 1024)")" True
"$HW" top -n 12 --format json "$T/many.hws@auto-100" > "$T/top100.json"
expect "the hundredth, made from ninety-nine steps of changes: the ten sites' 100,000 blocks, the array" \
	"$(json "$T/top100.json" '[len([g for g in j["groups"] if g["function"].startswith("site")]), sum(g["count"] for g in j["groups"] if g["function"].startswith("site")), [g["size"] for g in j["groups"] if g["function"] == "main"]]')" \
	"[10, 100000, [800000]]"
