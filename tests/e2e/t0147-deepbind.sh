#!/bin/sh
# A library opened with RTLD_DEEPBIND binds malloc and free to libc's, past
# an LD_PRELOAD tracer (heaptrack's own dlopen test): heapwise opens it and
# points its allocator slots back at the hooks, so the 35 bytes it makes are
# traced and the program's block it frees is seen freed, not leaked. Once
# bound lazily, once bound at load with its GOT read-only (RELRO), once by a
# bare name found through LD_LIBRARY_PATH.
. "$(dirname "$0")/lib.sh"

for lib in libdeep libdeepnow; do
	"$HW" run -q -o "$T/$lib.hws" -- "$P/deepbind" "$P/$lib.so" > "$T/out"
	expect "$lib: the program ran" "$(cat "$T/out")" "ok"
	expect "$lib: totals equal valgrind's" "$(heapwise_totals "$T/$lib.hws")" \
		"$(valgrind_totals "$P/deepbind" "$P/$lib.so")"
	"$HW" leaks -f json -k all "$T/$lib.hws" > "$T/k.json"
	# memcheck calls the loader's find-object segment possibly lost where
	# heapwise (as LeakSanitizer) counts loader blocks reachable (README)
	expect "$lib: nothing lost, as memcheck says" \
		"$(kinds_of "$T/k.json" | cut -d' ' -f1-4)" \
		"$(LD_PRELOAD="$PWD/libheapwise.so" valgrind_kinds "$P/deepbind" "$P/$lib.so" | cut -d' ' -f1-4)"
	"$HW" top --by function --sort allocations -n 0 -f json "$T/$lib.hws" > "$T/top.json"
	expect "$lib: the library's block is traced, at its site" \
		"$(json "$T/top.json" '[(g["allocations"], g["bytes_allocated"], g["size"]) for g in j["groups"] if g["function"] == "deep_make"]')" \
		"[(1, 35, 0)]"
done

LD_LIBRARY_PATH="$P" "$HW" run -q -o "$T/bare.hws" -- "$P/deepbind" libdeepnow.so > "$T/out"
expect "by a bare name: the program ran" "$(cat "$T/out")" "ok"
expect "by a bare name: totals equal valgrind's" "$(heapwise_totals "$T/bare.hws")" \
	"$(LD_LIBRARY_PATH="$P" valgrind_totals "$P/deepbind" libdeepnow.so)"
