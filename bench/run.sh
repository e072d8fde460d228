#!/bin/sh
# run.sh - `make bench`: the overhead of heapwise against the untraced
# program and against heaptrack (when installed), on these workloads:
#   (a) one thread, 1M malloc/free pairs over 10,000 live blocks, mixed sizes
#   (b) the same on two threads (1M pairs each); and again with
#       run --sample-rate 512KiB, the sampling mode
#   (c) 500k pairs made 16-32 frames deep
#   (d) python3 (PYTHONMALLOC=malloc) building, dumping and loading a large JSON document
#   (e) the same with Python's own allocator (pymalloc), against tracemalloc
#       too (python3 -X tracemalloc=25): heapwise with Python lines on
#   (f)-(i) real programs: sqlite3, jq, perl (also with --no-scan), cc1plus
#   (j) the exit scan of a heap of interior pointers: the program's stop
#   (k) thirty snapshots of a steady 100k-block heap: the profile's size
#       against one without them, how long stats and top take on it, and
#       heapwise run's own peak RSS with them and without
#   (l) a 2.4M-block heap: how long top --by traceback takes on its exit
#       snapshot, and its peak RSS
# The three ways of running a workload are interleaved, RUNS times each
# (default 5, set BENCH_RUNS), after one untimed run of each, and the
# medians are printed with ratios. heapwise keeps its debug cache (plain
# copies of compressed debug files, see heapwise-run(1)) in the bench's
# temporary directory; the untimed run fills it, as any first run would.
# Peak RSS is the summed resident set of the whole process tree (the
# profiler's own processes included).
cd "$(dirname "$0")/.." || exit 1
runs=${BENCH_RUNS:-5}
hwopts=
B=build/bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapwise-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
export HEAPWISE_CACHE_DIR="$tmp/cache"	# our own, filled by each workload's first run

python=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null)
have_heaptrack=0
command -v heaptrack >/dev/null 2>&1 && have_heaptrack=1

# heapwise's own CPU time (ns) in the last run's profile, from stats
heapwise_cpu() {
	./heapwise stats -f json "$tmp/p.hws" 2>/dev/null | grep -o '"heapwise_cpu_ns": [0-9]*' | grep -o '[0-9]*$'
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "nan" }'; }

# bench NAME ENV... -- COMMAND...
bench() {
	name=$1
	shift
	envs=
	while [ "$1" != "--" ]; do envs="$envs $1"; shift; done
	shift
	: > "$tmp/base"; : > "$tmp/hw"; : > "$tmp/ht"; : > "$tmp/hwcpu"
	# once untimed: the page cache warm for all three, heapwise's debug cache filled
	env $envs "$@" > /dev/null 2>&1
	env $envs ./heapwise run -q $hwopts -o "$tmp/p.hws" -- "$@" > /dev/null 2>&1
	[ "$have_heaptrack" = 1 ] && env $envs heaptrack -o "$tmp/ht.0" "$@" > /dev/null 2>&1
	rm -f "$tmp"/ht.0*
	for i in $(seq 1 "$runs"); do
		env $envs "$B/measure" "$@" >> "$tmp/base" 2>/dev/null
		env $envs "$B/measure" ./heapwise run -q $hwopts -o "$tmp/p.hws" -- "$@" >> "$tmp/hw" 2>/dev/null
		heapwise_cpu >> "$tmp/hwcpu"
		if [ "$have_heaptrack" = 1 ]; then
			env $envs "$B/measure" heaptrack -o "$tmp/ht.$i" "$@" 2>/dev/null >> "$tmp/ht"
			rm -f "$tmp"/ht.$i*
		fi
	done
	base=$(cut -d' ' -f1 "$tmp/base" | median)
	hw=$(cut -d' ' -f1 "$tmp/hw" | median)
	hwrss=$(cut -d' ' -f2 "$tmp/hw" | median)
	hwcpu=$(median < "$tmp/hwcpu")
	last_hw=$hw
	if [ "$have_heaptrack" = 1 ]; then
		ht=$(cut -d' ' -f1 "$tmp/ht" | median)
		htrss=$(cut -d' ' -f2 "$tmp/ht" | median)
	else
		ht=nan; htrss=nan
	fi
	awk -v n="$name" -v b="$base" -v h="$hw" -v t="$ht" -v hr="$hwrss" -v tr="$htrss" -v hc="$hwcpu" 'BEGIN {
		r1 = b > 0 ? sprintf("%.1fx", h / b) : "-";
		r2 = t != "nan" && t > 0 ? sprintf("%.2fx", h / t) : "-";
		printf "%-28s %8.3f %9.3f %9s %8s %12s %7s %7d %7s\n", n, b, h, (t == "nan" ? "-" : sprintf("%.3f", t)), r1, r2,
		       (hc == "nan" ? "-" : sprintf("%.3f", hc / 1e9)), hr / 1024, (tr == "nan" ? "-" : sprintf("%d", tr / 1024))
	}'
}

echo "median of $runs runs, after one untimed run of each; wall seconds; hw-CPU: heapwise's own CPU seconds;"
echo "peak RSS of the process tree in MiB"
printf "%-28s %8s %9s %9s %8s %12s %7s %7s %7s\n" workload untraced heapwise heaptrack hw/base hw/heaptrack hw-CPU hw-MiB ht-MiB
bench "(a) churn, 1 thread" -- "$B/churn" 1 1000000
bench "(b) churn, 2 threads" -- "$B/churn" 2 1000000
hwopts="--sample-rate 512KiB"	# heapwise's options, for the next row only
bench "(b) sampled 512KiB" -- "$B/churn" 2 1000000
hwopts=
bench "(c) 16-32 frames deep" -- "$B/deepalloc" 500000
if [ -n "$python" ]; then
	bench "(d) python3 json" PYTHONMALLOC=malloc -- "$python" bench/json_workload.py
else
	echo "(d) python3 json: skipped, python3 is not installed"
fi

# Real programs, on inputs made here: (f) sqlite3 inserting 100k indexed rows
# in memory and querying them, (g) jq filtering a 14 MB JSON array, (h) perl
# building a 300k-key hash, with and without the exit scan, (i) cc1plus (g++'s
# compiler proper) compiling a preprocessed C++ file at -O1.
real_programs() {
	{
		echo "create table t(id integer primary key, name text, score real); create index t_name on t(name); begin;"
		seq 1 100000 | awk '{ printf "insert into t(name, score) values (\047name-%d-%x\047, %d.5);\n", $1, $1 * 7919, $1 % 1000 }'
		echo "commit; select count(*), sum(length(name)) from t where score > 100; select name from t order by score desc, name limit 3;"
	} > "$tmp/sq.sql"
	if command -v sqlite3 > /dev/null 2>&1; then
		bench "(f) sqlite3 100k inserts" -- sqlite3 :memory: ".read $tmp/sq.sql"
	else
		echo "(f) sqlite3: skipped, not installed"
	fi
	if command -v jq > /dev/null 2>&1 && [ -n "$python" ]; then
		"$python" -c 'import json; print(json.dumps([{"id": i, "name": "n%d" % i, "tags": ["a", str(i % 9)], "v": {"x": i, "y": [i, i * 2]}} for i in range(150000)]))' > "$tmp/jq.json"
		bench "(g) jq filter, 14 MB" -- jq '[.[] | select(.id % 3 == 0) | {k: .name, t: (.tags | join("-"))}] | length' "$tmp/jq.json"
	else
		echo "(g) jq: skipped, jq or python3 is not installed"
	fi
	perl_hash='my %h; $h{"key$_"} = "v" x ($_ % 40) for 1..300000; my $n = 0; $n += length($h{$_}) for keys %h; print "$n\n"'
	bench "(h) perl 300k-key hash" -- perl -e "$perl_hash"
	scan_on=$last_hw
	hwopts=--no-scan
	bench "(h) perl, --no-scan" -- perl -e "$perl_hash"
	hwopts=
	perl_ratio=$(awk -v a="$scan_on" -v b="$last_hw" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }')
	cc1plus=$(g++ -print-prog-name=cc1plus 2>/dev/null)
	if [ -x "$cc1plus" ] && g++ -E bench/compile_me.cpp -o "$tmp/compile_me.ii" 2>/dev/null; then
		bench "(i) cc1plus -O1, C++ file" -- "$cc1plus" -fpreprocessed -quiet -O1 "$tmp/compile_me.ii" -o /dev/null
	else
		echo "(i) cc1plus: skipped, g++ is not installed"
	fi
}

# (j): a heap of 2,000 blocks of 8 KiB whose every word is an interior
# pointer; how long the exit scan stopped the program (median).
interior_scan() {
	: > "$tmp/stop"
	for i in $(seq 1 "$runs"); do
		./heapwise run -q -o "$tmp/i.hws" -- build/progs/interior 2000 > /dev/null 2>&1
		./heapwise leaks -f json "$tmp/i.hws" 2>/dev/null | grep -o '"stopped_ns": [0-9]*' | head -1 | grep -o '[0-9]*$' >> "$tmp/stop"
	done
	median < "$tmp/stop"
}

real_programs
echo
echo "perl hash build, scan on / --no-scan: $perl_ratio"
printf "(j) interior-pointer heap (2M interior pointers): the exit scan stopped the program %.3f s\n" \
	"$(interior_scan | awk '{ print $1 / 1e9 }')"

# (k), (l): reports on big profiles, medians of "wall-seconds peak-RSS"
report_times() {
	: > "$tmp/report"
	for i in $(seq 1 "$runs"); do
		"$B/measure" ./heapwise "$@" >> "$tmp/report" 2>/dev/null
	done
	printf "%.3f s, %.0f MiB\n" "$(cut -d' ' -f1 "$tmp/report" | median)" \
		"$(cut -d' ' -f2 "$tmp/report" | median | awk '{ print $1 / 1024 }')"
}

# heapwise run's own peak RSS (KiB), as its debug output gives it
run_rss() { HEAPWISE_DEBUG=1 ./heapwise run -q "$@" 2>&1 > /dev/null | sed -n "s/.*heapwise's peak RSS \([0-9]*\) KiB.*/\1/p"; }
rss_none=$(run_rss -o "$tmp/none.hws" -- build/progs/steadyheap 100000 150)
rss_every=$(run_rss -s 0.1 -o "$tmp/every.hws" -- build/progs/steadyheap 100000 150)
printf "(k) steady 100k-block heap, %s snapshots: profile %s / %s bytes without them = %.2fx; stats %s; top %s\n" \
	"$(./heapwise stats -f json "$tmp/every.hws" | grep -c '"name": "auto-')" \
	"$(stat -c %s "$tmp/every.hws")" "$(stat -c %s "$tmp/none.hws")" \
	"$(echo "$(stat -c %s "$tmp/every.hws") $(stat -c %s "$tmp/none.hws")" | awk '{ print $1 / $2 }')" \
	"$(report_times stats "$tmp/every.hws")" "$(report_times top "$tmp/every.hws@auto-15")"
echo "    heapwise run's own peak RSS: $((rss_every / 1024)) MiB with the snapshots, $((rss_none / 1024)) MiB without"
./heapwise run -q -o "$tmp/big.hws" -- build/progs/bigheap 2400000 > /dev/null 2>&1
echo "(l) 2.4M-block exit snapshot: top --by traceback $(report_times top --by traceback "$tmp/big.hws")"

# (e): the untraced program, heapwise, tracemalloc and heaptrack, medians of wall seconds
bench_python() {
	: > "$tmp/base"; : > "$tmp/hw"; : > "$tmp/tm"; : > "$tmp/ht"
	"$python" bench/json_workload.py > /dev/null 2>&1
	./heapwise run -q -o "$tmp/p.hws" -- "$python" bench/json_workload.py > /dev/null 2>&1
	for i in $(seq 1 "$runs"); do
		"$B/measure" "$python" bench/json_workload.py >> "$tmp/base" 2>/dev/null
		"$B/measure" ./heapwise run -q -o "$tmp/p.hws" -- "$python" bench/json_workload.py >> "$tmp/hw" 2>/dev/null
		"$B/measure" "$python" -X tracemalloc=25 bench/json_workload.py >> "$tmp/tm" 2>/dev/null
		if [ "$have_heaptrack" = 1 ]; then
			"$B/measure" heaptrack -o "$tmp/ht.$i" "$python" bench/json_workload.py 2>/dev/null >> "$tmp/ht"
			rm -f "$tmp"/ht.$i*
		fi
	done
	base=$(cut -d' ' -f1 "$tmp/base" | median)
	hw=$(cut -d' ' -f1 "$tmp/hw" | median)
	tm=$(cut -d' ' -f1 "$tmp/tm" | median)
	ht=nan
	[ "$have_heaptrack" = 1 ] && ht=$(cut -d' ' -f1 "$tmp/ht" | median)
	echo
	printf "%-28s %8s %9s %11s %9s %8s %14s %12s\n" workload untraced heapwise tracemalloc heaptrack hw/base hw/tracemalloc hw/heaptrack
	awk -v b="$base" -v h="$hw" -v m="$tm" -v t="$ht" 'BEGIN {
		printf "%-28s %8.3f %9.3f %11.3f %9s %7.2fx %13.2fx %12s\n", "(e) python3 json, pymalloc", b, h, m,
		       (t == "nan" ? "-" : sprintf("%.3f", t)), h / b, h / m, (t == "nan" || t <= 0 ? "-" : sprintf("%.2fx", h / t))
	}'
}

if [ -n "$python" ]; then
	bench_python
fi
