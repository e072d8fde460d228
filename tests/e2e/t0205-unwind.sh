#!/bin/sh
# The tracer's fast stack walk (tracer/unwind.c) gives the stacks
# unw_backtrace gives. HEAPWISE_UNWIND_CHECK=1 makes the tracer walk every
# stack both ways and say so on stderr when they differ; stackmix makes
# stacks that are awkward to walk: changing depths, alloca, signal
# handlers (on the thread's stack and on an alternate one), coroutines,
# longjmp, frames alike but for their caller, frames alike but for their
# caller's RBP, a frame without unwind tables, and code unloaded by dlclose.
. "$(dirname "$0")/lib.sh"

sites='sorted((s["function"], s["blocks"], s["bytes"]) for s in j["top_sites"] if s["function"].endswith("_alloc") or s["function"] in ("malloc_with_rbp", "plugin_init"))'
parts="[('alloca_alloc', 4, 192), ('altstack_alloc', 6, 480), ('coroutine_alloc', 7, 672), ('handler_alloc', 5, 320), ('longjmp_alloc', 8, 896), ('malloc_with_rbp', 10, 1600), ('nocfi_alloc', 11, 1936), ('recursion_alloc', 3, 96), ('shared_alloc', 9, 1152)]"

HEAPWISE_UNWIND_CHECK=1 "$HW" run -q -o "$T/s.hws" -- "$P/stackmix" > "$T/out" 2> "$T/err"
expect "stackmix: exit status 0" "$?" "0"
expect "stackmix: both walks agree" "$(grep -c 'unwind check' "$T/err")" "0"
stats_json "$T/s.hws" > "$T/s.json"
expect "stackmix: totals" "$(json "$T/s.json" '(j["allocations"], j["frees"], j["live_blocks"], j["live_bytes"], j["lost_events"])')" "(5105, 5041, 64, 7560, 0)"
expect "stackmix: every part's site" "$(json "$T/s.json" "$sites")" "$parts"
# the tracer keeps its last walk, RBP values with it: they must not hold a block
"$HW" leaks -f json -k all "$T/s.hws" > "$T/leaks.json"
expect "stackmix: the block lost in RBP is lost" "$(kinds_of "$T/leaks.json")" "216 1 0 0 0 0 7344 63"
if have valgrind; then
	expect "stackmix: leak kinds equal memcheck's" "$(kinds_of "$T/leaks.json")" "$(valgrind_kinds "$P/stackmix")"
fi
"$HW" top --by traceback -n 0 "$T/s.hws" > "$T/tb"
expect_match "stackmix: handler stacks go through the signal frame" "$(grep -B8 'handler_alloc' "$T/tb")" "raise"
expect_match "stackmix: coroutine stacks end in their body" "$(grep -B2 'coroutine_alloc' "$T/tb")" "coroutine_body"
# blocks made through a caller: a stack taken from the last walk in error would move them
through() { "$HW" top --by function --all-frames -i "$1" -n 0 --format json "$T/s.hws" | python3 -c 'import json,sys; print(sum(r["count"] for r in json.load(sys.stdin)["groups"]))'; }
expect "stackmix: blocks through twin_a, twin_b, pad_a, pad_b" "$(through twin_a) $(through twin_b) $(through pad_a) $(through pad_b)" "5 4 5 5"

HEAPWISE_UNWIND_CHECK=1 "$HW" run -q -o "$T/p.hws" -- "$P/stackmix" "$P/libplugin.so" > "$T/out" 2> "$T/err"
expect "stackmix with 12 dlcloses: exit status 0" "$?" "0"
expect "stackmix with 12 dlcloses: both walks agree" "$(grep -c 'unwind check' "$T/err")" "0"
stats_json "$T/p.hws" > "$T/p.json"
expect "stackmix with 12 dlcloses: every part's site" "$(json "$T/p.json" "$sites")" \
	"$(echo "$parts" | sed "s/, ('recursion_alloc'/, ('plugin_init', 12, 1332), ('recursion_alloc'/")"
if have valgrind; then
	expect "stackmix with 12 dlcloses: totals equal valgrind's" "$(heapwise_totals "$T/p.hws")" \
		"$(valgrind_totals "$P/stackmix" "$P/libplugin.so")"
fi

# the other test programs, walked both ways: threads, deep recursion, dlopen, fork and exec
for run in "threads 4 3 20000" "deep 60" "dlopener $P/libplugin.so" "forker" "manythreads 200"; do
	set -- $run
	prog=$1
	shift
	HEAPWISE_UNWIND_CHECK=1 "$HW" run -q -o "$T/o.hws" -- "$P/$prog" "$@" > "$T/out" 2> "$T/err"
	expect "$prog: both walks agree" "$(grep -c 'unwind check' "$T/err")" "0"
done
HEAPWISE_UNWIND_CHECK=1 "$HW" run -q -d 8 -o "$T/o.hws" -- "$P/stackmix" > "$T/out" 2> "$T/err"
expect "stackmix cut at 8 frames: both walks agree" "$(grep -c 'unwind check' "$T/err")" "0"
