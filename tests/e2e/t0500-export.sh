#!/bin/sh
# heapwise export: each format read back by the tool that consumes it
# (go tool pprof, ms_print, an XML parser for the SVGs) and its numbers
# checked against the profile's (the totals round-trip).
. "$(dirname "$0")/lib.sh"

"$HW" run -q -o "$T/l.hws" -- "$P/leaky" > /dev/null
"$HW" run -q -o "$T/r.hws" -- "$P/reach" nothread
"$HW" run -q -o "$T/p1.hws" -- "$P/phases" < /dev/null > /dev/null
"$HW" run -q -o "$T/p2.hws" -- "$P/phases" 150 < /dev/null > /dev/null
stats_json "$T/l.hws" > "$T/l.json"
live_bytes=$(json "$T/l.json" 'j["live_bytes"]')
live_blocks=$(json "$T/l.json" 'j["live_blocks"]')
allocations=$(json "$T/l.json" 'j["allocations"]')
allocated=$(json "$T/l.json" 'j["bytes_allocated"]')
sum_last() { awk '{ s += $NF } END { print s + 0 }'; }

# --- folded ---------------------------------------------------------------------
"$HW" export -f folded "$T/l.hws" > "$T/l.folded"
expect "folded: the exit's live bytes" "$(sum_last < "$T/l.folded")" "$live_bytes"
expect "folded: root first, the site last" "$(grep -c '^_start;.*;main;make_node 4800$' "$T/l.folded")" "1"
expect "folded --value live-blocks" "$("$HW" export -f folded -V live-blocks "$T/l.hws" | sum_last)" "$live_blocks"
expect "folded --value allocated" "$("$HW" export -f folded -V allocated "$T/l.hws" | sum_last)" "$allocated"
expect "folded --value allocations" "$("$HW" export -f folded -V allocations "$T/l.hws" | sum_last)" "$allocations"
expect "folded --value leaked: definitely and indirectly lost" \
	"$("$HW" export -f folded -V leaked "$T/r.hws" | sum_last)" "$((400 + 288))"
expect "folded of the peak" "$("$HW" export -f folded "$T/l.hws@peak" | sum_last)" \
	"$(json "$T/l.json" '[s["bytes"] for s in j["snapshots"] if s["name"] == "peak"][0]')"
"$HW" run -q --no-scan -o "$T/ns.hws" -- "$P/leaky" > /dev/null
"$HW" export -f folded -V leaked "$T/ns.hws" > /dev/null 2> "$T/err"
expect "--value leaked without a scan" "$? $(cat "$T/err")" \
	"1 heapwise: error: snapshot 'exit' has no reachability scan: --value leaked needs one"

# differential folded: each stack with OLD and NEW
"$HW" diff -f folded "$T/p1.hws" "$T/p2.hws" > "$T/d.folded"
expect "diff --format folded" "$(sed 's/^.*;//' "$T/d.folded")" "site_a 400000 450000
site_c 81920 81920"

# --- svg flame graph ----------------------------------------------------------------
"$HW" export -f svg -o "$T/l.svg" "$T/l.hws"
svg() {
	python3 - "$1" "$2" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = {"s": "http://www.w3.org/2000/svg"}
frames = root.findall(".//s:g[@id='frames']/s:g", ns)
print(eval(sys.argv[2]))
EOF
}
expect "svg: the root holds the total" "$(svg "$T/l.svg" '[f.get("data-w") for f in frames if f.get("data-n") == "all"]')" "['$live_bytes']"
expect "svg: a box per frame, each with its title" \
	"$(svg "$T/l.svg" 'sorted(f.find("s:title", ns).text for f in frames if f.get("data-n") in ("make_node", "leak_buffers"))')" \
	"['leak_buffers: 9.8 KiB (10,000 bytes), 67.57%', 'make_node: 4.7 KiB (4,800 bytes), 32.43%']"
expect "svg: children fit in their parents" \
	"$(svg "$T/l.svg" 'all(sum(int(c.get("data-w")) for c in frames if int(c.get("data-d")) == int(f.get("data-d")) + 1 and int(f.get("data-x")) <= int(c.get("data-x")) < int(f.get("data-x")) + int(f.get("data-w"))) <= int(f.get("data-w")) for f in frames)')" "True"
expect "svg: zoom and search are there" \
	"$(svg "$T/l.svg" '[n in root.find("s:script", ns).text for n in ("function zoom(", "function search(", "function show(")]')" \
	"[True, True, True]"
# the title fits between Reset zoom and Search: a long command line is cut, with "..."
long=$(printf 'argument%.0s ' $(seq 1 20))
"$HW" run -q -o "$T/long.hws" -- /bin/sh -c ": $long" > /dev/null 2>&1
"$HW" export -f svg -o "$T/long.svg" "$T/long.hws"
expect "svg: a long title is cut to 100 characters, ending in ..." \
	"$(svg "$T/long.svg" '(lambda t: (len(t), t.endswith("..."), t.startswith("/bin/sh -c : argument")))([e.text for e in root.findall("s:text", ns) if e.get("style") == "font-size: 16px"][0])')" \
	"(100, True, True)"
"$HW" export -f svg --value allocations -o "$T/la.svg" "$T/l.hws"
expect "svg: counts in the titles are counts, with commas" \
	"$(svg "$T/la.svg" '[f.find("s:title", ns).text.split(": ")[1].split(",")[0] for f in frames if f.get("data-n") == "make_node"]')" \
	"['100 blocks']"
"$HW" export -f svg --timeline "$T/p1.hws" > "$T/t.svg"
expect "svg --timeline: heap and RSS lines" "$(svg "$T/t.svg" 'len(root.findall("s:polyline", ns))')" "2"
# phases' peak is its last allocation, just before the exit: both marked (a line and its hover
# text); the peak labelled, the exit only when its line is a label's height (12 px) right of it
marks() {
	svg "$1" '[(g.find("s:title", ns).text.split(" at ")[0], float(g.find("s:line", ns).get("x1")), getattr(g.find("s:text", ns), "text", None)) for g in root.findall("s:g", ns)]'
}
expect "svg --timeline: the peak and every snapshot marked" \
	"$(marks "$T/t.svg" | python3 -c 'import ast, sys; (p, px, pl), (e, ex, el) = ast.literal_eval(sys.stdin.read()); print(p, pl, e, el == ("exit" if ex - px >= 12 else None))')" \
	"peak heap 470.6 KiB peak snapshot exit True"
expect_match "svg --timeline: its title says it is the whole run" \
	"$(svg "$T/t.svg" '[e.text for e in root.findall("s:text", ns) if e.get("style") == "font-size: 16px"][0]')" \
	": heap and RSS over the run$"
# a hundred snapshots in a second: every one marked, each label down its line
# inside the plot (below the title and legend, above the axis), none over
# another (those too close keep their line and hover text, not a label)
"$HW" run -q -s 0.01 -o "$T/many.hws" -- "$P/steadyheap" 1000 50 > /dev/null 2>&1
"$HW" export -f svg --timeline -o "$T/many.svg" "$T/many.hws"
advance=$(mono_advance)
nsnap=$(stats_json "$T/many.hws" | json /dev/stdin 'len(j["snapshots"])')
expect "svg --timeline: a line for each snapshot; labels inside the plot, none over another" \
	"$(svg "$T/many.svg" '(lambda marks, labels: (len(marks) == '"$nsnap"', len(labels) > 10, all(60 <= float(t.get("y")) and float(t.get("y")) + '"$advance"' * len(t.text) <= 380 and float(t.get("x")) + 12 <= float(root.get("width")) for t in labels), all(b - a >= 12 for a, b in zip(sorted(float(t.get("x")) for t in labels), sorted(float(t.get("x")) for t in labels)[1:]))))([g for g in root.findall("s:g", ns) if g.find("s:line", ns) is not None], [t for g in root.findall("s:g", ns) for t in g.findall("s:text", ns)])' 2>&1)" \
	"(True, True, True, True)"
# a heap over 100 MiB: the scale's top reads whole, and no axis label leaves the picture
# (12 px monospace is 7.2 px a character; the title, a command line, is not checked)
"$HW" run -q -o "$T/big.hws" -- "$P/bigheap" 1200000 > /dev/null
"$HW" export -f svg --timeline -o "$T/big.svg" "$T/big.hws"
top=$("$HW" stats -f json "$T/big.hws" | python3 -c 'import json, sys; j = json.load(sys.stdin); print(max(j["peak_bytes"], j["peak_rss_bytes"]))')
expect "svg --timeline: the scale's top, over 100 MiB, whole" \
	"$(svg "$T/big.svg" '[t.text for t in root.findall("s:text", ns) if t.text and t.text.endswith("MiB")]')" \
	"['$(python3 -c 'import sys; print("%.1f MiB" % (int(sys.argv[1]) / 1048576))' "$top")']"
expect "svg --timeline: every label but the title inside the picture" \
	"$(svg "$T/big.svg" '[t.text for t in root.findall("s:text", ns)[1:] if t.text and not (0 <= (lambda x, w, a: x - w if a == "end" else x - w / 2 if a == "middle" else x)(float(t.get("x")), '"$advance"' * len(t.text), t.get("text-anchor", "start")) and (lambda x, w, a: x if a == "end" else x + w / 2 if a == "middle" else x + w)(float(t.get("x")), '"$advance"' * len(t.text), t.get("text-anchor", "start")) <= float(root.get("width"))) and t.get("transform") is None]')" "[]"
# the title (cut to 100 characters), the legend and the axis labels, each measured at the
# font's advance (16 px for the title): no two overlap
"$HW" run -q -o "$T/longbig.hws" -- "$P/bigheap" 300000 $(printf 'argument%.0s ' $(seq 30)) > /dev/null
"$HW" export -f svg --timeline -o "$T/longbig.svg" "$T/longbig.hws"
for f in big longbig; do
	svg "$T/$f.svg" '(lambda boxes: [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]])([(lambda x, w, h, an, y: (x - w if an == "end" else x - w / 2 if an == "middle" else x, x if an == "end" else x + w / 2 if an == "middle" else x + w, y - h, y, t.text))(float(t.get("x")), '"$advance"' * (16 if "16px" in (t.get("style") or "") else 12) / 12 * len(t.text), 16 if "16px" in (t.get("style") or "") else 12, t.get("text-anchor", "start"), float(t.get("y"))) for t in root.findall("s:text", ns) if t.text])'
done > "$T/overlaps"
expect "svg --timeline: title, legend and axis labels, none over another" "$(cat "$T/overlaps")" "[]
[]"
# each kind of picture drawn by a browser, for a person to look at
screenshot "$T/l.svg" flame-graph
screenshot "$T/long.svg" flame-graph-long-title
screenshot "$T/many.svg" timeline-many-snapshots
screenshot "$T/longbig.svg" timeline-long-command

# --- pprof ----------------------------------------------------------------------------
if have go; then
	export HOME="$T" GOCACHE="$T/go-cache" GOFLAGS=-mod=mod
	"$HW" export -f pprof -o "$T/l.pb.gz" "$T/l.hws"
	go tool pprof -raw "$T/l.pb.gz" > "$T/raw" 2> "$T/err"
	expect "pprof: go tool pprof reads it" "$? $(cat "$T/err")" "0 "
	expect "pprof: the heap sample types" "$(grep '^alloc_objects' "$T/raw")" \
		"alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes[dflt]"
	expect "pprof: totals as the profile's" \
		"$(awk '/^Samples:/ { on = 1; next } /^Locations/ { on = 0 } on && /:/ { a += $1; b += $2; c += $3; d += $4 } END { print a, b, c, d }' "$T/raw")" \
		"$allocations $allocated $live_blocks $live_bytes"
	# files from the root (the unit's compilation directory joined on) and each function's
	# first line, so -list finds the source from any directory
	start=$(grep -n '^static struct node \*make_node' tests/progs/leaky.c | cut -d: -f1)
	expect_match "pprof: functions, absolute files, lines and first lines" "$(cat "$T/raw")" \
		"M=1 make_node $PWD/tests/progs/leaky.c:18 s=$start\$"
	(cd "$T" && go tool pprof -list '^make_node$' -sample_index=inuse_space "$T/l.pb.gz" 2> /dev/null) > "$T/list"
	expect_match "pprof -list from another directory: the source, the allocating line weighed" \
		"$(cat "$T/list")" "^ +[0-9.]+kB +[0-9.]+kB +18:.struct node \*n = malloc\(sizeof\(\*n\)\);$"
	expect_match "pprof -list: the routine from its first line" "$(cat "$T/list")" \
		"^ +\. +\. +$start:static struct node \*make_node"
	go tool pprof -top -unit=B -sample_index=inuse_space "$T/l.pb.gz" 2>/dev/null > "$T/top"
	expect_match "pprof -top" "$(cat "$T/top")" "^ +10000B +67\.57% +67\.57% +10000B +67\.57%  leak_buffers$"
	"$HW" export -f pprof -o "$T/p1.pb.gz" "$T/p1.hws"
	"$HW" export -f pprof -o "$T/p2.pb.gz" "$T/p2.hws"
	go tool pprof -top -unit=B -sample_index=inuse_space -diff_base "$T/p1.pb.gz" "$T/p2.pb.gz" 2>/dev/null > "$T/diff"
	expect_match "pprof -diff_base: what grew" "$(cat "$T/diff")" "^ +50000B .* site_a$"
	# each snapshot's alloc_* count what was allocated by its time (Go's convention), its time
	# the snapshot's: phases allocates A 100 x 1000 B and B 50 x 200 B, then A +100 and
	# C 30 x 4096 B, then A +100; the peak is at its last allocation, the exit after it
	phases_with_snapshots "$T/ph.hws"
	for s in p1 p2 p3 peak exit; do
		"$HW" export -f pprof -o "$T/ph-$s.pb.gz" "$T/ph.hws@$s"
		go tool pprof -raw "$T/ph-$s.pb.gz" 2> /dev/null | python3 -c '
import re, sys
samples, names, part = [], {}, ""
for line in sys.stdin:
    if line.rstrip() in ("Samples:", "Locations", "Mappings"):
        part = line.strip()
    elif part == "Samples:" and ":" in line and line.split(":")[0].split()[0].isdigit():
        v, locs = line.split(":")
        samples.append((v.split()[:2], locs.split()[0]))
    elif part == "Locations" and re.match(r" *[0-9]+: ", line):
        names[line.split(":")[0].strip()] = line.split()[3]
sums = {}
for (objects, space), loc in samples:
    o, b = sums.get(names[loc], (0, 0))
    sums[names[loc]] = (o + int(objects), b + int(space))
print(sys.argv[1], " ".join("%s=%s" % (k, "%d %d" % sums[k] if k in sums else "-") for k in ("site_a", "site_b", "site_c")))' "$s"
	done > "$T/ph-alloc"
	expect "pprof: alloc_objects and alloc_space of each snapshot, by its time" "$(cat "$T/ph-alloc")" \
"p1 site_a=100 100000 site_b=50 10000 site_c=-
p2 site_a=200 200000 site_b=50 10000 site_c=30 122880
p3 site_a=300 300000 site_b=50 10000 site_c=30 122880
peak site_a=400 400000 site_b=50 10000 site_c=30 122880
exit site_a=400 400000 site_b=50 10000 site_c=30 122880"
	# leaky's heap peaks at churn's first string; 999 more come after it
	"$HW" export -f pprof -o "$T/l-peak.pb.gz" "$T/l.hws@peak"
	expect "pprof of the peak: what was allocated by its moment, not over the run" \
		"$(for f in l-peak l; do go tool pprof -top -sample_index=alloc_objects "$T/$f.pb.gz" 2> /dev/null | awk '$NF == "churn" { print $1 }'; done | tr '\n' ' ')" "1 1000 "
	go tool pprof -top -unit=B -sample_index=alloc_space -diff_base "$T/ph-p1.pb.gz" "$T/ph-p2.pb.gz" 2> /dev/null > "$T/ph-diff"
	expect "pprof -diff_base of two snapshots: what was allocated between them" \
		"$(awk '$NF ~ /^site_/ { print $1, $NF }' "$T/ph-diff" | sort)" "100000B site_a
122880B site_c"
	p1_ns=$(stats_json "$T/ph.hws" | python3 -c 'import json, sys; print([s["time_ns"] for s in json.load(sys.stdin)["snapshots"] if s["name"] == "p1"][0])')
	expect "pprof: a snapshot's duration is its time in the run" \
		"$(go tool pprof -top "$T/ph-p1.pb.gz" 2> /dev/null | sed -n 's/^Duration: \([^,]*\),.*/\1/p')" \
		"$(python3 -c 'import sys; print("%.2fs" % (int(sys.argv[1]) / 1e9) if int(sys.argv[1]) >= 1e9 else "%.2fms" % (int(sys.argv[1]) / 1e6))' "$p1_ns")"
	# an exec chain (env, then a stripped program): pprof's main binary is the program that
	# allocated, and a mapping without symbols does not claim them, so pprof symbolizes it itself
	strip -o "$T/leaky-stripped" "$P/leaky"
	"$HW" run -q -o "$T/e.hws" -- env "$T/leaky-stripped" 2> /dev/null
	"$HW" export -f pprof -o "$T/e.pb.gz" "$T/e.hws"
	expect "pprof: the program that allocated is the main binary, not env" \
		"$(go tool pprof -top "$T/e.pb.gz" 2>/dev/null | head -1)" "File: leaky-stripped"
	go tool pprof -raw "$T/e.pb.gz" 2>/dev/null | sed -n '/^Mappings/,$p' > "$T/maps"
	expect "pprof: the stripped program's mapping claims no symbols, libc's does" \
		"$(grep -c 'leaky-stripped [0-9a-f]* *$' "$T/maps") $(grep -c 'libc.so.6 [0-9a-f]* \[FN\]\[FL\]\[LN\]' "$T/maps")" "1 1"
	# its frames are addresses, not functions named after them: pprof names them by their binary
	go tool pprof -raw "$T/e.pb.gz" 2>/dev/null | sed -n '/^Locations/,/^Mappings/p' > "$T/locs"
	expect "pprof: the stripped program's locations have an address and no line" \
		"$(grep -c ' M=[0-9]* *$' "$T/locs" | awk '{ print ($1 > 0) }') $(grep -c ' 0x[0-9a-f]* M=[0-9]* 0x' "$T/locs")" "1 0"
	expect_match "pprof: -top names them by their binary" \
		"$(go tool pprof -top -sample_index=inuse_space "$T/e.pb.gz" 2>/dev/null)" " 100% +\[leaky-stripped\]$"
else
	not_ok "go is not installed: pprof output not checked by go tool pprof" "make test-deps installs golang-go"
fi

# --- massif -----------------------------------------------------------------------------
"$HW" export -f massif -o "$T/p1.massif" "$T/p1.hws"
if have ms_print; then
	ms_print "$T/p1.massif" > "$T/ms" 2> "$T/err"
	expect "massif: ms_print reads it" "$? $(cat "$T/err")" "0 "
	expect_match "massif: the peak is a detailed snapshot" "$(cat "$T/ms")" "^ Detailed snapshots: \[.*\(peak\).*\]$"
	expect_match "massif: the tree's top is the whole heap" "$(cat "$T/ms")" "^100\.00% \(481,920B\) \(heap allocation functions\) malloc/new/new\[\], --alloc-fns, etc\.$"
	expect_match "massif: the sites under it" "$(cat "$T/ms")" "^->83\.00% \(400,000B\) 0x[0-9A-F]+: site_a \(phases\.c:20\)$"
else
	not_ok "ms_print is not installed: massif output not checked" "make test-deps installs valgrind"
fi
stats_json "$T/p1.hws" > "$T/p1.json"
expect "massif: one peak snapshot, with the peak's bytes" \
	"$(awk -F= '/^mem_heap_B=/ { h = $2 } /^heap_tree=peak/ { print h }' "$T/p1.massif")" \
	"$(json "$T/p1.json" '[s["bytes"] for s in j["snapshots"] if s["name"] == "peak"][0]')"

# --- json and csv -------------------------------------------------------------------------
"$HW" export -f json "$T/l.hws" > "$T/e.json"
expect "json: sites sum to the totals" \
	"$(json "$T/e.json" '(sum(s["live_bytes"] for s in j["sites"]), sum(s["allocations"] for s in j["sites"]), sum(s["bytes_allocated"] for s in j["sites"]))')" \
	"($live_bytes, $allocations, $allocated)"
expect "json: frames innermost first" "$(json "$T/e.json" 'sorted(s["frames"][0]["function"] for s in j["sites"])')" \
	"['churn', 'leak_buffers', 'make_node']"
"$HW" export -f csv "$T/l.hws" > "$T/e.csv"
expect "csv: header" "$(head -1 "$T/e.csv")" \
	"live_bytes,live_blocks,allocations,bytes_allocated,frees,temporary,peak_bytes,function,file,line,module,stack,traceback"
expect "csv: each site's own frame in its columns" \
	"$(python3 -c 'import csv, sys; print(sorted((r["function"], r["file"], r["line"], r["module"]) for r in csv.DictReader(open(sys.argv[1])) if r["live_blocks"] != "0"))' "$T/e.csv")" \
	"[('leak_buffers', 'tests/progs/leaky.c', '28', '$P/leaky'), ('make_node', 'tests/progs/leaky.c', '18', '$P/leaky')]"
# phases.c has sites whose frames differ only in their lines: no two rows the same
"$HW" export -f csv "$T/p1.hws" > "$T/p.csv"
expect "csv: no two rows name the same place (their lines tell them apart)" \
	"$(python3 -c 'import csv, sys; r = [tuple(x[k] for k in ("function", "file", "line", "module", "stack", "traceback")) for x in csv.DictReader(open(sys.argv[1]))]; print(len(r) > 1 and len(r) == len(set(r)))' "$T/p.csv")" True
expect "csv: sites sum to the totals" "$(awk -F, 'NR > 1 { a += $1; b += $3; c += $4 } END { print a, b, c }' "$T/e.csv")" \
	"$live_bytes $allocations $allocated"

# --- usage ----------------------------------------------------------------------------------
"$HW" export "$T/l.hws" > /dev/null 2>&1
expect "no --format: usage error" "$?" "2"
"$HW" export -f yaml "$T/l.hws" > /dev/null 2>&1
expect "unknown format: usage error" "$?" "2"
"$HW" export -f folded --timeline "$T/l.hws" > /dev/null 2>&1
expect "--timeline without svg: usage error" "$?" "2"
"$HW" export -f json -V leaked "$T/l.hws" > /dev/null 2>&1
expect "--value with json: usage error" "$?" "2"
"$HW" export -f folded -o /nonexistent/dir/x "$T/l.hws" 2> "$T/err"
expect_match "an output that cannot be written" "$? $(cat "$T/err")" "^1 heapwise: error: cannot write '/nonexistent/dir/x'"
