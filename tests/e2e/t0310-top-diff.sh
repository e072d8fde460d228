#!/bin/sh
# top and diff on tests/progs/phases.c, whose sites and phases are known
# exactly: groupings, filters, formats, the CI gate both ways, and a diff
# against a rebuild where every line moved.
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/base.hws" -- "$P/phases" < /dev/null > /dev/null
"$HW" run -q -o "$T/more.hws" -- "$P/phases" 150 < /dev/null > /dev/null
"$HW" run -q -o "$T/moved.hws" -- "$P/moved/phases" < /dev/null > /dev/null

# golden text: tracemalloc's lines
expect "top by line" "$("$HW" top "$T/base.hws")" \
"tests/progs/phases.c:20: size=390.6 KiB, count=400, average=1000 B
tests/progs/phases.c:30: size=80.0 KiB, count=20, average=4.0 KiB"
expect "top by function" "$("$HW" top -b function "$T/base.hws")" \
"site_a: size=390.6 KiB, count=400, average=1000 B
site_c: size=80.0 KiB, count=20, average=4.0 KiB"
expect "top by file" "$("$HW" top -b file "$T/base.hws")" \
"tests/progs/phases.c: size=470.6 KiB, count=420, average=1.1 KiB"
expect_match "top by module" "$("$HW" top -b module "$T/base.hws")" \
	"^$P/phases: size=470.6 KiB, count=420, average=1.1 KiB$"
"$HW" top -b traceback -n 1 "$T/base.hws" > "$T/tb"
# each call of site_a is a traceback of its own: four of 100 blocks
expect "traceback: the site as tracemalloc prints it, outermost first, ends at the site" "$(sed -n '1p;$p' "$T/tb")" \
"tests/progs/phases.c:20: size=97.7 KiB, count=100, average=1000 B
  site_a tests/progs/phases.c:20"
expect "traceback: the caller's line" "$(tail -2 "$T/tb" | head -1)" "  main tests/progs/phases.c:52"
"$HW" top -b traceback -n 1 --most-recent-first "$T/base.hws" > "$T/tb"
expect "traceback --most-recent-first" "$(sed -n 2,3p "$T/tb")" "  site_a tests/progs/phases.c:20
  main tests/progs/phases.c:52"

# the peak: C had 30 blocks there, B none (freed in phase 2)
"$HW" top -f json "$T/base.hws@peak" > "$T/p.json"
expect "top @peak, json" "$(json "$T/p.json" '[(g["function"], g["file"], g["line"], g["count"], g["size"], g["average"]) for g in j["groups"]]')" \
	"[('site_a', 'tests/progs/phases.c', 20, 400, 400000, 1000), ('site_c', 'tests/progs/phases.c', 30, 20, 81920, 4096)]"
expect "top json total and module" "$(json "$T/p.json" 'j["total"]["count"], j["total"]["size"], j["groups"][0]["module"] == "'"$P/phases"'"')" \
	"(420, 481920, True)"

# run-wide counters and sort keys
"$HW" top -f json -s allocations "$T/base.hws" > "$T/a.json"
expect "sort by allocations (B's 50 are all freed, still listed)" \
	"$(json "$T/a.json" '[(g["function"], g["allocations"], g["bytes_allocated"], g["peak_bytes"]) for g in j["groups"]]')" \
	"[('site_a', 400, 400000, 400000), ('site_b', 50, 10000, 0), ('site_c', 30, 122880, 81920)]"
expect "sort by allocated shows it" "$("$HW" top -s allocated -n 1 "$T/base.hws")" \
	"tests/progs/phases.c:20: size=390.6 KiB, count=400, average=1000 B, allocated=390.6 KiB"

# cumulative: main holds everything once; recursion-free so each frame once
"$HW" top -c -b function -f json -n 0 "$T/base.hws" > "$T/c.json"
expect "cumulative: main counts every block once" \
	"$(json "$T/c.json" '[(g["count"], g["size"]) for g in j["groups"] if g["function"] == "main"]')" "[(420, 481920)]"
expect "cumulative: site_a its own" \
	"$(json "$T/c.json" '[(g["count"], g["size"]) for g in j["groups"] if g["function"] == "site_a"]')" "[(400, 400000)]"

# filters
expect "--include on function" "$("$HW" top -i 'site_c' "$T/base.hws")" \
	"tests/progs/phases.c:30: size=80.0 KiB, count=20, average=4.0 KiB"
expect "--exclude on function" "$("$HW" top -x 'site_a' "$T/base.hws")" \
	"tests/progs/phases.c:30: size=80.0 KiB, count=20, average=4.0 KiB"
expect "--include of a caller matches nothing without --all-frames" "$("$HW" top -i main "$T/base.hws")" ""
expect "--include of a caller with --all-frames" "$("$HW" top -i main --all-frames -b function "$T/base.hws")" \
"site_a: size=390.6 KiB, count=400, average=1000 B
site_c: size=80.0 KiB, count=20, average=4.0 KiB"
expect "--alloc-fn charges the caller" "$("$HW" top --alloc-fn 'site_*' "$T/base.hws")" \
"tests/progs/phases.c:52: size=97.7 KiB, count=100, average=1000 B
tests/progs/phases.c:58: size=97.7 KiB, count=100, average=1000 B
tests/progs/phases.c:66: size=97.7 KiB, count=100, average=1000 B
tests/progs/phases.c:72: size=97.7 KiB, count=100, average=1000 B
tests/progs/phases.c:62: size=80.0 KiB, count=20, average=4.0 KiB"

# csv and markdown
expect "csv" "$("$HW" top -f csv -b function "$T/base.hws" | cut -d, -f1-3,5-)" \
"place,function,file,module,size,count,average,allocations,bytes_allocated,temporary,peak_bytes
site_a,site_a,tests/progs/phases.c,$P/phases,400000,400,1000,400,400000,0,400000
site_c,site_c,tests/progs/phases.c,$P/phases,81920,20,4096,30,122880,0,81920"
expect_match "markdown has a table row" "$("$HW" top -f markdown "$T/base.hws")" \
	'^\| `tests/progs/phases.c:20` \| 390.6 KiB \| 400 \| 1000 B \|$'

# diff of two runs: 50 more blocks at A
expect "diff text" "$("$HW" diff "$T/base.hws" "$T/more.hws")" \
"tests/progs/phases.c:20: size=439.5 KiB (+48.8 KiB), count=450 (+50), average=1000 B
tests/progs/phases.c:30: size=80.0 KiB (+0 B), count=20 (+0), average=4.0 KiB
total: size=519.5 KiB (+48.8 KiB), count=470 (+50), average=1.1 KiB"
"$HW" diff -f json "$T/base.hws" "$T/more.hws" > "$T/d.json"
expect "diff json total" "$(json "$T/d.json" 'j["total"]')" \
	"{'size': 531920, 'size_diff': 50000, 'count': 470, 'count_diff': 50}"
expect "diff json sites" "$(json "$T/d.json" '[(s["function"], s["file"], s["line"], s["size"], s["size_diff"], s["count"], s["count_diff"]) for s in j["sites"]]')" \
	"[('site_a', 'tests/progs/phases.c', 20, 450000, 50000, 450, 50), ('site_c', 'tests/progs/phases.c', 30, 81920, 0, 20, 0)]"
expect "diff json: no gate" "$(json "$T/d.json" 'j["gate"]')" "{'tripped': False, 'conditions': []}"

# two snapshots of one run
expect "diff @peak @exit of one run" "$("$HW" diff "$T/base.hws@peak" "$T/base.hws@exit")" \
"tests/progs/phases.c:20: size=390.6 KiB (+0 B), count=400 (+0), average=1000 B
tests/progs/phases.c:30: size=80.0 KiB (+0 B), count=20 (+0), average=4.0 KiB
total: size=470.6 KiB (+0 B), count=420 (+0), average=1.1 KiB"

# the gate, both ways
"$HW" diff --fail-if 'total.size_diff > 40KiB' "$T/base.hws" "$T/more.hws" > /dev/null 2> "$T/err"
expect "gate trips: status 3" "$?" 3
expect "gate trips: says by how much" "$(cat "$T/err")" \
	"heapwise: gate tripped: total.size_diff > 40KiB (total is +48.8 KiB)"
"$HW" diff --fail-if 'total.size_diff > 60KiB' "$T/base.hws" "$T/more.hws" > /dev/null 2> "$T/err"
expect "gate holds: status 0" "$?" 0
expect "gate holds: quiet" "$(cat "$T/err")" ""
"$HW" diff --fail-if 'site.count_diff >= 50' --fail-if 'total.count_diff > 1000' "$T/base.hws" "$T/more.hws" > /dev/null 2> "$T/err"
expect "site gate: status 3" "$?" 3
expect "site gate: lists the sites" "$(cat "$T/err")" \
"heapwise: gate tripped: site.count_diff >= 50, by:
heapwise:     tests/progs/phases.c:20: +50"
"$HW" diff -f json --fail-if 'site.size_diff > 1MB' --fail-if 'total.count_diff == 50' "$T/base.hws" "$T/more.hws" > "$T/d.json" 2>/dev/null
expect "gate json" "$(json "$T/d.json" 'j["gate"]')" \
	"{'tripped': True, 'conditions': [{'expr': 'site.size_diff > 1MB', 'tripped': False}, {'expr': 'total.count_diff == 50', 'tripped': True}]}"
"$HW" diff --fail-if 'total.bogus > 1' "$T/base.hws" "$T/more.hws" 2> "$T/err"
expect "a bad gate: status 2" "$?" 2
expect_match "a bad gate: says the form" "$(cat "$T/err")" "is not SCOPE.FIELD OP VALUE"
"$HW" diff --fail-if 'total.size > 3 parsecs' "$T/base.hws" "$T/more.hws" 2> "$T/err"
expect_match "a bad unit: says so" "$(cat "$T/err")" "unknown unit '3 parsecs'|unknown unit 'parsecs'"
expect_match "markdown diff" "$("$HW" diff -f markdown "$T/base.hws" "$T/more.hws")" \
	'^\| `tests/progs/phases.c:20` \| 439.5 KiB \| \+48.8 KiB \| 450 \| \+50 \|$'

# a rebuild where every line moved by 3
expect "moved lines: unmatched without --ignore-lines" "$("$HW" diff "$T/base.hws" "$T/moved.hws" | sed 's/: size=.*//')" \
"tests/progs/phases.c:23
tests/progs/phases.c:20
tests/progs/phases.c:33
tests/progs/phases.c:30
total"
expect "moved lines: matched with --ignore-lines" "$("$HW" diff --ignore-lines "$T/base.hws" "$T/moved.hws")" \
"tests/progs/phases.c:23: size=390.6 KiB (+0 B), count=400 (+0), average=1000 B
tests/progs/phases.c:33: size=80.0 KiB (+0 B), count=20 (+0), average=4.0 KiB
total: size=470.6 KiB (+0 B), count=420 (+0), average=1.1 KiB"
"$HW" diff --ignore-lines --fail-if 'site.size_diff != 0' "$T/base.hws" "$T/moved.hws" > /dev/null
expect "moved lines: the gate sees no change" "$?" 0

# without symbols, places match by their offset in the module
mkdir -p "$T/stripped"
cp "$P/phases" "$T/stripped/phases" && strip "$T/stripped/phases"
"$HW" run -q -o "$T/s1.hws" -- "$T/stripped/phases" < /dev/null > /dev/null
"$HW" run -q -o "$T/s2.hws" -- "$T/stripped/phases" 150 < /dev/null > /dev/null
"$HW" diff "$T/s1.hws" "$T/s2.hws" > "$T/sd"
expect_match "stripped: module+offset, matched across runs" "$(sed -n 1p "$T/sd")" \
	'^phases\+0x[0-9a-f]+: size=439.5 KiB \(\+48.8 KiB\), count=450 \(\+50\), average=1000 B$'
expect "stripped: two places and the total" "$(wc -l < "$T/sd")" 3

# diff by traceback: every frame of the place, as top prints them, in text and JSON
"$HW" diff -b traceback -n 1 "$T/base.hws" "$T/more.hws" > "$T/dtb"
expect "diff by traceback, text: the change, then the frames" "$(sed -n '1p;5,6p' "$T/dtb")" \
"tests/progs/phases.c:20: size=146.5 KiB (+48.8 KiB), count=150 (+50), average=1000 B
  main tests/progs/phases.c:72
  site_a tests/progs/phases.c:20"
"$HW" diff -b traceback -n 1 -f json "$T/base.hws" "$T/more.hws" > "$T/dtb.json"
expect "diff by traceback, json: frames outermost first, each with its address" \
	"$(json "$T/dtb.json" '[f["function"] for f in j["sites"][0]["frames"]][-2:], all(f["address"] > 0 and f["module_offset"] > 0 for f in j["sites"][0]["frames"])')" \
	"(['main', 'site_a'], True)"
"$HW" top -b traceback -n 1 -f json "$T/base.hws" > "$T/tb.json"
expect "top by traceback, json: a frame without symbols still says where it is" \
	"$(json "$T/tb.json" '[(f["function"], f["address"] > 0) for f in j["groups"][0]["frames"]][0]')" "('_start', True)"
