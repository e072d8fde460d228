# lib.sh - shared helpers for the end-to-end tests. Each test script sources
# it, runs heapwise on programs from build/progs, and reports every check as
# "ok - NAME" or "not ok - NAME" followed by "# " lines saying why.

cd "$(dirname "$0")/../.." || exit 1
HW=$PWD/heapwise
P=$PWD/build/progs
TEST=$(basename "$0" .sh)
T=$(mktemp -d "${TMPDIR:-/tmp}/heapwise-$TEST.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
# heapwise's debug cache: run.sh's for the whole run, else this test's own (never ~/.cache)
export HEAPWISE_CACHE_DIR="${HEAPWISE_CACHE_DIR-$T/cache}"

ok() { echo "ok - $TEST: $1"; }
not_ok() { echo "not ok - $TEST: $1"; shift; for l in "$@"; do echo "# $l"; done; }

# expect NAME GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2" "want: $3"; fi
}

# expect_match NAME TEXT REGEX
expect_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1" "no line matches /$3/ in:" "$2"; fi
}

# json FILE EXPR: evaluate a Python expression over the parsed JSON `j`
json() {
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r)' "$1" "$2"
}

# stats_json PROFILE > FILE
stats_json() { "$HW" stats --format json -n 1000 "$1"; }

# valgrind_totals PROG ARGS...: "INUSE_BYTES INUSE_BLOCKS ALLOCS FREES BYTES" as memcheck counts them,
# without the libc/libstdc++ freeres valgrind runs at exit (heapwise reports the program as it ran).
# The program runs with libheapwise.so preloaded but not attached (a pure pass-through): the tracer
# brings two modules with TLS, which makes glibc's per-thread DTV 32 bytes larger, and both runs
# must load the same modules for their byte counts to be comparable.
valgrind_totals() {
	LD_PRELOAD="$PWD/libheapwise.so${LD_PRELOAD:+:$LD_PRELOAD}" \
	valgrind --run-libc-freeres=no --run-cxx-freeres=no "$@" 2>&1 >/dev/null |
		sed -n 's/,//g; s/.*in use at exit: \([0-9]*\) bytes in \([0-9]*\) blocks.*/inuse \1 \2/p;
			s/.*total heap usage: \([0-9]*\) allocs \([0-9]*\) frees \([0-9]*\) bytes allocated.*/total \1 \2 \3/p' |
		sort | awk '{ for (i = 2; i <= NF; i++) printf "%s ", $i } END { print "" }' | sed 's/ *$//'
}

# heapwise_totals PROFILE: the same five numbers from a heapwise profile, same order as valgrind_totals
heapwise_totals() {
	stats_json "$1" > "$T/totals.json"
	json "$T/totals.json" '"%d %d %d %d %d" % (j["live_bytes"], j["live_blocks"], j["allocations"], j["frees"], j["bytes_allocated"])'
}

# kinds_of LEAKS_JSON: "DEF_BYTES DEF_BLOCKS IND_BYTES IND_BLOCKS POS_BYTES POS_BLOCKS REACH_BYTES REACH_BLOCKS"
# from `heapwise leaks -f json -k all`
kinds_of() {
	json "$1" '" ".join("%d %d" % (j[k]["bytes"], j[k]["blocks"]) for k in ("definite", "indirect", "possible", "reachable"))'
}

# valgrind_kinds PROG ARGS...: the same from memcheck's LEAK SUMMARY (no freeres: heapwise scans the program as it ran)
valgrind_kinds() {
	valgrind --leak-check=summary --run-libc-freeres=no --run-cxx-freeres=no "$@" 2>&1 >/dev/null |
		sed -n 's/,//g; s/.*\(definitely\|indirectly\|possibly\) lost: \([0-9]*\) bytes in \([0-9]*\) blocks.*/\2 \3/p;
			s/.*still reachable: \([0-9]*\) bytes in \([0-9]*\) blocks.*/\1 \2/p' | tr '\n' ' ' | sed 's/ *$//'
}

have() { command -v "$1" >/dev/null 2>&1; }
