#!/bin/sh
# run.sh SECONDS: run every fuzzer of build/fuzz for SECONDS each, from
# seeds that are real profiles (made here by heapwise run on the test
# programs) and the corpus kept from earlier runs. Prints each one's runs;
# exits 1 if one crashed (its input is in build/fuzz/crashes/).
set -u
B=build
secs=${1:-300}
seeds=$B/fuzz/seeds
mkdir -p "$seeds" "$B/fuzz/crashes" "$B/fuzz/logs"
if [ ! -s "$seeds/leaky.hws" ]; then
	./heapwise run -q -o "$seeds/leaky.hws" -- "$B/progs/leaky" > /dev/null 2>&1
	./heapwise run -q -s 0.01 -o "$seeds/phases.hws" -- "$B/progs/phases" > /dev/null 2>&1
	./heapwise run -q -o "$seeds/reach.hws" -- "$B/progs/reach" > /dev/null 2>&1
	./heapwise run -q --no-scan -o "$seeds/forker.hws" -- "$B/progs/forker" > /dev/null 2>&1
fi
if [ ! -s "$seeds/python.hws" ]; then
	# a small Python heap: types, Python names, py-exit's resident set in parts
	./heapwise run -q -o "$seeds/python.hws" -- /usr/bin/python3.11 -S -I -c \
		'class S:
    def __init__(s): s.a = [1]
d = {"k": S(), 7: (S(),)}' > /dev/null 2>&1
fi
status=0
for f in $B/fuzz/fuzz-*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=${f##*/}
	corpus=$B/fuzz/corpus-${name#fuzz-}
	mkdir -p "$corpus"
	"$f" -max_total_time="$secs" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$B/fuzz/crashes/$name-" "$corpus" "$seeds" > "$B/fuzz/logs/$name.log" 2>&1
	ret=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/fuzz/logs/$name.log" | tail -1)
	if [ $ret -ne 0 ]; then
		echo "$name: crashed after ${runs:-?} runs (build/fuzz/logs/$name.log):"
		grep -m 5 -E 'ERROR|runtime error|SUMMARY' "$B/fuzz/logs/$name.log"
		status=1
	else
		echo "$name: ${runs:-?} runs in ${secs} s, no crash"
	fi
done
exit $status
